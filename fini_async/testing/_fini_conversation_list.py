"""The rules of the emulated conversation list: its query (an epoch-ms window of at most 90
days defaulting to the last 7, ``limit`` 1..100, ``direction`` next or previous, known sources)
and its cursor paging, where ``direction=next`` means *older*. The 400 bodies are the API's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = [
    "DAY_MS",
    "DEFAULT_WINDOW_MS",
    "MAX_WINDOW_MS",
    "SOURCES",
    "ListQuery",
    "page_bounds",
    "parse_list_query",
]

SOURCES = (
    "api",
    "widget",
    "ui",
    "standalone",
    "testsuite",
    "replay",
    "zendesk",
    "intercom",
    "front",
    "hubspot",
    "salesforce",
    "gorgias",
    "livechat",
    "slack",
    "discord",
    "freshdesk",
    "freshchat",
)
DAY_MS = 86_400_000
MAX_WINDOW_MS = 90 * DAY_MS
DEFAULT_WINDOW_MS = 7 * DAY_MS


@dataclass(frozen=True)
class ListQuery:
    """A list call's query, checked, with the default window applied."""

    since: int
    until: int
    limit: int
    direction: str
    cursor: str | None
    agent: str | None
    channel: str | None
    sources: frozenset[str]


def parse_list_query(
    query: dict[str, str], sources: list[str], *, now: int
) -> ListQuery | tuple[int, Any]:
    """The checked query, or the ``(400, body)`` the API answers for it."""
    try:
        since = int(query["since"]) if "since" in query else None
        until = int(query["until"]) if "until" in query else None
    except ValueError:
        return 400, ["since and until must be epoch milliseconds"]
    try:
        limit = int(query.get("limit", "50"))
    except ValueError:
        return 400, ["limit must be an integer"]
    if not 1 <= limit <= 100:
        return 400, ["limit must not be greater than 100", "limit must not be less than 1"]
    direction = query.get("direction", "next")
    if direction not in ("next", "previous"):
        return 400, ["direction must be one of the following values: next, previous"]
    for src in sources:
        if src not in SOURCES:
            return 400, [f"each value in source must be one of: {', '.join(SOURCES)}"]
    if until is None:
        until = now
    if since is None:
        since = until - DEFAULT_WINDOW_MS
    if since >= until:
        return 400, "since must be before until"
    if until - since > MAX_WINDOW_MS:
        return 400, "The time window between since and until cannot exceed 90 days"
    return ListQuery(
        since=since,
        until=until,
        limit=limit,
        direction=direction,
        cursor=query.get("cursor"),
        agent=query.get("agentId"),
        channel=query.get("channel"),
        sources=frozenset(sources),
    )


def page_bounds(
    keys: list[tuple[int, str]], cursor_key: tuple[int, str], q: ListQuery
) -> tuple[int, int]:
    """Where the page after (``next``: older than) or before the cursor starts and may end, in
    ``keys`` (newest first)."""
    # keys are descending: older than the cursor = keys below it
    older_at = next((i for i, k in enumerate(keys) if k < cursor_key), len(keys))
    if q.direction == "next":
        return older_at, len(keys)
    end = next((i for i, k in enumerate(keys) if k <= cursor_key), len(keys))
    return max(0, end - q.limit), end
