"""FakeSharely's background jobs: Temporal-style workflows whose state advances with time (no task
runs behind the tests' back), and the ``POST background-jobs`` route in its two documented
shapes."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from ._sharely import FakeSharely

__all__ = ["TEMPORAL_CODES", "SharelyJob", "background_jobs"]

TEMPORAL_CODES = {
    "RUNNING": 1,
    "COMPLETED": 2,
    "FAILED": 3,
    "CANCELED": 4,
    "TERMINATED": 5,
    "CONTINUED_AS_NEW": 6,
    "TIMED_OUT": 7,
}


def now_iso() -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        + f".{int(time.time() * 1000) % 1000:03d}Z"
    )


@dataclass
class SharelyJob:
    """A background job (a Temporal workflow). It is RUNNING until ``ready_at`` (monotonic
    time), then ends in ``outcome``; ``on_done`` runs once at that moment."""

    id: str
    type: str
    ready_at: float
    outcome: str = "COMPLETED"
    run_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=now_iso)
    completed_at: str | None = None
    on_done: Any = None
    finished: bool = False
    result: dict[str, Any] = field(default_factory=dict)

    def status(self) -> str:
        if not self.finished and time.monotonic() >= self.ready_at:
            self.finished = True
            self.completed_at = now_iso()
            if self.on_done is not None and self.outcome == "COMPLETED":
                self.on_done(self)
        return self.outcome if self.finished else "RUNNING"


async def background_jobs(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    """``POST background-jobs``: the jobs asked for (every job without ``jobIds``), as
    ``{"jobs": [...]}`` or Temporal's ``[{workflowId, status: {code, name}, runId}]``."""
    body = await fake.read_json(request)
    if not isinstance(body, dict):
        return fake.error(400, "Body must be a JSON object")
    ids = body.get("jobIds")
    if ids is not None and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
        return fake.error(400, "jobIds must be an array of strings")
    wanted = list(fake.jobs) if ids is None else ids
    found = [fake.jobs[i] for i in wanted if i in fake.jobs]
    if fake.jobs_shape == "jobs":
        return fake.reply({"jobs": [_job_entry(job) for job in found]})
    out = []
    for job in found:
        status = job.status()
        out.append(
            {
                "workflowId": job.id,
                "status": {"code": TEMPORAL_CODES.get(status, 0), "name": status},
                "runId": job.run_id,
            }
        )
    return fake.reply(out)


def _job_entry(job: SharelyJob) -> dict[str, Any]:
    status = job.status()
    entry: dict[str, Any] = {
        "id": job.id,
        "status": "CANCELLED" if status == "CANCELED" else status,
        "type": job.type,
        "createdAt": job.created_at,
    }
    if status == "COMPLETED":
        entry["completedAt"] = job.completed_at
        entry["result"] = job.result
    elif status == "RUNNING":
        entry["progress"] = 50
    else:
        entry["failedAt"] = job.completed_at
        entry["error"] = {"code": "PROCESSING_ERROR", "message": f"job {status}"}
    return entry
