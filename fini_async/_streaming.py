"""``AnswerStream``: a streamed ask-question answer as an async iterator of typed events."""

from __future__ import annotations

import asyncio
import operator
import sys
import weakref
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any, cast

import aiohttp
import msgspec

from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    StreamError,
    make_status_error,
)
from ._models import (
    Answer,
    AnswerDelta,
    AnswerMetadata,
    FunctionCall,
    Lenient,
    Message,
    Source,
    StreamEvent,
    UnknownEvent,
    parse_json,
)
from ._sse import EventDecoder, NamedEvent
from ._transport import StreamResponse, request_id_of

__all__ = ["AnswerStream"]


# -- decoding one payload ----------------------------------------------------------------------


class _Chunk(msgspec.Struct):
    content: str | None = None
    delta: str | None = None
    based_on: list[Source] | None = None
    answer: str | None = None
    answer_uuid: str | None = None
    categories: list[str] | None = None
    messages: list[Message] | None = None
    success: int | bool | None = None
    function_call: FunctionCall | None = None
    conversation_id: str | None = None
    language: str | None = None
    statusCode: int | None = None
    error: Any = None
    message: Any = None
    type: str | None = None


class _ErrorItem:
    __slots__ = ("raw", "status")

    def __init__(self, status: int, raw: bytes) -> None:
        self.status = status
        self.raw = raw


_delta_decoder = msgspec.json.Decoder(AnswerDelta)
_chunk_decoder = msgspec.json.Decoder(_Chunk)
_any_decoder = msgspec.json.Decoder()
_answer_lenient = Lenient(Answer)

_Item = StreamEvent | tuple[StreamEvent, ...] | _ErrorItem


def decode_payload(data: bytes) -> _Item:
    """One stream payload to its event(s). Raises msgspec.DecodeError if it is not JSON."""
    try:
        return _delta_decoder.decode(data)
    except msgspec.ValidationError:
        pass
    return _decode_not_delta(data)


def _decode_not_delta(data: bytes) -> _Item:
    """``decode_payload`` for a payload the delta decoder refused (valid JSON or not). JSON nested
    too deeply to decode counts as not JSON (skipped like any other such line)."""
    try:
        return _decode_other(data)
    except RecursionError:
        raise msgspec.DecodeError("JSON nested too deeply") from None


def _decode_other(data: bytes) -> _Item:
    try:
        c = _chunk_decoder.decode(data)
    except msgspec.ValidationError:
        return UnknownEvent(_any_decoder.decode(data))
    text = c.content if c.content is not None else c.delta
    if text is None and (
        c.statusCode is not None or (c.error not in (None, False, "")) or c.type == "error"
    ):
        return _ErrorItem(c.statusCode or 500, data)
    has_meta = (
        c.based_on is not None
        or c.answer is not None
        or c.answer_uuid is not None
        or c.categories is not None
        or c.messages is not None
        or c.success is not None
        or c.function_call is not None
        or c.conversation_id is not None
        or c.language is not None
    )
    if not has_meta:
        if text is not None:
            return AnswerDelta(text)
        return UnknownEvent(_any_decoder.decode(data))
    raw = _any_decoder.decode(data)
    meta = AnswerMetadata(
        based_on=c.based_on or [],
        answer_uuid=c.answer_uuid,
        categories=c.categories,
        messages=c.messages,
        success=c.success,
        function_call=c.function_call,
        conversation_id=c.conversation_id,
        language=c.language,
        answer=c.answer,
        raw=raw if isinstance(raw, dict) else {},
    )
    if text is not None:
        return (meta, AnswerDelta(text))
    return meta


def _event_decoder() -> EventDecoder[_Item]:
    return EventDecoder(decode_payload, fast=_delta_decoder, fallback=_decode_not_delta)


