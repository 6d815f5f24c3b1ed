"""Wire structs of ``client.sources`` (Fini's "documents" routes) and their decoders.

Every field but ``id`` is optional and unknown keys are ignored: the documented example shows
them all, but the docs do not say which may be null or absent. Open sets of values (source
types, ``linkedOperation``, ``linkedJobStatus``) are plain ``str``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from .._exceptions import APIResponseValidationError
from .._models import Lenient, iso_to_datetime, ms_to_datetime

__all__ = [
    "AddedSources",
    "DeletedSourceArticle",
    "DeletedSourceDocument",
    "DeletedSources",
    "ProviderResource",
    "SourceDocument",
]

_Time = str | int | float | None


def _when(value: _Time) -> datetime | None:
    if isinstance(value, str):
        return iso_to_datetime(value)
    return ms_to_datetime(value)


class SourceDocument(msgspec.Struct, rename="camel"):
    """One source record (a "document": a web page, a Notion page, a Zendesk article, ...).

    ``source`` is the source type (``web``, ``files``, ``googledrive``, ``zendesk``,
    ``notion``, ``confluence`` or a newer one). ``paragraphs`` is the extracted text (filled
    once ingestion succeeded) and ``old_paragraphs`` the previous run's. ``success`` and
    ``error`` ("" when fine) describe the latest run. ``linked_job_status`` is ``PENDING``,
    ``IN_PROGRESS``, ``COMPLETED``, ``FAILED`` (or None when no job is linked):
    :meth:`SourcesResource.wait_for_refresh` polls it. ``changed`` (only sent by newer API
    versions) flags a linked source whose content changed at its last refresh.
    ``created``/``updated`` are the ISO timestamps as aware datetimes."""

    id: str
    original_url: str | None = None
    title: str | None = None
    storage_url: str | None = None
    source: str | None = None
    external_id: str | None = None
    english: bool | None = None
    baser: bool | None = None
    paragraphs: list[str] = []
    old_paragraphs: list[str] = []
    success: bool | None = None
    error: str | None = None
    created_at: _Time = None
    updated_at: _Time = None
    mime_type: str | None = None
    type: str | None = None
    linked_job_id: str | None = None
    linked_knowledge_id: str | None = None
    linked_operation: str | None = None
    linked_reason: str | None = None
    linked_job_status: str | None = None
    changed: bool | None = None

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware datetime."""
        return _when(self.created_at)

    @property
    def updated(self) -> datetime | None:
        """``updated_at`` as an aware datetime."""
        return _when(self.updated_at)

    @property
    def text(self) -> str:
        """The extracted text: the paragraphs joined by blank lines ('' before ingestion)."""
        return "\n\n".join(self.paragraphs)


class AddedSources(msgspec.Struct, rename="camel"):
    """What adding (or registering) sources did: the ids of the records created and of those
    that already existed and were updated. For ingestion it means *queued*, not done."""

    added_document_ids: list[str] = []
    updated_document_ids: list[str] = []

    @property
    def ids(self) -> list[str]:
        """Every id touched: the added ones, then the updated ones."""
        return [*self.added_document_ids, *self.updated_document_ids]


class DeletedSourceDocument(msgspec.Struct, rename="camel"):
    """A source record that was deleted."""

    id: str
    title: str | None = None
    original_url: str | None = None


class DeletedSourceArticle(msgspec.Struct, rename="camel"):
    """An article deleted with its source (``delete(..., delete_articles=True)``)."""

    id: str
    title: str | None = None
    parent_folder_id: str | None = None


class DeletedSources(msgspec.Struct, rename="camel"):
    """The answer of ``client.sources.delete``: the records deleted, and their articles when
    ``delete_articles=True`` (else an empty list)."""

    deleted_documents: list[DeletedSourceDocument] = []
    deleted_articles: list[DeletedSourceArticle] = []


