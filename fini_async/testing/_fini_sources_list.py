"""The emulated source list's query: its checks (each a 400 naming the field), its filters and
its cursor paging, where ``direction=next`` means *older* and a cursor is any source's id, even
one the filters leave out (positions are taken in the whole ordering)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_LIMIT", "SOURCE_TYPES", "ListQuery", "is_uuid", "page_of", "parse_query"]

SOURCE_TYPES = ("web", "files", "googledrive", "zendesk", "notion", "confluence")
MAX_LIMIT = 1000


def is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class ListQuery:
    """A checked list query."""

    limit: int
    direction: str
    flags: dict[str, bool]
    kind: str | None
    query: Mapping[str, str]

    def selects(self, wire: dict[str, Any]) -> bool:
        """Whether a source (as sent) passes every filter of the query."""
        query = self.query
        return (
            (self.kind is None or wire["source"] == self.kind)
            and all(wire[name] == value for name, value in self.flags.items())
            and ("id" not in query or wire["id"] == query["id"])
            and (
                "linkedKnowledgeId" not in query
                or wire["linkedKnowledgeId"] == query["linkedKnowledgeId"]
            )
            and (
                "linkedOperation" not in query
                or wire["linkedOperation"] == query["linkedOperation"]
            )
            and query.get("title", "").lower() in wire["title"].lower()
            and query.get("originalUrl", "").lower() in wire["originalUrl"].lower()
        )


def parse_query(query: Mapping[str, str]) -> ListQuery | list[str]:
    """The checked query, or the problems to answer 400 with."""
    try:
        limit = int(query.get("limit", "50"))
    except ValueError:
        return ["limit must be an integer"]
    if not 1 <= limit <= MAX_LIMIT:
        return [f"limit must be between 1 and {MAX_LIMIT}"]
    direction = query.get("direction", "next")
    if direction not in ("next", "previous"):
        return ["direction must be one of the following values: next, previous"]
    flags: dict[str, bool] = {}
    for name in ("english", "changed"):
        if name in query:
            if query[name] not in ("true", "false"):
                return [f"{name} must be a boolean value"]
            flags[name] = query[name] == "true"
    kind = query.get("source")
    if kind is not None and kind not in SOURCE_TYPES:
        return [f"source must be one of the following values: {', '.join(SOURCE_TYPES)}"]
    for name in ("id", "linkedKnowledgeId"):
        if name in query and not is_uuid(query[name]):
            return [f"{name} must be a UUID"]
    return ListQuery(limit, direction, flags, kind, query)


def page_of(q: ListQuery, wires: list[dict[str, Any]]) -> tuple[int, Any]:
    """The page ``q`` asks of ``wires`` (every source, newest first): (status, body)."""
    selected = [w for w in wires if q.selects(w)]
    limit = q.limit
    cursor = q.query.get("cursor")
    if cursor is None:
        page, more = selected[:limit], len(selected) > limit
    else:
        # positions in the whole ordering, so a cursor outside the filter still works
        positions = {w["id"]: i for i, w in enumerate(wires)}
        position = positions.get(cursor)
        if position is None:
            return 400, ["cursor must be the id of a source"]
        if q.direction == "next":  # the API's "next" is older
            rest = [w for w in selected if positions[w["id"]] > position]
            page, more = rest[:limit], len(rest) > limit
        else:
            rest = [w for w in selected if positions[w["id"]] < position]
            page, more = rest[-limit:], len(rest) > limit
    return 200, {"documents": page, "hasMore": more}
