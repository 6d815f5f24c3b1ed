"""Pagination shared by every listing: a page, and a paginator that is both awaitable (the first
page) and async-iterable (every item of every page).

A listing only has to say how to fetch its first page and, on each page, how to fetch the next
one (``fetch_next``): cursor listings (Fini conversations) close over the cursor, offset listings
over the next offset. Nothing here knows a route.

Iteration never starts a background task: each page is fetched inside the ``__anext__`` that
needs it, so a caller who breaks out of ``async for`` early leaves nothing running, and a
cancelled fetch gives its connection back like any other request. The iterators are plain
classes, not async generators, so there is no generator for the event loop to finalize later.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar

__all__ = [
    "AsyncPaginator",
    "ItemIterator",
    "OffsetPage",
    "OffsetPaginator",
    "Page",
    "PageIterator",
]

T = TypeVar("T")
PageT = TypeVar("PageT", bound="Page[Any]")
OffsetPageT = TypeVar("OffsetPageT", bound="OffsetPage[Any]")


class Page(Generic[T]):
    """One page of a listing.

    ``items`` are this page's items; ``has_more`` says whether :meth:`get_next_page` can fetch
    more; ``next_cursor`` / ``prev_cursor`` are the server's cursors when the listing has them
    (None otherwise). Iterating a page iterates its items."""

    __slots__ = ("_fetch_next", "has_more", "items", "next_cursor", "prev_cursor")

    def __init__(
        self,
        items: list[T],
        *,
        has_more: bool | None = None,
        next_cursor: str | None = None,
        prev_cursor: str | None = None,
        fetch_next: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        self.items = items
        self._fetch_next = fetch_next
        self.has_more = fetch_next is not None if has_more is None else has_more
        self.next_cursor = next_cursor
        self.prev_cursor = prev_cursor

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} items={len(self.items)} has_more={self.has_more} "
            f"next_cursor={self.next_cursor!r}>"
        )

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def has_next_page(self) -> bool:
        """True when :meth:`get_next_page` will fetch another page."""
        return self._fetch_next is not None

    async def get_next_page(self: PageT) -> PageT | None:
        """Fetch the page after this one (None when this is the last). Raises what the listing's
        requests raise (``APIError`` subclasses)."""
        fetch = self._fetch_next
        if fetch is None:
            return None
        page: PageT = await fetch()
        return page


class PageIterator(Generic[PageT]):
    """``async for page in paginator.pages()``: the pages one by one, fetched on demand."""

    __slots__ = ("_done", "_fetch_first", "_page")

    def __init__(self, fetch_first: Callable[[], Awaitable[PageT]]) -> None:
        self._fetch_first: Callable[[], Awaitable[PageT]] | None = fetch_first
        self._page: PageT | None = None
        self._done = False

    def __aiter__(self) -> PageIterator[PageT]:
        return self

    async def __anext__(self) -> PageT:
        if self._done:
            raise StopAsyncIteration
        if self._fetch_first is not None:
            page = await self._fetch_first()
            self._fetch_first = None
        else:
            assert self._page is not None
            following = await self._page.get_next_page()
            if following is None:
                self._done = True
                raise StopAsyncIteration
            page = following
        self._page = page
        if not page.has_next_page():
            self._done = True
            self._page = None
        return page

    async def aclose(self) -> None:
        """Stop: later ``__anext__`` calls end the iteration. Nothing is left running either way."""
        self._done = True
        self._page = None
        self._fetch_first = None


class ItemIterator(Generic[T]):
    """``async for item in paginator``: every item of every page, fetching pages on demand."""

    __slots__ = ("_buffer", "_index", "_pages")

    def __init__(self, pages: PageIterator[Any]) -> None:
        self._pages = pages
        self._buffer: list[T] = []
        self._index = 0

    def __aiter__(self) -> ItemIterator[T]:
        return self

    async def __anext__(self) -> T:
        while self._index >= len(self._buffer):
            page = await self._pages.__anext__()  # StopAsyncIteration ends us too
            self._buffer = page.items
            self._index = 0
        item = self._buffer[self._index]
        self._index += 1
        return item

    async def aclose(self) -> None:
        """Stop early (optional: breaking out of ``async for`` leaves nothing running)."""
        self._buffer = []
        self._index = 0
        await self._pages.aclose()


class AsyncPaginator(Generic[T, PageT]):
    """A listing that is awaitable and async-iterable.

    - ``page = await paginator`` fetches the first page only (``page.items``, ``page.has_more``,
      cursors, ``await page.get_next_page()``);
    - ``async for item in paginator`` yields every item of every page, in the server's order;
    - ``async for page in paginator.pages()`` yields the pages;
    - ``await paginator.to_list()`` collects the items (``limit`` caps how many).

    Each ``await`` or iteration starts a fresh walk from the first page. Subclasses (or callers)
    provide ``fetch_first``; each page carries how to fetch the one after it."""

    def __init__(self, fetch_first: Callable[[], Awaitable[PageT]]) -> None:
        self._fetch_first = fetch_first

    def __await__(self) -> Generator[Any, None, PageT]:
        return self._first_page().__await__()

    async def _first_page(self) -> PageT:
        return await self._fetch_first()

    def pages(self) -> PageIterator[PageT]:
        """The pages one by one."""
        return PageIterator(self._fetch_first)

    def __aiter__(self) -> ItemIterator[T]:
        return ItemIterator(self.pages())

    async def to_list(self, limit: int | None = None) -> list[T]:
        """Every item (or the first ``limit``), fetching only the pages needed."""
        out: list[T] = []
        if limit is not None and limit <= 0:
            return out
        pages = self.pages()
        async for page in pages:
            out.extend(page.items)
            if limit is not None and len(out) >= limit:
                await pages.aclose()
                return out[:limit]
        return out


class OffsetPage(Page[T]):
    """One page of an offset listing: the items, the server's ``total`` (None when it did not
    say) and the ``offset``/``limit`` that produced it. ``has_more`` says whether another page
    may follow (by ``total`` when known, else by a full page); :meth:`get_next_page` fetches it."""

    __slots__ = ("limit", "offset", "total")

    def __init__(
        self,
        items: list[T],
        *,
        total: int | None,
        offset: int,
        limit: int,
        fetch_next: Callable[[], Awaitable[Any]] | None = None,
    ) -> None:
        # by the total when the server gave one, else a full page may have a successor
        more = offset + len(items) < total if total is not None else len(items) >= limit > 0
        super().__init__(items, has_more=more, fetch_next=fetch_next)
        self.total = total
        self.offset = offset
        self.limit = limit

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} items={len(self.items)} offset={self.offset} "
            f"total={self.total} has_more={self.has_more}>"
        )

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, OffsetPage)
        return (self.items, self.total, self.offset, self.limit) == (
            other.items,
            other.total,
            other.offset,
            other.limit,
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def next_offset(self) -> int:
        """The offset of the page after this one."""
        return self.offset + len(self.items)


class OffsetPaginator(AsyncPaginator[T, OffsetPageT]):
    """An offset/limit/total listing (Sharely's knowledge list).

    ``fetch(offset, limit)`` fetches one page. The walk starts at ``offset``, asks ``page_size``
    items per page and ends at ``total`` (or at a short page when the server sends no total), at
    an empty page, and after ``max_items`` items if given (the last page is cut to fit)."""

    def __init__(
        self,
        fetch: Callable[[int, int], Awaitable[OffsetPageT]],
        *,
        offset: int = 0,
        page_size: int,
        max_items: int | None = None,
    ) -> None:
        super().__init__(self._first)
        self._fetch = fetch
        self.offset = offset
        self.page_size = page_size
        self.max_items = max_items

    def __repr__(self) -> str:
        return f"<{type(self).__name__} offset={self.offset} page_size={self.page_size}>"

    def _first(self) -> Awaitable[OffsetPageT]:
        return self._page_at(self.offset, 0)

    async def _page_at(self, offset: int, seen: int) -> OffsetPageT:
        cap = self.max_items
        limit = self.page_size if cap is None else max(1, min(self.page_size, cap - seen))
        page = await self._fetch(offset, limit)
        if cap is not None and len(page.items) > cap - seen:
            page.items = page.items[: cap - seen]
        seen += len(page.items)
        if page.items and page.has_more and (cap is None or seen < cap):
            following = page.next_offset
            page._fetch_next = lambda: self._page_at(following, seen)
        else:
            page._fetch_next = None
        return page
