"""Sharely's wire structs and the helpers that decode them.

Responses decode straight into these structs (decoders built once); unknown fields are ignored and
open sets of values (knowledge types, statuses) are plain ``str``. Where the vendor documents two
shapes (the background-jobs answer) or is silent (whether ``GET knowledge/{id}`` wraps the item),
every plausible variant is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Union

import msgspec
from msgspec import UNSET, UnsetType

from .._models import Lenient, parse_json
from .._pagination import OffsetPage, OffsetPaginator

# the directory's and the background jobs' structs live in their own modules; re-exported here,
# their historical home
from ._directory_models import (
    Accepted,
    Category,
    CreatedRole,
    RagAnswer,
    RagChunk,
    Role,
    SearchResult,
    Space,
    Taxonomy,
    TaxonomyLanguage,
    UserSpace,
    Workspace,
    WorkspaceSettings,
)
from ._job_models import (
    TEMPORAL_STATUS_CODES,
    BackgroundJob,
    classify_job_status,
    decode_jobs,
    normalise_job_status,
)
from ._job_models import when as _when

__all__ = [
    "TEMPORAL_STATUS_CODES",
    "Accepted",
    "BackgroundJob",
    "Category",
    "CreatedKnowledge",
    "CreatedRole",
    "DeletedKnowledge",
    "Knowledge",
    "KnowledgeList",
    "KnowledgePage",
    "KnowledgeRef",
    "RagAnswer",
    "RagChunk",
    "Role",
    "SearchResult",
    "Space",
    "Taxonomy",
    "TaxonomyLanguage",
    "UpdatedMetadata",
    "UploadFileMetadata",
    "UploadedFile",
    "UserSpace",
    "Workspace",
    "WorkspaceSettings",
    "classify_job_status",
    "decode_jobs",
    "normalise_job_status",
]


class CreatedKnowledge(msgspec.Struct, rename="camel"):
    """What ``create_text``, ``create_url`` and ``create_link`` return (201)."""

    id: str = ""
    knowledge_id: str | None = None
    title: str | None = None
    type: str | None = None
    status: str | None = None

    def __post_init__(self) -> None:
        if not self.id and self.knowledge_id:
            self.id = self.knowledge_id
        if self.knowledge_id is None and self.id:
            self.knowledge_id = self.id


class UploadedFile(msgspec.Struct, rename="camel"):
    """What ``upload_file`` returns (201).

    A synchronous upload comes back processed (``knowledge_id`` set). A background upload
    (``background=True``) returns at once: wait for it with
    ``client.knowledge.wait_for_upload(uploaded)`` (which polls the upload file metadata) or, when
    the server gave a ``workflow_id``, with ``client.knowledge.wait(uploaded.workflow_id)``."""

    id: str = ""
    knowledge_id: str | None = None
    title: str | None = None
    type: str | None = None
    status: str | None = None
    upload_file_metadata_id: str | None = None
    workflow_id: str | None = None
    background_job_id: str | None = None

    @property
    def metadata_id(self) -> str:
        """The id to pass to ``wait_for_upload``: ``uploadFileMetadataId`` when the server sent
        one, else ``id``."""
        return self.upload_file_metadata_id or self.id

    @property
    def job_id(self) -> str | None:
        """The background job (Temporal workflow) processing the file, if the server named one."""
        return self.workflow_id or self.background_job_id


class Knowledge(msgspec.Struct, rename="camel"):
    """One knowledge item. ``type`` is FILE, URL, LINK, TEXT, WEBSITE, ... (an open set; the list
    and get routes say TEXT for what create and the category route call STRING)."""

    id: str = ""
    workspace_id: str | None = None
    title: str | None = None
    type: str | None = None
    status: str | None = None
    metadata: dict[str, Any] = {}
    language: str | None = None
    content: str | None = None
    url: str | None = None
    parent_id: str | None = None
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007
    description: str | None = None
    tags: list[str] = []
    #: The categories and roles (RBAC) the item belongs to, as ``GET knowledge/{id}`` names them.
    categories: list[Category] = []
    roles: list[Role] = []
    #: Set on the items of ``sharely.categories.knowledge(category_id)``.
    category_id: str | None = None
    processed_at: Union[str, int, float, None] = None  # noqa: UP007

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware datetime (ISO 8601 or epoch ms on the wire)."""
        return _when(self.created_at)

    @property
    def updated(self) -> datetime | None:
        """``updated_at`` as an aware datetime."""
        return _when(self.updated_at)


class KnowledgePage(OffsetPage[Knowledge]):
    """One page of ``client.knowledge.list(...)``: the items, the server's ``total`` (None when it
    did not say) and the ``offset``/``limit`` that produced it. ``has_more`` says whether another
    page may follow (by ``total`` when known, else by a full page); ``await
    page.get_next_page()`` fetches it (None after the last page), like Fini's pages."""

    __slots__ = ()