class _IdleTimeout(Exception):
    pass


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
        self._finished = False
        self._ok = False
        self._closed = False
        # Closed by the user (aclose/close, maybe from another task): never reopened or retried.
        self._aborted = False
        self._opening: asyncio.Task[Any] | None = None  # the task waiting for the response
        self._open_cancelled = False
        self._delivered = 0
        self._opens = 0
        self._parts: list[str] = []
        self._meta: dict[str, Any] = {}
        self._based_on: list[Source] | None = None
        self._final: Answer | None = None
        self._watchdog: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._idle: float | None = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("finished" if self._finished else "open")
        events = self._delivered + self._pos - self._counted
        return f"<AnswerStream {state} events={events}>"

    # -- context management --------------------------------------------------------------------

    async def __aenter__(self) -> AnswerStream:
        if self._resp is None and not self._closed:
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
        self._aborted = True
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
        return self._closed

    @property
    def response(self) -> StreamResponse | None:
        """The open HTTP response (status, headers), once the stream started."""
        return self._resp

    @property
    def text_so_far(self) -> str:
        """The answer text received until now."""
        self._count(self._pos)
        return "".join(self._parts)

    @property
    def based_on(self) -> list[Source]:
        """The sources, once the metadata event arrived (empty before)."""
        return self._based_on or []

    def _close(self, *, release: bool = False) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        self._finished = True
        self._closed = True
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
                if self._on_complete is not None and self._ok and self._final is None:
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
            self._merge(item)
        elif name is not None and type(item) is UnknownEvent:
            item.event = name
        self._delivered += 1
        return cast(StreamEvent, item)

    def sse(self) -> AsyncIterator[bytes]:
        """This stream as server-sent events (see :mod:`fini_async.relay`)."""
        from .relay import sse

        return sse(self)

    def ndjson(self) -> AsyncIterator[bytes]:
        """This stream as NDJSON lines (see :mod:`fini_async.relay`)."""
        from .relay import ndjson

        return ndjson(self)

    def text_chunks(self, *, error_marker: str | None = None) -> AsyncIterator[bytes]:
        """This stream's text as UTF-8 chunks (see :mod:`fini_async.relay`)."""
        from .relay import text_chunks

        return text_chunks(self, error_marker=error_marker)

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
            if self._ok and self._final is None:  # built here, not for every stream that ends
                self._final = self._build_answer()
        if self._final is None:
            raise StreamError("the stream was closed before it finished", text=self.text_so_far)
        return self._final

    async def get_final_text(self) -> str:
        """Read what is left and return the whole answer text."""
        return (await self.get_final_answer()).answer

    # -- internals -----------------------------------------------------------------------------

    def _merge(self, meta: AnswerMetadata) -> None:
        if meta.based_on:
            self._based_on = meta.based_on
        merged = self._meta
        if meta.answer_uuid is not None:
            merged["answer_uuid"] = meta.answer_uuid
        if meta.categories is not None:
            merged["categories"] = meta.categories
        if meta.messages is not None:
            merged["messages"] = meta.messages
        if meta.success is not None:
            merged["success"] = meta.success
        if meta.function_call is not None:
            merged["function_call"] = meta.function_call
        if meta.conversation_id is not None:
            merged["conversation_id"] = meta.conversation_id
        if meta.language is not None:
            merged["language"] = meta.language
        if meta.answer is not None:
            merged["answer"] = meta.answer

    def _build_answer(self) -> Answer:
        self._count(self._pos)
        meta = self._meta
        text = "".join(self._parts) if self._parts else (meta.get("answer") or "")
        messages = meta.get("messages")
        if not messages:
            messages = [
                *self._history,
                Message(role="user", content=self._question),
                Message(role="assistant", content=text),
            ]
        return Answer(
            answer=text,
            answer_uuid=meta.get("answer_uuid"),
            based_on=self._based_on or [],
            categories=meta.get("categories") or [],
            messages=messages,
            success=meta.get("success", 1),
            function_call=meta.get("function_call"),
            conversation_id=meta.get("conversation_id"),
            language=meta.get("language"),
        )

    async def _open(self) -> None:
        if self._closed:
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
        if self._aborted:  # closed by the user while the response arrived
            resp.close()
            return
        self._resp = resp
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
            connection = resp.raw.connection
            if connection is not None and connection.protocol is not None:
                connection.protocol.read_timeout = None
                connection.protocol.start_timeout()  # with no timeout: drops the pending timer

    async def _read_plain(self, resp: StreamResponse) -> None:
        try:
            body = await resp.raw.read()
        except BaseException as exc:
            self._close()
            if self._aborted and isinstance(exc, (aiohttp.ClientError, OSError)):
                return
            raise
        self._close(release=True)
        answer = _answer_lenient.decode(body, status=resp.status)
        meta = AnswerMetadata(
            based_on=answer.based_on,
            answer_uuid=answer.answer_uuid,
            categories=answer.categories,
            messages=answer.messages or None,
            success=answer.success,
            function_call=answer.function_call,
            conversation_id=answer.conversation_id,
            language=answer.language,
            raw=parse_json(body, status=resp.status) if body else {},
        )
        self._items.append(meta)
        if answer.answer:
            self._items.append(AnswerDelta(answer.answer))
        self._finish_ok()

    def _check_idle(self) -> None:
        self._watchdog = None
        resp = self._resp
        if self._finished or resp is None or self._idle is None:
            return
        loop = asyncio.get_running_loop()
        due = self._last_read + self._idle
        if loop.time() >= due:
            resp.raw.content.set_exception(_IdleTimeout())
        else:
            self._watchdog = loop.call_at(due, _check_idle, weakref.ref(self))

    def _finish_ok(self) -> None:
        self._finished = True
        self._ok = True

    async def _fill(self) -> None:
        self._count(self._pos)  # everything buffered was delivered
        if self._resp is None:
            await self._open()
            return
        resp = self._resp
        content = resp.raw.content
        try:
            chunk = content.read_nowait()  # what readany would return, if anything is buffered
            if not chunk and not content.is_eof():
                if self._watchdog is None and self._idle is not None:
                    # Only a read that waits needs the watchdog (a timer per stream otherwise).
                    # A weak reference: a pending timer must not keep a dropped stream alive
                    # (its collection is what frees its connection slot).
                    self._watchdog = asyncio.get_running_loop().call_at(
                        self._last_read + self._idle, _check_idle, weakref.ref(self)
                    )
                chunk = await content.readany()
        except BaseException as exc:
            if isinstance(exc, (_IdleTimeout, aiohttp.ClientError, OSError, asyncio.TimeoutError)):
                await self._on_break(exc)
                return
            self._close()  # cancellation or anything else: drop the connection now
            raise
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
        if self._closed:
            self._finish_ok()

    async def _drain(self, resp: StreamResponse) -> None:
        """After ``[DONE]``: read the body's end (briefly) so the connection can go back to the
        pool; a server that keeps the response open gets its connection closed instead."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        content = resp.raw.content
        if not content.is_eof():
            handle = asyncio.get_running_loop().call_later(
                _DRAIN_SECONDS, content.set_exception, _IdleTimeout()
            )
            try:
                while not content.is_eof() and await content.readany():
                    pass
            except (_IdleTimeout, aiohttp.ClientError, OSError, asyncio.TimeoutError):
                self._close()
                return
            except BaseException:
                self._close()
                raise
            finally:
                handle.cancel()
        self._close(release=True)

    async def _on_break(self, exc: BaseException) -> None:
        resp = self._resp
        method, url = (resp.method, resp.url) if resp is not None else ("POST", "")
        self._close()
        if self._aborted:
            return  # the user closed it (maybe from another task): the loop just ends
        if isinstance(exc, _IdleTimeout):
            cause: APIError = APITimeoutError(
                f"no data for {self._idle}s (stream_idle timeout)",
                kind="stream_idle",
                method=method,
                url=url,
            )
        elif isinstance(exc, asyncio.TimeoutError):
            cause = APITimeoutError("the stream timed out", kind="read", method=method, url=url)
        else:
            cause = APIConnectionError(
                f"the stream broke: {exc or type(exc).__name__}", method=method, url=url
            )
        if self._delivered == 0 and self._opens <= self._max_retries:
            # Nothing reached the caller yet: start over (ask-question is safe to repeat).
            self._decoder = _event_decoder()
            self._items, self._pos, self._counted = [], 0, 0
            self._resp = None
            self._closed = self._finished = False
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
        raw = item.raw if isinstance(item, _ErrorItem) else msgspec.json.encode(_raw_of(item))
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


def _raw_of(item: Any) -> Any:
    if isinstance(item, UnknownEvent):
        return item.raw
    if isinstance(item, AnswerMetadata):
        return item.raw
    if isinstance(item, AnswerDelta):
        return {"message": item.text}
    return item


async def _texts(stream: AnswerStream) -> AsyncGenerator[str, None]:
    # An async generator, not a class with ``async def __anext__``: resuming a generator costs
    # about half as much as calling a Python ``__anext__`` (a slot lookup and a new coroutine per
    # item). Each step re-reads the stream's cursor, so iterating the stream itself in between,
    # or a refill, is seen at once.
    yield ""  # the priming step taken by _text_stream, never seen by the caller
    while True:
        items = stream._items
        pos = stream._pos
        if pos < len(items):
            item = items[pos]
            if type(item) is AnswerDelta:  # the hot path: one piece of text, counted later
                stream._pos = pos + 1
                yield item.text
                continue
        elif not stream._finished:
            await stream._fill()  # what stream.__anext__ would do next, two coroutines fewer
            continue
        try:
            event = await stream.__anext__()
        except StopAsyncIteration:
            return
        if type(event) is AnswerDelta:
            yield event.text


def _text_stream(stream: AnswerStream) -> AsyncIterator[str]:
    """``stream.text_stream``. The generator is started here, with no async-generator hooks
    installed, so that it is bound to none: breaking out of the caller's loop then closes it at
    once, synchronously, like a plain iterator (it holds nothing to clean up: the stream's own
    ``async with`` or ``close`` does that), instead of the event loop's finalizer scheduling a
    task to close it."""
    gen = _texts(stream)
    hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(firstiter=None, finalizer=None)
    try:
        gen.__anext__().send(None)  # runs to the priming ``yield ""``: no I/O, no await
    except StopIteration:
        pass
    finally:
        sys.set_asyncgen_hooks(*hooks)
    return gen
