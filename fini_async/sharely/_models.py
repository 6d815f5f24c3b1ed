"""Sharely's wire structs and the helpers that decode them.

Responses decode straight into these structs (decoders built once); unknown fields are ignored and
open sets of values (knowledge types, statuses) are plain ``str``. Where the vendor documents two
shapes (the background-jobs answer) or is silent (whether ``GET knowledge/{id}`` wraps the item),
every plausible variant is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Union

import msgspec
from msgspec import UNSET, UnsetType

from .._exceptions import APIResponseValidationError
from .._models import Lenient, ms_to_datetime, parse_json
from .._pagination import OffsetPage, OffsetPaginator

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
    "normalise_job_status",
]


def _when(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return ms_to_datetime(value)


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


# -- the workspace's directory: roles, categories, taxonomies, spaces, search -----------------


class Role(msgspec.Struct, rename="camel"):
    """A role (RBAC). ``customer_role_id`` is the caller's own id for it (unique in the
    workspace); roles attached to a knowledge item carry ``metadata.uniqueCustomerRoleId``."""

    id: str = ""
    name: str | None = None
    description: str | None = None
    customer_role_id: str | None = None
    metadata: dict[str, Any] = {}
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class CreatedRole(msgspec.Struct, rename="camel"):
    """What ``sharely.roles.create`` returns (201): the role, and the background job setting it
    up (``job_id``; wait on it with ``sharely.knowledge.wait``)."""

    role: Role | None = None
    workflow_id: str | None = None
    background_job_id: str | None = None

    @property
    def job_id(self) -> str | None:
        return self.workflow_id or self.background_job_id


class Accepted(msgspec.Struct, rename="camel"):
    """The answer of a route that changes something, maybe in the background: ``{"success":
    true}``, a bare ``true``, an empty body or an object naming a workflow all decode to it.
    ``job_id`` is the background job to ``sharely.knowledge.wait`` on, when there is one."""

    success: bool | None = None
    message: str | None = None
    workflow_id: str | None = None
    background_job_id: str | None = None

    @property
    def job_id(self) -> str | None:
        return self.workflow_id or self.background_job_id


class Category(msgspec.Struct, rename="camel"):
    """A knowledge category. The list route counts its items (``knowledge_count``); the create
    route echoes ``parent_id`` and ``metadata``."""

    id: str = ""
    name: str | None = None
    description: str | None = None
    workspace_id: str | None = None
    parent_id: str | None = None
    metadata: dict[str, Any] = {}
    knowledge_count: int | None = None
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class TaxonomyLanguage(msgspec.Struct, rename="camel"):
    """A language a taxonomy is published in."""

    language_id: str = ""


class Taxonomy(msgspec.Struct, rename="camel"):
    """A taxonomy (a named tree of categories). ``roles``, ``languages`` are filled only when the
    list asked for them (``include_roles=True``, ...). A new taxonomy is unpublished."""

    id: str = ""
    name: str | None = None
    description: str | None = None
    workspace_id: str | None = None
    published: bool | None = None
    roles: list[Role] = []
    languages: list[TaxonomyLanguage] = []
    category_count: int | None = None
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class WorkspaceSettings(msgspec.Struct, rename="camel"):
    default_language: str | None = None
    features: list[str] = []


class Workspace(msgspec.Struct, rename="camel"):
    """``sharely.workspace.get()`` (and the answer of ``set_rbac_status``, which may hold only
    ``id``/``rbac_status`` or only ``rbac_enabled``: the docs show both)."""

    id: str = ""
    name: str | None = None
    organization_id: str | None = None
    rbac_status: str | None = None
    rbac_enabled: bool | None = None
    settings: WorkspaceSettings | None = None
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007

    @property
    def rbac_active(self) -> bool | None:
        """Whether role-based access control is on (None when the answer did not say)."""
        if self.rbac_status is not None:
            return self.rbac_status.upper() == "ACTIVE"
        return self.rbac_enabled


class SearchResult(msgspec.Struct, rename="camel"):
    """One hit of ``sharely.knowledge.search`` / ``search_title``."""

    id: str = ""
    title: str | None = None
    type: str | None = None
    url: str | None = None
    content: str | None = None
    score: float | None = None
    metadata: dict[str, Any] = {}


class UserSpace(msgspec.Struct, rename="camel"):
    """``sharely.spaces.activate(...)``: the user's space and a token scoped to it. ``is_new``
    says whether this call created it. The token is never shown in the repr."""

    token: str = ""
    space_id: str = ""
    user_id: str | None = None
    workspace_id: str | None = None
    is_new: bool | None = None

    def __repr__(self) -> str:
        return (
            f"UserSpace(space_id={self.space_id!r}, user_id={self.user_id!r}, "
            f"workspace_id={self.workspace_id!r}, is_new={self.is_new!r}, token=<hidden>)"
        )


class Space(msgspec.Struct, rename="camel"):
    """A user's space (``sharely.spaces.get``). The vendor does not document this answer's
    fields: these are the likely ones, each optional, and unknown keys are ignored."""

    id: str = ""
    user_id: str | None = None
    workspace_id: str | None = None
    customer_id_string: str | None = None
    role_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] = {}
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class RagChunk(msgspec.Struct, rename="camel"):
    """A passage ``sharely.spaces.rag`` found. ``source`` is a URL for web knowledge and
    ``"<page>:<title>:<knowledgeId>"`` for files (see ``knowledge_id``)."""

    text: str = ""
    source: str | None = None

    @property
    def knowledge_id(self) -> str | None:
        """The knowledge item of a file source (the part after the last ``:``), else None."""
        src = self.source or ""
        if src.startswith(("http://", "https://")) or src.count(":") < 2:
            return None
        return src.rsplit(":", 1)[1] or None


class RagAnswer(msgspec.Struct, rename="camel"):
    """``sharely.spaces.rag``: passages from workspace knowledge and from the space's own."""

    knowledge_results: list[RagChunk] = []
    space_knowledge_results: list[RagChunk] = []


