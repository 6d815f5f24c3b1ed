"""``AnswerStream``: a streamed ask-question answer as an async iterator of typed events."""

from __future__ import annotations

import asyncio
import enum
import operator
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, cast

import aiohttp
import msgspec

from . import _framing
from ._accumulate import AnswerAccumulator
from ._exceptions import (
    APIError,
    APIStatusError,
    StreamError,
    make_status_error,
)
from ._http_errors import StreamIdleTimeout, mapped_error
from ._models import (
    Answer,
    AnswerDelta,
    AnswerMetadata,
    Message,
    Source,
    StreamEvent,
    UnknownEvent,
)
from ._response import StreamResponse, request_id_of
from ._sse import EventDecoder, NamedEvent
from ._stream_decode import (  # noqa: F401 (decode_payload, _delta_decoder: re-exported)
    _delta_decoder,
    _ErrorItem,
    _Item,
    decode_payload,
    metadata_of_answer,
    raw_of,
)
from ._stream_decode import event_decoder as _event_decoder
from ._text_stream import text_stream as _text_stream

__all__ = ["AnswerStream"]


class _State(enum.Enum):
    """Where an :class:`AnswerStream` is in its life."""

    #: No response yet (also while a stream that broke before delivering anything re-opens).
    UNOPENED = "unopened"
    #: The response is open and being read.
    OPEN = "open"
    #: The whole answer arrived; the response is released (or closed).
    DONE = "done"
    #: Ended without the whole answer: an error, a break, an idle timeout.
    FAILED = "failed"
    #: Closed by its user before the whole answer arrived: never re-opened or retried.
    CLOSED = "closed"


#: States in which nothing more will be read. A tuple, not a set: ``in`` compares by identity
#: first, where a set would call ``Enum.__hash__`` (a Python function) at every change of state.
_ENDED = (_State.DONE, _State.FAILED, _State.CLOSED)


#: After ``[DONE]``, how long to wait for the end of the body before dropping the connection.
_DRAIN_SECONDS = 0.25


# -- the stream --------------------------------------------------------------------------------


