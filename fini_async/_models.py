"""Wire structs shared across the Fini API, and the helpers every resource uses to decode them.

Responses decode straight into these structs with decoders built once per type. Unknown fields
are ignored; open sets of values (roles, statuses, source types) are plain ``str``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

import msgspec

from ._exceptions import APIResponseValidationError, ValidationError

__all__ = [
    "Answer",
    "AnswerDelta",
    "AnswerMetadata",
    "FunctionCall",
    "Message",
    "Source",
    "StreamEvent",
    "UnknownEvent",
]

T = TypeVar("T")


class Message(msgspec.Struct, omit_defaults=True):
    """One message of a conversation history. ``role`` is system, user, assistant or function."""

    role: str
    content: str | None = None
    name: str | None = None
    function_call: FunctionCall | None = None


class FunctionCall(msgspec.Struct, omit_defaults=True):
    """A function the model asked to call; ``arguments`` is usually a JSON string."""

    name: str = ""
    arguments: Any = None


class Source(msgspec.Struct, omit_defaults=True):
    """One knowledge-base block an answer was based on."""

    answer: str | None = None
    score: float | None = None
    source_id: str | None = None
    source_type: str | None = None


class Answer(msgspec.Struct, omit_defaults=True):
    """The answer to ``ask_question`` (also what a stream's ``get_final_answer()`` returns).

    ``messages`` is the conversation so far (history, question, answer): pass it back as the next
    turn's ``message_history`` to chat. ``success`` is 1 on success, 0 otherwise."""

    answer: str = ""
    answer_uuid: str | None = None
    based_on: list[Source] = []
    categories: list[str] = []
    messages: list[Message] = []
    success: int | bool | None = None
    function_call: FunctionCall | None = None
    conversation_id: str | None = None
    language: str | None = None

    @property
    def text(self) -> str:
        """Alias of ``answer``."""
        return self.answer


class AnswerDelta(
    msgspec.Struct, frozen=True, gc=False, rename={"text": "content"}, forbid_unknown_fields=True
):
    """A piece of the answer's text, as it arrives (``{"content": ...}`` on the wire)."""

    text: str


class AnswerMetadata(msgspec.Struct):
    """Metadata sent in a stream (usually first): the sources, and whatever else it holds.

    ``raw`` is the whole decoded object, unknown keys included."""

    based_on: list[Source] = []
    answer_uuid: str | None = None
    categories: list[str] | None = None
    messages: list[Message] | None = None
    success: int | bool | None = None
    function_call: FunctionCall | None = None
    conversation_id: str | None = None
    language: str | None = None
    answer: str | None = None
    raw: dict[str, Any] = {}


class UnknownEvent(msgspec.Struct):
    """A stream event this SDK does not know: ``raw`` is the decoded JSON, ``event`` the SSE event
    name if there was one."""

    raw: Any
    event: str | None = None


StreamEvent = AnswerMetadata | AnswerDelta | UnknownEvent


# -- decoding helpers ------------------------------------------------------------------------

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decoder_for(tp: type[T]) -> msgspec.json.Decoder[T]:
    """The decoder for ``tp``, built once and reused."""
    dec = _decoders.get(tp)
    if dec is None:
        dec = _decoders[tp] = msgspec.json.Decoder(tp)
    return dec


_encoder = msgspec.json.Encoder()
_encode = _encoder.encode


def encode(value: Any) -> bytes:
    """A request body as JSON. Text that UTF-8 cannot carry (a lone surrogate) raises
    :class:`ValidationError`, before anything is sent."""
    try:
        return _encode(value)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end] if isinstance(exc.object, str) else "?"
        raise ValidationError(
            f"the request holds text that cannot be sent as UTF-8 (a lone surrogate: {bad!a})"
        ) from None


def ms_to_datetime(value: int | float | str | None) -> datetime | None:
    """Epoch milliseconds (or an ISO 8601 string) to an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return iso_to_datetime(value)
    return datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)


def iso_to_datetime(value: str | None) -> datetime | None:
    """ISO 8601 (with ``Z`` or an offset; naive means UTC) to an aware datetime."""
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def datetime_to_ms(value: datetime | int | float) -> int:
    """An aware datetime (or epoch milliseconds) to epoch milliseconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            from ._exceptions import ValidationError

            raise ValidationError("datetimes must be timezone-aware (for example UTC)")
        return int(value.timestamp() * 1000)
    return int(value)


class Lenient(Generic[T]):
    """Decode ``T`` fast; when the body departs from the documented types, normalise it (null
    lists, a single object where a list was documented, numbers where strings were) and retry."""

    __slots__ = ("_decoder", "_type")

    def __init__(self, tp: type[T]) -> None:
        self._type = tp
        self._decoder = msgspec.json.Decoder(tp)

    def decode(self, data: bytes, *, status: int = 200) -> T:
        try:
            return self._decoder.decode(data)
        except msgspec.ValidationError:
            pass
        except (msgspec.DecodeError, RecursionError) as exc:
            raise not_json(data, status, exc) from None
        return self.convert(parse_json(data, status=status), data=data, status=status)

    def __call__(self, data: bytes, status: int = 200) -> T:
        """``decode`` as a resource verb's ``into``."""
        return self.decode(data, status=status)

    def convert(self, raw: Any, *, data: bytes = b"", status: int = 200) -> T:
        try:
            return msgspec.convert(_normalise(raw), self._type, str_keys=True)
        except (msgspec.ValidationError, RecursionError) as exc:
            raise APIResponseValidationError(
                f"the response does not match {self._type.__name__}: {exc}",
                body=data,
                status_code=status,
            ) from None


def not_json(data: bytes, status: int, exc: BaseException) -> APIResponseValidationError:
    """The error for a response body that cannot be decoded: not JSON, or JSON nested too deeply
    to decode (a ``RecursionError`` is never let out)."""
    why = "nested too deeply" if isinstance(exc, RecursionError) else f"not valid JSON: {exc}"
    return APIResponseValidationError(f"the response is {why}", body=data, status_code=status)


def parse_json(data: bytes, *, status: int = 200) -> Any:
    """A response body as plain Python values; :class:`APIResponseValidationError` when it cannot
    be decoded."""
    try:
        return msgspec.json.decode(data)
    except (msgspec.DecodeError, RecursionError) as exc:
        raise not_json(data, status, exc) from None


def _normalise(value: Any, depth: int = 0) -> Any:
    if depth > 32:
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if item is None:
                continue  # null means "absent": take the field's default
            if key in _LIST_KEYS and isinstance(item, Mapping):
                item = [item]
            if key in _ID_KEYS and isinstance(item, (int, float)) and not isinstance(item, bool):
                item = str(item)
            out[key] = _normalise(item, depth + 1)
        return out
    if isinstance(value, list):
        return [_normalise(v, depth + 1) for v in value]
    return value


_LIST_KEYS = frozenset({"based_on", "messages", "categories", "events", "jobs"})
_ID_KEYS = frozenset(
    {"answer_uuid", "source_id", "conversation_id", "id", "hcArticleId", "backgroundJobId"}
)
