"""Sharely's background jobs (Temporal workflows) on the wire: the job struct, its status
names and codes normalised to running/completed/failed, and the decoder of the jobs answer,
which the vendor documents in two shapes (both accepted)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Union

import msgspec
from msgspec import UNSET, UnsetType

from .._exceptions import APIResponseValidationError
from .._models import ms_to_datetime

__all__ = [
    "TEMPORAL_STATUS_CODES",
    "BackgroundJob",
    "JobsBody",
    "classify_job_status",
    "decode_jobs",
    "normalise_job_status",
    "when",
]


def when(value: Any) -> datetime | None:
    """A Sharely timestamp (epoch milliseconds or ISO text) as an aware datetime; None for
    anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    return ms_to_datetime(value)


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
        return when(self.created_at)

    @property
    def completed(self) -> datetime | None:
        return when(self.completed_at)


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


class JobsBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST background-jobs`` (no ids: every job of the workspace)."""

    job_ids: list[str] | UnsetType = UNSET