# -- background jobs -------------------------------------------------------------------------

#: Temporal's WorkflowExecutionStatus numbers, for answers that carry only the code.
TEMPORAL_STATUS_CODES: dict[int, str] = {
    0: "UNSPECIFIED",
    1: "RUNNING",
    2: "COMPLETED",
    3: "FAILED",
    4: "CANCELED",
    5: "TERMINATED",
    6: "CONTINUED_AS_NEW",
    7: "TIMED_OUT",
}
_COMPLETED = frozenset({"COMPLETED", "COMPLETE", "SUCCEEDED", "SUCCESS", "DONE", "PROCESSED"})
_FAILED = frozenset(
    {"FAILED", "FAILURE", "ERROR", "CANCELED", "CANCELLED", "TERMINATED", "TIMED_OUT", "TIMEDOUT"}
)
_PREFIX = "WORKFLOW_EXECUTION_STATUS_"


def normalise_job_status(name: Any, code: Any = None) -> str:
    """One upper-case status name from whatever the server sent: a plain string, Temporal's
    ``{code, name}``, a ``WORKFLOW_EXECUTION_STATUS_*`` constant or a bare code."""
    if isinstance(name, str) and name.strip():
        text = name.strip().upper().replace("-", "_").replace(" ", "_")
        return text[len(_PREFIX) :] if text.startswith(_PREFIX) else text
    if isinstance(code, int) and not isinstance(code, bool):
        return TEMPORAL_STATUS_CODES.get(code, f"CODE_{code}")
    return "UNKNOWN"


def classify_job_status(status: str) -> Literal["running", "completed", "failed"]:
    """COMPLETED (and synonyms) is done; FAILED, CANCELED/CANCELLED, TERMINATED and TIMED_OUT
    are failures; everything else (RUNNING, CONTINUED_AS_NEW, PENDING, unknown names) is still
    running."""
    status = normalise_job_status(status)
    if status in _COMPLETED:
        return "completed"
    if status in _FAILED:
        return "failed"
    return "running"


