"""Re-emitting a streamed answer for a browser: server-sent events, NDJSON or plain text chunks,
as async iterators of bytes. Public through :mod:`fini_async.relay`.

The helpers read any :class:`EventSource` (what :class:`~fini_async.AnswerStream` is), so this
module does not import the stream, and the stream's ``sse()``/``ndjson()``/``text_chunks()``
import it without a cycle. Each helper owns its source: it closes it however it ends."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any, Protocol

import msgspec

from ._exceptions import FiniError
from ._models import Answer, AnswerDelta, AnswerMetadata, StreamEvent, UnknownEvent

__all__ = [
    "NDJSON_MEDIA_TYPE",
    "SSE_MEDIA_TYPE",
    "TEXT_MEDIA_TYPE",
    "EventSource",
    "ndjson",
    "sse",
    "text_chunks",
]


class EventSource(Protocol):
    """A streamed answer as the helpers read it (an :class:`~fini_async.AnswerStream`)."""

    def __aiter__(self) -> AsyncIterator[StreamEvent]: ...

    @property
    def text_stream(self) -> AsyncIterator[str]: ...

    async def get_final_answer(self) -> Answer: ...

    def close(self) -> None: ...


SSE_MEDIA_TYPE = "text/event-stream"
NDJSON_MEDIA_TYPE = "application/x-ndjson"
TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"

_encode = msgspec.json.Encoder().encode


#: The metadata fields relayed as they are: all of AnswerMetadata's (so that a field added there
#: reaches the browser too) but the sources (relayed as builtins below), the text (the deltas
#: carry it), and the history, function call and raw object (not for the browser).
_RELAYED_META = tuple(
    f.name
    for f in msgspec.structs.fields(AnswerMetadata)
    if f.name not in {"based_on", "answer", "messages", "function_call", "raw"}
)


def _meta_payload(event: AnswerMetadata) -> dict[str, Any]:
    out: dict[str, Any] = {"based_on": msgspec.to_builtins(event.based_on)}
    for name in _RELAYED_META:
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


async def _events(stream: EventSource) -> AsyncIterator[tuple[str, dict[str, Any]]]:
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


async def sse(stream: EventSource) -> AsyncGenerator[bytes, None]:
    """The stream as server-sent events (``event: <name>`` + ``data: <json>``), UTF-8 bytes."""
    async for name, payload in _events(stream):
        yield b"event: " + name.encode() + b"\ndata: " + _encode(payload) + b"\n\n"


async def ndjson(stream: EventSource) -> AsyncGenerator[bytes, None]:
    """The stream as NDJSON: one ``{"type": <name>, ...}`` object per line."""
    async for name, payload in _events(stream):
        yield _encode({"type": name, **payload}) + b"\n"


async def text_chunks(
    stream: EventSource, *, error_marker: str | None = None
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
