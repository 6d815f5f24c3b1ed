"""``sharely.knowledge``: create (text, URL, link, file upload), get, list, delete, metadata, and
waiting for background processing (uploads and Temporal background jobs)."""

from __future__ import annotations

import builtins
import contextlib
import io
import math
import os
import urllib.parse
import uuid
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Union

import aiohttp
import anyio
import msgspec
from aiohttp import payload as aiohttp_payload
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import (
    APIConnectionError,
    ClientStateError,
    InternalServerError,
    JobTimeoutError,
    NotFoundError,
    RateLimitError,
    ValidationError,
)
from .._models import Lenient, encode, parse_json
from .._validate import non_empty_str, optional_str, str_list
from ..resources._base import Resource
from ._models import (
    BackgroundJob,
    CreatedKnowledge,
    DeletedKnowledge,
    Knowledge,
    KnowledgePage,
    UpdatedMetadata,
    UploadedFile,
    UploadFileMetadata,
    classify_job_status,
    decode_jobs,
)

if TYPE_CHECKING:
    from .._poller import JobIterator, JobPoller

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
#: Metadata keys the metadata route refuses (they have their own route).
RESERVED_METADATA_KEYS = frozenset({"title", "language"})
MAX_LIST_LIMIT = 1000
DEFAULT_PAGE_SIZE = 100

#: The documented upload allow-list: file extension -> content type.
ALLOWED_UPLOAD_TYPES: dict[str, str] = {
    ".pdf": "application/pdf",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".zip": "application/zip",
    ".json": "application/json",
}
_ALLOWED_MIME = frozenset(ALLOWED_UPLOAD_TYPES.values()) | {
    "application/x-zip-compressed",
    "audio/x-wav",
    "audio/wave",
}

FileInput = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes]]


# -- request bodies --------------------------------------------------------------------------


class _CreateBody(msgspec.Struct, omit_defaults=True):
    type: str
    content: str | UnsetType = UNSET
    url: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    metadata: dict[str, str | int | float] | UnsetType = UNSET


class _MetadataBody(msgspec.Struct, omit_defaults=True):
    type: str
    metadata: dict[str, str | int | float]
    removeMetadataKeys: list[str] | UnsetType = UNSET


class _JobsBody(msgspec.Struct, omit_defaults=True):
    jobIds: list[str] | UnsetType = UNSET


_created = Lenient(CreatedKnowledge)
_uploaded = Lenient(UploadedFile)
_knowledge = Lenient(Knowledge)
_knowledge_list = Lenient(list[Knowledge])
_upload_meta = Lenient(UploadFileMetadata)
_deleted = Lenient(DeletedKnowledge)
_updated = Lenient(UpdatedMetadata)


# -- argument checks -------------------------------------------------------------------------


def _path_id(value: Any, field: str) -> str:
    if isinstance(value, uuid.UUID):
        value = str(value)
    return urllib.parse.quote(non_empty_str(value, field).strip(), safe="")


def _scalar_metadata(value: Any, field: str) -> dict[str, str | int | float]:
    """Metadata values must be strings or numbers (no booleans, nulls, lists or objects)."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be a mapping, got {type(value).__name__}", field=field)
    out: dict[str, str | int | float] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValidationError(
                f"{field} keys must be non-empty strings, got {key!r}", field=field
            )
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValidationError(
                f"{field}[{key!r}] must be a string or a number, got {type(item).__name__}",
                field=field,
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise ValidationError(f"{field}[{key!r}] must be a finite number", field=field)
        out[key] = item
    return out


def _http_url(value: Any, field: str = "url") -> str:
    text = non_empty_str(value, field).strip()
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError(f"{field} must be an absolute http(s) URL, got {text!r}", field=field)
    return text


def _timeout_arg(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValidationError(
            f"timeout must be a positive number of seconds or None, got {value!r}", field="timeout"
        )
    return float(value)


def content_type_for(filename: str, content_type: str | None = None) -> str:
    """The upload's content type: ``content_type`` if given, else from the file name's extension;
    either must be on Sharely's documented allow-list (ValidationError otherwise)."""
    if content_type is not None:
        base = non_empty_str(content_type, "content_type").split(";")[0].strip().lower()
        if base not in _ALLOWED_MIME:
            raise ValidationError(
                f"content_type {content_type!r} is not accepted by Sharely; allowed: "
                f"{', '.join(sorted(_ALLOWED_MIME))}",
                field="content_type",
            )
        return base
    ext = os.path.splitext(filename)[1].lower()
    mime = ALLOWED_UPLOAD_TYPES.get(ext)
    if mime is None:
        raise ValidationError(
            f"cannot upload {filename!r}: Sharely accepts "
            f"{', '.join(sorted(ALLOWED_UPLOAD_TYPES))} files",
            field="file",
        )
    return mime


