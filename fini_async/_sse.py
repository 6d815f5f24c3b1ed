"""An incremental, linear-time decoder for event streams as servers actually send them.

It reads standard server-sent events (LF, CRLF or CR line ends; multi-line ``data:``; ``event:``,
``id:``, ``retry:``; comments and heartbeats; a leading BOM) and the common departures from the
standard: ``data: {...}`` lines with no blank line between them, bare NDJSON lines, a
``data: [DONE]`` sentinel and lines that are not JSON at all (logged at DEBUG, skipped). Chunk
boundaries may fall anywhere, including inside a multi-byte UTF-8 character: the decoder works on
bytes and only hands complete payloads to ``decode``.

A ``data:`` payload that is complete JSON on its own is dispatched at once, so a stream whose
server never sends blank lines is still delivered token by token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import msgspec

__all__ = ["EventDecoder", "NamedEvent"]

logger = logging.getLogger("fini_async.stream")

T = TypeVar("T")
_BOM = b"\xef\xbb\xbf"
_DONE = b"[DONE]"
_JSON_END = frozenset(b'}]"el0123456789')  # last byte of a JSON value: } ] " true/false/null num


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
    """

    __slots__ = (
        "_decode",
        "_event",
        "_fallback",
        "_fast",
        "_partial",
        "_pending",
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
    ) -> None:
        self._decode = decode
        self._fast = fast
        self._fallback = decode if fallback is None else fallback
        self._partial: list[bytes] = []  # pieces of the current unterminated line
        self._pending: list[bytes] = []  # data lines of the current event, not yet decodable
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
                pending.append(value)
                return
            out.append(item if self._event is None else NamedEvent(self._event, item))
            self._event = None
            return
        pending.append(value)
        stripped = value.rstrip()
        if stripped and stripped[-1] in _JSON_END:
            try:
                item = self._decode(b"\n".join(pending))
            except msgspec.DecodeError:
                pass
            else:
                pending.clear()
                out.append(item if self._event is None else NamedEvent(self._event, item))
                self._event = None
                return
        # Maybe the earlier lines were junk and this line stands alone.
        if value == _DONE:
            self._drop(pending[:-1])
            pending.clear()
            self.done = True
            return
        try:
            item = self._decode(value)
        except msgspec.DecodeError:
            return
        self._drop(pending[:-1])
        pending.clear()
        out.append(item if self._event is None else NamedEvent(self._event, item))
        self._event = None

    def _dispatch(self, out: list[T | NamedEvent[T]], *, final: bool) -> None:
        pending = self._pending
        self._pending = []
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