class KnowledgeList(OffsetPaginator[Knowledge, KnowledgePage]):
    """``client.knowledge.list(...)``: an offset paginator.

    - ``await client.knowledge.list(limit=50)`` returns the first :class:`KnowledgePage`
      (``await page.get_next_page()`` fetches the next);
    - ``async for item in client.knowledge.list()`` yields every item, page after page;
    - ``async for page in client.knowledge.list().pages()`` yields the pages;
    - ``await client.knowledge.list().to_list()`` collects every item.

    A page is fetched only when needed; the walk ends at ``total`` (or at a short page when the
    server sends no total) and after ``max_items`` items if given."""


class KnowledgeRef(msgspec.Struct, rename="camel"):
    """A knowledge item as the upload-file-metadata route names it: id and custom metadata."""

    id: str = ""
    metadata: dict[str, Any] = {}


class UploadFileMetadata(msgspec.Struct, rename="camel"):
    """``GET upload-file-metadata/{id}``: there is no status field; processing is done when
    ``knowledge`` (workspace level) or ``space_knowledge`` (space level) is set."""

    knowledge: KnowledgeRef | None = None
    space_knowledge: KnowledgeRef | None = None

    @property
    def done(self) -> bool:
        return self.knowledge is not None or self.space_knowledge is not None

    @property
    def knowledge_id(self) -> str | None:
        ref = self.knowledge or self.space_knowledge
        return ref.id if ref is not None else None


class DeletedKnowledge(msgspec.Struct, rename="camel"):
    """What ``delete`` returns. A cascade delete may run in the background: ``workflow_id`` (or
    ``job_id``) is then the job to ``client.knowledge.wait`` on."""

    success: bool | None = None
    message: str | None = None
    knowledge_id: str | None = None
    workflow_id: str | None = None
    background_job_id: str | None = None

    @property
    def job_id(self) -> str | None:
        return self.workflow_id or self.background_job_id


class UpdatedMetadata(msgspec.Struct, rename="camel"):
    """What ``update_metadata`` returns."""

    knowledge_id: str | None = None


# -- request bodies --------------------------------------------------------------------------


class CreateBody(msgspec.Struct, omit_defaults=True):
    """The body of the create routes (``knowledge`` and ``knowledge/link``)."""

    type: str
    content: str | UnsetType = UNSET
    url: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    metadata: dict[str, str | int | float] | UnsetType = UNSET


class MetadataBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``PUT knowledge/{id}/metadata``."""

    type: str
    metadata: dict[str, str | int | float]
    remove_metadata_keys: list[str] | UnsetType = UNSET


# -- decoding ----------------------------------------------------------------------------------

created_decoder = Lenient(CreatedKnowledge)
uploaded_decoder = Lenient(UploadedFile)
upload_meta_decoder = Lenient(UploadFileMetadata)
_deleted = Lenient(DeletedKnowledge)
_updated = Lenient(UpdatedMetadata)
_knowledge = Lenient(Knowledge)
_knowledge_list = Lenient(list[Knowledge])


def decode_any(data: bytes, status: int) -> Any:
    """Any JSON value; APIResponseValidationError when the body is not JSON."""
    return parse_json(data, status=status)


def decode_knowledge(data: bytes, status: int) -> Knowledge:
    """``GET knowledge/{id}``: the item, plain or wrapped (``knowledge``, ``data``, ``item``)."""
    raw = decode_any(data, status)
    if isinstance(raw, Mapping) and "id" not in raw:
        for key in ("knowledge", "data", "item"):
            inner = raw.get(key)
            if isinstance(inner, Mapping):
                raw = inner
                break
    return _knowledge.convert(raw, data=data, status=status)


def decode_page(data: bytes, status: int, offset: int, limit: int) -> KnowledgePage:
    """``GET knowledge``: a bare list, or an object holding the list (``knowledge``, ``items``,
    ``data``, ``results``) and maybe the total (``total``, ``totalCount``, ``count``)."""
    raw = decode_any(data, status)
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
    return KnowledgePage(parsed, total=total, offset=offset, limit=limit)


def decode_deleted(data: bytes, status: int, knowledge_id: str) -> DeletedKnowledge:
    """A delete's answer: empty, a bare boolean, or an object (``knowledge_id`` filled in)."""
    if not data.strip():
        return DeletedKnowledge(success=True, knowledge_id=knowledge_id)
    raw = decode_any(data, status)
    if raw is True or raw is False:
        return DeletedKnowledge(success=raw, knowledge_id=knowledge_id)
    result = _deleted.convert(raw, data=data, status=status)
    if result.knowledge_id is None:
        result.knowledge_id = knowledge_id
    return result


def decode_updated(data: bytes, status: int, knowledge_id: str) -> UpdatedMetadata:
    """A metadata update's answer: empty or an object (``knowledge_id`` filled in)."""
    if not data.strip():
        return UpdatedMetadata(knowledge_id=knowledge_id)
    result = _updated.decode(data, status=status)
    if result.knowledge_id is None:
        result.knowledge_id = knowledge_id
    return result


class ReservedFieldsBody(msgspec.Struct, omit_defaults=True):
    """The body of ``PUT knowledge/{id}/reservedField``."""

    type: str
    title: str
    language: str | UnsetType = UNSET
