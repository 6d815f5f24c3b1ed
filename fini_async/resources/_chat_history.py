"""The chat history of ``client.bots.history`` (``GET /v2/bots/requests/public``): its structs,
its decoder (two documented envelopes) and its paginator.

Two versions of the route's page exist (FINI-V2.md §11). The newer answers ``{conversations,
hasMore}``, each conversation holding its ``botRequests``; it pages by ``cursor`` and
``direction`` but shows no cursor in the answer, so the next page's cursor is the last
conversation's id. The older answers a top-level array of single requests: each becomes a
:class:`ChatConversation` with one request, and the listing ends there.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from multidict import MultiDict

from .._config import TimeoutTypes
from .._exceptions import APIResponseValidationError, ValidationError
from .._models import Lenient, Message, datetime_to_ms, ms_to_datetime
from .._pagination import AsyncPaginator, Page
from .._validate import int_in, non_empty_str, one_of, str_list

if TYPE_CHECKING:
    from ._base import Resource

__all__ = [
    "ChatConversation",
    "ChatHistory",
    "ChatHistoryPage",
    "ChatRequest",
    "ChatSource",
    "history_params",
]

HISTORY_PATH = "/v2/bots/requests/public"

_Time = int | float | str | None


class ChatSource(msgspec.Struct):
    """A knowledge entry a chat answer was based on (keys as the API spells them)."""

    id: str | None = None
    entry: str | None = None
    score: float | None = None
    title: str | None = None
    answer: str | None = None
    question: str | None = None
    source_id: str | None = None
    source_type: str | None = None


class ChatRequest(msgspec.Struct, rename="camel"):
    """One question to an agent and its answer. ``feedback_type`` is ``thumbs_up``,
    ``thumbs_down``, ``no_feedback`` or None. ``created_at`` is an aware UTC datetime from the
    wire's epoch ms (``created_at_ms``)."""

    question: str | None = None
    answer: str | None = None
    categories: list[str] = []
    escalation: bool | None = None
    reasoning: str | None = None
    feedback_type: str | None = None
    expecting_user_followup: bool | None = None
    created_at_ms: _Time = msgspec.field(default=None, name="createdAt")
    based_on: list[ChatSource] = []

    @property
    def created_at(self) -> datetime | None:
        return ms_to_datetime(self.created_at_ms)


class ChatConversation(msgspec.Struct, rename="camel"):
    """One conversation of the chat history, with its ``bot_requests`` (oldest first as the
    API orders them). From the route's older envelope, ``id`` is None, ``bot_name`` and
    ``message_history`` are set and there is exactly one request. Timestamps are aware UTC
    datetimes computed from the wire's epoch ms (kept in ``*_ms``)."""

    id: str | None = None
    external_id: str | None = None
    source: str | None = None
    channel: str | None = None
    escalation: bool | None = None
    has_links: bool | None = None
    feedback_type: str | None = None
    expecting_user_followup: bool | None = None
    url: str | None = None
    categories: list[str] = []
    created_at_ms: _Time = msgspec.field(default=None, name="createdAt")
    updated_at_ms: _Time = msgspec.field(default=None, name="updatedAt")
    bot_requests: list[ChatRequest] = []
    bot_name: str | None = None
    message_history: list[Message] = []

    @property
    def created_at(self) -> datetime | None:
        return ms_to_datetime(self.created_at_ms)

    @property
    def updated_at(self) -> datetime | None:
        return ms_to_datetime(self.updated_at_ms)


class _HistoryResponse(msgspec.Struct, rename="camel"):
    conversations: list[ChatConversation] = []
    has_more: bool = False


_response = Lenient(_HistoryResponse)
_conversations = Lenient(list[ChatConversation])


def _from_old(item: Any) -> Any:
    """A request of the older envelope as a conversation holding it."""
    if not isinstance(item, dict):
        return item
    request = {
        key: item[key]
        for key in ("question", "answer", "categories", "createdAt", "basedOn")
        if key in item
    }
    return {
        "botName": item.get("botName"),
        "source": item.get("source"),
        "categories": item.get("categories") or [],
        "createdAt": item.get("createdAt"),
        "messageHistory": item.get("messageHistory") or [],
        "botRequests": [request],
    }


def decode_history(content: bytes, status: int) -> _HistoryResponse:
    """``{conversations, hasMore}`` or the older top-level array of requests."""
    if content.lstrip()[:1] != b"[":
        return _response.decode(content, status=status)
    try:
        raw = msgspec.json.decode(content)
    except msgspec.DecodeError as exc:
        raise APIResponseValidationError(
            f"the response is not valid JSON: {exc}", body=content, status_code=status
        ) from None
    items = _conversations.convert([_from_old(i) for i in raw], data=content, status=status)
    return _HistoryResponse(conversations=items, has_more=False)


