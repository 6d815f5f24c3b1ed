"""``sharely.knowledge``: create (text, URL, link, file upload), get, list, delete (with children),
metadata and reserved fields, an item's roles, search, and waiting for background processing
(uploads and Temporal background jobs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._multipart import FileInput, Upload, multipart_body
from .._validate import (
    http_url,
    int_in,
    non_empty_str,
    optional_str,
    path_segment,
    str_list,
    str_or_number_mapping,
)
from ._knowledge_waits import KnowledgeWaits, metadata_id
from ._models import (
    CreateBody,
    CreatedKnowledge,
    DeletedKnowledge,
    Knowledge,
    KnowledgeList,
    KnowledgePage,
    MetadataBody,
    ReservedFieldsBody,
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
    pass

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
#: Metadata keys the metadata route refuses (they have their own route).
RESERVED_METADATA_KEYS = frozenset({"title", "language"})
MAX_LIST_LIMIT = 1000
DEFAULT_PAGE_SIZE = 100


# -- the resource ----------------------------------------------------------------------------


class KnowledgeResource(KnowledgeWaits):
    """Sharely knowledge items, uploads and background jobs."""

    __slots__ = ()

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
        mid = metadata_id(upload_file_metadata_id)
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
