"""``sharely.knowledge``: create (text, URL, link, file upload), get, list, delete (with children),
metadata and reserved fields, an item's roles, search, and waiting for background processing
(uploads and Temporal background jobs)."""

from __future__ import annotations

import builtins
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._multipart import FileInput, Upload, multipart_body
from .._poller import JobIterator, JobPoller
from .._validate import (
    http_url,
    int_in,
    non_empty_str,
    optional_str,
    path_segment,
    str_list,
    str_or_number_mapping,
    uuid_str,
)
from ..resources._base import Resource
from ._directory_models import RoleIdsBody, SearchBody
from ._envelopes import accepted, listing
from ._jobs import SharelyJobs
from ._models import (
    Accepted,
    BackgroundJob,
    CreateBody,
    CreatedKnowledge,
    DeletedKnowledge,
    Knowledge,
    KnowledgeList,
    KnowledgePage,
    MetadataBody,
    ReservedFieldsBody,
    Role,
    SearchResult,
    UpdatedMetadata,
    UploadedFile,
    UploadFileMetadata,
    created_decoder,
    decode_deleted,
    decode_knowledge,
    decode_page,
    decode_updated,
    uploaded_decoder,
)
from ._upload_types import ALLOWED_UPLOAD_TYPES, content_type_for

if TYPE_CHECKING:
    from .._transport import Transport
    from ._client import SharelyClient

__all__ = [
    "ALLOWED_UPLOAD_TYPES",
    "KNOWLEDGE_TYPES",
    "KnowledgeList",
    "KnowledgeResource",
    "content_type_for",
]

#: Knowledge types the create route accepts (``update_metadata`` also knows WEBSITE, ...).
KNOWLEDGE_TYPES = ("FILE", "URL", "LINK", "STRING")
UPDATE_TYPES = ("URL", "FILE", "LINK", "STRING", "WEBSITE", "ELASTICSEARCH_INDEX")
#: Types ``update_reserved_fields`` can change.
RESERVED_FIELD_TYPES = ("URL", "FILE", "LINK", "STRING")
#: The list and get routes call a text item ``TEXT``; the create and update routes ``STRING``.
LIST_TYPE_NAMES = {"STRING": "TEXT"}
WRITE_TYPE_NAMES = {"TEXT": "STRING"}
DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50
#: Metadata keys the metadata route refuses (they have their own route).
RESERVED_METADATA_KEYS = frozenset({"title", "language"})
MAX_LIST_LIMIT = 1000
DEFAULT_PAGE_SIZE = 100

_roles = listing(Role, "roles")
_results = listing(SearchResult, "results")


# -- the resource ----------------------------------------------------------------------------


