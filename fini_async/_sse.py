"""An incremental, linear-time decoder for event streams as servers actually send them.

It reads standard server-sent events (LF, CRLF or CR line ends; multi-line ``data:``; ``event:``,
``id:``, ``retry:``; comments and heartbeats; a leading BOM) and the common departures from the
standard: ``data: {...}`` lines with no blank line between them, bare NDJSON lines, a
``data: [DONE]`` sentinel and lines that are not JSON at all (logged at DEBUG, skipped). Chunk
boundaries may fall anywhere, including inside a multi-byte UTF-8 character: the decoder works on
bytes and only hands complete payloads to ``decode``.

A ``data:`` payload that is complete JSON on its own is dispatched at once, so a stream whose
server never sends blank lines is still delivered token by token.

Work is linear in the input whatever it holds: a ``data:`` line that is not JSON is kept only
while it may begin a JSON value spanning several lines (it opens a ``{`` or ``[`` that is still
open), and the lines of such a value are joined and decoded once its brackets close (or, to find
out early that it never will, each time it doubled in size). An event or a line that grows past
``max_event_size`` bytes (:data:`MAX_EVENT_SIZE` by default) without ending raises
:class:`~fini_async.StreamError`: memory stays bounded whatever the server sends.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec

from ._exceptions import StreamError

__all__ = ["MAX_EVENT_SIZE", "EventDecoder", "NamedEvent"]

logger = logging.getLogger("fini_async.stream")

T = TypeVar("T")
_BOM = b"\xef\xbb\xbf"
_DONE = b"[DONE]"
#: The largest event (the data lines of one event, or one line) a stream may send, in bytes:
#: generous, because a metadata event carries its sources' whole text (a long document's can
#: weigh tens of MiB), yet a bound on what a broken or hostile server can make a client hold.
MAX_EVENT_SIZE = 128 * 1024 * 1024
# A JSON string on one line (a string cannot span lines: a raw newline is invalid inside one),
# or the unterminated rest of a line after a quote.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"?')


def _depth(line: bytes) -> int:
    """How many brackets ``line`` opens (negative: closes), those inside strings not counted."""
    if b'"' in line:
        line = _STRING.sub(b"", line)
    return line.count(b"{") + line.count(b"[") - line.count(b"}") - line.count(b"]")


class NamedEvent(Generic[T]):
    """A payload that came with an SSE ``event:`` name (unnamed payloads are returned bare)."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, value: T) -> None:
        self.name = name
        self.value = value

    def __repr__(self) -> str:
        return f"NamedEvent({self.name!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, NamedEvent) and other.name == self.name and other.value == self.value
        )

    __hash__ = None  # type: ignore[assignment]


