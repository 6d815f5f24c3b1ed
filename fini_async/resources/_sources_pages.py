"""The pages of ``client.sources.list``: Fini's document list has no cursor in its answer and an
**inverted** ``direction`` (``next`` means *older*), so the next page's cursor is derived here
from the ids of this one (FINI-V2.md §2)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .._config import TimeoutTypes
from .._exceptions import APIResponseValidationError
from .._pagination import AsyncPaginator, Page
from ._sources_models import SourceDocument, decode_list

if TYPE_CHECKING:
    from .sources import SourcesResource

__all__ = ["LIST_PATH", "SourceList", "SourcePage"]

LIST_PATH = "/v2/documents/public"


class SourcePage(Page[SourceDocument]):
    """One page of sources, in the server's order (newest ``updatedAt`` first).

    The API sends no cursor: ``next_cursor`` is the id :meth:`get_next_page` continues from
    (the last id of this page when walking older, the first when walking newer)."""

    __slots__ = ()


class SourceList(AsyncPaginator[SourceDocument, SourcePage]):
    """``client.sources.list(...)``: awaitable (the first page) and async-iterable (every source
    of every page). Pages are fetched on demand inside the call that needs them, so breaking
    out early leaves nothing running; each ``await`` or iteration starts a new walk."""

    def __init__(
        self,
        resource: SourcesResource,
        params: dict[str, str],
        cursor: str | None,
        wire_direction: str,
        timeout: TimeoutTypes,
    ) -> None:
        self._resource = resource
        self._params = params
        self._cursor = cursor
        self._direction = wire_direction
        self._timeout = timeout
        super().__init__(self._first)

    def __repr__(self) -> str:
        return f"<SourceList params={self._params} cursor={self._cursor!r}>"

    def _first(self) -> Awaitable[SourcePage]:
        return self._page(self._cursor)

    async def _page(self, cursor: str | None) -> SourcePage:
        params = dict(self._params)
        if cursor is not None:
            params["cursor"] = cursor
            params["direction"] = self._direction
        resp = await self._resource._send(
            "GET", LIST_PATH, params=params, idempotent=True, timeout=self._timeout
        )
        wire = decode_list(resp.content, resp.status)
        items = wire.documents
        following: str | None = None
        if wire.has_more and items:
            # no nextCursor: older pages continue after the last id, newer ones before the first
            following = items[-1].id if self._direction == "next" else items[0].id
            if following == cursor:
                raise APIResponseValidationError(
                    f"the page after cursor {cursor!r} ends with that same id; stopping rather "
                    "than looping",
                    body=resp.content,
                    status_code=resp.status,
                )
        fetch_next: Callable[[], Awaitable[SourcePage]] | None = None
        if following is not None:
            after = following

            def fetch_next() -> Awaitable[SourcePage]:
                return self._page(after)

        return SourcePage(
            items, has_more=following is not None, next_cursor=following, fetch_next=fetch_next
        )
