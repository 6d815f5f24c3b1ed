"""``client.bots``: ask-question (plain, streamed, chat) and the agent list."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from .._batch import Batch, BatchProgress
from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._models import Answer, Lenient, Message, encode, ms_to_datetime
from .._ratelimit import RateLimiter
from .._streaming import AnswerStream
from ._ask_request import (
    ASK_OPTIONS,
    MESSAGE_ROLES,
    REQUEST_OPTIONS,
    AskQuestionBody,
    AskRequest,
    build_body,
    check_ask_options,
    coerce_history,
)
from ._base import Resource
from ._chat_history import ChatHistory, history_params

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = [
    "ASK_OPTIONS",
    "MESSAGE_ROLES",
    "REQUEST_OPTIONS",
    "AskQuestionBody",
    "AskRequest",
    "Bot",
    "BotsResource",
    "Chat",
    "build_body",
    "check_ask_options",
    "coerce_history",
]

ASK_PATH = "/v2/bots/ask-question"
BOTS_PATH = "/v2/bots/public"


class Bot(msgspec.Struct, rename="camel"):
    """An agent of the workspace."""

    id: str
    name: str | None = None
    created_at: int | float | str | None = None

    @property
    def created(self) -> Any:
        """``created_at`` as an aware datetime."""
        return ms_to_datetime(self.created_at)


_answer = Lenient(Answer)
_bots = Lenient(list[Bot])


class BotsResource(Resource["FiniClient"]):
    """Ask questions of the workspace's AI agent."""

    __slots__ = ()

    async def ask_question(
        self,
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
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """Ask a question and return the whole :class:`Answer`.

        Safe to repeat, so transient failures (429, 5xx, timeouts, dropped connections) are
        retried up to ``max_retries`` times. Arguments are checked before anything is sent:
        an empty question, a temperature outside [0, 2] or an unknown message role raise
        :class:`ValidationError`."""
        body = build_body(
            question,
            message_history=message_history,
            instruction=instruction,
            temperature=temperature,
            stop=stop,
            categories=categories,
            user_attributes=user_attributes,
            functions=functions,
            function_call=function_call,
        )
        return await self._post(
            ASK_PATH,
            into=_answer,
            body=body,
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    def stream_question(
        self,
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
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        _on_complete: Any = None,
    ) -> AnswerStream:
        """Ask a question and stream the answer: ``async with client.bots.stream_question(q) as s``.

        The arguments are checked here, before anything is sent. The request is retried (like
        :meth:`ask_question`) only until the first event has reached the caller."""
        body = build_body(
            question,
            message_history=message_history,
            instruction=instruction,
            temperature=temperature,
            stop=stop,
            categories=categories,
            user_attributes=user_attributes,
            functions=functions,
            function_call=function_call,
            stream=True,
        )
        content = encode(body)
        transport = self._transport
        retries = transport.max_retries if max_retries is None else max_retries
        headers = {"Accept": "text/event-stream"}
        if extra_headers:
            headers.update(extra_headers)
        # A partial, not an ``async def`` wrapper: calling it returns transport.stream's own
        # coroutine (one coroutine per stream fewer).
        opener = functools.partial(
            transport.stream,
            "POST",
            ASK_PATH,
            content=content,
            timeout=timeout,
            max_retries=retries,
            extra_headers=headers,
        )
        return AnswerStream(
            opener,
            question=body.question,
            history=body.messageHistory,
            max_retries=retries,
            on_complete=_on_complete,
        )

    def ask_many(
        self,
        questions: Iterable[str | AskRequest | Mapping[str, Any]]
        | AsyncIterable[str | AskRequest | Mapping[str, Any]],
        *,
        concurrency: int = 32,
        rate_limit: float | RateLimiter | None = None,
        ordered: bool = False,
        adaptive: bool = True,
        total: int | None = None,
        on_progress: Callable[[BatchProgress], object] | None = None,
        **ask_kwargs: Any,
    ) -> Batch[Answer]:
        """Answer many questions concurrently: a :class:`Batch` yielding one ``BatchResult`` per
        input (``.index``, and ``.answer`` or ``.error``; ``if result.ok`` narrows it to a
        ``BatchSuccess``) as each finishes, or in input order
        with ``ordered=True`` (buffering at most ``concurrency`` results).

        Inputs are strings, :class:`AskRequest` objects or mappings of ``ask_question``
        arguments, whose options override ``ask_kwargs``; they are pulled lazily, so at most
        ``concurrency`` are in flight or buffered. A failed item carries its exception and the
        batch goes on, except after a 401 or 403 (a wrong key fails every call the same way):
        then no further request is sent and every remaining item fails at once with that error.
        ``rate_limit`` caps this batch's requests per second (the client's own ``rate_limit``
        applies too): a number, or a :class:`RateLimiter` (an adaptive one, such as a
        ``RedisRateLimiter`` shared by several processes, then owns the request rate). With
        ``adaptive`` (the default) the batch halves its concurrency and paces its requests when
        the server answers 429, then raises them again as calls succeed. ``batch.progress`` (and
        ``on_progress``, called with it after each result) tells how far it got; ``total`` sizes
        it when the input has no ``len()``.

        Use ``async with client.bots.ask_many(...) as batch: async for r in batch`` to cancel
        what is in flight deterministically on exit. Raises ValidationError at once for a bad
        ``concurrency``, ``rate_limit`` or ``ask_kwargs``, or a single string given as
        ``questions``.
        """
        if isinstance(questions, (str, bytes, bytearray, memoryview)):
            # Iterating a string would ask one question per character.
            raise ValidationError(
                "questions must be an iterable of questions (a list of strings, say), not a "
                f"single {type(questions).__name__}: wrap one question in a list",
                field="questions",
            )
        check_ask_options(ask_kwargs)  # the shared options, now, before any request

        async def one(item: str | AskRequest | Mapping[str, Any]) -> Answer:
            if isinstance(item, str):
                return await self.ask_question(item, **ask_kwargs)
            if isinstance(item, AskRequest):
                return await self.ask_question(**{**ask_kwargs, **item.options()})
            if isinstance(item, Mapping):
                options = {k: v for k, v in item.items() if k != "id"}
                extra = set(options) - ASK_OPTIONS - {"question"}
                if extra:
                    raise ValidationError(
                        f"unknown ask_question option(s): {', '.join(sorted(extra))}",
                        field=sorted(extra)[0],
                    )
                return await self.ask_question(**{**ask_kwargs, **options})
            raise ValidationError(
                "each question must be a str, an AskRequest or a mapping, "
                f"got {type(item).__name__}",
                field="question",
            )

        return Batch(
            one,
            questions,
            concurrency=concurrency,
            rate_limit=rate_limit,
            ordered=ordered,
            adaptive=adaptive,
            total=total,
            on_progress=on_progress,
        )

    def chat(self, instruction: str | None = None, **defaults: Any) -> Chat:
        """A chat whose turns carry the conversation's messages into the next question."""
        check_ask_options({"instruction": instruction, **defaults})  # the defaults, now
        return Chat(self, instruction, defaults)

    def history(
        self,
        *,
        start: datetime | int | float | None = None,
        end: datetime | int | float | None = None,
        source: str | Sequence[str] | None = None,
        category: str | None = None,
        feedback_type: str | None = None,
        escalation: bool | None = None,
        has_links: bool | None = None,
        user_id: str | None = None,
        ticket_id: str | None = None,
        question: str | None = None,
        page_size: int = 50,
        timeout: TimeoutTypes = None,
    ) -> ChatHistory:
        """The agents' chat history: ``await`` it for the first page, ``async for`` over it for
        every conversation (see :class:`ChatHistory`), each with its ``bot_requests``.

        ``start``/``end`` are aware datetimes or epoch milliseconds. ``source`` is one source
        or several (``all``, ``zendesk``, ``slack``, ``discord``, ``widget``, ``intercom``,
        ``ui``, ``api``: sent as repeated parameters). ``feedback_type`` is ``thumbs_up``,
        ``thumbs_down`` or ``no_feedback``. The API returns no cursor: each following page
        starts after the last conversation's id. An older deployment answers a bare array of
        requests: each becomes a conversation holding one request, on a single page.

        :class:`ValidationError` before any request for a naive datetime, ``start >= end``,
        ``page_size`` outside 1..100 or a bad filter."""
        params = history_params(
            start=start,
            end=end,
            source=source,
            category=category,
            feedback_type=feedback_type,
            escalation=escalation,
            has_links=has_links,
            user_id=user_id,
            ticket_id=ticket_id,
            question=question,
            page_size=page_size,
        )
        return ChatHistory(self, params, timeout)

    async def list(
        self, *, timeout: TimeoutTypes = None, extra_headers: Mapping[str, str] | None = None
    ) -> list[Bot]:
        """The workspace's agents."""
        return await self._get(
            BOTS_PATH,
            into=_bots,
            timeout=timeout,
            extra_headers=extra_headers,
        )


class Chat:
    """A multi-turn chat. ``await chat.ask(text)`` or ``async with chat.stream(text) as s``; each
    finished turn replaces :attr:`history` with the messages the server returned. Turns are meant
    to be sequential."""

    def __init__(self, bots: BotsResource, instruction: str | None, defaults: dict[str, Any]):
        self._bots = bots
        self.instruction = instruction
        self.defaults = defaults
        #: The conversation so far, sent as ``message_history`` with the next question.
        self.history: list[Message] = []

    def __repr__(self) -> str:
        return f"<Chat turns={sum(1 for m in self.history if m.role == 'user')}>"

    def reset(self) -> None:
        """Forget the conversation."""
        self.history = []

    def _record(self, answer: Answer) -> None:
        self.history = list(answer.messages)

    async def ask(self, text: str, **overrides: Any) -> Answer:
        """Ask the next question; the history is updated when the answer arrives."""
        kwargs = {**self.defaults, **overrides}
        kwargs.setdefault("instruction", self.instruction)
        answer = await self._bots.ask_question(text, message_history=self.history, **kwargs)
        if not answer.messages:
            answer.messages = [
                *self.history,
                Message(role="user", content=text),
                Message(role="assistant", content=answer.answer),
            ]
        self._record(answer)
        return answer

    def stream(self, text: str, **overrides: Any) -> AnswerStream:
        """Stream the next answer; the history is updated once the stream has been read to the
        end (a stream abandoned halfway leaves the history unchanged)."""
        kwargs = {**self.defaults, **overrides}
        kwargs.setdefault("instruction", self.instruction)
        return self._bots.stream_question(
            text, message_history=self.history, _on_complete=self._record, **kwargs
        )
