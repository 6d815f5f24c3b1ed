"""One stream payload to its events: :class:`AnswerDelta` (the hot path), :class:`AnswerMetadata`,
both at once, :class:`UnknownEvent`, or an in-band error. Knows no sockets and no stream.

The struct that reads a payload which is not a plain delta (``_Chunk``) is derived from
``AnswerMetadata``'s fields, so a field added there is read from the wire here too."""

from __future__ import annotations

import operator
from typing import Any, Optional

import msgspec

from ._models import (
    Answer,
    AnswerDelta,
    AnswerMetadata,
    Lenient,
    StreamEvent,
    UnknownEvent,
    parse_json,
)
from ._sse import EventDecoder

__all__ = ["META_FIELDS", "decode_payload", "event_decoder", "metadata_of_answer"]

#: The metadata a stream event may carry: ``AnswerMetadata``'s fields but ``raw`` (the whole
#: decoded object, kept beside them).
META_FIELDS: tuple[str, ...] = tuple(
    f.name for f in msgspec.structs.fields(AnswerMetadata) if f.name != "raw"
)

#: Every metadata field (optional: a payload carries any of them), plus the keys of a text piece
#: (``content``, or ``delta``) and of an in-band error (``statusCode``, ``error``, ``message``,
#: ``type``).
_Chunk = msgspec.defstruct(
    "_Chunk",
    [
        *(
            (f.name, Optional[f.type], None)  # noqa: UP045 (a runtime type on 3.10)
            for f in msgspec.structs.fields(AnswerMetadata)
            if f.name != "raw"
        ),
        ("content", Optional[str], None),  # noqa: UP045
        ("delta", Optional[str], None),  # noqa: UP045
        ("statusCode", Optional[int], None),  # noqa: UP045
        ("error", Any, None),
        ("message", Any, None),
        ("type", Optional[str], None),  # noqa: UP045
    ],
    module=__name__,
)

_meta_values = operator.attrgetter(*META_FIELDS)


class _ErrorItem:
    """An in-band error payload (``{"statusCode": ..., "error": ...}`` with no text)."""

    __slots__ = ("raw", "status")

    def __init__(self, status: int, raw: bytes) -> None:
        self.status = status
        self.raw = raw


_delta_decoder = msgspec.json.Decoder(AnswerDelta)
_chunk_decoder = msgspec.json.Decoder(_Chunk)
_any_decoder = msgspec.json.Decoder()

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
        c: Any = _chunk_decoder.decode(data)
    except msgspec.ValidationError:
        return UnknownEvent(_any_decoder.decode(data))
    text = c.content if c.content is not None else c.delta
    if text is None and (
        c.statusCode is not None or (c.error not in (None, False, "")) or c.type == "error"
    ):
        return _ErrorItem(c.statusCode or 500, data)
    values = _meta_values(c)
    if all(v is None for v in values):
        if text is not None:
            return AnswerDelta(text)
        return UnknownEvent(_any_decoder.decode(data))
    raw = _any_decoder.decode(data)
    fields = dict(zip(META_FIELDS, values, strict=True))
    fields["based_on"] = c.based_on or []
    meta = AnswerMetadata(**fields, raw=raw if isinstance(raw, dict) else {})
    if text is not None:
        return (meta, AnswerDelta(text))
    return meta


def event_decoder() -> EventDecoder[_Item]:
    """A fresh decoder of one stream's body (SSE or NDJSON) into items."""
    return EventDecoder(decode_payload, fast=_delta_decoder, fallback=_decode_not_delta)


_answer_lenient = Lenient(Answer)


def metadata_of_answer(body: bytes, status: int) -> tuple[AnswerMetadata, str]:
    """A plain JSON answer (a server that did not stream) as the metadata event and the text.
    The text is not repeated in the metadata's ``answer``: it is delivered as a delta."""
    answer = _answer_lenient.decode(body, status=status)
    fields = {name: getattr(answer, name) for name in META_FIELDS if name != "answer"}
    fields["messages"] = answer.messages or None
    raw = parse_json(body, status=status) if body else {}
    return AnswerMetadata(**fields, raw=raw), answer.answer


def raw_of(item: Any) -> Any:
    """What an in-stream error item carried, as plain values (for the error's body)."""
    if isinstance(item, UnknownEvent):
        return item.raw
    if isinstance(item, AnswerMetadata):
        return item.raw
    if isinstance(item, AnswerDelta):
        return {"message": item.text}
    return item
