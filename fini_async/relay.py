"""Relay an :class:`~fini_async.AnswerStream` to a browser: server-sent events, NDJSON or plain
text chunks, as async iterators of bytes ready for ``aiohttp.web.StreamResponse`` or
Starlette/FastAPI's ``StreamingResponse``; :func:`relay_to` does the whole aiohttp response.

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
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from ._exceptions import FiniError
from ._models import AnswerDelta, AnswerMetadata, UnknownEvent

if TYPE_CHECKING:
    from aiohttp import web

    from ._streaming import AnswerStream

__all__ = [
    "NDJSON_MEDIA_TYPE",
    "SSE_MEDIA_TYPE",
    "TEXT_MEDIA_TYPE",
    "ndjson",
    "relay_to",
    "sse",
    "text_chunks",
]

SSE_MEDIA_TYPE = "text/event-stream"
NDJSON_MEDIA_TYPE = "application/x-ndjson"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"

_encode = msgspec.json.Encoder().encode


def _meta_payload(event: AnswerMetadata) -> dict[str, Any]:
    out: dict[str, Any] = {"based_on": msgspec.to_builtins(event.based_on)}
    for name in ("answer_uuid", "categories", "conversation_id", "language", "success"):
        value = getattr(event, name)
        if value is not None:
            out[name] = value
    return out


def _error_payload(exc: FiniError) -> dict[str, Any]:
    return {
        "error": type(exc).__name__,
        "message": str(getattr(exc, "message", None) or exc),
        "status_code": getattr(exc, "status_code", None),
        "request_id": getattr(exc, "request_id", None),
    }


async def _events(stream: AnswerStream) -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """(name, payload) pairs; the stream is closed however this ends."""
    try:
        try:
            async for event in stream:
                if type(event) is AnswerDelta:
                    yield "delta", {"text": event.text}
                elif isinstance(event, AnswerMetadata):
                    yield "metadata", _meta_payload(event)
                elif isinstance(event, UnknownEvent):
                    yield "unknown", {"raw": event.raw, "event": event.event}
            final = await stream.get_final_answer()
        except FiniError as exc:
            yield "error", _error_payload(exc)
            return
        yield "done", msgspec.to_builtins(final)
    finally:
        stream.close()


async def sse(stream: AnswerStream) -> AsyncGenerator[bytes, None]:
    """The stream as server-sent events (``event: <name>`` + ``data: <json>``), UTF-8 bytes."""
    async for name, payload in _events(stream):
        yield b"event: " + name.encode() + b"\ndata: " + _encode(payload) + b"\n\n"


async def ndjson(stream: AnswerStream) -> AsyncGenerator[bytes, None]:
    """The stream as NDJSON: one ``{"type": <name>, ...}`` object per line."""
    async for name, payload in _events(stream):
        yield _encode({"type": name, **payload}) + b"\n"


async def text_chunks(
    stream: AnswerStream, *, error_marker: str | None = None
) -> AsyncGenerator[bytes, None]:
    """The answer's text only, UTF-8 bytes as it arrives. When Fini fails, the error propagates
    (the HTTP response is cut short) unless ``error_marker`` is given: then
    ``error_marker.format(message=...)`` is appended and the body ends normally."""
    try:
        try:
            async for text in stream.text_stream:
                yield text.encode()
        except FiniError as exc:
            if error_marker is None:
                raise
            yield error_marker.format(message=_error_payload(exc)["message"]).encode()
    finally:
        stream.close()


_FORMATS = {"sse": SSE_MEDIA_TYPE, "ndjson": NDJSON_MEDIA_TYPE, "text": TEXT_MEDIA_TYPE}


async def relay_to(
    request: web.BaseRequest,
    stream: AnswerStream,
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

    media = _FORMATS.get(format)
    if media is None:
        stream.close()
        raise ValueError(f"format must be one of {sorted(_FORMATS)}")
    body = (
        sse(stream)
        if format == "sse"
        else ndjson(stream)
        if format == "ndjson"
        else text_chunks(stream)
    )
    resp = web.StreamResponse(
        headers={
            "Content-Type": media,
            "Cache-Control": "no-cache",
            "X-Accel-Buffering": "no",
            **(headers or {}),
        }
    )

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
