"""Waiting for Sharely's background processing: an upload's knowledge item, and background jobs
(Temporal workflows) one at a time or as they complete, through one shared poller
(:class:`SharelyJobs`). :class:`KnowledgeResource` (``sharely.knowledge``) inherits these
methods."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from .._config import TimeoutTypes
from .._poller import JobIterator, JobPoller
from .._validate import non_empty_str, path_segment, str_list
from ._job_models import BackgroundJob
from ._jobs import SharelyJobs
from ._knowledge_access import KnowledgeAccess
from ._models import UploadedFile, UploadFileMetadata

if TYPE_CHECKING:
    from .._transport import Transport
    from ._client import SharelyClient

__all__ = ["KnowledgeWaits", "metadata_id"]


class KnowledgeWaits(KnowledgeAccess):
    """Waits on uploads and background jobs (a base of :class:`KnowledgeResource`)."""

    __slots__ = ("_waits",)

    def __init__(self, client: SharelyClient, transport: Transport) -> None:
        super().__init__(client, transport)
        self._waits = SharelyJobs(client, transport, self._path)

    @property
    def poller(self) -> JobPoller[BackgroundJob]:
        """The poller behind :meth:`wait` and :meth:`as_completed` (read ``running``,
        ``pending``; tune it with ``configure(...)``)."""
        return self._waits.jobs

    async def wait_for_upload(
        self,
        upload_file_metadata_id: str | UploadedFile,
        *,
        timeout: float | None = 600,
        interval: float = 0.25,
        max_interval: float = 5.0,
    ) -> UploadFileMetadata:
        """Poll the upload's metadata until its knowledge item exists, and return it.

        Polls every ``interval`` seconds, growing to ``max_interval`` (the client's concurrent
        upload waits share one polling task and the latest schedule). Transient failures (429,
        5xx, connection errors) keep it polling. Raises :class:`JobTimeoutError` (``job`` = the
        last metadata seen) after ``timeout`` seconds, :class:`NotFoundError` for an unknown id.
        Cancelling it leaves nothing running."""
        mid = metadata_id(upload_file_metadata_id)
        path_segment(mid, "upload_file_metadata_id")
        return await self._waits.wait_for_upload(
            mid, timeout=timeout, interval=interval, max_interval=max_interval
        )

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
        ids = None if job_ids is None else str_list(job_ids, "job_ids", allow_empty=False)
        return await self._waits.list_jobs(ids, timeout=timeout, extra_headers=extra_headers)

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
        return await self._waits.wait(jid, timeout=timeout, raise_on_failure=raise_on_failure)

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
        return self._waits.as_completed(ids, timeout=timeout, raise_on_failure=raise_on_failure)

    def add_progress_callback(
        self, callback: Callable[[str, BackgroundJob], None]
    ) -> Callable[[], None]:
        """Call ``callback(job_id, job)`` on every status polled; returns a remover."""
        return self._waits.jobs.add_progress_callback(callback)

    async def aclose(self) -> None:
        """Stop waiting: waits still pending raise :class:`ClientStateError`."""
        await self._waits.aclose()

    _aclose = aclose  # the name SharelyClient.aclose calls


def metadata_id(value: str | UploadedFile) -> str:
    """The upload-file-metadata id of an upload's answer, or a checked id."""
    if isinstance(value, UploadedFile):
        return value.metadata_id
    return non_empty_str(value, "upload_file_metadata_id")