class _Borrowed(io.RawIOBase):
    """A caller's file object, read by aiohttp without being closed by it."""

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._raw.read(-1 if size is None else size)
        return bytes(data) if data is not None else b""

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seekable(self) -> bool:
        return bool(getattr(self._raw, "seekable", lambda: False)())

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()

    def fileno(self) -> int:
        return self._raw.fileno()

    def close(self) -> None:  # the caller owns the file
        pass


class _Upload:
    """Where an upload's bytes come from; ``payload()`` makes a fresh body for each attempt (a
    path is opened again, a caller's file rewound), so retries resend the whole file."""

    def __init__(self, file: Any, filename: str | None, content_type: str | None) -> None:
        self.path: Path | None = None
        self.data: bytes | memoryview | None = None
        self.stream: IO[bytes] | None = None
        self.start = 0
        self.seekable = True
        self.opened: list[IO[bytes]] = []
        self.sent = 0
        if isinstance(file, (str, os.PathLike)):
            path = Path(os.fspath(file))
            if not path.is_file():
                raise ValidationError(f"no such file: {str(path)!r}", field="file")
            self.path = path
            name = filename or path.name
        elif isinstance(file, (bytes, bytearray, memoryview)):
            if filename is None:
                raise ValidationError(
                    "uploading bytes needs filename=... (its extension sets the content type)",
                    field="filename",
                )
            self.data = bytes(file) if isinstance(file, bytearray) else file
            name = filename
        elif hasattr(file, "read"):
            if isinstance(file, io.TextIOBase):
                raise ValidationError("open the file in binary mode ('rb')", field="file")
            self.stream = file
            raw_name = getattr(file, "name", None)
            name = filename or (os.path.basename(raw_name) if isinstance(raw_name, str) else "")
            if not name:
                raise ValidationError(
                    "this file object has no name: pass filename=...", field="filename"
                )
            try:
                self.seekable = bool(file.seekable()) if hasattr(file, "seekable") else False
                self.start = file.tell() if self.seekable else 0
            except (OSError, ValueError):
                self.seekable = False
        else:
            raise ValidationError(
                f"file must be a path, bytes or a binary file object, got {type(file).__name__}",
                field="file",
            )
        self.filename = os.path.basename(name) or name
        self.content_type = content_type_for(self.filename, content_type)
        self.wire_filename = (
            self.filename.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
        )

    def payload(self) -> aiohttp_payload.Payload:
        if self.path is not None:
            fh = open(self.path, "rb")  # noqa: SIM115 (closed by aiohttp or by close_all)
            self.opened.append(fh)
            return aiohttp_payload.BufferedReaderPayload(fh, content_type=self.content_type)
        if self.data is not None:
            # Through BytesIO (which shares the buffer of immutable bytes): written in chunks,
            # so the socket layer never buffers a second copy of a large body.
            return aiohttp_payload.BytesIOPayload(
                io.BytesIO(self.data), content_type=self.content_type
            )
        assert self.stream is not None
        if self.sent:
            if not self.seekable:
                raise ClientStateError(
                    "the upload must be sent again but its file object cannot be rewound; "
                    "pass a path or a seekable file"
                )
            self.stream.seek(self.start)
        self.sent += 1
        borrowed: IO[bytes] = _Borrowed(self.stream)  # type: ignore[assignment]
        return aiohttp_payload.IOBasePayload(borrowed, content_type=self.content_type)

    def close_all(self) -> None:
        for fh in self.opened:
            with contextlib.suppress(OSError):
                fh.close()
        self.opened.clear()


# -- pagination ------------------------------------------------------------------------------