class AnswerStream:
    """A streamed answer. Use it as ``async with client.bots.stream_question(...) as stream``.

    - ``async for event in stream`` yields :class:`AnswerMetadata`, :class:`AnswerDelta` and
      :class:`UnknownEvent` as they arrive;
    - ``stream.text_stream`` yields the answer's text pieces only;
    - ``await stream.get_final_answer()`` reads what is left and returns the :class:`Answer` the
      plain call would have returned.

    Leaving the ``async with``, breaking out of the loop, an exception or a cancellation closes the
    HTTP response at once: the server sees the disconnect and the connection is never returned to
    the pool half-read. A stream can be consumed once.
    """

    def __init__(
        self,
        opener: Callable[[], Awaitable[StreamResponse]],
        *,
        question: str,
        history: list[Message],
        max_retries: int,
        on_complete: Callable[[Answer], None] | None = None,
    ) -> None:
        self._opener = opener
        self._question = question
        self._history = history
        self._max_retries = max_retries
        self._on_complete = on_complete
        self._resp: StreamResponse | None = None
        self._decoder: EventDecoder[_Item] = _event_decoder()
        self._items: list[Any] = []
        self._pos = 0
        # _items[_counted:_pos] were delivered by a fast path (plain AnswerDelta items only) and
        # are not in _parts/_delivered yet: _count() adds them when the text or count is needed.
        self._counted = 0
        self._state = _State.UNOPENED
        # ``_state in _ENDED``, kept beside the state because text_stream's loop reads it for
        # every network read: one attribute load, no set lookup (see _set_state).
        self._finished = False
        self._opening: asyncio.Task[Any] | None = None  # the task waiting for the response
        self._open_cancelled = False
        self._delivered = 0
        self._opens = 0
        self._acc = AnswerAccumulator()
        self._parts = self._acc.parts  # the hot paths append to the accumulator's list directly
        self._final: Answer | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._idle: float | None = None

    def __repr__(self) -> str:
        state = "closed" if self._finished else "open"
        events = self._delivered + self._pos - self._counted
        return f"<AnswerStream {state} events={events}>"

    # -- context management --------------------------------------------------------------------

    async def __aenter__(self) -> AnswerStream:
        if self._resp is None and not self._finished:
            await self._open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()  # what aclose does, without a second coroutine

    async def aclose(self) -> None:
        """Close the response now (idempotent). From another task too: a reader waiting in the
        stream then ends its loop (``StopAsyncIteration``; ``get_final_answer`` raises
        :class:`StreamError`) and the request is never retried or sent again."""
        self.close()

    def close(self) -> None:
        """Synchronous :meth:`aclose`, for ``finally`` blocks and callbacks."""
        if self._state is not _State.DONE:
            self._set_state(_State.CLOSED)
        opening = self._opening
        if opening is not None and not self._open_cancelled:
            try:
                current = asyncio.current_task()
            except RuntimeError:
                current = None
            if opening is not current:
                # Another task waits for the response: cancel that request (see _open).
                self._open_cancelled = True
                opening.cancel()
        self._close()

    @property
    def closed(self) -> bool:
        return self._finished

    @property
    def response(self) -> StreamResponse | None:
        """The open HTTP response (status, headers), once the stream started."""
        return self._resp

    @property
    def text_so_far(self) -> str:
        """The answer text received until now."""
        self._count(self._pos)
        return self._acc.text

    @property
    def based_on(self) -> list[Source]:
        """The sources, once the metadata event arrived (empty before)."""
        return self._acc.based_on or []

    def _set_state(self, state: _State) -> None:
        self._state = state
        self._finished = state in _ENDED

    def _close(self, *, release: bool = False) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if self._state is _State.UNOPENED or self._state is _State.OPEN:
            self._set_state(_State.FAILED)  # unless _finish_ok follows: the whole answer came
        resp = self._resp
        if resp is not None:
            if release:
                resp.release()
            else:
                resp.close()

    # -- iteration -----------------------------------------------------------------------------

    def __aiter__(self) -> AnswerStream:
        return self

    async def __anext__(self) -> StreamEvent:
        items = self._items
        pos = self._pos
        if pos < len(items):
            item = items[pos]
            self._pos = pos + 1
            if type(item) is AnswerDelta:  # the hot path: one piece of text, counted later
                return item
            return self._deliver(item)
        return await self._next_slow()

    async def _next_slow(self) -> StreamEvent:
        while True:
            if self._pos < len(self._items):
                item = self._items[self._pos]
                self._pos += 1
                return self._deliver(item)
            if self._finished:
                if (
                    self._on_complete is not None
                    and self._state is _State.DONE
                    and self._final is None
                ):
                    self._final = self._build_answer()
                    self._on_complete(self._final)  # chat mode: record the turn
                raise StopAsyncIteration
            await self._fill()

    def _count(self, upto: int) -> None:
        """Add the pieces of text the fast paths delivered before ``upto`` to the text so far."""
        counted = self._counted
        if upto > counted:
            self._parts.extend(map(_text_of, self._items[counted:upto]))
            self._delivered += upto - counted
            self._counted = upto

    def _deliver(self, item: Any) -> StreamEvent:
        """Deliver ``item``, the one before ``_pos``."""
        pos = self._pos
        if self._counted < pos - 1:
            self._count(pos - 1)
        self._counted = pos
        name: str | None = None
        if type(item) is NamedEvent:
            name, item = item.name, item.value
        if type(item) is tuple:
            # One payload carrying metadata and text: deliver both, in that order.
            self._items[self._pos : self._pos] = list(item[1:])
            item = item[0]
        if type(item) is _ErrorItem or name == "error":
            raise self._error_from(item)
        if type(item) is AnswerDelta:
            self._parts.append(item.text)
        elif type(item) is AnswerMetadata:
            self._acc.add(item)
        elif name is not None and type(item) is UnknownEvent:
            item.event = name
        self._delivered += 1
        return cast(StreamEvent, item)

    def sse(self) -> AsyncIterator[bytes]:
        """This stream as server-sent events (see :mod:`fini_async.relay`)."""
        return _framing.sse(self)

    def ndjson(self) -> AsyncIterator[bytes]:
        """This stream as NDJSON lines (see :mod:`fini_async.relay`)."""
        return _framing.ndjson(self)

    def text_chunks(self, *, error_marker: str | None = None) -> AsyncIterator[bytes]:
        """This stream's text as UTF-8 chunks (see :mod:`fini_async.relay`)."""
        return _framing.text_chunks(self, error_marker=error_marker)

    @property
    def text_stream(self) -> AsyncIterator[str]:
        """An async iterator over the answer's text pieces only."""
        return _text_stream(self)

    async def until_done(self) -> None:
        """Read the stream to its end."""
        async for _ in self:
            pass

    async def get_final_answer(self) -> Answer:
        """Read what is left and return the whole :class:`Answer`."""
        if self._final is None:
            await self.until_done()
            if self._state is _State.DONE and self._final is None:  # built here, not for every
                # stream that ends
                self._final = self._build_answer()
        if self._final is None:
            raise StreamError("the stream was closed before it finished", text=self.text_so_far)
        return self._final

    async def get_final_text(self) -> str:
        """Read what is left and return the whole answer text."""
        return (await self.get_final_answer()).answer

    # -- internals -----------------------------------------------------------------------------

    def _build_answer(self) -> Answer:
        self._count(self._pos)
        return self._acc.build(self._history, self._question)

    async def _open(self) -> None:
        if self._finished:
            raise StreamError("the stream is closed", text=self.text_so_far)
        self._opens += 1
        task = self._opening = asyncio.current_task()
        try:
            resp = await self._opener()
        except asyncio.CancelledError:
            if not self._open_cancelled or task is None:
                raise
            # close() from another task cancelled this request: take back that one cancellation
            # and end quietly, unless this task was cancelled by someone else too.
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+
            if uncancel is not None and uncancel() > 0:
                raise
            return
        finally:
            self._opening = None
        if self._state is _State.CLOSED:  # closed by the user while the response arrived
            resp.close()
            return
        self._resp = resp
        self._set_state(_State.OPEN)
        self._idle = resp.timeout.stream_idle
        ctype = resp.headers.get("Content-Type", "")
        if ctype.startswith("application/json"):
            # The server answered with one plain JSON answer instead of a stream.
            await self._read_plain(resp)
            return
        if self._idle is not None:
            # The watchdog is armed by the first read that has to wait (see _fill).
            self._last_read = asyncio.get_running_loop().time()
            # From here the watchdog bounds the gaps (Timeout.read was for the headers): stop
            # aiohttp's per-socket read timer, which it re-creates for every packet received.
            resp.stop_read_timer()

    async def _read_plain(self, resp: StreamResponse) -> None:
        try:
            body = await resp.read()
        except BaseException as exc:
            self._close()
            if self._state is _State.CLOSED and isinstance(exc, (aiohttp.ClientError, OSError)):
                return
            raise
        self._close(release=True)
        meta, text = metadata_of_answer(body, resp.status)
        self._items.append(meta)
        if text:
            self._items.append(AnswerDelta(text))
        self._finish_ok()

    def _check_idle(self) -> None:
        self._watchdog = None
        resp = self._resp
        if self._finished or resp is None or self._idle is None:
            return
        loop = asyncio.get_running_loop()
        due = self._last_read + self._idle
        if loop.time() >= due:
            resp.fail_reads(StreamIdleTimeout())
        else:
            self._watchdog = loop.call_at(due, _check_idle, weakref.ref(self))

    def _finish_ok(self) -> None:
        self._set_state(_State.DONE)

    async def _fill(self) -> None:
        self._count(self._pos)  # everything buffered was delivered
        if self._resp is None:
            await self._open()
            return
        resp = self._resp
        try:
            chunk = resp.read_nowait()  # what readany would return, if anything is buffered
            if not chunk and not resp.is_eof():
                if self._watchdog is None and self._idle is not None:
                    # Only a read that waits needs the watchdog (a timer per stream otherwise).
                    # A weak reference: a pending timer must not keep a dropped stream alive
                    # (its collection is what frees its connection slot).
                    self._watchdog = asyncio.get_running_loop().call_at(
                        self._last_read + self._idle, _check_idle, weakref.ref(self)
                    )
                chunk = await resp.readany()
        except BaseException as exc:
            # Mapped only here, on the way out: a ``with map_aiohttp_errors()`` around the reads
            # would cost a context manager per network read on the hot path.
            cause = mapped_error(exc, resp.method, resp.url, resp.timeout, stream=True)
            if cause is None:
                self._close()  # cancellation or anything else: drop the connection now
                raise
            await self._on_break(cause)
            return
        if self._idle is not None:
            self._last_read = asyncio.get_running_loop().time()
        decoder = self._decoder
        try:
            new = decoder.feed(chunk) if chunk else decoder.flush()
        except StreamError as exc:  # an event past the decoder's max_event_size
            self._close()
            raise StreamError(
                exc.message, text=self.text_so_far, method=resp.method, url=resp.url
            ) from None
        if chunk:
            if decoder.done:
                await self._drain(resp)
        else:
            self._close(release=True)
        if new:
            # _fill runs only once everything buffered was delivered.
            self._items = new
            self._pos = self._counted = 0
        if self._finished:
            self._finish_ok()

    async def _drain(self, resp: StreamResponse) -> None:
        """After ``[DONE]``: read the body's end (briefly) so the connection can go back to the
        pool; a server that keeps the response open gets its connection closed instead."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        try:
            ended = await resp.drain(_DRAIN_SECONDS)
        except BaseException:
            self._close()
            raise
        if not ended:
            self._close()
            return
        self._close(release=True)

    async def _on_break(self, cause: APIError) -> None:
        """The body broke (``cause``, mapped by the transport): start over if nothing reached
        the caller yet, else raise."""
        resp = self._resp
        method, url = (resp.method, resp.url) if resp is not None else ("POST", "")
        self._close()
        if self._state is _State.CLOSED:
            return  # the user closed it (maybe from another task): the loop just ends
        if self._delivered == 0 and self._opens <= self._max_retries:
            # Nothing reached the caller yet: start over (ask-question is safe to repeat).
            self._decoder = _event_decoder()
            self._items, self._pos, self._counted = [], 0, 0
            self._resp = None
            self._set_state(_State.UNOPENED)
            await self._open()
            return
        if self._delivered == 0:
            raise cause
        error = StreamError(
            f"the stream broke after it started: {cause.message}",
            text=self.text_so_far,
            method=method,
            url=url,
        )
        error.__cause__ = cause
        raise error

    def _error_from(self, item: Any) -> APIStatusError:
        resp = self._resp
        self._close()
        raw = item.raw if isinstance(item, _ErrorItem) else msgspec.json.encode(raw_of(item))
        status = item.status if isinstance(item, _ErrorItem) else 500
        headers = resp.headers if resp is not None else {}
        err = make_status_error(
            status,
            raw,
            method=resp.method if resp is not None else "POST",
            url=resp.url if resp is not None else "",
            headers=headers,
            request_id=request_id_of(headers),
        )
        err.text = self.text_so_far  # type: ignore[attr-defined]
        return err


_text_of = operator.attrgetter("text")


def _check_idle(ref: weakref.ref[AnswerStream]) -> None:
    """The idle watchdog's timer callback, holding its stream weakly."""
    stream = ref()
    if stream is not None:
        stream._check_idle()
