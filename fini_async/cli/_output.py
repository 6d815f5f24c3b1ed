"""What the command prints: answers, one-line errors, JSON lines. No click or rich here."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec

from .. import Answer, APIError, APIStatusError, ConfigurationError, Source

__all__ = [
    "answer_record",
    "error_line",
    "error_record",
    "format_sources",
    "json_line",
    "leaf_exception",
    "when_text",
]


def _enc_hook(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


def json_line(value: Any) -> str:
    """``value`` (structs, dicts, lists) as one line of JSON, without the newline."""
    return _encoder.encode(value).decode()


def one_line(text: str) -> str:
    return " ".join(text.split())


def leaf_exception(exc: BaseException) -> BaseException:
    """The exception that matters inside (nested) exception groups of a single failure."""
    while True:
        inner = getattr(exc, "exceptions", None)
        if not isinstance(inner, (list, tuple)) or len(inner) != 1:
            return exc
        exc = inner[0]


def error_line(exc: BaseException) -> str:
    """The one line printed for a failure: ``error: AuthenticationError (401): ... [request id
    ...]``, or for a connection failure or timeout ``error: APIConnectionError: could not
    connect ... [POST https://...]``. Messages never hold an API key (the SDK's exceptions never
    carry one)."""
    exc = leaf_exception(exc)
    name = type(exc).__name__
    if isinstance(exc, APIStatusError):
        rid = f" [request id {exc.request_id}]" if exc.request_id else ""
        return f"error: {name} ({exc.status_code}): {one_line(exc.message)}{rid}"
    message = one_line(str(getattr(exc, "message", None) or exc))
    if isinstance(exc, ConfigurationError):
        return f"error: {message}"
    if isinstance(exc, APIError) and exc.method:
        # A connection failure or timeout: the SDK's sentence, then which request it was.
        message = f"{message} [{exc.method} {exc.url}]".strip()
    return f"error: {name}: {message}" if message else f"error: {name}"


def error_record(exc: BaseException) -> dict[str, Any]:
    """A failure as the JSON object written in ``ask-many`` output lines."""
    exc = leaf_exception(exc)
    record: dict[str, Any] = {
        "type": type(exc).__name__,
        "status": exc.status_code if isinstance(exc, APIStatusError) else None,
        "message": one_line(str(getattr(exc, "message", None) or exc)),
    }
    if isinstance(exc, APIStatusError) and exc.request_id:
        record["request_id"] = exc.request_id
    return record


def answer_record(answer: Answer) -> dict[str, Any]:
    """The fields of an answer written in ``ask-many`` output lines."""
    return {
        "answer": answer.answer,
        "answer_uuid": answer.answer_uuid,
        "based_on": msgspec.to_builtins(answer.based_on),
    }


def format_sources(sources: list[Source]) -> str:
    """The sources block printed under an answer ('' when there are none)."""
    if not sources:
        return ""
    lines = ["", "Sources:"]
    for source in sources:
        where = source.source_id or "(unknown source)"
        score = f" (score {source.score:.3f})" if source.score is not None else ""
        kind = f" [{source.source_type}]" if source.source_type else ""
        lines.append(f"  - {where}{kind}{score}")
    return "\n".join(lines)


def when_text(value: datetime | None) -> str:
    """A datetime for a table cell, in UTC to the second ('' for none)."""
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