class KnowledgeList:
    """``client.knowledge.list(...)``: an offset paginator.

    - ``await client.knowledge.list(limit=50)`` returns the first :class:`KnowledgePage`;
    - ``async for item in client.knowledge.list()`` yields every item, page after page;
    - ``async for page in client.knowledge.list().pages()`` yields the pages;
    - ``await client.knowledge.list().to_list()`` collects every item.

    A page is fetched only when needed; the walk ends at ``total`` (or at a short page when the
    server sends no total) and after ``max_items`` items if given."""

    def __init__(
        self,
        fetch: Callable[[int, int], Any],
        *,
        offset: int,
        page_size: int,
        max_items: int | None,
    ) -> None:
        self._fetch = fetch
        self.offset = offset
        self.page_size = page_size
        self.max_items = max_items

    def __repr__(self) -> str:
        return f"<KnowledgeList offset={self.offset} page_size={self.page_size}>"

    def __await__(self) -> Generator[Any, None, KnowledgePage]:
        return self._fetch(self.offset, self._first_limit()).__await__()  # type: ignore[no-any-return]

    def _first_limit(self) -> int:
        if self.max_items is not None:
            return max(1, min(self.page_size, self.max_items))
        return self.page_size

    async def pages(self) -> AsyncIterator[KnowledgePage]:
        offset = self.offset
        seen = 0
        while True:
            limit = self.page_size
            if self.max_items is not None:
                limit = min(limit, self.max_items - seen)
                if limit <= 0:
                    return
            page: KnowledgePage = await self._fetch(offset, limit)
            if self.max_items is not None and len(page.items) > self.max_items - seen:
                page.items = page.items[: self.max_items - seen]
            seen += len(page.items)
            yield page
            if not page.items or not page.has_more:
                return
            offset = page.next_offset

    async def __aiter__(self) -> AsyncIterator[Knowledge]:
        async for page in self.pages():
            for item in page.items:
                yield item

    async def to_list(self) -> list[Knowledge]:
        return [item async for item in self]


# -- the resource ----------------------------------------------------------------------------