class ProviderResource(msgspec.Struct, rename="camel", omit_defaults=True):
    """An importable item of a connected provider, as ``client.sources.discover`` returns it.

    Notion items carry ``external_id``, ``title``, ``original_url``, ``mime_type``,
    ``icon_link`` and ``object`` (``page`` or ``database``): pass them to
    :meth:`SourcesResource.import_` as they are. Zendesk answers a tree (categories holding
    ``sections`` holding ``articles``, each with ``kind``) and Confluence spaces (``key``)
    holding ``pages``; their exact key names are not documented, so the tree's likely keys are
    decoded and everything else is ignored."""

    external_id: str | None = None
    title: str | None = None
    original_url: str | None = None
    mime_type: str | None = None
    icon_link: str | None = None
    object: str | None = None
    id: str | None = None
    key: str | None = None
    kind: str | None = None
    url: str | None = None
    sections: list[ProviderResource] = []
    articles: list[ProviderResource] = []
    pages: list[ProviderResource] = []

    @property
    def children(self) -> list[ProviderResource]:
        """The nested items (Zendesk sections/articles, Confluence pages)."""
        return [*self.sections, *self.articles, *self.pages]


class RegisterItem(msgspec.Struct, rename="camel", omit_defaults=True):
    """One item of ``POST /v2/documents/public/resources/{provider}``."""

    original_url: str
    title: str
    external_id: str
    mime_type: str
    object: str | UnsetType = UNSET


class RegisterBody(msgspec.Struct):
    resources: list[RegisterItem]


class IngestBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST /v2/documents/public``."""

    source: str
    document_ids_to_add: list[str] | UnsetType = UNSET
    document_ids_to_refresh: list[str] | UnsetType = UNSET
    english: bool | UnsetType = UNSET
    baser: bool | UnsetType = UNSET


class CrawlBody(msgspec.Struct):
    links: list[str]
    limit: int


class RefreshBody(msgspec.Struct, rename="camel"):
    document_ids: list[str]


class DeleteBody(msgspec.Struct, rename="camel"):
    document_ids: list[str]
    delete_articles: bool


class SourceListResponse(msgspec.Struct, rename="camel"):
    documents: list[SourceDocument] = []
    has_more: bool = False


class _Crawled(msgspec.Struct):
    data: list[str] = []
    message: str | None = None


decode_document = Lenient(SourceDocument)
decode_added = Lenient(AddedSources)
decode_deleted = Lenient(DeletedSources)
_list = Lenient(SourceListResponse)
_documents = Lenient(list[SourceDocument])
_resources = Lenient(list[ProviderResource])
_crawled = Lenient(_Crawled)
_ids = Lenient(list[str])


def decode_list(content: bytes, status: int) -> SourceListResponse:
    """``{documents, hasMore}`` (documented); a bare array is one last page."""
    if content.lstrip()[:1] == b"[":
        return SourceListResponse(documents=_documents.decode(content, status=status))
    return _list.decode(content, status=status)


def decode_resources(content: bytes, status: int) -> list[ProviderResource]:
    """A top-level array (documented for every provider); ``{data|resources: [...]}`` too."""
    if content.lstrip()[:1] == b"{":
        raw: Any = msgspec.json.decode(content)
        for key in ("resources", "data", "items"):
            if isinstance(raw.get(key), list):
                return _resources.convert(raw[key], data=content, status=status)
        raise APIResponseValidationError(
            "the provider's resources are not a list", body=content, status_code=status
        )
    return _resources.decode(content, status=status)


def decode_crawled(content: bytes, status: int) -> list[str]:
    """``{data: [urls], message}`` (documented); a bare array of URLs too."""
    if content.lstrip()[:1] == b"[":
        return _ids.decode(content, status=status)
    return _crawled.decode(content, status=status).data


def decode_refreshed(content: bytes, status: int) -> list[str]:
    """A top-level array of the queued ids (documented); ``{documentIds: [...]}`` too."""
    if content.lstrip()[:1] == b"{":
        raw: Any = msgspec.json.decode(content)
        for key in ("documentIds", "ids", "data"):
            if isinstance(raw.get(key), list):
                return _ids.convert(raw[key], data=content, status=status)
        return []
    return _ids.decode(content, status=status)