class ChatHistoryPage(Page[ChatConversation]):
    """One page of the chat history. The API sends no cursor: ``next_cursor`` is the last
    conversation's id, which :meth:`get_next_page` continues from."""

    __slots__ = ()


class ChatHistory(AsyncPaginator[ChatConversation, ChatHistoryPage]):
    """``client.bots.history(...)``: awaitable (the first page) and async-iterable (every
    conversation of every page). Pages are fetched on demand, so breaking out early leaves
    nothing running; each ``await`` or iteration starts a new walk."""

    def __init__(
        self, resource: Resource[Any], params: Mapping[str, str], timeout: TimeoutTypes
    ) -> None:
        self._resource = resource
        self._params = params
        self._timeout = timeout
        super().__init__(self._first)

    def __repr__(self) -> str:
        return f"<ChatHistory params={list(self._params.items())}>"

    def _first(self) -> Awaitable[ChatHistoryPage]:
        return self._page(None)

    async def _page(self, cursor: str | None) -> ChatHistoryPage:
        params: MultiDict[str] = MultiDict(self._params)
        if cursor is not None:
            params["cursor"] = cursor
            params["direction"] = "next"
        resp = await self._resource._send(
            "GET", HISTORY_PATH, params=params, idempotent=True, timeout=self._timeout
        )
        wire = decode_history(resp.content, resp.status)
        items = wire.conversations
        following = items[-1].id if wire.has_more and items else None
        if following is not None and following == cursor:
            raise APIResponseValidationError(
                f"the page after cursor {cursor!r} ends with that same id; stopping rather than "
                "looping",
                body=resp.content,
                status_code=resp.status,
            )
        fetch_next: Callable[[], Awaitable[ChatHistoryPage]] | None = None
        if following is not None:
            after = following

            def fetch_next() -> Awaitable[ChatHistoryPage]:
                return self._page(after)

        return ChatHistoryPage(
            items, has_more=following is not None, next_cursor=following, fetch_next=fetch_next
        )


# -- arguments ---------------------------------------------------------------------------------

FEEDBACK_TYPES = ("thumbs_up", "thumbs_down", "no_feedback")


def _epoch_ms(value: Any, field: str) -> int:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(
                f"{field} must be a timezone-aware datetime (for example UTC)", field=field
            )
        return datetime_to_ms(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise ValidationError(
            f"{field} must be an aware datetime or epoch milliseconds >= 0, got {value!r}",
            field=field,
        )
    if value == float("inf"):
        raise ValidationError(f"{field} must be finite", field=field)
    return int(value)


def _flag(value: Any, field: str) -> str:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)
    return "true" if value else "false"


def history_params(
    *,
    start: Any,
    end: Any,
    source: Any,
    category: Any,
    feedback_type: Any,
    escalation: Any,
    has_links: Any,
    user_id: Any,
    ticket_id: Any,
    question: Any,
    page_size: Any,
) -> MultiDict[str]:
    """The query of the history route, checked (ValidationError before any request)."""
    params: MultiDict[str] = MultiDict()
    params["limit"] = str(int_in(page_size, 1, 100, "page_size"))
    start_ms = None if start is None else _epoch_ms(start, "start")
    end_ms = None if end is None else _epoch_ms(end, "end")
    if start_ms is not None and end_ms is not None and start_ms >= end_ms:
        raise ValidationError("start must be before end", field="start")
    if start_ms is not None:
        params["startEpoch"] = str(start_ms)
    if end_ms is not None:
        params["endEpoch"] = str(end_ms)
    if source is not None:
        for item in str_list([source] if isinstance(source, str) else source, "source"):
            params.add("source", item)
    if feedback_type is not None:
        params["feedbackType"] = one_of(feedback_type, FEEDBACK_TYPES, "feedback_type")
    for wire, value, field in (
        ("escalation", escalation, "escalation"),
        ("hasLinks", has_links, "has_links"),
    ):
        if value is not None:
            params[wire] = _flag(value, field)
    for wire, value, field in (
        ("category", category, "category"),
        ("userId", user_id, "user_id"),
        ("ticketId", ticket_id, "ticket_id"),
        ("question", question, "question"),
    ):
        if value is not None:
            params[wire] = non_empty_str(value, field)
    return params
