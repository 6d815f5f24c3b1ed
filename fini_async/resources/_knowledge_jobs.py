"""Knowledge-job handles: :class:`KnowledgeJob` (one queued job, with the status last seen),
the iterator ``as_completed`` returns, and the checks that turn ids or handles into handles.
``knowledge.py`` re-exports the public names.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .._exceptions import APIResponseValidationError, JobError, ValidationError
from .._poller import JobIterator, JobPoller
from ._knowledge_models import JobStatus

if TYPE_CHECKING:
    from .knowledge import KnowledgeResource

__all__ = ["JobLike", "KnowledgeJob", "KnowledgeJobIterator"]


# -- the job handle ----------------------------------------------------------------------------


class KnowledgeJob:
    """A handle on one queued knowledge-generation job.

    ``id`` is the ``backgroundJobId``; ``document_id`` is the source document it was queued for
    (bulk generation), if any; ``last_status`` is the last :class:`JobStatus` seen (updated by
    ``wait``, ``refresh``, ``as_completed`` and ``get_jobs``)."""

    __slots__ = ("_resource", "document_id", "id", "last_status")

    def __init__(
        self,
        id: str,
        resource: KnowledgeResource | None = None,
        *,
        document_id: str | None = None,
        last_status: JobStatus | None = None,
    ) -> None:
        self.id = id
        self.document_id = document_id
        self.last_status = last_status
        self._resource = resource

    def __repr__(self) -> str:
        doc = f" document_id={self.document_id!r}" if self.document_id else ""
        return f"<KnowledgeJob {self.id!r}{doc} status={self.status!r}>"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, KnowledgeJob):
            return self.id == other.id and self.document_id == other.document_id
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.id, self.document_id))

    @property
    def status(self) -> str | None:
        """The raw state last seen (``COMPLETED``, ...), None before any status was read."""
        return None if self.last_status is None else self.last_status.status

    @property
    def hc_article_id(self) -> str | None:
        return None if self.last_status is None else self.last_status.hc_article_id

    @property
    def done(self) -> bool:
        """Whether the job was last seen finished (completed or failed)."""
        return self.last_status is not None and self.last_status.is_terminal

    @property
    def completed(self) -> bool:
        return self.last_status is not None and self.last_status.is_completed

    @property
    def failed(self) -> bool:
        return self.last_status is not None and self.last_status.is_failed

    def _bound(self) -> KnowledgeResource:
        if self._resource is None:
            raise ValidationError(
                "this KnowledgeJob is not bound to a client: use client.knowledge.wait(job)",
                field="job",
            )
        return self._resource

    async def wait(
        self, *, timeout: float | None = 600, raise_on_failure: bool = True
    ) -> KnowledgeJob:
        """Wait for this job to finish; see :meth:`KnowledgeResource.wait`."""
        return await self._bound().wait(self, timeout=timeout, raise_on_failure=raise_on_failure)

    async def refresh(self) -> JobStatus:
        """Read this job's status now (one ``jobs/status`` call) and return it."""
        statuses = await self._bound().get_jobs([self])
        if not statuses:
            raise APIResponseValidationError(f"the status of job {self.id} was not returned")
        return statuses[0]


JobLike = KnowledgeJob | str


class KnowledgeJobIterator(JobIterator[KnowledgeJob]):
    """What :meth:`KnowledgeResource.as_completed` returns: a :class:`~fini_async.JobIterator`
    of :class:`KnowledgeJob` handles (each with ``last_status`` set as its job finishes), and an
    async context manager that stops waiting on exit."""

    def __init__(
        self,
        poller: JobPoller[JobStatus],
        handles: Sequence[KnowledgeJob],
        *,
        timeout: float | None,
        raise_on_failure: bool,
    ) -> None:
        self._by_id: dict[str, list[KnowledgeJob]] = {}
        for handle in handles:
            self._by_id.setdefault(handle.id, []).append(handle)
        super().__init__(poller, self._by_id, timeout=timeout, raise_on_failure=raise_on_failure)

    def _deliver(self, status: JobStatus) -> list[KnowledgeJob]:
        handles = self._by_id.get(status.id, [])
        for handle in handles:
            handle.last_status = status
        return handles

    def _on_job_error(self, exc: JobError) -> None:
        if isinstance(exc.job, JobStatus):
            for handle in self._by_id.get(exc.job.id, ()):
                handle.last_status = exc.job


def _handle(job: Any, resource: KnowledgeResource, field: str) -> KnowledgeJob:
    if isinstance(job, KnowledgeJob):
        if job._resource is None:
            job._resource = resource
        return job
    if isinstance(job, str) and job.strip():
        return KnowledgeJob(job, resource)
    raise ValidationError(
        f"{field} must hold KnowledgeJob handles or non-empty job ids, got {job!r}", field=field
    )


def _split(
    jobs: Any, field: str, resource: KnowledgeResource
) -> tuple[list[KnowledgeJob], list[str]]:
    if isinstance(jobs, (str, bytes, KnowledgeJob)) or not isinstance(jobs, Iterable):
        raise ValidationError(f"{field} must be a list of jobs or job ids", field=field)
    handles = [_handle(j, resource, field) for j in jobs]
    if not handles:
        raise ValidationError(f"{field} must not be empty", field=field)
    return handles, list(dict.fromkeys(h.id for h in handles))
