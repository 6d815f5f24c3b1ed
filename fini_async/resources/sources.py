"""``client.sources``: the knowledge sources (Fini's "documents"): list, get, add, crawl, refresh,
delete, discover and import from providers, and wait for refreshes.

Wire facts (FINI-V2.md §2): the list pages newest ``updatedAt`` first with an id ``cursor`` and an
**inverted** ``direction`` (``next`` means *older*) and answers ``{documents, hasMore}`` with no
cursor: the next page's cursor is the last id of this one. ``refresh`` and ``delete`` are
all-or-nothing: one unknown id fails the whole batch with 400 and nothing is done. For
``source="web"`` the ids to add are URLs; for the other providers they are source ids.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._poller import JobPoller
from .._validate import int_in, non_empty_str, one_of, uuid_str
from ._base import Resource
from ._sources_input import bool_arg, ids_arg, register_item, source_values, urls_arg
from ._sources_models import (
    AddedSources,
    CrawlBody,
    DeleteBody,
    DeletedSourceArticle,
    DeletedSourceDocument,
    DeletedSources,
    IngestBody,
    ProviderResource,
    RefreshBody,
    RegisterBody,
    SourceDocument,
    decode_added,
    decode_crawled,
    decode_deleted,
    decode_document,
    decode_refreshed,
    decode_resources,
)
from ._sources_pages import LIST_PATH, SourceList, SourcePage
from ._sources_polling import classify_refresh, refresh_state

if TYPE_CHECKING:
    from .._client import FiniClient
    from .._transport import Transport

__all__ = [
    "DEFAULT_CRAWL_LIMIT",
    "INGEST_SOURCES",
    "PROVIDERS",
    "SOURCE_TYPES",
    "AddedSources",
    "DeletedSourceArticle",
    "DeletedSourceDocument",
    "DeletedSources",
    "ProviderResource",
    "SourceDocument",
    "SourceList",
    "SourcePage",
    "SourcesResource",
]

ONE_PATH = "/v2/documents/public/{id}"
RESOURCES_PATH = "/v2/documents/public/resources/{provider}"
CRAWL_PATH = "/v2/documents/public/deep-crawl/links"
REFRESH_PATH = "/v2/documents/public/refresh"

#: The documented source types (a filter of ``list``; newer ones may appear in records).
SOURCE_TYPES = ("web", "files", "googledrive", "zendesk", "notion", "confluence")
#: The source types ``add`` accepts (``files`` is uploaded elsewhere).
INGEST_SOURCES = ("web", "googledrive", "notion", "zendesk", "confluence")
#: The providers with a discovery route.
PROVIDERS = ("notion", "zendesk", "confluence")
#: The documented ``linkedOperation`` values.
LINKED_OPERATIONS = (
    "ADD_ARTICLE_TO_FOLDER",
    "UPDATE_ARTICLE",
    "DO_NOTHING",
    "CREATE_SUBFOLDER_AND_ARTICLE",
)
#: How many URLs ``crawl_links`` asks for unless told (the API's default).
DEFAULT_CRAWL_LIMIT = 250
#: The list's page size unless told (the API's default).
DEFAULT_PAGE_SIZE = 50
#: How the direction of the list is named: ours (older/newer) and the API's inverted one.
_DIRECTIONS = {"older": "next", "newer": "previous", "next": "next", "previous": "previous"}


# -- the resource ------------------------------------------------------------------------------


class SourcesResource(Resource["FiniClient"]):
    """Knowledge sources: what generation (``origin="sources"``) reads.

    ``poller`` is the :class:`~fini_async.JobPoller` behind :meth:`wait_for_refresh`: every
    wait of this client shares its one polling task."""

    __slots__ = ("poller",)

    def __init__(self, client: FiniClient, transport: Transport) -> None:
        super().__init__(client, transport)
        # There is no batch read of sources: each poll reads one source (GET by id), up to
        # max_concurrency at once, and an unknown id fails only its own waiters.
        self.poller: JobPoller[SourceDocument] = JobPoller(
            self._fetch_for_poller,
            state_of=refresh_state,
            classify=classify_refresh,
            chunk_size=1,
            interval_initial=0.5,
            name="source refreshes",
        )

    # -- reading ---------------------------------------------------------------------------------

    def list(
        self,
        *,
        source: str | None = None,
        english: bool | None = None,
        id: str | None = None,
        title: str | None = None,
        url: str | None = None,
        linked_knowledge_id: str | None = None,
        linked_operation: str | None = None,
        changed: bool | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
        direction: str = "older",
        extra_params: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
    ) -> SourceList:
        """Sources newest ``updatedAt`` first: ``await`` it for the first page, ``async for``
        over it for every source (see :class:`SourceList`).

        Filters: ``source`` (a type such as ``web`` or ``notion``), ``english``,
        ``linked_operation``, ``changed=True`` (linked sources whose content changed at their
        last refresh: the refresh workflow's step 2), and ``id`` (exact), ``title`` and
        ``url`` (case-insensitive substrings), ``linked_knowledge_id`` (the linked article).
        The docs do not name the query parameters of the last four: they are sent as ``id``,
        ``title``, ``originalUrl`` and ``linkedKnowledgeId``; ``extra_params`` adds any other.

        ``cursor`` starts from a source id, walking ``direction="older"`` (the default) or
        ``"newer"``. The API's own names are accepted too and are **inverted**: ``"next"``
        means older, ``"previous"`` newer. The API returns no cursor, so each following page
        starts at the last id of the page before.

        Raises :class:`ValidationError` before any request for a bad filter, ``page_size``
        below 1 or an unknown direction."""
        params: dict[str, str] = {"limit": str(int_in(page_size, 1, None, "page_size"))}
        if source is not None:
            params["source"] = non_empty_str(source, "source")
        if linked_operation is not None:
            params["linkedOperation"] = non_empty_str(linked_operation, "linked_operation")
        for name, flag in (("english", english), ("changed", changed)):
            if flag is not None:
                params[name] = "true" if bool_arg(flag, name) else "false"
        if id is not None:
            params["id"] = uuid_str(id, "id")
        if linked_knowledge_id is not None:
            params["linkedKnowledgeId"] = uuid_str(linked_knowledge_id, "linked_knowledge_id")
        if title is not None:
            params["title"] = non_empty_str(title, "title")
        if url is not None:
            params["originalUrl"] = non_empty_str(url, "url")
        for key, value in (extra_params or {}).items():
            params[non_empty_str(key, "extra_params")] = non_empty_str(value, "extra_params")
        wire_direction = _DIRECTIONS.get(direction) if isinstance(direction, str) else None
        if wire_direction is None:
            raise ValidationError(
                f"direction must be 'older' or 'newer' (or the API's inverted 'next'/'previous')"
                f"; got {direction!r}",
                field="direction",
            )
        start = None if cursor is None else uuid_str(cursor, "cursor")
        return SourceList(self, params, start, wire_direction, timeout)

    async def get(
        self,
        id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> SourceDocument:
        """One source record (poll it to watch ``linked_job_status``).

        :class:`NotFoundError` when the workspace has no such source;
        :class:`PermissionDeniedError` (403) without the read scope *or* when the source
        belongs to another workspace. The API answers 400 for an id that is not a UUID: that is
        refused here, as :class:`ValidationError`, before any request."""
        path = ONE_PATH.format(id=uuid_str(id, "id"))
        return await self._get(
            path,
            into=decode_document,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    # -- adding ----------------------------------------------------------------------------------

    async def add(
        self,
        ids: Iterable[str] = (),
        *,
        source: str = "web",
        refresh: Iterable[str] = (),
        english: bool | None = None,
        baser: bool | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AddedSources:
        """Queue the first ingestion of ``ids`` (and a re-ingestion of ``refresh``) for one
        ``source`` type: ``web`` (the default), ``googledrive``, ``notion``, ``zendesk`` or
        ``confluence``. The answer means *queued*, not done: wait with
        :meth:`wait_for_refresh` (or poll :meth:`get`); ``paragraphs`` fill after success.

        The documented first mistake is checked here: for ``web`` the values are absolute
        http(s) URLs, for the other types they are source ids (register provider items first
        with :meth:`import_`), and a URL is refused. :class:`ValidationError`, before any
        request, for that, for an unknown type and when both lists are empty. Ingestion
        queues work, so the call is retried only when the server surely did not process it
        (connect failure, 429, 503). 400 (:class:`BadRequestError`) when the server refuses
        the values; whether it then queued the others is not documented (the emulator
        refuses the batch whole), so treat a refused call as "maybe partly queued" and list
        the sources to see."""
        kind = one_of(source, INGEST_SOURCES, "source")
        body = IngestBody(source=kind)
        to_add = source_values(ids, kind, "ids")
        to_refresh = source_values(refresh, kind, "refresh")
        if not to_add and not to_refresh:
            raise ValidationError("give at least one source to add or refresh", field="ids")
        if to_add:
            body.document_ids_to_add = to_add
        if to_refresh:
            body.document_ids_to_refresh = to_refresh
        if english is not None:
            body.english = bool_arg(english, "english")
        if baser is not None:
            body.baser = bool_arg(baser, "baser")
        return await self._post(
            LIST_PATH,
            into=decode_added,
            body=body,
            idempotent=False,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def add_urls(
        self,
        urls: Iterable[str] | str,
        *,
        english: bool | None = None,
        baser: bool | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AddedSources:
        """Queue the ingestion of web pages (one URL or several): :meth:`add` with
        ``source="web"``. To ingest a whole site, expand it first with :meth:`crawl_links`."""
        return await self.add(
            [urls] if isinstance(urls, str) else urls,
            source="web",
            english=english,
            baser=baser,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def crawl_links(
        self,
        url: str | Iterable[str],
        *,
        limit: int = DEFAULT_CRAWL_LIMIT,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[str]:
        """The URLs found by crawling from ``url`` (one seed URL or several), at most ``limit``
        (default 250, the API's). It creates nothing: pass the URLs you keep to
        :meth:`add_urls`. Safe to repeat, so retried like a read.

        :class:`ValidationError`, before any request, for no seed, a seed that is not an
        absolute http(s) URL, or ``limit`` below 1."""
        seeds = [url] if isinstance(url, str) else url
        links = urls_arg(seeds, "url")
        if not links:
            raise ValidationError("give at least one URL to crawl from", field="url")
        body = CrawlBody(links=links, limit=int_in(limit, 1, None, "limit"))
        return await self._post(
            CRAWL_PATH,
            into=decode_crawled,
            body=body,
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    # -- refreshing and deleting -------------------------------------------------------------------

    async def refresh(
        self,
        ids: Iterable[str] | str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[str]:
        """Queue a re-fetch of existing sources (step 1 of the refresh workflow; then
        :meth:`wait_for_refresh`, then ``list(changed=True)``, then bulk generation) and return
        the ids queued (the API answers a top-level array).

        **All or nothing**: when any id is unknown (or a raw ``files`` source, which cannot be
        refreshed: delete and upload it again), the API answers 400
        (:class:`BadRequestError`) and queues none. 403 for ids of another workspace.
        :class:`ValidationError`, before any request, for an empty list or an id that is not
        a UUID (duplicates are sent once). A repeat only queues the same re-fetch again, so
        the call is retried like a read."""
        body = RefreshBody(document_ids=ids_arg(ids, "ids"))
        return await self._post(
            REFRESH_PATH,
            into=decode_refreshed,
            body=body,
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def delete(
        self,
        ids: Iterable[str] | str,
        *,
        delete_articles: bool = False,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> DeletedSources:
        """Delete source records and, with ``delete_articles=True``, the articles generated
        from them. Sent as a DELETE with a JSON body (``{documentIds, deleteArticles}``).

        **All or nothing**: when any id is unknown the API answers 400
        (:class:`BadRequestError`) and deletes none. 403 for ids of another workspace; 500
        when the deletion failed part way. :class:`ValidationError`, before any request, for
        an empty list or an id that is not a UUID. Not retried once the server may have
        processed it (a repeat would answer 400 for the ids already gone)."""
        body = DeleteBody(
            document_ids=ids_arg(ids, "ids"),
            delete_articles=bool_arg(delete_articles, "delete_articles"),
        )
        return await self._delete(
            LIST_PATH,
            into=decode_deleted,
            body=body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    # -- providers ---------------------------------------------------------------------------------

    async def discover(
        self,
        provider: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[ProviderResource]:
        """The importable items of a connected provider (``notion``, ``zendesk`` or
        ``confluence``; Google Drive has no discovery route). Items already imported
        successfully are left out: this is discovery, not an audit.

        400 (:class:`BadRequestError`) when the provider is not connected in the dashboard.
        :class:`ValidationError` for another provider, before any request."""
        name = one_of(provider, PROVIDERS, "provider")
        return await self._get(
            RESOURCES_PATH.format(provider=name),
            into=decode_resources,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def import_(
        self,
        provider: str,
        resources: Iterable[ProviderResource | Mapping[str, Any]],
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AddedSources:
        """Register picked provider items (from :meth:`discover`, or mappings with
        ``original_url``/``originalUrl``, ``title``, ``external_id``/``externalId``,
        ``mime_type``/``mimeType`` and optionally ``object``) as source records. This does
        **not** start ingestion: follow with ``add(result.ids, source=provider)``.

        Items that already existed are updated (``updated_document_ids``). Not retried once
        the server may have processed it. :class:`ValidationError`, before any request, for an
        unknown provider, no items, or an item missing a required field; 400 when the provider
        is not connected or refuses an item (whether the other items were registered is not
        documented; the emulator refuses the batch whole)."""
        name = one_of(provider, PROVIDERS, "provider")
        if isinstance(resources, (str, bytes, Mapping)) or not isinstance(resources, Iterable):
            raise ValidationError("resources must be a list of provider items", field="resources")
        items = [register_item(item, i) for i, item in enumerate(resources)]
        if not items:
            raise ValidationError("resources must not be empty", field="resources")
        return await self._post(
            RESOURCES_PATH.format(provider=name),
            into=decode_added,
            body=RegisterBody(resources=items),
            idempotent=False,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    # -- waiting -------------------------------------------------------------------------------

    async def wait_for_refresh(
        self,
        ids: Iterable[str] | str,
        *,
        timeout: float | None = 600,
        raise_on_failure: bool = True,
    ) -> builtins.list[SourceDocument]:
        """Wait until every source of ``ids`` has no job running and return the records, in
        the order of ``ids`` (duplicates once).

        It polls each source's ``linked_job_status`` on the client's shared poller (one
        polling task for every wait; each poll is one GET per pending source): ``PENDING`` and
        ``IN_PROGRESS`` wait, ``COMPLETED`` (or no job, with no ``error``) is done, ``FAILED``
        (or no job but an ``error``) raises :class:`JobFailedError` with the record as
        ``job`` unless ``raise_on_failure=False``. :class:`JobTimeoutError` after ``timeout``
        seconds (None: no limit), carrying the last records seen; :class:`NotFoundError` for
        an unknown id. :class:`ValidationError` for an empty list or a bad id."""
        wanted = ids_arg(ids, "ids")
        found: dict[str, SourceDocument] = {}
        iterator = self.poller.as_completed(
            wanted, timeout=timeout, raise_on_failure=raise_on_failure
        )
        async with iterator:
            async for doc in iterator:
                found[doc.id] = doc
        return [found[i] for i in wanted if i in found]

    def configure_polling(
        self,
        *,
        interval_initial: float | None = None,
        interval_max: float | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        """Tune :meth:`wait_for_refresh`'s poller: the first interval between polls (0.5 s),
        its cap after backing off (5 s) and how many sources are read at once (10).
        :class:`ValidationError` for values out of range."""
        self.poller.configure(
            interval_initial=interval_initial,
            interval_max=interval_max,
            max_concurrency=max_concurrency,
        )

    async def _fetch_for_poller(self, ids: builtins.list[str]) -> Mapping[str, SourceDocument]:
        # chunk_size is 1, but any chunk works; no transport retries: the poller owns them
        out: dict[str, SourceDocument] = {}

        async def one(source_id: str) -> None:
            out[source_id] = await self.get(source_id, max_retries=0)

        if len(ids) == 1:
            await one(ids[0])
        else:
            async with anyio.create_task_group() as tg:
                for source_id in ids:
                    tg.start_soon(one, source_id)
        return out

    async def aclose(self) -> None:
        """Stop the poller; waits still pending raise :class:`ClientStateError`."""
        await self.poller.aclose()
