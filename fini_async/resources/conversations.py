"""``client.conversations``: generate an answer into a conversation, list conversations across
pages and 90-day windows, get one, delete one or many.

Wire facts (see the API reference): the list route takes ``since``/``until`` in epoch ms with a
window of at most 90 days, pages with ``cursor`` + ``direction`` where **``next`` means older**,
and answers ``{interactions|conversations, hasMore, nextCursor, prevCursor}`` newest first.
``get`` of an unknown id answers 500, not 404. The bulk delete takes at most 50 unique ids and is
not atomic: 406 when some ids are inaccessible, the others deleted anyway.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import msgspec

from .._config import TimeoutTypes
from .._exceptions import APIStatusError, BulkDeleteError, ValidationError
from .._models import encode
from .._validate import mapping, non_empty_str, one_of, uuid_str
from ._base import Resource, ignore_body

# The wire structs and the pages live in their own modules; the public names are re-exported
# here so that ``fini_async.resources.conversations.Conversation`` (and the rest) keep working.
from ._conversation_models import (
    EVENTS_PATH,
    LIST_PATH,
    ONE_PATH,
    Conversation,
    Event,
    UsedArticle,
    UsedFolder,
    _decode_conversation,
    _decode_events,
    _DeleteBody,
    _EventBody,
)
from ._conversation_pages import (
    DEFAULT_WINDOW,
    MAX_WINDOW,
    ConversationList,
    ConversationPage,
    now_ms,
    plan_windows,
)

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = [
    "DEFAULT_WINDOW",
    "EVENT_ROLES",
    "MAX_DELETE_BATCH",
    "MAX_WINDOW",
    "Conversation",
    "ConversationList",
    "ConversationPage",
    "ConversationsResource",
    "Event",
    "UsedArticle",
    "UsedFolder",
]

#: The roles Generate Answer accepts; only ``user`` events get an AI reply.
EVENT_ROLES = ("user", "agent", "finibot", "otherbot")
#: The most ids one bulk delete call takes.
MAX_DELETE_BATCH = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# -- argument helpers ------------------------------------------------------------------------


def _to_ms(value: Any, field: str) -> int:
    """An aware datetime or epoch milliseconds to epoch milliseconds (exactly, no float error)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValidationError(
                f"{field} must be a timezone-aware datetime (for example UTC)", field=field
            )
        return (value - _EPOCH) // timedelta(milliseconds=1)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(
            f"{field} must be an aware datetime or epoch milliseconds, got {value!r}", field=field
        )
    if value != value or value in (float("inf"), float("-inf")) or value < 0:
        raise ValidationError(f"{field} must be non-negative epoch milliseconds", field=field)
    return int(value)


def _opt_id(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} must be a non-empty string", field=field)
    return value


def _sources(value: Any) -> str | None:
    if value is None:
        return None
    items = [value] if isinstance(value, str) else value
    if isinstance(items, (bytes, Mapping)) or not isinstance(items, Iterable):
        raise ValidationError("source must be a string or a list of strings", field="source")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ValidationError(
                f"source must hold non-empty strings only, got {item!r}", field="source"
            )
        for part in item.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    if not out:
        raise ValidationError("source must not be empty", field="source")
    return ",".join(out)


# -- the resource ----------------------------------------------------------------------------


