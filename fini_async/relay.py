"""Relay an :class:`~fini_async.AnswerStream` to a browser: server-sent events, NDJSON or plain
text chunks, as async iterators of bytes ready for ``aiohttp.web.StreamResponse`` or
Starlette/FastAPI's ``StreamingResponse``; :func:`relay_to` does the whole aiohttp response and
:func:`streaming_response` the whole Starlette/FastAPI one, each cancelling the upstream read as
soon as the client disconnects.

Each helper owns the stream: it closes it when it finishes, fails, or is closed itself. Iteration
is pull-based, so a slow reader slows the upstream read instead of buffering without bound.

Events (SSE ``event:`` name, or the ``type`` key in NDJSON): ``metadata`` (the sources in
``based_on`` and the rest of the metadata), ``delta`` (``{"text": ...}``), ``unknown``
(``{"raw": ...}``), ``done`` (the final :class:`~fini_async.Answer`, ``messages`` included for the
next turn's history) and ``error`` (``{"error", "message", "status_code", "request_id"}``) when Fini
fails: a :class:`~fini_async.FiniError` is reported in band, anything else propagates.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING

from ._framing import (
    NDJSON_MEDIA_TYPE,
    SSE_MEDIA_TYPE,
    TEXT_MEDIA_TYPE,
    EventSource,
    ndjson,
    sse,
    text_chunks,
)

if TYPE_CHECKING:
    from aiohttp import web
    from starlette.responses import StreamingResponse
    from starlette.types import Receive, Scope, Send

__all__ = [
    "NDJSON_MEDIA_TYPE",
    "SSE_MEDIA_TYPE",
    "TEXT_MEDIA_TYPE",
    "EventSource",
    "ndjson",
    "relay_to",
    "sse",
    "streaming_response",
    "text_chunks",
]

_FORMATS = {"sse": SSE_MEDIA_TYPE, "ndjson": NDJSON_MEDIA_TYPE, "text": TEXT_MEDIA_TYPE}


def _body(stream: EventSource, format: str) -> tuple[AsyncGenerator[bytes, None], str]:
    """The body generator and media type for ``format``; ValueError (stream closed) if unknown."""
    media = _FORMATS.get(format)
    if media is None:
        stream.close()
        raise ValueError(f"format must be one of {sorted(_FORMATS)}")
    if format == "sse":
        return sse(stream), media
    if format == "ndjson":
        return ndjson(stream), media
    return text_chunks(stream), media


def _headers(media: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    return {
        "Content-Type": media,
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
        **(extra or {}),
    }


async def relay_to(
    request: web.BaseRequest,
    stream: EventSource,
    *,
    format: str = "sse",
    headers: Mapping[str, str] | None = None,
    poll_interval: float = 0.1,
) -> web.StreamResponse:
    """Relay ``stream`` as the aiohttp response to ``request`` (``format``: ``"sse"``,
    ``"ndjson"`` or ``"text"``) and return it. A client that disconnects cancels the upstream
    read within ``poll_interval`` seconds and the stream is closed. Raises ``ValueError`` for an
    unknown format; Fini's failures are reported in band (see the module docstring)."""
    from aiohttp import web

    body, media = _body(stream, format)
    resp = web.StreamResponse(headers=_headers(media, headers))

    async def pump() -> None:
        await resp.prepare(request)
        try:
            async for chunk in body:
                await resp.write(chunk)
            await resp.write_eof()
        finally:
            await body.aclose()

    task = asyncio.ensure_future(pump())
    try:
        while not task.done():
            await asyncio.wait({task}, timeout=poll_interval)
            if not task.done() and (request.transport is None or request.transport.is_closing()):
                task.cancel()
        try:
            await task
        except (asyncio.CancelledError, ConnectionResetError):
            pass
    finally:
        if not task.done():
            task.cancel()
            try:
                await task
            except BaseException:
                pass
        stream.close()
    return resp


def streaming_response(
    stream: EventSource,
    *,
    format: str = "sse",
    headers: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> StreamingResponse:
    """``stream`` relayed as a Starlette/FastAPI response (``format``: ``"sse"``, ``"ndjson"`` or
    ``"text"``): return it from an endpoint. Needs starlette (the ``relay`` extra).

    Unlike a bare ``StreamingResponse(stream.sse())``, it listens for the client's
    ``http.disconnect`` whatever ASGI version the server speaks (Starlette stops listening from
    2.4 on and waits for a write to fail, which a stalled upstream never triggers), so a client
    that goes away cancels the upstream read at once, and the stream is closed however the
    response ends. Raises ``ValueError`` for an unknown format."""
    body, media = _body(stream, format)
    return _relay_response_class()(
        body, status_code=status_code, headers=_headers(media, headers), media_type=media
    )


@functools.cache
def _relay_response_class() -> type[StreamingResponse]:
    import anyio
    from starlette.responses import StreamingResponse

    class RelayResponse(StreamingResponse):
        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await super().__call__(scope, receive, send)
                return
            body = self.body_iterator
            try:
                async with anyio.create_task_group() as tg:

                    async def watch() -> None:
                        while (await receive())["type"] != "http.disconnect":
                            pass
                        tg.cancel_scope.cancel()  # the client is gone: stop reading upstream

                    tg.start_soon(watch)
                    try:
                        await self.stream_response(send)
                    except OSError:
                        pass  # the client went away while we wrote to it
                    tg.cancel_scope.cancel()
            finally:
                aclose = getattr(body, "aclose", None)
                if aclose is not None:
                    with anyio.CancelScope(shield=True):
                        await aclose()  # closes the AnswerStream, wherever it stopped
            if self.background is not None:
                await self.background()

    return RelayResponse