class EventDecoder(Generic[T]):
    """Feed it bytes; it returns the decoded payloads, each wrapped in :class:`NamedEvent` when
    the server named it with ``event:``.

    ``decode`` turns one payload into a value and raises ``msgspec.DecodeError`` when the payload
    is not (yet) a complete JSON value.

    ``fast``, optional, is a msgspec decoder for the commonest payload, tried before ``decode``:
    what it returns must be what ``decode`` would return for the same bytes. With it, runs of
    plain ``data: {...}`` events are decoded in one ``decode_lines`` call. It must decode a flat
    struct (scalar fields, ``forbid_unknown_fields``), so that no value it accepts can span two
    lines; that is what makes the batch exactly equal to decoding line by line. ``fallback``
    (default ``decode``) is called instead of ``decode`` for a payload ``fast`` refused with a
    ``msgspec.ValidationError``, and must return what ``decode`` would.

    ``max_event_size`` bounds, in bytes, one line and the data of one unfinished event:
    :meth:`feed` raises :class:`~fini_async.StreamError` past it.
    """

    __slots__ = (
        "_check_at",
        "_decode",
        "_depth",
        "_event",
        "_fallback",
        "_fast",
        "_max",
        "_partial",
        "_partial_size",
        "_pending",
        "_pending_size",
        "_skip_lf",
        "_started",
        "done",
        "last_event_id",
        "retry_ms",
    )

    def __init__(
        self,
        decode: Callable[[bytes], T],
        *,
        fast: msgspec.json.Decoder[Any] | None = None,
        fallback: Callable[[bytes], T] | None = None,
        max_event_size: int | None = None,
    ) -> None:
        self._decode = decode
        self._fast = fast
        self._fallback = decode if fallback is None else fallback
        self._max = MAX_EVENT_SIZE if max_event_size is None else max_event_size
        self._partial: list[bytes] = []  # pieces of the current unterminated line
        self._partial_size = 0
        # Data lines of the current event, not yet decodable: the start of a JSON value that
        # spans lines. Its first line opens a bracket and they all leave _depth > 0 open.
        self._pending: list[bytes] = []
        self._pending_size = 0
        self._depth = 0
        self._check_at = 0  # the size at which to check whether the value can still end
        self._event: str | None = None
        self._skip_lf = False
        self._started = False
        #: True once ``data: [DONE]`` was seen; later input is ignored.
        self.done = False
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[T | NamedEvent[T]]:
        out: list[T | NamedEvent[T]] = []
        if self.done or not chunk:
            return out
        if self._skip_lf:
            self._skip_lf = False
            if chunk[0] == 10:
                chunk = chunk[1:]
                if not chunk:
                    return out
        if not self._started:
            head = b"".join(self._partial) + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._partial = [head]
                return out
            self._started = True
            self._partial = []
            chunk = head[3:] if head.startswith(_BOM) else head
            if not chunk:
                return out
        if self._partial:
            nl = chunk.find(b"\n")
            cr = chunk.find(b"\r")
            end = nl if cr < 0 else (cr if nl < 0 else min(nl, cr))
            if end < 0:
                self._partial.append(chunk)
                self._partial_size += len(chunk)
                if self._partial_size > self._max:
                    self._partial = []
                    raise StreamError(
                        f"a stream line grew past {self._max} bytes without ending (max_event_size)"
                    )
                return out
            self._partial.append(chunk[:end])
            line = b"".join(self._partial)
            self._partial = []
            if chunk[end] == 13:
                if end + 1 < len(chunk):
                    if chunk[end + 1] == 10:
                        end += 1
                else:
                    self._skip_lf = True
            self._line(line, out)
            chunk = chunk[end + 1 :]
            if not chunk or self.done:
                return out
        if b"\r" in chunk:
            pieces = chunk.splitlines(True)
            last = pieces[-1]
            tail = last[-1]
            if tail != 10 and tail != 13:
                self._partial.append(pieces.pop())
                self._partial_size = len(last)
            elif tail == 13:
                self._skip_lf = True
            lines = [
                (p[:-2] if p[-2:] == b"\r\n" else p[:-1]) if p[-1] == 10 else p[:-1] for p in pieces
            ]
            self._lines(lines, out)
            return out
        end = chunk.rfind(b"\n") + 1
        if end < len(chunk):
            self._partial.append(chunk[end:])
            self._partial_size = len(chunk) - end
            if not end:
                return out
            chunk = chunk[:end]
        if self._fast is not None:
            chunk = self._batches(chunk, out)
            if not chunk:
                return out
        lines = chunk.split(b"\n")
        lines.pop()
        self._lines(lines, out)
        return out

    def _batches(self, block: bytes, out: list[T | NamedEvent[T]]) -> bytes:
        """Decode the runs of plain events (``data: {...}`` then a blank line) at the start of
        ``block`` (whole LF-terminated lines) in one call each; return what is left for
        :meth:`_lines`. Anything else (a first payload that is not ``fast``'s, an event name,
        a comment, ``[DONE]``) goes line by line, one event at a time."""
        fast = self._fast
        assert fast is not None
        for _ in range(3):  # a few tries per chunk: failed tries cost a pass over the chunk
            if self._pending or self._event is not None:
                return block
            if block[:1] == b"\n":
                block = block.lstrip(b"\n")  # blank lines with nothing pending: no-ops
            if not block.startswith(b"data: {"):
                if block.startswith(b"data: [DONE]\n"):  # what _lines would make of it
                    self.done = True
                    return b""
                return block
            first = block.find(b"\n")
            try:
                fast.decode(block[6:first])  # a cheap check before a pass over the whole run
            except msgspec.DecodeError as exc:
                if type(exc) is msgspec.ValidationError:  # JSON, not fast's: what _lines does
                    try:
                        out.append(self._fallback(block[6:first]))
                    except msgspec.DecodeError:
                        pass
                    else:
                        block = block[first + 1 :]
                        continue
                end = block.find(b"\n\n") + 2  # the end of this event, or of the block
                if end < 2:
                    end = len(block)
                self._lines(block[: end - 1].split(b"\n"), out)
                if self.done:
                    return b""
                block = block[end:]
                continue
            stop = block.find(b"\n\ndata: [DONE]")
            stop = block.rfind(b"\n\n") if stop < 0 else stop
            if stop < 0:
                return block
            run = block[: stop + 2]
            # Only lines "data: {...}" each followed by one blank line: as many lines as twice
            # the number of such events.
            count = run.count(b"\n\ndata: {") + 1
            if run.count(b"\n") != 2 * count:
                return block
            try:
                items = fast.decode_lines(run.replace(b"\n\ndata: ", b"\n")[6:])
            except msgspec.DecodeError:
                return block
            if len(items) != count:  # some line held more than one value
                return block
            out += items
            block = block[stop + 2 :]
            if not block:
                return block
        return block

    def _lines(self, lines: list[bytes], out: list[T | NamedEvent[T]]) -> None:
        decode = self._decode
        fast = decode if self._fast is None else self._fast.decode
        fallback = self._fallback
        append = out.append
        clean = not self._pending and self._event is None
        for line in lines:
            if clean:
                # Nothing pending, no event name: a blank line is a no-op, and a whole JSON
                # object on one "data: " line is the event.
                if not line:
                    continue
                if line[:7] == b"data: {":
                    try:
                        append(fast(line[6:]))
                        continue
                    except msgspec.ValidationError:  # JSON, but not the commonest payload
                        if fast is not decode:
                            try:
                                append(fallback(line[6:]))
                                continue
                            except msgspec.DecodeError:
                                pass
                    except msgspec.DecodeError:
                        pass
            self._line(line, out)
            if self.done:
                return
            clean = not self._pending and self._event is None

    def flush(self) -> list[T | NamedEvent[T]]:
        """End of input: decode what is left (an unterminated last line, an undispatched event)."""
        out: list[T | NamedEvent[T]] = []
        if self._partial and not self.done:
            line = b"".join(self._partial)
            self._partial = []
            if not self._started:
                self._started = True
                if line.startswith(_BOM):
                    line = line[3:]
            self._line(line, out)
        if self._pending and not self.done:
            self._dispatch(out, final=True)
        return out

    # -- internals -----------------------------------------------------------------------------

    def _line(self, line: bytes, out: list[T | NamedEvent[T]]) -> None:
        if not line:
            if self._pending:
                self._dispatch(out, final=True)
            self._event = None
            return
        if line.startswith(b"data:"):
            value = line[5:]
            if value[:1] == b" ":
                value = value[1:]
            self._data(value, out)
            return
        first = line[0]
        if first == 58:  # ":" comment or heartbeat
            return
        if first == 123 or first == 91:  # "{" or "[": a bare NDJSON line
            self._data(line, out)
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"event":
            name_ = value.decode("utf-8", "replace")
            self._event = None if not name_ or name_ == "message" else name_  # the default type
        elif name == b"id":
            if b"\0" not in value:
                self.last_event_id = value.decode("utf-8", "replace")
        elif name == b"retry":
            if value.isdigit():
                self.retry_ms = int(value)
        elif name.strip() and (name.lstrip()[:1] in (b"{", b"[")):
            self._data(line.strip(), out)
        else:
            logger.debug("skipping stream line %r", line[:200])

    def _data(self, value: bytes, out: list[T | NamedEvent[T]]) -> None:
        pending = self._pending
        if not pending:
            if value == _DONE:
                self.done = True
                return
            try:
                item = self._decode(value)
            except msgspec.DecodeError:
                self._begin(value)
                return
            out.append(item if self._event is None else NamedEvent(self._event, item))
            self._event = None
            return
        if value == _DONE:
            self._drop(pending)
            self._clear()
            self.done = True
            return
        pending.append(value)
        depth = self._depth = self._depth + _depth(value)
        size = self._pending_size = self._pending_size + len(value) + 1
        if depth <= 0 or size >= self._check_at:
            # Its brackets closed (the value should be complete), or it doubled since the last
            # check: one decode of the whole, linear overall.
            try:
                item = self._decode(b"\n".join(pending))
            except msgspec.DecodeError as exc:
                # Truncated: it may still end. Anything else: it never will (its brackets closed
                # on something that is not JSON, or what is there already is not JSON).
                hopeless = depth <= 0 or "truncated" not in str(exc)
            else:
                self._clear()
                out.append(item if self._event is None else NamedEvent(self._event, item))
                self._event = None
                return
            self._check_at = 2 * size
        else:
            hopeless = False
        # Maybe the earlier lines were junk and this line stands alone.
        try:
            item = self._decode(value)
        except msgspec.DecodeError:
            if hopeless:
                self._drop(pending[:-1])
                self._clear()
                self._begin(value)  # it may begin a value of its own
            elif size > self._max:
                self._clear()
                raise StreamError(
                    f"a stream event grew past {self._max} bytes without ending (max_event_size)"
                ) from None
            return
        self._drop(pending[:-1])
        self._clear()
        out.append(item if self._event is None else NamedEvent(self._event, item))
        self._event = None

    def _begin(self, value: bytes) -> None:
        """``value``, alone, is not JSON: keep it if it may begin a value spanning lines (it opens
        a bracket that stays open), else drop it."""
        if value.lstrip()[:1] in (b"{", b"[") and len(value) <= self._max:
            depth = _depth(value)
            if depth > 0:
                self._pending.append(value)
                self._depth = depth
                self._pending_size = len(value)
                self._check_at = 2 * len(value) + 64
                return
        if value.strip():
            self._drop([value])

    def _clear(self) -> None:
        self._pending = []
        self._pending_size = self._depth = self._check_at = 0

    def _dispatch(self, out: list[T | NamedEvent[T]], *, final: bool) -> None:
        pending = self._pending
        self._clear()
        try:
            item = self._decode(b"\n".join(pending))
        except msgspec.DecodeError:
            pass
        else:
            out.append(item if self._event is None else NamedEvent(self._event, item))
            self._event = None
            return
        for value in pending:
            if value == _DONE:
                self.done = True
                return
            try:
                item = self._decode(value)
            except msgspec.DecodeError:
                self._drop([value])
                continue
            out.append(item if self._event is None else NamedEvent(self._event, item))
        self._event = None

    @staticmethod
    def _drop(lines: list[bytes]) -> None:
        for value in lines:
            logger.debug("skipping stream data that is not JSON: %r", value[:200])


def decode_any(data: bytes) -> Any:
    """A ``decode`` for EventDecoder that returns plain Python objects."""
    return msgspec.json.decode(data)