class KnowledgeResource(Resource):
    """Sharely knowledge items, uploads and background jobs."""

    __slots__ = ("_poller",)

    def __init__(self, client: Any, transport: Any) -> None:
        super().__init__(client, transport)
        self._poller: JobPoller[BackgroundJob] | None = None

    def _ws(self) -> str:
        ws: str = getattr(self._client, "workspace_id")  # noqa: B009
        return urllib.parse.quote(ws, safe="")

    def _path(self, tail: str) -> str:
        return f"/v1/workspaces/{self._ws()}{tail}"

    # -- create ------------------------------------------------------------------------------

    async def _create(
        self,
        path: str,
        body: _CreateBody,
        title: str | None,
        metadata: Mapping[str, str | int | float] | None,
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> CreatedKnowledge:
        if title is not None:
            body.title = non_empty_str(title, "title")
        if metadata is not None:
            body.metadata = _scalar_metadata(metadata, "metadata")
        resp = await self._transport.request(
            "POST",
            self._path(path),
            content=encode(body),
            timeout=timeout,
            extra_headers=extra_headers,
            idempotent=False,
        )
        return _created.decode(resp.content, status=resp.status)

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
        body = _CreateBody(type="STRING", content=non_empty_str(content, "content"))
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
        body = _CreateBody(type="URL", url=_http_url(url))
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
        body = _CreateBody(type="LINK", url=_http_url(url))
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
        upload = _Upload(file, optional_str(filename, "filename"), content_type)
        fields: list[tuple[str, str]] = []
        if title:
            fields.append(("title", title))
        if description:
            fields.append(("description", description))
        if language:
            fields.append(("language", language))
        if background:
            fields.append(("status", "BACKGROUND_START"))

        def body() -> aiohttp.MultipartWriter:
            writer = aiohttp.MultipartWriter("form-data")
            for name, value in fields:
                part = writer.append(value)
                part.set_content_disposition("form-data", name=name)
            part = upload.payload()
            # RFC 7578 / HTML: the name goes as UTF-8, only '"', CR and LF percent-encoded
            # (aiohttp's default would percent-encode every non-token character).
            part.set_content_disposition(
                "form-data", quote_fields=False, name="file", filename=upload.wire_filename
            )
            writer.append_payload(part)
            return writer

        if upload.stream is not None and not upload.seekable and max_retries is None:
            max_retries = 0
        try:
            resp = await self._transport.request(
                "POST",
                self._path("/knowledge/file"),
                content_type=None,
                content_factory=body,
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
                idempotent=False,
            )
        finally:
            upload.close_all()
        return _uploaded.decode(resp.content, status=resp.status)

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
        kid = _path_id(knowledge_id, "knowledge_id")
        resp = await self._transport.request(
            "GET",
            self._path(f"/knowledge/{kid}"),
            content_type=None,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        raw = _decode_any(resp.content, resp.status)
        if isinstance(raw, Mapping) and "id" not in raw:
            for key in ("knowledge", "data", "item"):
                inner = raw.get(key)
                if isinstance(inner, Mapping):
                    raw = inner
                    break
        return _knowledge.convert(raw, data=resp.content, status=resp.status)

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
        for every item. Filters: ``type`` (FILE, URL, LINK, STRING, ...), ``category_id``,
        ``role_id``, ``language``; ``max_items`` caps the walk. Bad arguments raise
        :class:`ValidationError` here, before any request; a page that fails raises the usual
        :class:`APIStatusError` / :class:`APIConnectionError` where it is awaited (reads are
        retried on 429, 5xx and connection failures first)."""
        if (
            isinstance(limit, bool)
            or not isinstance(limit, int)
            or not 1 <= limit <= MAX_LIST_LIMIT
        ):
            raise ValidationError(
                f"limit must be an integer between 1 and {MAX_LIST_LIMIT}, got {limit!r}",
                field="limit",
            )
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValidationError(f"offset must be an integer >= 0, got {offset!r}", field="offset")
        if max_items is not None and (
            isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 1
        ):
            raise ValidationError(
                f"max_items must be a positive integer, got {max_items!r}", field="max_items"
            )
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
            params["type"] = params["type"].upper()
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
            return _decode_page(resp.content, resp.status, page_offset, page_limit)

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
        mid = _path_id(_metadata_id(upload_file_metadata_id), "upload_file_metadata_id")
        resp = await self._transport.request(
            "GET",
            self._path(f"/upload-file-metadata/{mid}"),
            content_type=None,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return _upload_meta.decode(resp.content, status=resp.status)

    # -- change ------------------------------------------------------------------------------

    async def delete(
        self,
        knowledge_id: str,
        *,
        cascade: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> DeletedKnowledge:
        """Delete a knowledge item; ``cascade=True`` also deletes its children (a crawled
        website's pages, a folder's files) through the ``/children`` route.

        A cascade may run in the background: the result's ``job_id`` is then the job to
        :meth:`wait` on. Deleting an item that has children without ``cascade`` is refused by the
        server (:class:`ConflictError` or :class:`BadRequestError`); an unknown id raises
        :class:`NotFoundError`."""
        kid = _path_id(knowledge_id, "knowledge_id")
        if not isinstance(cascade, bool):
            raise ValidationError("cascade must be a bool", field="cascade")
        tail = f"/knowledge/{kid}/children" if cascade else f"/knowledge/{kid}"
        resp = await self._transport.request(
            "DELETE",
            self._path(tail),
            content_type=None,
            timeout=timeout,
            extra_headers=extra_headers,
        )
        if not resp.content.strip():
            return DeletedKnowledge(success=True, knowledge_id=knowledge_id)
        raw = _decode_any(resp.content, resp.status)
        if raw is True or raw is False:
            return DeletedKnowledge(success=raw, knowledge_id=knowledge_id)
        result = _deleted.convert(raw, data=resp.content, status=resp.status)
        if result.knowledge_id is None:
            result.knowledge_id = knowledge_id
        return result

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
        kid = _path_id(knowledge_id, "knowledge_id")
        values = _scalar_metadata(metadata if metadata is not None else {}, "metadata")
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
        kind = non_empty_str(type, "type").strip().upper() if type is not None else None
        if kind is None:
            kind = (await self.get(knowledge_id, timeout=timeout)).type
            if not kind:
                raise ValidationError("the item's type is unknown: pass type=...", field="type")
        body = _MetadataBody(type=kind, metadata=values)
        if removed:
            body.removeMetadataKeys = removed
        resp = await self._transport.request(
            "PUT",
            self._path(f"/knowledge/{kid}/metadata"),
            content=encode(body),
            timeout=timeout,
            extra_headers=extra_headers,
        )
        if not resp.content.strip():
            return UpdatedMetadata(knowledge_id=knowledge_id)
        result = _updated.decode(resp.content, status=resp.status)
        if result.knowledge_id is None:
            result.knowledge_id = knowledge_id
        return result

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

        Polls every ``interval`` seconds, growing to ``max_interval``. Transient failures (429,
        5xx, connection errors) keep it polling. Raises :class:`JobTimeoutError` (``job`` = the
        last metadata seen) after ``timeout`` seconds, :class:`NotFoundError` for an unknown id.
        Cancelling it leaves nothing running."""
        mid = _metadata_id(upload_file_metadata_id)
        _path_id(mid, "upload_file_metadata_id")
        limit = _timeout_arg(timeout)
        for value, field in ((interval, "interval"), (max_interval, "max_interval")):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValidationError(f"{field} must be a positive number", field=field)
        last: UploadFileMetadata | None = None
        delay = float(interval)
        try:
            with anyio.fail_after(limit):
                while True:
                    try:
                        last = await self.get_upload_metadata(mid)
                    except (RateLimitError, InternalServerError, APIConnectionError):
                        pass  # transient: keep polling until the timeout
                    else:
                        if last.done:
                            return last
                    await anyio.sleep(delay)
                    delay = min(delay * 1.5, float(max_interval))
        except TimeoutError:
            raise JobTimeoutError(
                f"upload {mid} was not processed within {limit}s", job=last
            ) from None

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
        body = _JobsBody()
        if job_ids is not None:
            body.jobIds = str_list(job_ids, "job_ids", allow_empty=False)
        resp = await self._transport.request(
            "POST",
            self._path("/background-jobs"),
            content=encode(body),
            timeout=timeout,
            extra_headers=extra_headers,
        )
        return decode_jobs(resp.content, status=resp.status)

    async def _fetch_jobs(self, ids: builtins.list[str]) -> dict[str, BackgroundJob]:
        found = {job.id: job for job in await self.jobs(ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(
                f"unknown background job(s): {', '.join(missing[:5])}"
                + (" ..." if len(missing) > 5 else ""),
                status_code=404,
                method="POST",
                url=self._path("/background-jobs"),
            )
        return found

    def _job_poller(self) -> JobPoller[BackgroundJob]:
        poller = self._poller
        if poller is None:
            from .._poller import JobPoller

            poller = self._poller = JobPoller(
                self._fetch_jobs,
                state_of=_status_of,
                classify=classify_job_status,
                name="sharely background jobs",
            )
        return poller

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
        _timeout_arg(timeout)
        return await self._job_poller().wait(
            jid, timeout=timeout, raise_on_failure=raise_on_failure
        )

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
        _timeout_arg(timeout)
        return self._job_poller().as_completed(
            ids, timeout=timeout, raise_on_failure=raise_on_failure
        )

    def add_progress_callback(
        self, callback: Callable[[str, BackgroundJob], None]
    ) -> Callable[[], None]:
        """Call ``callback(job_id, job)`` on every status polled; returns a remover."""
        return self._job_poller().add_progress_callback(callback)

    async def _aclose(self) -> None:
        poller = self._poller
        closer = getattr(poller, "aclose", None)
        if closer is not None:
            await closer()


def _status_of(job: BackgroundJob) -> str:
    return job.status


def _metadata_id(value: str | UploadedFile) -> str:
    if isinstance(value, UploadedFile):
        return value.metadata_id
    return non_empty_str(value, "upload_file_metadata_id")


def _decode_any(data: bytes, status: int) -> Any:
    return parse_json(data, status=status)


def _decode_page(data: bytes, status: int, offset: int, limit: int) -> KnowledgePage:
    raw = _decode_any(data, status)
    total: int | None = None
    items: Any = raw
    if isinstance(raw, Mapping):
        items = None
        for key in ("knowledge", "items", "data", "results"):
            if isinstance(raw.get(key), list):
                items = raw[key]
                break
        if items is None:
            items = []
        t = raw.get("total", raw.get("totalCount", raw.get("count")))
        if (isinstance(t, (int, float)) and not isinstance(t, bool)) or (
            isinstance(t, str) and t.isdigit()
        ):
            total = int(t)
    if not isinstance(items, list):
        items = []
    parsed = _knowledge_list.convert(items, data=data, status=status)
    return KnowledgePage(items=parsed, total=total, offset=offset, limit=limit)
