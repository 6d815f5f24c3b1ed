"""Listing conversations across pages and 90-day windows: the window plan, the walk over the
windows and their pages, and the public page and paginator types.

The list route takes ``since``/``until`` in epoch ms with a window of at most 90 days and pages
with ``cursor`` + ``direction`` where **``next`` means older**. A longer range is walked as
windows, newest first; each conversation is yielded once even where windows overlap.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from .._config import TimeoutTypes
from .._exceptions import APIResponseValidationError, ValidationError
from .._models import ms_to_datetime
from .._pagination import AsyncPaginator, Page
from .._transport import Response
from ._conversation_models import LIST_PATH, Conversation, _decode_list, _ListResponse

if TYPE_CHECKING:
    from .conversations import ConversationsResource

__all__ = ["DEFAULT_WINDOW", "MAX_WINDOW", "ConversationList", "ConversationPage", "plan_windows"]

#: The longest ``since``..``until`` window the list route accepts.
MAX_WINDOW = timedelta(days=90)
#: The server's default window when ``since`` is not given.
DEFAULT_WINDOW = timedelta(days=7)

_MAX_WINDOW_MS = int(MAX_WINDOW / timedelta(milliseconds=1))
_DEFAULT_WINDOW_MS = int(DEFAULT_WINDOW / timedelta(milliseconds=1))
#: Adjacent windows overlap by this many ms on each side of their shared edge, so that a
#: conversation created exactly on the edge is seen whether the server's bounds are inclusive or
#: exclusive; the few seen twice are dropped by id.
_EDGE_OVERLAP_MS = 1
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def ms_dt(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


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


class _Position(NamedTuple):
    """Where a walk stands: which window, the server's cursor within it (None: its first page),
    the ids already yielded from the newer window's older edge (not to yield again), and the ids
    this window has yielded near its own older edge (the next window's ``skip``)."""

    window: int
    cursor: str | None
    skip: frozenset[str]
    edge: set[str]


class _Walk:
    """One walk over the windows and their pages of ``query`` (a ConversationList: the query
    is immutable, the window plan is this walk's, "now" taken when it starts)."""

    __slots__ = ("query", "windows")

    def __init__(self, query: ConversationList) -> None:
        self.query = query
        self.windows = plan_windows(query.since, query.until, now=now_ms())

    async def fetch(self, at: _Position) -> ConversationPage:
        """The page at ``at``. A page with nothing new to show (an empty window, or only edge
        duplicates) is skipped at once, so that a page is empty only when nothing is left."""
        while True:
            bounds = None if self.windows is None else self.windows[at.window]
            resp = await self._request(bounds, at.cursor)
            wire = _decode_list(resp.content, resp.status)
            raw_items = wire.conversation_list()
            items = [c for c in raw_items if c.id not in at.skip] if at.skip else raw_items
            last_window = self.windows is None or at.window + 1 >= len(self.windows)
            if bounds is not None and not last_window:
                top = bounds[0] + 2 * _EDGE_OVERLAP_MS
                for conv in items:
                    created = _created_ms(conv)
                    if created is None or created <= top:
                        at.edge.add(conv.id)
            after = _after(at, wire, raw_items, resp, last_window=last_window)
            if not items and after is not None:
                at = after
                continue
            return ConversationPage(
                items,
                has_more=after is not None,
                next_cursor=wire.next_cursor,
                prev_cursor=wire.prev_cursor,
                window=None if bounds is None else (ms_dt(bounds[0]), ms_dt(bounds[1])),
                fetch_next=None if after is None else self._continue_at(after),
            )

    async def _request(self, bounds: tuple[int, int] | None, cursor: str | None) -> Response:
        query = self.query
        params = dict(query._params)
        if bounds is not None:
            params["since"] = str(bounds[0])
            params["until"] = str(bounds[1])
        if cursor is not None:
            params["cursor"] = cursor
            params["direction"] = "next"  # the API's "next" is older: our forward
        return await query._resource._send(
            "GET", LIST_PATH, params=params, idempotent=True, timeout=query._timeout
        )

    def _continue_at(self, at: _Position) -> Any:
        async def fetch_next() -> ConversationPage:
            return await self.fetch(at)

        return fetch_next


def _after(
    at: _Position,
    wire: _ListResponse,
    raw_items: list[Conversation],
    resp: Response,
    *,
    last_window: bool,
) -> _Position | None:
    """Where the walk goes after the page ``wire`` answered at ``at``: further in this window,
    on to the next (older) window, or nowhere (None)."""
    next_cursor = wire.next_cursor
    if wire.has_more and next_cursor is None and raw_items:
        next_cursor = raw_items[-1].id  # a server that gives no cursor: the last id
    more_here = wire.has_more is not False and bool(raw_items) and next_cursor is not None
    if more_here and next_cursor == at.cursor:
        raise APIResponseValidationError(
            f"the server returned the cursor it was given ({at.cursor!r}) as the next one; "
            "stopping rather than looping",
            body=resp.content,
            status_code=resp.status,
        )
    if more_here:
        return at._replace(cursor=next_cursor)
    if not last_window:
        return _Position(at.window + 1, None, frozenset(at.edge), set())
    return None


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
        return await _Walk(self).fetch(_Position(0, None, frozenset(), set()))

    def windows(self) -> list[tuple[datetime, datetime]] | None:
        """The ``(since, until)`` windows a walk starting now would ask for, newest first (None
        when no bounds are sent and the server's default window applies)."""
        plan = plan_windows(self.since, self.until, now=now_ms())
        if plan is None:
            return None
        return [(ms_dt(lo), ms_dt(hi)) for lo, hi in plan]