class KnowledgeResource(Resource["SharelyClient"]):
    """Sharely knowledge items, uploads and background jobs."""

    __slots__ = ("_waits",)

    def __init__(self, client: SharelyClient, transport: Transport) -> None:
        super().__init__(client, transport)
        self._waits = SharelyJobs(client, transport, self._path)

    @property
    def poller(self) -> JobPoller[BackgroundJob]:
        """The poller behind :meth:`wait` and :meth:`as_completed` (read ``running``,
        ``pending``; tune it with ``configure(...)``)."""
        return self._waits.jobs

    def _ws(self) -> str:
        ws = self._client.workspace_id
        return urllib.parse.quote(ws, safe="")

    def _path(self, tail: str) -> str:
        return f"/v1/workspaces/{self._ws()}{tail}"

    # -- create ------------------------------------------------------------------------------

    async def _create(
        self,
        path: str,
        body: CreateBody,
        title: str | None,
        metadata: Mapping[str, str | int | float] | None,
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> CreatedKnowledge:
        if title is not None:
            body.title = non_empty_str(title, "title")
        if metadata is not None:
            body.metadata = str_or_number_mapping(metadata, "metadata")
        return await self._post(
            self._path(path),
            into=created_decoder,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def create_text(
        self,
        content: str,
        *,
        title: str | None = None,
        metadata: Mapping[str, str | int | float] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> CreatedKnowledge:
        """Create a STRING knowledge item from text (processed synchronously).

        Raises :class:`ValidationError` (nothing sent) for empty content or title, or metadata
        whose values are not strings or numbers; :class:`UnprocessableEntityError` (422) when
        Sharely cannot process it; the other :class:`APIStatusError` subclasses and
        :class:`APIConnectionError` as usual. A create is not retried once the server may have
        processed it (only on connect failures, 429 and 503)."""
        body = CreateBody(type="STRING", content=non_empty_str(content, "content"))
        return await self._create("/knowledge", body, title, metadata, timeout, extra_headers)

    async def create_url(
        self,
        url: str,
        *,
        title: str | None = None,
        metadata: Mapping[str, str | int | float] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> CreatedKnowledge:
        """Create a URL knowledge item: Sharely fetches and processes the page synchronously.

        ``url`` must be an absolute http(s) URL (ValidationError otherwise); a page Sharely
        cannot fetch or process raises :class:`UnprocessableEntityError`."""
        body = CreateBody(type="URL", url=http_url(url))
        return await self._create("/knowledge", body, title, metadata, timeout, extra_headers)

    async def create_link(
        self,
        url: str,
        *,
        title: str | None = None,
        metadata: Mapping[str, str | int | float] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> CreatedKnowledge:
        """Create a LINK knowledge item (a reference, not scraped) through the link route.

        Raises like :meth:`create_url`."""
        body = CreateBody(type="LINK", url=http_url(url))
        return await self._create("/knowledge/link", body, title, metadata, timeout, extra_headers)

    async def upload_file(
        self,
        file: FileInput,
        *,
        title: str | None = None,
        description: str | None = None,
        language: str | None = None,
        background: bool = False,
        filename: str | None = None,
        content_type: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> UploadedFile:
        """Upload a file (a path, bytes or a binary file object) as multipart/form-data.

        The file is streamed from disk in chunks, never read whole into memory. The content type
        comes from the file name (``filename`` overrides it; bytes need one) or ``content_type``,
        and must be on Sharely's allow-list (pdf, doc/docx, txt, md, xls/xlsx, csv, jpeg, png,
        gif, webp, mp4, mp3, wav, zip, json): anything else raises :class:`ValidationError`
        before sending, as does a path that is not a file. ``background=True`` asks Sharely to
        process it asynchronously: wait with :meth:`wait_for_upload`.

        An upload is a create: it is retried (re-opening the file, or rewinding the caller's file
        object) only when the server surely did not process it (connect failure, 429, 503).
        A caller's file object is left open; a non-seekable one that must be re-sent raises
        :class:`ClientStateError`."""
        title = optional_str(title, "title")
        description = optional_str(description, "description")
        language = optional_str(language, "language")
        if not isinstance(background, bool):
            raise ValidationError("background must be a bool", field="background")
        upload = Upload(file, optional_str(filename, "filename"), content_type, content_type_for)
        fields = [
            (name, value)
            for name, value in (
                ("title", title),
                ("description", description),
                ("language", language),
            )
            if value
        ]
        if background:
            fields.append(("status", "BACKGROUND_START"))
        if not upload.resendable and max_retries is None:
            max_retries = 0
        try:
            resp = await self._send(
                "POST",
                self._path("/knowledge/file"),
                content_factory=multipart_body(fields, upload),
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
                idempotent=False,
            )
        finally:
            upload.close_all()
        return uploaded_decoder.decode(resp.content, status=resp.status)

    # -- read --------------------------------------------------------------------------------

    async def get(
        self,
        knowledge_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Knowledge:
        """One knowledge item. Raises :class:`NotFoundError` for an unknown id and
        :class:`ValidationError` (nothing sent) for an empty one."""
        kid = path_segment(knowledge_id, "knowledge_id")
        return await self._get(
            self._path(f"/knowledge/{kid}"),
            into=decode_knowledge,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    def list(
        self,
        *,
        limit: int = DEFAULT_PAGE_SIZE,
        offset: int = 0,
        type: str | None = None,
        category_id: str | None = None,
        role_id: str | None = None,
        language: str | None = None,
        max_items: int | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> KnowledgeList:
        """List knowledge items, ``limit`` per page (1..1000), from ``offset``.

        Returns a :class:`KnowledgeList`: ``await`` it for the first page, ``async for`` over it
        for every item. Filters: ``type`` (FILE, LINK, TEXT, ...; this route calls text items
        ``TEXT`` where create calls them ``STRING``, so ``"STRING"`` is sent as ``TEXT``),
        ``category_id``, ``role_id`` (RBAC), ``language`` (``en``, ``es``, ...); ``max_items``
        caps the walk. Bad arguments raise
        :class:`ValidationError` here, before any request; a page that fails raises the usual
        :class:`APIStatusError` / :class:`APIConnectionError` where it is awaited (reads are
        retried on 429, 5xx and connection failures first)."""
        limit = int_in(limit, 1, MAX_LIST_LIMIT, "limit")
        offset = int_in(offset, 0, None, "offset")
        if max_items is not None:
            max_items = int_in(max_items, 1, None, "max_items")
        params: dict[str, str] = {}
        for name, value, field in (
            ("type", type, "type"),
            ("categoryId", category_id, "category_id"),
            ("roleId", role_id, "role_id"),
            ("language", language, "language"),
        ):
            if value is not None:
                params[name] = non_empty_str(value, field).strip()
        if "type" in params:
            kind = params["type"].upper()
            params["type"] = LIST_TYPE_NAMES.get(kind, kind)
        transport = self._transport
        path_of = self._path

        async def fetch(page_offset: int, page_limit: int) -> KnowledgePage:
            query = {**params, "limit": str(page_limit), "offset": str(page_offset)}
            resp = await transport.request(
                "GET",
                path_of("/knowledge"),
                content_type=None,
                params=query,
                timeout=timeout,
                extra_headers=extra_headers,
            )
            return decode_page(resp.content, resp.status, page_offset, page_limit)

        return KnowledgeList(fetch, offset=offset, page_size=limit, max_items=max_items)

    async def get_upload_metadata(
        self,
        upload_file_metadata_id: str | UploadedFile,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> UploadFileMetadata:
        """The knowledge an upload produced; ``done`` is False while it is being processed.
        Raises :class:`NotFoundError` for an unknown id."""
        mid = _metadata_id(upload_file_metadata_id)
        return await self._waits.upload_status(mid, timeout=timeout, extra_headers=extra_headers)

    # -- change ------------------------------------------------------------------------------

    async def delete(
        self,
        knowledge_id: str,
        *,
        children: bool = False,
        cascade: bool | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> DeletedKnowledge:
        """Delete a knowledge item; ``children=True`` also deletes its children (a crawled
        website's pages, a Drive folder's files, a store's products) through the
        ``/children`` route. ``cascade=`` is the older name of ``children=``.

        A cascade runs in the background: the result's ``workflow_id`` (also ``job_id``) is the
        workflow to :meth:`wait` on. Deleting an item that has children without ``children``
        is refused by the server (:class:`ConflictError` or :class:`BadRequestError`); an
        unknown id raises :class:`NotFoundError`. Passing ``children`` and ``cascade`` with
        different values raises :class:`ValidationError`."""
        kid = path_segment(knowledge_id, "knowledge_id")
        for flag, field in ((children, "children"), (cascade, "cascade")):
            if flag is not None and not isinstance(flag, bool):
                raise ValidationError(f"{field} must be a bool", field=field)
        if cascade is not None and children and not cascade:
            raise ValidationError(
                "children=True and cascade=False disagree: pass one of them", field="cascade"
            )
        with_children = children or bool(cascade)
        tail = f"/knowledge/{kid}/children" if with_children else f"/knowledge/{kid}"
        return await self._delete(
            self._path(tail),
            into=lambda content, status: decode_deleted(content, status, knowledge_id),
            idempotent=True,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def update_metadata(
        self,
        knowledge_id: str,
        metadata: Mapping[str, str | int | float] | None = None,
        *,
        type: str | None = None,
        remove_keys: Sequence[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> UpdatedMetadata:
        """Add or change custom metadata (values must be strings or numbers) and remove keys.

        The route needs the item's ``type``; when it is not given, the item is fetched first to
        learn it. Raises :class:`ValidationError` before sending for values that are not strings
        or numbers (booleans, nulls, lists, objects), for the reserved keys ``title`` and
        ``language``, or when there is nothing to change."""
        kid = path_segment(knowledge_id, "knowledge_id")
        values = str_or_number_mapping(metadata if metadata is not None else {}, "metadata")
        reserved = sorted(RESERVED_METADATA_KEYS.intersection(values))
        if reserved:
            raise ValidationError(
                f"metadata cannot set the reserved field(s) {', '.join(reserved)}",
                field="metadata",
            )
        removed = str_list(remove_keys, "remove_keys") if remove_keys is not None else None
        if not values and not removed:
            raise ValidationError(
                "nothing to update: pass metadata or remove_keys", field="metadata"
            )
        kind = await self._write_type(knowledge_id, type, timeout)
        body = MetadataBody(type=kind, metadata=values)
        if removed:
            body.remove_metadata_keys = removed
        return await self._put(
            self._path(f"/knowledge/{kid}/metadata"),
            into=lambda content, status: decode_updated(content, status, knowledge_id),
            body=body,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def _write_type(self, knowledge_id: str, type: str | None, timeout: TimeoutTypes) -> str:
        """The item's type as the update routes name it (``TEXT`` read back becomes
        ``STRING``), read from the item when the caller did not say."""
        kind = non_empty_str(type, "type").strip().upper() if type is not None else None
        if kind is None:
            kind = ((await self.get(knowledge_id, timeout=timeout)).type or "").upper()
            if not kind:
                raise ValidationError("the item's type is unknown: pass type=...", field="type")
        return WRITE_TYPE_NAMES.get(kind, kind)

    async def update_reserved_fields(
        self,
        knowledge_id: str,
        *,
        title: str,
        language: str | None = None,
        type: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> UpdatedMetadata:
        """Change an item's reserved fields: ``title`` (required, non-empty) and ``language``
        (``en``, ``es``, ...), which :meth:`update_metadata` may not set.

        Only URL, FILE, LINK and STRING items can be changed (:class:`ValidationError` for
        another ``type``, before sending). Like :meth:`update_metadata`, the route needs the
        item's type: when ``type`` is not given, the item is read first to learn it. An unknown
        id raises :class:`NotFoundError`; a ``type`` that is not the item's
        :class:`BadRequestError`. Safe to repeat."""
        kid = path_segment(knowledge_id, "knowledge_id")
        body = ReservedFieldsBody(type="", title=non_empty_str(title, "title").strip())
        language = optional_str(language, "language")
        if language is not None:
            body.language = non_empty_str(language, "language").strip()
        kind = await self._write_type(knowledge_id, type, timeout)
        if kind not in RESERVED_FIELD_TYPES:
            raise ValidationError(
                f"reserved fields can be changed on {', '.join(RESERVED_FIELD_TYPES)} items "
                f"only, not {kind}",
                field="type",
            )
        body.type = kind
        return await self._put(
            self._path(f"/knowledge/{kid}/reservedField"),
            into=lambda content, status: decode_updated(content, status, knowledge_id),
            body=body,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    # -- roles (RBAC) ------------------------------------------------------------------------

    async def list_roles(
        self,
        knowledge_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Role]:
        """The roles an item is assigned to (a top-level array on the wire).
        :class:`NotFoundError` for an unknown id."""
        kid = path_segment(knowledge_id, "knowledge_id")
        return await self._get(
            self._path(f"/knowledge/{kid}/role"),
            into=_roles,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def assign_roles(
        self,
        knowledge_id: str,
        role_ids: Iterable[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Accepted:
        """Assign an item to roles (at least one id). The assignment runs in the background:
        wait on ``job_id`` (when the answer names one) before relying on it. Needs RBAC on
        (``sharely.workspace.set_rbac_status(True)``) and the roles created; otherwise
        :class:`BadRequestError`; an unknown item or role raises :class:`NotFoundError`.
        Assigning twice leaves the same roles, so it is retried like a read."""
        return await self._roles_change("POST", knowledge_id, role_ids, timeout, extra_headers)

    async def unassign_roles(
        self,
        knowledge_id: str,
        role_ids: Iterable[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Accepted:
        """Remove an item from roles (a DELETE with a JSON body); errors and background job as
        :meth:`assign_roles`."""
        return await self._roles_change("DELETE", knowledge_id, role_ids, timeout, extra_headers)

    async def _roles_change(
        self,
        method: str,
        knowledge_id: str,
        role_ids: Iterable[str],
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> Accepted:
        kid = path_segment(knowledge_id, "knowledge_id")
        body = RoleIdsBody(role_ids=str_list(role_ids, "role_ids", allow_empty=False))
        verb = self._post if method == "POST" else self._delete
        return await verb(
            self._path(f"/knowledge/{kid}/role"),
            into=accepted,
            body=body,
            idempotent=True,  # a set of roles: a repeat changes nothing more
            timeout=timeout,
            extra_headers=extra_headers,
        )

    # -- search ------------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        limit: int = DEFAULT_SEARCH_LIMIT,
        audience_id: str | None = None,
        role_ids: Iterable[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[SearchResult]:
        """Semantic search: the ``limit`` (1..50) items most relevant to ``query``, best first,
        optionally only those visible to ``audience_id`` (a UUID) or to ``role_ids``.

        Bad arguments raise :class:`ValidationError` before sending. The route has no ``/v1``
        and wants the access token *and* the API key (``x-api-key``): both are sent. A search
        changes nothing, so it is retried like a read."""
        body = SearchBody(query=non_empty_str(query, "query"))
        return await self._search(
            "/knowledge/search", body, limit, audience_id, role_ids, timeout, extra_headers
        )

    async def search_title(
        self,
        title: str,
        *,
        limit: int = DEFAULT_SEARCH_LIMIT,
        audience_id: str | None = None,
        role_ids: Iterable[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[SearchResult]:
        """Items whose title contains ``title`` (a partial match); otherwise as :meth:`search`."""
        body = SearchBody(title=non_empty_str(title, "title"))
        return await self._search(
            "/knowledge/search-title", body, limit, audience_id, role_ids, timeout, extra_headers
        )

    async def _search(
        self,
        tail: str,
        body: SearchBody,
        limit: int,
        audience_id: str | None,
        role_ids: Iterable[str] | None,
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> builtins.list[SearchResult]:
        body.limit = int_in(limit, 1, MAX_SEARCH_LIMIT, "limit")
        if audience_id is not None:
            body.audience_id = uuid_str(audience_id, "audience_id")
        if role_ids is not None:
            body.role_ids = str_list(role_ids, "role_ids")
        # this route checks the API key besides the token (the key never reaches a log line)
        headers = {"x-api-key": self._client._auth.api_key(), **(extra_headers or {})}
        return await self._post(
            f"/workspaces/{self._ws()}{tail}",
            into=_results,
            body=body,
            idempotent=True,
            timeout=timeout,
            extra_headers=headers,
        )

    # -- waiting -----------------------------------------------------------------------------

    async def wait_for_upload(
        self,
        upload_file_metadata_id: str | UploadedFile,
        *,
        timeout: float | None = 600,
        interval: float = 0.25,
        max_interval: float = 5.0,
    ) -> UploadFileMetadata:
        """Poll the upload's metadata until its knowledge item exists, and return it.

        Polls every ``interval`` seconds, growing to ``max_interval`` (the client's concurrent
        upload waits share one polling task and the latest schedule). Transient failures (429,
        5xx, connection errors) keep it polling. Raises :class:`JobTimeoutError` (``job`` = the
        last metadata seen) after ``timeout`` seconds, :class:`NotFoundError` for an unknown id.
        Cancelling it leaves nothing running."""
        mid = _metadata_id(upload_file_metadata_id)
        path_segment(mid, "upload_file_metadata_id")
        return await self._waits.wait_for_upload(
            mid, timeout=timeout, interval=interval, max_interval=max_interval
        )

    async def jobs(
        self,
        job_ids: Iterable[str] | None = None,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[BackgroundJob]:
        """The status of background jobs (Temporal workflows) by id, or of every job recorded
        for the workspace when ``job_ids`` is None. Ids the server does not know are simply
        absent from the answer. Both documented response shapes are understood. An empty
        ``job_ids`` raises :class:`ValidationError`; HTTP failures raise the usual
        :class:`APIStatusError` / :class:`APIConnectionError`."""
        ids = None if job_ids is None else str_list(job_ids, "job_ids", allow_empty=False)
        return await self._waits.list_jobs(ids, timeout=timeout, extra_headers=extra_headers)

    async def wait(
        self,
        job_id: str,
        *,
        timeout: float | None = 600,
        raise_on_failure: bool = True,
    ) -> BackgroundJob:
        """Wait until a background job (a Temporal workflow) finishes and return its last status.

        Concurrent waits share one polling loop that asks for all pending jobs together.
        COMPLETED returns; FAILED, CANCELED/CANCELLED, TERMINATED and TIMED_OUT raise
        :class:`JobFailedError` (unless ``raise_on_failure=False``); RUNNING and
        CONTINUED_AS_NEW keep waiting. Raises :class:`JobTimeoutError` (``job`` = last status
        seen) after ``timeout`` seconds and :class:`NotFoundError` when the server does not know
        the id. Cancelling a wait stops only that wait."""
        jid = non_empty_str(job_id, "job_id")
        return await self._waits.wait(jid, timeout=timeout, raise_on_failure=raise_on_failure)

    wait_for_job = wait

    def as_completed(
        self,
        job_ids: Iterable[str],
        *,
        timeout: float | None = 600,
        raise_on_failure: bool = False,
    ) -> JobIterator[BackgroundJob]:
        """Yield each job's final status as it finishes (same polling and errors as
        :meth:`wait`); failed jobs are yielded unless ``raise_on_failure``. ``timeout`` bounds
        the whole iteration. Use ``async with`` (or ``aclose()``) to stop waiting early."""
        ids = str_list(job_ids, "job_ids", allow_empty=False)
        return self._waits.as_completed(ids, timeout=timeout, raise_on_failure=raise_on_failure)

    def add_progress_callback(
        self, callback: Callable[[str, BackgroundJob], None]
    ) -> Callable[[], None]:
        """Call ``callback(job_id, job)`` on every status polled; returns a remover."""
        return self._waits.jobs.add_progress_callback(callback)

    async def aclose(self) -> None:
        """Stop waiting: waits still pending raise :class:`ClientStateError`."""
        await self._waits.aclose()

    _aclose = aclose  # the name SharelyClient.aclose calls


def _metadata_id(value: str | UploadedFile) -> str:
    if isinstance(value, UploadedFile):
        return value.metadata_id
    return non_empty_str(value, "upload_file_metadata_id")
