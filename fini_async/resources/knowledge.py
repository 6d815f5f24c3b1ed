"""``client.knowledge``: knowledge generation (background jobs) and waiting on those jobs.

``generate`` and ``bulk_generate`` queue jobs and return :class:`KnowledgeJob` handles;
``get_jobs`` reads statuses; ``wait``, ``as_completed`` and ``KnowledgeJob.wait`` wait on jobs
through one coalescing poller per client (see :mod:`fini_async._poller`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import anyio

from .._config import TimeoutTypes
from .._exceptions import APIResponseValidationError, JobError, ValidationError
from .._multipart import FileInput, Upload, multipart_body
from .._poller import JobPoller, make_classifier
from .._validate import non_empty_str, one_of, optional_str
from ._base import Resource, raw_body
from ._knowledge_jobs import JobLike, KnowledgeJob, KnowledgeJobIterator, _handle, _split

# The wire structs live in _knowledge_models; the public names are re-exported from here.
from ._knowledge_models import (
    RESTRICTED_OPS,
    BulkGenerateBody,
    GenerateBody,
    JobStatus,
    JobStatusBody,
    TreeInitBody,
    TreePersistResult,
    _bool,
    _bulk,
    _bulk_list,
    _decode_statuses,
    _options,
    _persisted,
    _queued,
    _QueuedJob,
    _tree_content_type,
)
from ._sync import SourceSync, SyncOptions, SyncProgress, SyncReport

if TYPE_CHECKING:
    from .._client import FiniClient
    from .._transport import Transport

__all__ = [
    "JOB_STATUSES",
    "ORIGINS",
    "RESTRICTED_OPS",
    "STATUS_CHUNK_SIZE",
    "JobStatus",
    "KnowledgeJob",
    "KnowledgeJobIterator",
    "KnowledgeResource",
    "TreePersistResult",
]

GENERATE_PATH = "/v2/knowledge/public"
BULK_PATH = "/v2/knowledge/public/bulk"
STATUS_PATH = "/v2/knowledge/public/jobs/status"
TREE_INIT_PATH = "/v2/knowledge/public/tree/initialize"
TREE_PERSIST_PATH = "/v2/knowledge/public/tree/persist"
#: The file name a tree sent as bytes goes by (the one the docs save the template as).
TREE_FILENAME = "fini-tree-template.csv"

#: The origins ``generate`` accepts.
ORIGINS = ("generated", "sources", "inbox")
#: The documented job states. Others may appear: they mean "still running".
JOB_STATUSES = ("PENDING", "IN_PROGRESS", "COMPLETED", "FAILED")
#: The most job ids sent in one ``jobs/status`` call.
STATUS_CHUNK_SIZE = 100


# -- polling ------------------------------------------------------------------------------


_classify = make_classifier(
    completed=["COMPLETED"],
    failed=["FAILED"],
    running=["PENDING", "IN_PROGRESS"],
    name="knowledge jobs",
)


def _state_of(status: JobStatus) -> str:
    return status.status


# -- the resource ------------------------------------------------------------------------------


class KnowledgeResource(Resource["FiniClient"]):
    """Generate knowledge from text or ingested sources, and wait for the background jobs.

    ``poller`` is the client's one :class:`~fini_async.JobPoller`; tune it with
    :meth:`configure_polling`."""

    __slots__ = ("poller",)

    def __init__(self, client: FiniClient, transport: Transport) -> None:
        super().__init__(client, transport)
        self.poller: JobPoller[JobStatus] = JobPoller(
            self._fetch_for_poller,
            state_of=_state_of,
            classify=_classify,
            chunk_size=STATUS_CHUNK_SIZE,
            max_chunk_size=STATUS_CHUNK_SIZE,
            name="knowledge jobs",
        )

    # -- queueing ------------------------------------------------------------------------------

    async def generate(
        self,
        candidate_knowledge: str,
        *,
        origin: str = "generated",
        document_id: str | None = None,
        hc_event_id: str | None = None,
        restricted_ops: Iterable[str] | str | None = None,
        instructions: str | None = None,
        bot_id: str | None = None,
        is_draft: bool = True,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> KnowledgeJob:
        """Queue one knowledge-generation job from ``candidate_knowledge`` (needs ``write``).

        ``origin`` is ``generated`` (default), ``sources`` (needs ``document_id``) or ``inbox``
        (needs ``hc_event_id``). ``restricted_ops`` limits what the pipeline may do
        (``ADD_ARTICLE_TO_FOLDER``, ``UPDATE_ARTICLE``, ``DO_NOTHING``). With ``is_draft=True``
        (the default) the result is a draft that changes no live answer until published.

        Raises :class:`ValidationError` (naming the field, before any request) for empty text,
        an unknown origin, a missing ``document_id``/``hc_event_id`` or an unknown
        ``restricted_ops`` value. Never repeated once the server may have queued the job (only
        a refused connection, 429 or 503 is retried), so a timeout or dropped connection raises
        instead of risking a duplicate job. HTTP failures raise the typed ``APIError``s."""
        body = GenerateBody(
            candidate_knowledge=non_empty_str(candidate_knowledge, "candidate_knowledge"),
            origin=one_of(origin, ORIGINS, "origin"),
            is_draft=_bool(is_draft, "is_draft"),
        )
        if origin == "sources" and document_id is None:
            raise ValidationError("origin 'sources' needs a document_id", field="document_id")
        if origin == "inbox" and hc_event_id is None:
            raise ValidationError("origin 'inbox' needs an hc_event_id", field="hc_event_id")
        if document_id is not None:
            body.document_id = non_empty_str(document_id, "document_id")
        if hc_event_id is not None:
            body.hc_event_id = non_empty_str(hc_event_id, "hc_event_id")
        _options(body, restricted_ops, instructions, bot_id)
        resp = await self._send(
            "POST",
            GENERATE_PATH,
            body=body,
            timeout=timeout,
            extra_headers=extra_headers,
            idempotent=False,
        )
        queued = _queued.decode(resp.content, status=resp.status)
        job_id = queued.the_id()
        if not job_id:
            raise APIResponseValidationError(
                "the response holds no backgroundJobId", body=resp.content, status_code=resp.status
            )
        doc = document_id if queued.document_id is None else str(queued.document_id)
        return KnowledgeJob(job_id, self, document_id=doc)

    async def bulk_generate(
        self,
        document_ids: Iterable[str],
        *,
        restricted_ops: Iterable[str] | str | None = None,
        instructions: str | None = None,
        bot_id: str | None = None,
        is_draft: bool = True,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> list[KnowledgeJob]:
        """Queue one job per ingested source document; returns one handle per document, in the
        order of ``document_ids``, each with its ``document_id``.

        Raises :class:`ValidationError` (before any request) for an empty list, an id that is
        not a non-empty string or an unknown ``restricted_ops`` value. Like :meth:`generate`, it
        is never repeated once the server may have queued the jobs."""
        if isinstance(document_ids, (str, bytes)) or not isinstance(document_ids, Iterable):
            raise ValidationError("document_ids must be a list of ids", field="document_ids")
        ids = list(document_ids)
        if not ids:
            raise ValidationError("document_ids must not be empty", field="document_ids")
        for item in ids:
            if not isinstance(item, str) or not item.strip():
                raise ValidationError(
                    f"document_ids must hold non-empty strings, got {item!r}", field="document_ids"
                )
        body = BulkGenerateBody(
            document_ids=ids, origin="sources", is_draft=_bool(is_draft, "is_draft")
        )
        _options(body, restricted_ops, instructions, bot_id)
        resp = await self._send(
            "POST",
            BULK_PATH,
            body=body,
            timeout=timeout,
            extra_headers=extra_headers,
            idempotent=False,
        )
        if resp.content.lstrip()[:1] == b"[":
            queued = _bulk_list.decode(resp.content, status=resp.status)
        else:
            queued = _bulk.decode(resp.content, status=resp.status).jobs
        return self._pair(ids, queued, resp.content, resp.status)

    def _pair(
        self, ids: list[str], queued: list[_QueuedJob], raw: bytes, status: int
    ) -> list[KnowledgeJob]:
        jobs: list[KnowledgeJob] = []
        for position, item in enumerate(queued):
            job_id = item.the_id()
            if not job_id:
                raise APIResponseValidationError(
                    "a bulk job holds no backgroundJobId", body=raw, status_code=status
                )
            if item.document_id is not None:
                doc: str | None = str(item.document_id)
            elif len(queued) == len(ids):
                doc = ids[position]  # no documentId: the jobs follow the request's order
            else:
                doc = None
            jobs.append(KnowledgeJob(job_id, self, document_id=doc))
        order = {doc: i for i, doc in reversed(list(enumerate(ids)))}
        return sorted(jobs, key=lambda j: order.get(j.document_id or "", len(ids)))

    # -- the refresh workflow --------------------------------------------------------------------

    async def sync_sources(
        self,
        ids: Iterable[str] | str | None = None,
        *,
        publish: bool = False,
        only_changed: bool = True,
        restricted_ops: Iterable[str] | str | None = None,
        instructions: str | None = None,
        bot_id: str | None = None,
        refresh_timeout: float | None = 600,
        job_timeout: float | None = 600,
        bulk_size: int = 100,
        publish_concurrency: int = 8,
        on_progress: Callable[[SyncProgress], object] | None = None,
    ) -> SyncReport:
        """Bring generated knowledge up to date with its sources: refresh ``ids`` (None: every
        source but raw files) -> wait for the fetches -> list those that ``changed`` (all that
        fetched with ``only_changed=False``) -> :meth:`bulk_generate` drafts, ``bulk_size``
        documents per call -> wait for every job -> with ``publish=True`` publish each draft.

        Returns a :class:`SyncReport` with one :class:`SyncDocumentResult` per document; a
        failure of one document is recorded there and never stops the others.
        ``on_progress(SyncProgress)`` is called at each stage and as each document finishes.
        Raises :class:`ValidationError` before any request for bad arguments; a refused
        refresh (400: an unknown id, all or nothing) or a fetch wait that times out raises.
        Cancelling leaves nothing running (queued jobs go on on the server)."""
        options = SyncOptions.check(
            ids,
            publish=publish,
            only_changed=only_changed,
            generate_options=_generate_options(restricted_ops, instructions, bot_id),
            refresh_timeout=refresh_timeout,
            job_timeout=job_timeout,
            bulk_size=bulk_size,
            publish_concurrency=publish_concurrency,
            on_progress=on_progress,
        )
        return await SourceSync(self._client, options).run()

    # -- the knowledge tree ----------------------------------------------------------------------

    async def initialize_tree(
        self,
        prompt: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> bytes:
        """Generate a folder/article scaffold from ``prompt`` and return the file the API
        answers (its bytes, not JSON: a CSV, which the docs save as
        ``fini-tree-template.csv``). Edit it, then import it with :meth:`persist_tree`.

        Nothing is stored by this call, so it is retried like a read. :class:`ValidationError`
        for an empty prompt, before any request; 500 (:class:`InternalServerError`) when the
        generation failed."""
        return await self._post(
            TREE_INIT_PATH,
            into=raw_body,
            body=TreeInitBody(init_prompt=non_empty_str(prompt, "prompt")),
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def persist_tree(
        self,
        file: FileInput,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> TreePersistResult:
        """Import a (possibly edited) tree file into the workspace: a path, bytes (such as what
        :meth:`initialize_tree` returned; named ``fini-tree-template.csv`` unless ``filename``
        says otherwise) or a binary file object, sent as the multipart part ``file`` and
        streamed from disk, never read whole into memory.

        An import changes the workspace, so it is retried (re-opening the file, or rewinding
        the caller's file object) only when the server surely did not process it (connect
        failure, 429, 503). :class:`ValidationError` before any request for a missing path or
        a text-mode file; 500 (:class:`InternalServerError`) when the server could not import
        the file (check its format)."""
        name = optional_str(filename, "filename")
        if name is None and isinstance(file, (bytes, bytearray, memoryview)):
            name = TREE_FILENAME
        upload = Upload(file, name, content_type, _tree_content_type)
        if not upload.resendable and max_retries is None:
            max_retries = 0
        try:
            resp = await self._send(
                "POST",
                TREE_PERSIST_PATH,
                content_factory=multipart_body([], upload),
                idempotent=False,
                timeout=timeout,
                max_retries=max_retries,
                extra_headers=extra_headers,
            )
        finally:
            upload.close_all()
        return _persisted.decode(resp.content, status=resp.status)

    # -- statuses ------------------------------------------------------------------------------

    async def get_jobs(
        self,
        job_ids: Iterable[JobLike],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> list[JobStatus]:
        """The statuses of ``job_ids`` (ids or :class:`KnowledgeJob` handles, which are updated),
        in the order asked (duplicates once). More than 100 ids are split into several
        concurrent ``jobs/status`` calls.

        Raises :class:`ValidationError` for an empty list or a bad id (before any request),
        :class:`NotFoundError` when any id is unknown (the API fails the whole batch: use
        :meth:`wait` to isolate unknown ids), and the typed ``APIError``s otherwise."""
        handles, ids = _split(job_ids, "job_ids", self)
        chunks = [ids[i : i + STATUS_CHUNK_SIZE] for i in range(0, len(ids), STATUS_CHUNK_SIZE)]
        results: list[list[JobStatus]] = [[] for _ in chunks]
        errors: list[BaseException] = []

        async def one(index: int, chunk: list[str], scope: anyio.CancelScope) -> None:
            try:
                results[index] = await self._fetch(chunk, timeout, extra_headers, None)
            except Exception as exc:
                errors.append(exc)
                scope.cancel()

        if len(chunks) == 1:
            results[0] = await self._fetch(chunks[0], timeout, extra_headers, None)
        else:
            async with anyio.create_task_group() as tg:
                for index, chunk in enumerate(chunks):
                    tg.start_soon(one, index, chunk, tg.cancel_scope)
            if errors:
                raise errors[0]
        by_id = {s.id: s for chunk in results for s in chunk}
        for handle in handles:
            handle.last_status = by_id.get(handle.id, handle.last_status)
        return [by_id[i] for i in ids if i in by_id]

    async def _fetch(
        self,
        ids: list[str],
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
        max_retries: int | None,
    ) -> list[JobStatus]:
        return await self._post(
            STATUS_PATH,
            into=_decode_statuses,
            body=JobStatusBody(job_ids=ids),
            idempotent=True,
            timeout=timeout,
            extra_headers=extra_headers,
            max_retries=max_retries,
        )

    async def _fetch_for_poller(self, ids: list[str]) -> Mapping[str, JobStatus]:
        # no transport retries: the poller owns the retry schedule and the waiters' deadlines
        return {s.id: s for s in await self._fetch(ids, None, None, 0)}

    # -- waiting -------------------------------------------------------------------------------

    async def wait(
        self, job: JobLike, *, timeout: float | None = 600, raise_on_failure: bool = True
    ) -> KnowledgeJob:
        """Wait until ``job`` (a handle or an id) finishes and return its handle, with
        ``last_status`` set. All waits of a client share one poller: 1,000 concurrent waits
        cost one ``jobs/status`` call per 100 pending ids per tick.

        ``COMPLETED`` returns. ``FAILED`` raises :class:`JobFailedError` (``job`` = the
        :class:`JobStatus`) unless ``raise_on_failure=False``. After ``timeout`` seconds (None:
        no limit) :class:`JobTimeoutError` carries the last status seen (or None); the job can be
        waited on again. :class:`NotFoundError` when the server does not know the id; the
        status call's error when retrying cannot help (401, 403, ...). Transient status-call
        failures (429, 5xx, connection) are retried and only surface as a timeout.
        :class:`ValidationError` for a bad id or timeout. Cancelling one wait disturbs no other."""
        handle = _handle(job, self, "job")
        try:
            status = await self.poller.wait(
                handle.id, timeout=timeout, raise_on_failure=raise_on_failure
            )
        except JobError as exc:
            if isinstance(exc.job, JobStatus):
                handle.last_status = exc.job
            raise
        handle.last_status = status
        return handle

    def as_completed(
        self,
        jobs: Iterable[JobLike],
        *,
        timeout: float | None = 600,
        raise_on_failure: bool = False,
    ) -> KnowledgeJobIterator:
        """``async for job in client.knowledge.as_completed(jobs)``: each handle as its job
        finishes (completed or failed; with ``raise_on_failure=True`` a failure raises
        :class:`JobFailedError`). ``timeout`` bounds the whole iteration:
        :class:`JobTimeoutError` then carries the last statuses of the unfinished jobs (a list).
        :class:`NotFoundError` for an unknown id ends the iteration. Use ``async with`` to stop
        waiting early. Raises :class:`ValidationError` for an empty list or a bad id."""
        handles, _ = _split(jobs, "jobs", self)
        return KnowledgeJobIterator(
            self.poller, handles, timeout=timeout, raise_on_failure=raise_on_failure
        )

    def add_progress_callback(
        self, callback: Callable[[str, JobStatus], None]
    ) -> Callable[[], None]:
        """Call ``callback(job_id, status)`` whenever a waited-on job changes state (including
        its final state), e.g. to drive a progress bar. Returns a function that removes it."""
        return self.poller.add_progress_callback(callback)

    def configure_polling(
        self,
        *,
        interval_initial: float | None = None,
        interval_max: float | None = None,
        chunk_size: int | None = None,
        error_backoff_initial: float | None = None,
        error_backoff_max: float | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        """Tune the poller: the first tick interval (default 0.25 s), its cap after backing off
        (5 s), ids per status call (100, the most sent at once), the retry schedule of failing
        status calls, and how many status calls run at once (10). Takes effect at the next
        tick. :class:`ValidationError` for values out of range."""
        self.poller.configure(
            interval_initial=interval_initial,
            interval_max=interval_max,
            chunk_size=chunk_size,
            error_backoff_initial=error_backoff_initial,
            error_backoff_max=error_backoff_max,
            max_concurrency=max_concurrency,
        )

    async def aclose(self) -> None:
        """Stop the poller; waits still pending raise :class:`ClientStateError`."""
        await self.poller.aclose()


def _generate_options(
    restricted_ops: Iterable[str] | str | None, instructions: str | None, bot_id: str | None
) -> dict[str, Any]:
    """Check the generation options now (before any request) by building a body with them."""
    _options(
        BulkGenerateBody(document_ids=[], origin="sources", is_draft=True),
        restricted_ops,
        instructions,
        bot_id,
    )
    return {"restricted_ops": restricted_ops, "instructions": instructions, "bot_id": bot_id}
