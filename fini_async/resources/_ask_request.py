"""What one ask-question sends: the :class:`AskRequest` of a batch, the option names it derives,
and the checked request body (``build_body``: every argument validated before any I/O)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._models import Message
from .._validate import mapping, non_empty_str, number_in, one_of, scalar_mapping, str_list

__all__ = [
    "ASK_OPTIONS",
    "MESSAGE_ROLES",
    "REQUEST_OPTIONS",
    "AskQuestionBody",
    "AskRequest",
    "build_body",
    "check_ask_options",
    "coerce_history",
]

#: The roles ask-question accepts in ``messageHistory``.
MESSAGE_ROLES = ("system", "user", "assistant", "function")


#: Marks the AskRequest fields that shape the request rather than the body, and the one that is
#: never sent at all.
_REQUEST_FIELD = {"request": True}
_LOCAL_FIELD = {"local": True}


@dataclass(frozen=True)
class AskRequest:
    """One question of a batch with its own options (``ask_question``'s keyword arguments), e.g.
    ``AskRequest("How do I cancel?", instruction="Be brief.", id="ticket-17")``. ``id`` is
    yours, for pairing results with your records; it is never sent."""

    question: str
    message_history: Iterable[Message | Mapping[str, Any]] | None = None
    instruction: str | None = None
    temperature: float | None = None
    stop: str | Sequence[str] | None = None
    categories: Sequence[str] | None = None
    user_attributes: Mapping[str, str | int | float | bool] | None = None
    functions: Sequence[Mapping[str, Any]] | None = None
    function_call: str | Mapping[str, Any] | None = None
    timeout: TimeoutTypes = field(default=None, metadata=_REQUEST_FIELD)
    max_retries: int | None = field(default=None, metadata=_REQUEST_FIELD)
    extra_headers: Mapping[str, str] | None = field(default=None, metadata=_REQUEST_FIELD)
    id: Any = field(default=None, compare=False, metadata=_LOCAL_FIELD)

    def options(self) -> dict[str, Any]:
        """The ``ask_question`` arguments this request sets (None = not set)."""
        out: dict[str, Any] = {"question": self.question}
        for name in ASK_OPTIONS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


#: ``ask_question``'s keyword arguments: what an :class:`AskRequest`, a batch item (a mapping or
#: a ``.jsonl`` line of the CLI) or ``ask_many``'s shared options may set. Derived from
#: AskRequest's fields, so that a new option is declared once.
ASK_OPTIONS: frozenset[str] = frozenset(
    f.name for f in fields(AskRequest) if f.name != "question" and not f.metadata.get("local")
)
#: The options among :data:`ASK_OPTIONS` that shape the request (its timeout, retries, headers)
#: rather than the body sent.
REQUEST_OPTIONS: frozenset[str] = frozenset(
    f.name for f in fields(AskRequest) if f.metadata.get("request")
)


def check_ask_options(options: Mapping[str, Any]) -> None:
    """Refuse an unknown option and check the body options' values, before any request: the one
    check ``ask_many``, ``chat`` and ``fini_async.ray`` make of options given once for many
    questions. Raises :class:`ValidationError` naming the option."""
    unknown = set(options) - ASK_OPTIONS
    if unknown:
        raise ValidationError(
            f"unknown ask_question option(s): {', '.join(sorted(unknown))}",
            field=sorted(unknown)[0],
        )
    build_body("x", **{k: v for k, v in options.items() if k not in REQUEST_OPTIONS})


class AskQuestionBody(msgspec.Struct, omit_defaults=True):
    """The ask-question request body (the API mixes camelCase and snake_case)."""

    question: str
    messageHistory: list[Message]
    instruction: str | UnsetType = UNSET
    functions: list[dict[str, Any]] | UnsetType = UNSET
    function_call: str | dict[str, Any] | UnsetType = UNSET
    user_attributes: dict[str, str | int | float | bool] | UnsetType = UNSET
    stream: bool = False
    temperature: float | UnsetType = UNSET
    stop: str | list[str] | UnsetType = UNSET
    categories: list[str] | UnsetType = UNSET


def coerce_history(history: Iterable[Message | Mapping[str, Any]] | None) -> list[Message]:
    """Messages (or plain dicts) to Message structs, refusing unknown roles."""
    if history is None:
        return []
    if isinstance(history, (str, bytes, Mapping)):
        raise ValidationError("message_history must be a list of messages", field="message_history")
    out: list[Message] = []
    for i, item in enumerate(history):
        if isinstance(item, Message):
            msg = item
        elif isinstance(item, Mapping):
            try:
                msg = msgspec.convert(dict(item), Message)
            except msgspec.ValidationError as exc:
                raise ValidationError(
                    f"message_history[{i}] is not a message: {exc}", field="message_history"
                ) from None
        else:
            raise ValidationError(
                f"message_history[{i}] must be a Message or a mapping, got {type(item).__name__}",
                field="message_history",
            )
        if msg.role not in MESSAGE_ROLES:
            raise ValidationError(
                f"message_history[{i}].role must be one of {', '.join(MESSAGE_ROLES)}; "
                f"got {msg.role!r}",
                field="message_history",
            )
        out.append(msg)
    return out


def build_body(
    question: str,
    *,
    message_history: Iterable[Message | Mapping[str, Any]] | None = None,
    instruction: str | None = None,
    temperature: float | None = None,
    stop: str | Sequence[str] | None = None,
    categories: Sequence[str] | None = None,
    user_attributes: Mapping[str, str | int | float | bool] | None = None,
    functions: Sequence[Mapping[str, Any]] | None = None,
    function_call: str | Mapping[str, Any] | None = None,
    stream: bool = False,
) -> AskQuestionBody:
    """Check every argument and build the request body (no I/O)."""
    body = AskQuestionBody(
        question=non_empty_str(question, "question"),
        messageHistory=coerce_history(message_history),
        stream=stream,
    )
    if instruction is not None:
        if not isinstance(instruction, str):
            raise ValidationError("instruction must be a string", field="instruction")
        body.instruction = instruction
    if temperature is not None:
        body.temperature = number_in(temperature, 0.0, 2.0, "temperature")
    if stop is not None:
        body.stop = stop if isinstance(stop, str) else str_list(stop, "stop")
    if categories is not None:
        body.categories = str_list(categories, "categories")
    if user_attributes is not None:
        body.user_attributes = scalar_mapping(user_attributes, "user_attributes")
    if functions is not None:
        if isinstance(functions, (str, bytes, Mapping)):
            raise ValidationError("functions must be a list of function specs", field="functions")
        specs = [mapping(f, "functions") for f in functions]
        for spec in specs:
            if not isinstance(spec.get("name"), str) or not spec["name"]:
                raise ValidationError("every function needs a non-empty 'name'", field="functions")
        body.functions = specs
    if function_call is not None:
        if isinstance(function_call, str):
            one_of(function_call, ("none", "auto"), "function_call")
            body.function_call = function_call
        else:
            fc = mapping(function_call, "function_call")
            if not isinstance(fc.get("name"), str):
                raise ValidationError(
                    "function_call must be 'none', 'auto' or {'name': ...}", field="function_call"
                )
            body.function_call = fc
    return body
