"""The wire side of ``client.knowledge``: request bodies, the job records as the server sends
them (with the spellings it is known to use), the public :class:`JobStatus` they become, and the
decoders. ``knowledge.py`` re-exports the public names.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from .._exceptions import ValidationError
from .._models import Lenient, ms_to_datetime
from .._validate import non_empty_str, one_of, optional_str

__all__ = ["RESTRICTED_OPS", "BulkGenerateBody", "GenerateBody", "JobStatus", "JobStatusBody"]

#: The documented ``restrictedOps`` values.
RESTRICTED_OPS = ("ADD_ARTICLE_TO_FOLDER", "UPDATE_ARTICLE", "DO_NOTHING")


# -- wire structs ------------------------------------------------------------------------------


class GenerateBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST /v2/knowledge/public``."""

    candidate_knowledge: str
    origin: str
    is_draft: bool
    document_id: str | UnsetType = UNSET
    hc_event_id: str | UnsetType = UNSET
    restricted_ops: list[str] | UnsetType = UNSET
    instructions: str | UnsetType = UNSET
    bot_id: str | UnsetType = UNSET


class BulkGenerateBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST /v2/knowledge/public/bulk`` (``origin`` is always ``sources``)."""

    document_ids: list[str]
    origin: str
    is_draft: bool
    restricted_ops: list[str] | UnsetType = UNSET
    instructions: str | UnsetType = UNSET
    bot_id: str | UnsetType = UNSET


class JobStatusBody(msgspec.Struct, rename="camel"):
    """The body of ``POST /v2/knowledge/public/jobs/status``."""

    job_ids: list[str]


_Id = str | int | None


class _QueuedJob(msgspec.Struct, rename="camel"):
    # documented: {"backgroundJobId"}; tolerated: jobId / id, and a documentId beside it
    background_job_id: _Id = None
    job_id: _Id = None
    id: _Id = None
    document_id: _Id = None

    def the_id(self) -> str | None:
        value = self.background_job_id or self.job_id or self.id
        return None if value is None else str(value)


class _BulkResponse(msgspec.Struct):
    jobs: list[_QueuedJob] = []


_Time = str | int | float | None


class _WireJob(msgspec.Struct, rename="camel"):
    # documented: id, jobStatus, createdAt?, startedAt?, completedAt?, hcArticleId
    id: _Id = None
    job_id: _Id = None
    background_job_id: _Id = None
    job_status: str | None = None
    status: str | None = None
    state: str | None = None
    created_at: _Time = None
    started_at: _Time = None
    completed_at: _Time = None
    hc_article_id: _Id = None


class _StatusResponse(msgspec.Struct):
    jobs: list[_WireJob] = []


_queued = Lenient(_QueuedJob)
_bulk = Lenient(_BulkResponse)
_bulk_list = Lenient(list[_QueuedJob])
_statuses = Lenient(_StatusResponse)
_status_list = Lenient(list[_WireJob])


# -- public structs ----------------------------------------------------------------------------


class JobStatus(msgspec.Struct, kw_only=True):
    """The status of one knowledge job, as ``jobs/status`` reported it.

    ``status`` is the raw state string: ``PENDING``, ``IN_PROGRESS``, ``COMPLETED``, ``FAILED``
    or a value this SDK does not know (which means still running). Timestamps are aware
    datetimes, None until set. ``hc_article_id`` is the article created or updated once the job
    finished (None before, or when the job changed nothing)."""

    id: str
    status: str
    created_at: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    hc_article_id: str | None = None

    @property
    def is_completed(self) -> bool:
        return self.status.upper() == "COMPLETED"

    @property
    def is_failed(self) -> bool:
        return self.status.upper() == "FAILED"

    @property
    def is_terminal(self) -> bool:
        """Whether the job has finished (completed or failed)."""
        return self.is_completed or self.is_failed


def _time(value: _Time) -> datetime | None:
    if value is None or value == "":
        return None
    return ms_to_datetime(value)


def _to_status(wire: _WireJob) -> JobStatus | None:
    job_id = wire.id if wire.id is not None else (wire.job_id or wire.background_job_id)
    if job_id is None:
        return None
    state = wire.job_status or wire.status or wire.state or "UNKNOWN"
    return JobStatus(
        id=str(job_id),
        status=state,
        created_at=_time(wire.created_at),
        started_at=_time(wire.started_at),
        completed_at=_time(wire.completed_at),
        hc_article_id=None if wire.hc_article_id is None else str(wire.hc_article_id),
    )


def _decode_statuses(content: bytes, status: int) -> list[JobStatus]:
    if content.lstrip()[:1] == b"[":
        wires = _status_list.decode(content, status=status)
    else:
        wires = _statuses.decode(content, status=status).jobs
    out = []
    for wire in wires:
        item = _to_status(wire)
        if item is not None:
            out.append(item)
    return out


class TreeInitBody(msgspec.Struct, rename="camel"):
    """The body of ``POST /v2/knowledge/public/tree/initialize``."""

    init_prompt: str


class TreePersistResult(msgspec.Struct):
    """What importing a knowledge tree file did (the values are not documented)."""

    status: str | None = None
    message: str | None = None


_persisted = Lenient(TreePersistResult)


# -- request checks (shared by generate and bulk_generate) ------------------------------------


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)
    return value


def _options(
    body: GenerateBody | BulkGenerateBody,
    restricted_ops: Iterable[str] | str | None,
    instructions: str | None,
    bot_id: str | None,
) -> None:
    if restricted_ops is not None:
        ops = [restricted_ops] if isinstance(restricted_ops, str) else restricted_ops
        if not isinstance(ops, Iterable):
            raise ValidationError("restricted_ops must be a list", field="restricted_ops")
        body.restricted_ops = [one_of(op, RESTRICTED_OPS, "restricted_ops") for op in ops]
    text = optional_str(instructions, "instructions")
    if text is not None:
        body.instructions = text
    if bot_id is not None:
        body.bot_id = non_empty_str(bot_id, "bot_id")


def _tree_content_type(filename: str, content_type: str | None) -> str:
    """The part's type: as given, else from the name's extension, else CSV (the template's)."""
    if content_type is not None:
        return non_empty_str(content_type, "content_type")
    return mimetypes.guess_type(filename)[0] or "text/csv"
