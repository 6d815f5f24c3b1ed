"""Sharely's wire structs and the helpers that decode them.

Responses decode straight into these structs (decoders built once); unknown fields are ignored and
open sets of values (knowledge types, statuses) are plain ``str``. Where the vendor documents two
shapes (the background-jobs answer) or is silent (whether ``GET knowledge/{id}`` wraps the item),
every plausible variant is accepted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Union

import msgspec

from .._exceptions import APIResponseValidationError
from .._models import ms_to_datetime

__all__ = [
    "TEMPORAL_STATUS_CODES",
    "BackgroundJob",
    "CreatedKnowledge",
    "DeletedKnowledge",
    "Knowledge",
    "KnowledgePage",
    "KnowledgeRef",
    "UpdatedMetadata",
    "UploadFileMetadata",
    "UploadedFile",
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
    """One knowledge item. ``type`` is FILE, URL, LINK, STRING, WEBSITE, ... (an open set)."""

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

    @property
    def created(self) -> datetime | None:
        """``created_at`` as an aware datetime (ISO 8601 or epoch ms on the wire)."""
        return _when(self.created_at)

    @property
    def updated(self) -> datetime | None:
        """``updated_at`` as an aware datetime."""
        return _when(self.updated_at)


class KnowledgePage(msgspec.Struct):
    """One page of ``client.knowledge.list(...)``: the items, the server's ``total`` (None when it
    did not say) and the ``offset``/``limit`` that produced it."""

    items: list[Knowledge]
    total: int | None
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        """Whether another page may follow: by ``total`` when known, else by a full page."""
        if self.total is not None:
            return self.offset + len(self.items) < self.total
        return len(self.items) >= self.limit > 0

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.items)

    def __len__(self) -> int:
        return len(self.items)


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


def decode_jobs(data: bytes, *, status: int = 200) -> list[BackgroundJob]:
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