class BackgroundJob(msgspec.Struct):
    """One background job (a Temporal workflow), whichever of the two documented shapes carried
    it. ``status`` is the normalised name (RUNNING, COMPLETED, FAILED, CANCELED, CANCELLED,
    TERMINATED, TIMED_OUT, CONTINUED_AS_NEW, or whatever else the server says); ``raw`` is the
    decoded entry as it came."""

    id: str
    status: str
    status_code: int | None = None
    type: str | None = None
    run_id: str | None = None
    progress: float | None = None
    result: Any = None
    error: Any = None
    created_at: Any = None
    completed_at: Any = None
    failed_at: Any = None
    raw: dict[str, Any] = {}

    @property
    def state(self) -> Literal["running", "completed", "failed"]:
        return classify_job_status(self.status)

    @property
    def done(self) -> bool:
        return self.state != "running"

    @property
    def error_message(self) -> str | None:
        err = self.error
        if isinstance(err, str):
            return err
        if isinstance(err, dict):
            msg = err.get("message") or err.get("code")
            return str(msg) if msg is not None else None
        return None

    @property
    def created(self) -> datetime | None:
        return _when(self.created_at)

    @property
    def completed(self) -> datetime | None:
        return _when(self.completed_at)


_jobs_any = msgspec.json.Decoder(Union[dict[str, Any], list[Any]])  # noqa: UP007


def _job_from(entry: Any) -> BackgroundJob | None:
    if not isinstance(entry, dict):
        return None
    job_id = entry.get("workflowId") or entry.get("id") or entry.get("jobId")
    if job_id is None or isinstance(job_id, (dict, list, bool)):
        return None
    status = entry.get("status")
    if status is None:
        status = entry.get("jobStatus")
    code = entry.get("statusCode")
    name: Any = status
    if isinstance(status, dict):
        name = status.get("name")
        code = status.get("code", code)
    elif isinstance(status, int) and not isinstance(status, bool):
        name, code = None, status
    progress = entry.get("progress")
    return BackgroundJob(
        id=str(job_id),
        status=normalise_job_status(name, code),
        status_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        type=entry.get("type") if isinstance(entry.get("type"), str) else None,
        run_id=entry.get("runId") if isinstance(entry.get("runId"), str) else None,
        progress=float(progress)
        if isinstance(progress, (int, float)) and not isinstance(progress, bool)
        else None,
        result=entry.get("result"),
        error=entry.get("error"),
        created_at=entry.get("createdAt"),
        completed_at=entry.get("completedAt"),
        failed_at=entry.get("failedAt"),
        raw=entry,
    )


def decode_jobs(data: bytes, status: int = 200) -> list[BackgroundJob]:
    """Both documented answers of ``POST background-jobs``: ``{"jobs": [{id, status: "COMPLETED",
    ...}]}`` and ``[{workflowId, status: {code, name}, runId}]`` (plus ``{"data": [...]}`` and a
    single object, tolerated). Entries without an id are skipped."""
    try:
        raw = _jobs_any.decode(data) if data.strip() else []
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError) as exc:
        raise APIResponseValidationError(
            f"the background-jobs response is not JSON: {exc or 'nested too deeply'}",
            body=data,
            status_code=status,
        ) from None
    entries: Any = raw
    if isinstance(raw, dict):
        for key in ("jobs", "data", "workflows", "results", "items"):
            if isinstance(raw.get(key), list):
                entries = raw[key]
                break
        else:
            entries = [raw] if ("workflowId" in raw or "id" in raw) else []
    out = []
    for entry in entries:
        job = _job_from(entry)
        if job is not None:
            out.append(job)
    return out


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


class JobsBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST background-jobs`` (no ids: every job of the workspace)."""

    job_ids: list[str] | UnsetType = UNSET


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


class RoleIdsBody(msgspec.Struct, rename="camel"):
    """The body of the knowledge role routes (assign and unassign)."""

    role_ids: list[str]


class SearchBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of the search routes: ``query`` (semantic) or ``title`` (partial match)."""

    query: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    limit: int | UnsetType = UNSET
    audience_id: str | UnsetType = UNSET
    role_ids: list[str] | UnsetType = UNSET
