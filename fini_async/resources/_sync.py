"""``client.knowledge.sync_sources``: the refresh workflow of FINI-V2.md §2-4 in one call.

Refresh the sources -> wait until their fetches end -> list the ones whose content changed ->
bulk-generate knowledge from them -> wait for every job on the shared poller -> optionally publish
the drafts. Each document gets a :class:`SyncDocumentResult`; a failure of one document (its
fetch, its job, its publish, or the bulk call that queued it) is recorded there and never stops
the others. Everything runs inside the caller's task (task groups and ``async with`` waits), so
cancelling the call leaves nothing of it running.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .._exceptions import APIResponseValidationError, JobFailedError, ValidationError
from .._validate import int_in, uuid_str
from ._knowledge_jobs import KnowledgeJob

if TYPE_CHECKING:
    import anyio.abc

    from .._client import FiniClient
    from ._sources_models import SourceDocument

__all__ = ["SYNC_STAGES", "SyncDocumentResult", "SyncOptions", "SyncProgress", "SyncReport"]

#: The stages a sync goes through, in order (``SyncProgress.stage``).
SYNC_STAGES = ("refresh", "list", "generate", "wait", "done")
#: Source types the refresh route refuses (a raw file cannot be re-fetched).
_UNREFRESHABLE = ("files",)


@dataclass(frozen=True)
class SyncDocumentResult:
    """What became of one source document. ``job_id`` is the knowledge job queued for it
    (None when none was), ``article_id`` the draft (or article) the job created or updated,
    ``live_article_id`` the live article after publishing (it may differ from ``article_id``:
    a draft of its own becomes a new live article), ``published`` whether that publish
    happened, ``error`` the exception that stopped this document (None when it went through)."""

    document_id: str
    job_id: str | None = None
    article_id: str | None = None
    live_article_id: str | None = None
    published: bool = False
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class SyncProgress:
    """A snapshot of a sync, for a progress bar: the ``stage`` (one of :data:`SYNC_STAGES`),
    how many sources were ``refreshed``, how many ``changed`` (the documents to generate:
    ``total``), how many documents ``finished`` (``failed`` of them) and were ``published``,
    and ``result``: the document result that just finished, if this snapshot is about one."""

    stage: str
    refreshed: int
    total: int
    finished: int
    failed: int
    published: int
    result: SyncDocumentResult | None = None

    @property
    def done(self) -> bool:
        return self.stage == "done"


@dataclass(frozen=True)
class SyncReport:
    """The outcome of a sync: the ids ``refreshed`` and one result per document that was
    generated, or whose fetch failed, in the order of the sources asked for."""

    refreshed: list[str]
    results: list[SyncDocumentResult]

    @property
    def failed(self) -> list[SyncDocumentResult]:
        return [r for r in self.results if r.error is not None]

    @property
    def ok(self) -> bool:
        """True when no document failed."""
        return not self.failed


@dataclass
class SyncOptions:
    """The validated arguments of one sync (see :meth:`KnowledgeResource.sync_sources`)."""

    ids: list[str] | None
    publish: bool
    only_changed: bool
    generate_options: dict[str, Any]
    refresh_timeout: float | None
    job_timeout: float | None
    bulk_size: int
    publish_concurrency: int
    on_progress: Callable[[SyncProgress], object] | None

    @classmethod
    def check(cls, ids: Iterable[str] | str | None, **values: Any) -> SyncOptions:
        """Validate everything before any request."""
        for name in ("publish", "only_changed"):
            if not isinstance(values[name], bool):
                raise ValidationError(f"{name} must be True or False", field=name)
        for name in ("refresh_timeout", "job_timeout"):
            value = values[name]
            ok = value is None or (isinstance(value, (int, float)) and not isinstance(value, bool))
            if not ok or (value is not None and value <= 0):
                raise ValidationError(f"{name} must be a positive number or None", field=name)
        values["bulk_size"] = int_in(values["bulk_size"], 1, None, "bulk_size")
        concurrency = values["publish_concurrency"]
        values["publish_concurrency"] = int_in(concurrency, 1, None, "publish_concurrency")
        callback = values["on_progress"]
        if callback is not None and not callable(callback):
            raise ValidationError("on_progress must be callable", field="on_progress")
        return cls(ids=_check_ids(ids), **values)


def _check_ids(ids: Iterable[str] | str | None) -> list[str] | None:
    if ids is None:
        return None
    if isinstance(ids, str):
        ids = [ids]
    if isinstance(ids, bytes) or not isinstance(ids, Iterable):
        raise ValidationError("ids must be a list of source ids", field="ids")
    checked = list(dict.fromkeys(uuid_str(i, "ids") for i in ids))
    if not checked:
        raise ValidationError("ids must not be empty (None syncs every source)", field="ids")
    return checked


@dataclass
class SourceSync:
    """One run of the workflow: its counters and the results so far."""

    client: FiniClient
    options: SyncOptions
    stage: str = "refresh"
    refreshed: list[str] = field(default_factory=list)
    total: int = 0
    published: int = 0
    results: dict[str, SyncDocumentResult] = field(default_factory=dict)

    def _report(self, result: SyncDocumentResult | None = None) -> None:
        if result is not None:
            self.results[result.document_id] = result
            self.published += result.published
        if self.options.on_progress is not None:
            failed = sum(r.error is not None for r in self.results.values())
            self.options.on_progress(
                SyncProgress(
                    stage=self.stage,
                    refreshed=len(self.refreshed),
                    total=self.total,
                    finished=len(self.results),
                    failed=failed,
                    published=self.published,
                    result=result,
                )
            )

    def _enter(self, stage: str) -> None:
        self.stage = stage
        self._report()

    async def run(self) -> SyncReport:
        self._enter("refresh")
        ids = self.options.ids if self.options.ids is not None else await self._every_source()
        if ids:
            await self.client.sources.refresh(ids)
            self.refreshed = ids
            fetched = await self._wait_for_fetches(ids)
            self._enter("list")
            todo = await self._changed(fetched) if self.options.only_changed else fetched
            self.total = len(todo)
            self._enter("generate")
            jobs = await self._generate(todo)
            self._enter("wait")
            if jobs:
                await self._wait(jobs)
        self._enter("done")
        order = {doc: i for i, doc in enumerate(ids)}
        results = sorted(self.results.values(), key=lambda r: order.get(r.document_id, len(ids)))
        return SyncReport(refreshed=list(self.refreshed), results=results)

    async def _every_source(self) -> list[str]:
        return [
            doc.id
            async for doc in self.client.sources.list(page_size=100)
            if doc.source not in _UNREFRESHABLE
        ]

    async def _wait_for_fetches(self, ids: list[str]) -> list[str]:
        """The ids whose fetch succeeded; a failed fetch is that document's result."""
        docs = await self.client.sources.wait_for_refresh(
            ids, timeout=self.options.refresh_timeout, raise_on_failure=False
        )
        fetched = []
        for doc in docs:
            if _fetch_failed(doc):
                error = JobFailedError(
                    f"refreshing source {doc.id} failed: {doc.error or doc.linked_job_status}",
                    job=doc,
                )
                self._report(SyncDocumentResult(doc.id, error=error))
            else:
                fetched.append(doc.id)
        return fetched

    async def _changed(self, fetched: list[str]) -> list[str]:
        wanted = set(fetched)
        changed = {doc.id async for doc in self.client.sources.list(changed=True, page_size=100)}
        return [i for i in fetched if i in changed and i in wanted]

    async def _generate(self, todo: list[str]) -> list[KnowledgeJob]:
        """Queue one job per document, ``bulk_size`` documents per bulk call; a refused call
        fails its own documents only."""
        jobs: list[KnowledgeJob] = []
        size = self.options.bulk_size
        for start in range(0, len(todo), size):
            chunk = todo[start : start + size]
            try:
                queued = await self.client.knowledge.bulk_generate(
                    chunk, **self.options.generate_options
                )
            except Exception as exc:
                for doc in chunk:
                    self._report(SyncDocumentResult(doc, error=exc))
                continue
            by_doc = {job.document_id: job for job in queued}
            for doc in chunk:
                job = by_doc.get(doc)
                if job is None:
                    missing = APIResponseValidationError(f"no job was queued for document {doc}")
                    self._report(SyncDocumentResult(doc, error=missing))
                else:
                    jobs.append(job)
        return jobs

    async def _wait(self, jobs: list[KnowledgeJob]) -> None:
        """Wait for every job; publish each draft as its job completes (concurrently with the
        wait). An error that ends the wait (a timeout, an unknown id) fails the jobs left."""
        limiter = anyio.CapacityLimiter(self.options.publish_concurrency)
        async with anyio.create_task_group() as tg:
            try:
                iterator = self.client.knowledge.as_completed(
                    jobs, timeout=self.options.job_timeout
                )
                async with iterator:
                    async for job in iterator:
                        self._job_done(job, tg, limiter)
            except Exception as exc:
                for job in jobs:
                    if job.document_id not in self.results:
                        self._report(_job_result(job, error=exc))

    def _job_done(
        self, job: KnowledgeJob, tg: anyio.abc.TaskGroup, limiter: anyio.CapacityLimiter
    ) -> None:
        if job.failed:
            error = JobFailedError(f"knowledge job {job.id} failed", job=job.last_status)
            self._report(_job_result(job, error=error))
        elif self.options.publish and job.hc_article_id:
            tg.start_soon(self._publish, job, limiter)
        else:
            self._report(_job_result(job))

    async def _publish(self, job: KnowledgeJob, limiter: anyio.CapacityLimiter) -> None:
        draft_id = job.hc_article_id or ""
        try:
            async with limiter:
                draft = await self.client.articles.get(draft_id)
                # the route needs the content fields: publish the draft as the job wrote it
                live = await self.client.articles.publish(draft)
        except Exception as exc:
            self._report(_job_result(job, error=exc))
            return
        self._report(_job_result(job, live_article_id=live.id, published=True))


def _fetch_failed(doc: SourceDocument) -> bool:
    status = (doc.linked_job_status or "").upper()
    return status == "FAILED" or (status != "COMPLETED" and bool(doc.error))


def _job_result(
    job: KnowledgeJob,
    *,
    error: Exception | None = None,
    live_article_id: str | None = None,
    published: bool = False,
) -> SyncDocumentResult:
    return SyncDocumentResult(
        document_id=job.document_id or "",
        job_id=job.id,
        article_id=job.hc_article_id,
        live_article_id=live_article_id,
        published=published,
        error=error,
    )
