"""``client.conversations``: generate an answer into a conversation, list conversations across
pages and 90-day windows, get one, delete one or many.

Wire facts (see the API reference): the list route takes ``since``/``until`` in epoch ms with a
window of at most 90 days, pages with ``cursor`` + ``direction`` where **``next`` means older**,
and answers ``{interactions|conversations, hasMore, nextCursor, prevCursor}`` newest first.
``get`` of an unknown id answers 500, not 404. The bulk delete takes at most 50 unique ids and is
not atomic: 406 when some ids are inaccessible, the others deleted anyway.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import (
    APIResponseValidationError,
    APIStatusError,
    BulkDeleteError,
    ValidationError,
)
from .._models import Lenient, encode, ms_to_datetime, parse_json
from .._pagination import AsyncPaginator, Page
from .._validate import mapping, non_empty_str, one_of, uuid_str
from ._base import Resource, ignore_body

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = [
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

EVENTS_PATH = "/v2/hc-interactions/events/public"
LIST_PATH = "/v2/hc-interactions/public"
ONE_PATH = "/v2/hc-interactions/{id}/public"

#: The roles Generate Answer accepts; only ``user`` events get an AI reply.
EVENT_ROLES = ("user", "agent", "finibot", "otherbot")
#: The longest ``since``..``until`` window the list route accepts.
MAX_WINDOW = timedelta(days=90)
#: The most ids one bulk delete call takes.
MAX_DELETE_BATCH = 50
#: The server's default window when ``since`` is not given.
DEFAULT_WINDOW = timedelta(days=7)

_MAX_WINDOW_MS = int(MAX_WINDOW / timedelta(milliseconds=1))
_DEFAULT_WINDOW_MS = int(DEFAULT_WINDOW / timedelta(milliseconds=1))
#: Adjacent windows overlap by this many ms on each side of their shared edge, so that a
#: conversation created exactly on the edge is seen whether the server's bounds are inclusive or
#: exclusive; the few seen twice are dropped by id.
_EDGE_OVERLAP_MS = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# -- wire structs ----------------------------------------------------------------------------


class UsedArticle(msgspec.Struct, rename="camel"):
    """A knowledge-base article an answer used."""

    id: str | None = None
    title: str | None = None
    document_url: str | None = None


class UsedFolder(msgspec.Struct, rename="camel"):
    """A knowledge-base folder an answer used."""

    id: str | None = None
    title: str | None = None


class Event(msgspec.Struct, rename="camel"):
    """One event of a conversation (a message by the user, an agent, Fini's bot or another bot).

    ``role`` and ``type`` are open sets (``user``/``agent``/``finibot``/``otherbot``,
    ``message``). ``csat_rating`` is None when absent; 0 is a rating. ``created_at`` (and
    ``external_created_at``) are aware UTC datetimes computed from the wire's epoch ms, kept in
    ``created_at_ms``. ``metadata`` is an open mapping."""

    id: str
    created_at_ms: int | float | str | None = msgspec.field(default=None, name="createdAt")
    role: str | None = None
    type: str | None = None
    message: str | None = None
    external_id: str | None = None
    external_created_at_ms: int | float | str | None = msgspec.field(
        default=None, name="externalCreatedAt"
    )
    csat_rating: int | float | None = None
    feedback: Any = None
    approved: bool | None = None
    resolved: bool | None = None
    attachments: list[Any] = []
    tags: list[Any] = []
    used_articles: list[UsedArticle] = []
    metadata: dict[str, Any] | None = None

    @property
    def created_at(self) -> datetime | None:
        """When the event was created, as an aware UTC datetime."""
        return ms_to_datetime(self.created_at_ms)

    @property
    def external_created_at(self) -> datetime | None:
        """When the event was created in the external system, as an aware UTC datetime."""
        return ms_to_datetime(self.external_created_at_ms)

    @property
    def text(self) -> str:
        """The message text ('' when there is none)."""
        return self.message or ""


class Conversation(msgspec.Struct, rename="camel"):
    """A conversation (an "interaction" on the wire).

    ``source``, ``channel`` and ``status`` are open sets. ``resolved`` is True, False or None
    (unknown). ``user_attributes`` and ``metadata`` are open mappings. ``created_at`` is an aware
    UTC datetime computed from the wire's epoch ms, kept in ``created_at_ms``."""

    id: str
    created_at_ms: int | float | str | None = msgspec.field(default=None, name="createdAt")
    source: str | None = None
    channel: str | None = None
    status: str | None = None
    external_id: str | None = None
    url: str | None = None
    subject_preview: str | None = None
    has_feedback: bool | None = None
    resolved: bool | None = None
    user_attributes: dict[str, Any] | None = None
    used_articles: list[UsedArticle] = []
    used_subfolders: list[UsedFolder] = []
    events: list[Event] = []
    metadata: dict[str, Any] | None = None

    @property
    def created_at(self) -> datetime | None:
        """When the conversation was created, as an aware UTC datetime."""
        return ms_to_datetime(self.created_at_ms)


class _EventBody(msgspec.Struct, omit_defaults=True):
    content: str
    role: str = "user"
    interactionId: str | UnsetType = UNSET
    botId: str | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET


class _DeleteBody(msgspec.Struct):
    ids: list[str]


class _ListResponse(msgspec.Struct, rename="camel"):
    interactions: list[Conversation] | None = None
    conversations: list[Conversation] | None = None
    data: list[Conversation] | None = None
    items: list[Conversation] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None
    prev_cursor: str | None = None

    def conversation_list(self) -> list[Conversation]:
        for key in (self.interactions, self.conversations, self.data, self.items):
            if key is not None:
                return key
        return []


class _EventsWrapper(msgspec.Struct):
    events: list[Event] | None = None
    data: list[Event] | None = None


_events = Lenient(list[Event])
_events_wrapped = Lenient(_EventsWrapper)
_event = Lenient(Event)
_list = Lenient(_ListResponse)
_conversation = Lenient(Conversation)
_list_fast = msgspec.json.Decoder(_ListResponse)
_WRAPPER_KEYS = ("interaction", "conversation", "data")


def _decode_events(content: bytes, status: int) -> list[Event]:
    """A top-level array of events (documented); also ``{"events": [...]}``, ``{"data": [...]}``
    or a single event object."""
    head = content.lstrip()[:1]
    if head != b"{":
        return _events.decode(content, status=status)
    raw = parse_json(content, status=status)
    if isinstance(raw, dict) and ("events" in raw or "data" in raw):
        wrapped = _events_wrapped.convert(raw, data=content, status=status)
        return wrapped.events or wrapped.data or []
    return [_event.convert(raw, data=content, status=status)]


def _decode_list(content: bytes, status: int) -> _ListResponse:
    try:
        return _list_fast.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        pass
    raw = parse_json(content, status=status)
    if isinstance(raw, list):  # a bare list: one page, nothing after it
        raw = {"conversations": raw, "hasMore": False}
    return _list.convert(raw, data=content, status=status)


def _decode_conversation(content: bytes, status: int) -> Conversation:
    raw = parse_json(content, status=status) if content.lstrip()[:1] == b"{" else None
    if isinstance(raw, dict) and "id" not in raw:
        for key in _WRAPPER_KEYS:
            inner = raw.get(key)
            if isinstance(inner, dict):
                return _conversation.convert(inner, data=content, status=status)
    return _conversation.decode(content, status=status)


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


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


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


def plan_windows(since: int | None, until: int | None, *, now: int) -> list[tuple[int, int]] | None:
    """The ``(since, until)`` windows (epoch ms) to ask for, newest first, or None to send no
    bounds (the server's default window). A range over 90 days is split into windows of at most
    90 days whose shared edges overlap by a millisecond each way, so a conversation on an edge
    is fetched whatever the server's inclusivity (duplicates are dropped by id)."""
    if since is None and until is None:
        return None
    if until is None:
        until = now
    if since is None:
        since = until - _DEFAULT_WINDOW_MS
    if since >= until:
        raise ValidationError("since must be before until", field="since")
    windows: list[tuple[int, int]] = []
    hi = until
    while True:
        lo = max(since, hi - _MAX_WINDOW_MS)
        windows.append((lo, hi))
        if lo == since:
            return windows
        hi = lo + 2 * _EDGE_OVERLAP_MS


# -- the paginator ---------------------------------------------------------------------------


class ConversationPage(Page[Conversation]):
    """One page of conversations, newest first.

    ``has_more`` says whether :meth:`get_next_page` finds older conversations (in this window or
    an older one). ``next_cursor`` is the server's cursor towards older conversations and
    ``prev_cursor`` towards newer ones, within ``window``: the ``(since, until)`` datetimes this
    page was asked for (None when no bounds were sent)."""

    __slots__ = ("window",)

    def __init__(
        self,
        items: list[Conversation],
        *,
        has_more: bool,
        next_cursor: str | None,
        prev_cursor: str | None,
        window: tuple[datetime, datetime] | None,
        fetch_next: Any = None,
    ) -> None:
        super().__init__(
            items,
            has_more=has_more,
            next_cursor=next_cursor,
            prev_cursor=prev_cursor,
            fetch_next=fetch_next,
        )
        self.window = window


def _created_ms(conv: Conversation) -> float | None:
    value = conv.created_at_ms
    if value is None:
        return None
    if isinstance(value, str):
        dt = ms_to_datetime(value)
        return None if dt is None else dt.timestamp() * 1000
    return float(value)


class _Walk:
    """One walk over the windows and their pages (immutable query, per-walk window plan)."""

    __slots__ = ("params", "resource", "since", "timeout", "until", "windows")

    def __init__(
        self,
        resource: ConversationsResource,
        params: dict[str, str],
        since: int | None,
        until: int | None,
        timeout: TimeoutTypes,
    ) -> None:
        self.resource = resource
        self.params = params
        self.since = since
        self.until = until
        self.timeout = timeout
        self.windows = plan_windows(since, until, now=_now_ms())

    async def fetch(
        self, index: int, cursor: str | None, skip: frozenset[str], edge: set[str]
    ) -> ConversationPage:
        """The page at ``cursor`` of window ``index``; ``skip`` are ids already yielded from the
        newer window's edge, ``edge`` collects this window's ids near its older edge."""
        while True:
            windows = self.windows
            params = dict(self.params)
            window: tuple[datetime, datetime] | None = None
            lo = None
            if windows is not None:
                lo, hi = windows[index]
                params["since"] = str(lo)
                params["until"] = str(hi)
                window = (_ms_dt(lo), _ms_dt(hi))
            if cursor is not None:
                params["cursor"] = cursor
                params["direction"] = "next"  # the API's "next" is older: our forward
            resp = await self.resource._send(
                "GET", LIST_PATH, params=params, idempotent=True, timeout=self.timeout
            )
            wire = _decode_list(resp.content, resp.status)
            raw_items = wire.conversation_list()
            items = [c for c in raw_items if c.id not in skip] if skip else raw_items
            last_window = windows is None or index + 1 >= len(windows)
            if lo is not None and not last_window:
                top = lo + 2 * _EDGE_OVERLAP_MS
                for conv in items:
                    created = _created_ms(conv)
                    if created is None or created <= top:
                        edge.add(conv.id)
            next_cursor = wire.next_cursor
            if wire.has_more and next_cursor is None and raw_items:
                next_cursor = raw_items[-1].id  # a server that gives no cursor: the last id
            if wire.has_more is False or not raw_items:
                more_here = False
            else:
                more_here = next_cursor is not None
            if more_here and next_cursor == cursor:
                raise APIResponseValidationError(
                    f"the server returned the cursor it was given ({cursor!r}) as the next one; "
                    "stopping rather than looping",
                    body=resp.content,
                    status_code=resp.status,
                )
            after: tuple[int, str | None, frozenset[str], set[str]] | None
            if more_here:
                after = (index, next_cursor, skip, edge)
            elif not last_window:
                after = (index + 1, None, frozenset(edge), set())
            else:
                after = None
            if not items and after is not None:
                # Nothing to show yet (an empty window, or only edge duplicates): go on at once,
                # so that a page is empty only when nothing at all is left.
                index, cursor, skip, edge = after
                continue
            return ConversationPage(
                items,
                has_more=after is not None,
                next_cursor=wire.next_cursor,
                prev_cursor=wire.prev_cursor,
                window=window,
                fetch_next=None if after is None else _bind(self, *after),
            )


def _bind(walk: _Walk, index: int, cursor: str | None, skip: frozenset[str], edge: set[str]) -> Any:
    async def fetch_next() -> ConversationPage:
        return await walk.fetch(index, cursor, skip, edge)

    return fetch_next


def _ms_dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


class ConversationList(AsyncPaginator[Conversation, ConversationPage]):
    """``client.conversations.list(...)``: awaitable and async-iterable.

    - ``page = await client.conversations.list(...)`` is the first page (newest conversations);
      ``await page.get_next_page()`` continues;
    - ``async for conv in client.conversations.list(...)`` yields every conversation of every
      page and window, newest first, each once;
    - ``async for page in client.conversations.list(...).pages()`` yields the pages.

    Pages are fetched only when needed, inside the call that needs them: no background task, so
    breaking out early leaves nothing running. Each ``await`` or iteration starts a new walk
    (when ``until`` was not given, "now" is taken at the start of each walk). Requests raise the
    usual ``APIError`` subclasses; a ``BadRequestError`` means the server refused the window or
    a filter."""

    def __init__(
        self,
        resource: ConversationsResource,
        params: dict[str, str],
        since: int | None,
        until: int | None,
        timeout: TimeoutTypes,
    ) -> None:
        self._resource = resource
        self._params = params
        self.since = since
        self.until = until
        self._timeout = timeout
        super().__init__(self._start)

    def __repr__(self) -> str:
        return f"<ConversationList since={self.since} until={self.until} params={self._params}>"

    async def _start(self) -> ConversationPage:
        walk = _Walk(self._resource, self._params, self.since, self.until, self._timeout)
        return await walk.fetch(0, None, frozenset(), set())

    def windows(self) -> list[tuple[datetime, datetime]] | None:
        """The ``(since, until)`` windows a walk starting now would ask for, newest first (None
        when no bounds are sent and the server's default window applies)."""
        plan = plan_windows(self.since, self.until, now=_now_ms())
        if plan is None:
            return None
        return [(_ms_dt(lo), _ms_dt(hi)) for lo, hi in plan]


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
            body.interactionId = interaction
        if bot is not None:
            body.botId = bot
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
        plan_windows(since_ms, until_ms, now=_now_ms())  # refuse since >= until now
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
            calls = ", ".join(
                f"call {n} ({len(b)} ids: {b[0]}{' ...' if len(b) > 1 else ''})"
                for n, b in zip(numbers, failed, strict=True)
            )
            raise BulkDeleteError(
                f"{len(failed)} of {len(batches)} delete calls answered 406 (some ids "
                f"inaccessible; the accessible ones were deleted anyway): {calls}",
                failed_calls=failed,
                call_numbers=numbers,
                total_calls=len(batches),
                errors=errors,
            )
        return len(unique)