class ConversationsResource(Resource["FiniClient"]):
    """Conversations: generate answers into them, list, get and delete them."""

    __slots__ = ()

    async def generate_answer(
        self,
        content: str,
        *,
        bot_id: str | None = None,
        interaction_id: str | None = None,
        role: str = "user",
        metadata: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> list[Event]:
        """Send a message event into a conversation and return the events it created: for a
        ``user`` event, the stored event then Fini's reply; for other roles, the stored event.

        ``interaction_id`` continues a conversation; ``bot_id`` lets Fini start (or resolve) one
        for that agent. ``metadata`` (an open mapping, e.g. ``{"user_attributes": {...},
        "channel": "chat"}``) is merged into the request state.

        Raises :class:`ValidationError` before sending when ``content`` is empty, neither id is
        given, ``role`` is not one of user, agent, finibot, otherbot, or ``metadata`` is not a
        mapping. The event is stored server-side, so the request is retried only when the server
        surely did not process it (connect failure, 429, 503). An unknown id answers 500
        (:class:`InternalServerError`); 403 when the key lacks the write scope."""
        body = _EventBody(
            content=non_empty_str(content, "content"),
            role=one_of(role, EVENT_ROLES, "role"),
        )
        bot = _opt_id(bot_id, "bot_id")
        interaction = _opt_id(interaction_id, "interaction_id")
        if bot is None and interaction is None:
            raise ValidationError(
                "give interaction_id (to continue a conversation) or bot_id (to start one)",
                field="bot_id",
            )
        if interaction is not None:
            body.interaction_id = interaction
        if bot is not None:
            body.bot_id = bot
        if metadata is not None:
            body.metadata = mapping(metadata, "metadata")
        try:
            content_bytes = encode(body)
        except (TypeError, msgspec.EncodeError) as exc:
            raise ValidationError(
                f"metadata must be JSON-serialisable: {exc}", field="metadata"
            ) from None
        return await self._post(
            EVENTS_PATH,
            into=_decode_events,
            body=content_bytes,
            idempotent=False,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    def list(
        self,
        *,
        since: datetime | int | float | None = None,
        until: datetime | int | float | None = None,
        agent_id: str | None = None,
        source: str | Sequence[str] | None = None,
        channel: str | None = None,
        page_size: int = 50,
        timeout: TimeoutTypes = None,
    ) -> ConversationList:
        """Conversations newest first: ``await`` it for the first page, ``async for`` over it
        for every conversation (see :class:`ConversationList`).

        ``since`` and ``until`` are aware datetimes or epoch milliseconds. With neither, the
        server's default window applies (the last 7 days); ``since`` alone runs to now;
        ``until`` alone starts 7 days before it. A range over 90 days (the API's limit) is split
        into windows of at most 90 days walked newest first, each conversation yielded once.
        ``source`` is one source or several (``"api"``, ``["widget", "slack"]``).

        Raises :class:`ValidationError` here, before any request, when ``since >= until``, a
        datetime is naive, ``page_size`` is outside 1..100 or a filter is not a non-empty
        string."""
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise ValidationError("page_size must be an integer", field="page_size")
        if not 1 <= page_size <= 100:
            raise ValidationError(
                f"page_size must be between 1 and 100, got {page_size}", field="page_size"
            )
        since_ms = None if since is None else _to_ms(since, "since")
        until_ms = None if until is None else _to_ms(until, "until")
        plan_windows(since_ms, until_ms, now=now_ms())  # refuse since >= until now
        params: dict[str, str] = {"limit": str(page_size)}
        agent = _opt_id(agent_id, "agent_id")
        if agent is not None:
            params["agentId"] = agent
        sources = _sources(source)
        if sources is not None:
            params["source"] = sources
        chan = _opt_id(channel, "channel")
        if chan is not None:
            params["channel"] = chan
        return ConversationList(self, params, since_ms, until_ms, timeout)

    async def get(
        self,
        id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Conversation:
        """One conversation with its events.

        Documented quirk: an unknown (or inaccessible) id answers **500**, not 404, so it
        raises :class:`InternalServerError`. Because a 500 here usually means "no such id",
        this call is retried at most once (whatever ``max_retries`` says beyond 1).
        Raises :class:`ValidationError` for an empty id, before any request."""
        path = ONE_PATH.format(id=urllib.parse.quote(non_empty_str(id, "id"), safe=""))
        retries = self._transport.max_retries if max_retries is None else max_retries
        return await self._get(
            path,
            into=_decode_conversation,
            timeout=timeout,
            max_retries=min(retries, 1),
            extra_headers=extra_headers,
        )

    async def delete(
        self,
        id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Delete one conversation. Not retried once the server may have processed it (a repeat
        would answer as for an unknown id). An unknown id answers 500
        (:class:`InternalServerError`); 403 without the write scope. Raises
        :class:`ValidationError` for an empty id, before any request."""
        path = ONE_PATH.format(id=urllib.parse.quote(non_empty_str(id, "id"), safe=""))
        await self._delete(
            path,
            into=ignore_body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def delete_many(
        self,
        ids: Iterable[str],
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> int:
        """Delete many conversations; return how many distinct ids were sent.

        The ids are deduplicated (first occurrence kept), checked as UUIDs and sent in calls of
        at most 50, one after another. The API is not atomic: a call with some inaccessible ids
        answers 406 yet deletes the rest. Every call is made; then, if any answered 406,
        :class:`BulkDeleteError` (a :class:`NotAcceptableError`) says which calls and ids were
        affected. Any other error stops at once (earlier calls were processed, later ones not
        sent). Calls are not retried once the server may have processed them.

        Raises :class:`ValidationError` before any request when ``ids`` is not a list of UUIDs;
        an empty list sends nothing and returns 0."""
        if isinstance(ids, (str, bytes, Mapping)) or not isinstance(ids, Iterable):
            raise ValidationError("ids must be a list of conversation ids", field="ids")
        unique: list[str] = []
        seen: set[str] = set()
        for item in ids:
            value = uuid_str(item, "ids")
            if value not in seen:
                seen.add(value)
                unique.append(value)
        batches = [
            unique[i : i + MAX_DELETE_BATCH] for i in range(0, len(unique), MAX_DELETE_BATCH)
        ]
        failed: list[list[str]] = []
        numbers: list[int] = []
        errors: list[APIStatusError] = []
        for number, batch in enumerate(batches, 1):
            try:
                await self._delete(
                    LIST_PATH,
                    into=ignore_body,
                    body=_DeleteBody(ids=batch),
                    timeout=timeout,
                    max_retries=max_retries,
                    extra_headers=extra_headers,
                )
            except APIStatusError as exc:
                if exc.status_code != 406:
                    raise
                failed.append(batch)
                numbers.append(number)
                errors.append(exc)
        if failed:
            raise _bulk_delete_error(failed, numbers, errors, total=len(batches))
        return len(unique)


def _bulk_delete_error(
    failed: list[list[str]], numbers: list[int], errors: list[APIStatusError], *, total: int
) -> BulkDeleteError:
    """The error for the calls of a bulk delete that answered 406, naming each call."""
    calls = ", ".join(
        f"call {n} ({len(b)} ids: {b[0]}{' ...' if len(b) > 1 else ''})"
        for n, b in zip(numbers, failed, strict=True)
    )
    return BulkDeleteError(
        f"{len(failed)} of {total} delete calls answered 406 (some ids "
        f"inaccessible; the accessible ones were deleted anyway): {calls}",
        failed_calls=failed,
        call_numbers=numbers,
        total_calls=total,
        errors=errors,
    )
