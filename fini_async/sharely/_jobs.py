"""Waiting on Sharely's background work, on the core :class:`~fini_async.JobPoller`.

Two kinds of work run in the background: Temporal jobs (background uploads, cascade deletes,
role assignments), read in batches through ``POST background-jobs``, and background uploads,
read one by one through ``GET upload-file-metadata/{id}`` (done once the knowledge item exists).
Each has one poller per client, so concurrent waits share one polling task, its backoff and its
handling of transient failures; cancelling a wait stops only that wait.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from .._config import TimeoutTypes
from .._exceptions import NotFoundError
from .._poller import JobIterator, JobPoller, JobState
from .._validate import path_segment, positive_seconds
from ..resources._base import Resource
from ._job_models import BackgroundJob, JobsBody, classify_job_status, decode_jobs
from ._models import UploadFileMetadata, upload_meta_decoder

if TYPE_CHECKING:
    from .._transport import Transport
    from ._client import SharelyClient

__all__ = ["SharelyJobs"]

#: Ids per ``background-jobs`` call (the route takes a list; kept modest for the server).
JOBS_CHUNK_SIZE = 100


class SharelyJobs(Resource["SharelyClient"]):
    """The client's background work: the two status routes (``POST background-jobs`` and
    ``GET upload-file-metadata/{id}``), and the waits on them: :meth:`wait` /
    :meth:`as_completed` on background jobs, :meth:`wait_for_upload` on background uploads.

    ``path(tail)`` gives a workspace route's path (read when a request is made: the workspace
    may be configured late)."""

    __slots__ = ("_path", "jobs", "uploads")

    def __init__(
        self, client: SharelyClient, transport: Transport, path: Callable[[str], str]
    ) -> None:
        super().__init__(client, transport)
        self._path = path
        #: The poller of background jobs.
        self.jobs: JobPoller[BackgroundJob] = JobPoller(
            self._fetch_jobs,
            state_of=_job_state,
            classify=classify_job_status,
            chunk_size=JOBS_CHUNK_SIZE,
            name="sharely background jobs",
        )
        #: The poller of background uploads: one metadata read per upload and tick.
        self.uploads: JobPoller[UploadFileMetadata] = JobPoller(
            self._fetch_uploads,
            state_of=_upload_state,
            classify=_classify_upload,
            chunk_size=1,
            name="sharely uploads",
        )

    # -- the status routes -----------------------------------------------------------------

    async def list_jobs(
        self,
        job_ids: list[str] | None,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> list[BackgroundJob]:
        body = JobsBody() if job_ids is None else JobsBody(job_ids=job_ids)
        return await self._post(
            self._path("/background-jobs"),
            into=decode_jobs,
            body=body,
            idempotent=True,  # a read
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def upload_status(
        self,
        metadata_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
    ) -> UploadFileMetadata:
        mid = path_segment(metadata_id, "upload_file_metadata_id")
        return await self._get(
            self._path(f"/upload-file-metadata/{mid}"),
            into=upload_meta_decoder,
            timeout=timeout,
            extra_headers=extra_headers,
            max_retries=max_retries,
        )

    async def _fetch_jobs(self, ids: list[str]) -> dict[str, BackgroundJob]:
        found = {job.id: job for job in await self.list_jobs(ids)}
        missing = [i for i in ids if i not in found]
        if missing:  # the poller bisects the batch to fail only these ids' waiters
            raise NotFoundError(
                f"unknown background job(s): {', '.join(missing[:5])}"
                + (" ..." if len(missing) > 5 else ""),
                status_code=404,
                method="POST",
                url=self._path("/background-jobs"),
            )
        return found

    async def _fetch_uploads(self, ids: list[str]) -> dict[str, UploadFileMetadata]:
        # no transport retries: the poller owns the retry schedule and the waiters' deadlines
        return {mid: await self.upload_status(mid, max_retries=0) for mid in ids}

    # -- waiting -----------------------------------------------------------------------------

    async def wait(
        self, job_id: str, *, timeout: float | None, raise_on_failure: bool
    ) -> BackgroundJob:
        positive_seconds(timeout)
        return await self.jobs.wait(job_id, timeout=timeout, raise_on_failure=raise_on_failure)

    def as_completed(
        self, job_ids: Iterable[str], *, timeout: float | None, raise_on_failure: bool
    ) -> JobIterator[BackgroundJob]:
        positive_seconds(timeout)
        return self.jobs.as_completed(job_ids, timeout=timeout, raise_on_failure=raise_on_failure)

    async def wait_for_upload(
        self, metadata_id: str, *, timeout: float | None, interval: float, max_interval: float
    ) -> UploadFileMetadata:
        """Wait until the upload's knowledge item exists. ``interval``/``max_interval`` set the
        schedule of the client's upload waits (shared by the waits running at once; transient
        failures are retried on the same schedule)."""
        positive_seconds(timeout)
        first = positive_seconds(interval, "interval")
        cap = positive_seconds(max_interval, "max_interval")
        assert first is not None and cap is not None
        cap = max(first, cap)
        poller = self.uploads
        if (poller.interval_initial, poller.interval_max) != (first, cap):
            poller.configure(
                interval_initial=first,
                interval_max=cap,
                error_backoff_initial=first,
                error_backoff_max=cap,
            )
        return await poller.wait(metadata_id, timeout=timeout)

    async def aclose(self) -> None:
        """Stop both pollers; waits still pending raise ClientStateError."""
        await self.jobs.aclose()
        await self.uploads.aclose()


def _job_state(job: BackgroundJob) -> str:
    return job.status


def _upload_state(meta: UploadFileMetadata) -> str:
    return "COMPLETED" if meta.done else "RUNNING"


def _classify_upload(state: str) -> JobState:
    return "completed" if state == "COMPLETED" else "running"
