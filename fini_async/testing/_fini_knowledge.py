"""Emulated knowledge generation: generate, bulk generate and ``jobs/status``.

Jobs move ``PENDING -> IN_PROGRESS -> COMPLETED`` (or ``FAILED`` for inputs a test marks) over
``pending_for`` and ``run_for`` seconds. A job that completes creates or updates an article in the
emulator's knowledge base (``fake.kb``): a draft when ``isDraft``, otherwise a published article
that later ask-question answers use. Configure it through ``fake.knowledge``::

    fake.knowledge.pending_for = 0.05      # seconds in PENDING
    fake.knowledge.run_for = 0.1           # then seconds in IN_PROGRESS
    fake.knowledge.fail_inputs.add("BROKEN")   # candidate texts containing it (or that doc id) fail
    fake.knowledge.documents["doc-1"] = "text of an ingested source"  # used by bulk generate
    fake.knowledge.force_status(job_id, "QUEUED_FOR_REVIEW")  # report a made-up state
    ids = fake.knowledge.create_jobs(10_000)  # queue jobs without HTTP (benchmarks)

Status calls are counted under ``fake.calls["knowledge.jobs.status"]``; ``fake.knowledge.
status_log`` holds ``(monotonic time, ids in the call)`` for each call that reached the handler.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._kb import Article, KnowledgeBase
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeJob", "FakeKnowledge", "knowledge_of"]

ORIGINS = ("sources", "generated", "inbox")
RESTRICTED_OPS = ("ADD_ARTICLE_TO_FOLDER", "UPDATE_ARTICLE", "DO_NOTHING")
#: An existing published article at least this similar is updated rather than added to.
UPDATE_SCORE = 0.35


@dataclass
class FakeJob:
    """One emulated knowledge job."""

    id: str
    text: str
    origin: str
    is_draft: bool
    created: float
    created_at: datetime
    pending_for: float
    run_for: float
    fail: bool = False
    document_id: str | None = None
    hc_event_id: str | None = None
    restricted_ops: list[str] | None = None
    instructions: str | None = None
    bot_id: str | None = None
    forced: str | None = None
    settled: bool = False
    article_id: str | None = None
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)

    def state(self, now: float) -> str:
        if self.forced is not None:
            return self.forced
        elapsed = now - self.created
        if elapsed < self.pending_for:
            return "PENDING"
        if elapsed < self.pending_for + self.run_for:
            return "IN_PROGRESS"
        return "FAILED" if self.fail else "COMPLETED"


class FakeKnowledge:
    """The knowledge-job side of ``FakeFini`` (reachable as ``fake.knowledge``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        #: Seconds a new job stays PENDING, then IN_PROGRESS.
        self.pending_for = 0.05
        self.run_for = 0.1
        #: A job fails when its candidate text contains one of these, or its document id is one.
        self.fail_inputs: set[str] = set()
        #: Text of ingested source documents, by id (bulk generation reads it).
        self.documents: dict[str, str] = {}
        self.jobs: dict[str, FakeJob] = {}
        #: ``(time.monotonic(), number of ids)`` for each status call handled.
        self.status_log: list[tuple[float, int]] = []

    # -- configuration and inspection ------------------------------------------------------------

    def force_status(self, job_id: str, status: str | None) -> None:
        """Report ``status`` for the job from now on (None: back to its own timeline)."""
        self.jobs[job_id].forced = status

    def fail_on(self, marker: str) -> None:
        """Jobs queued from now on whose text contains ``marker`` (or document id equals it)
        end in FAILED."""
        self.fail_inputs.add(marker)

    def create_jobs(
        self,
        count: int,
        *,
        text: str = "Generated knowledge",
        is_draft: bool = True,
        restricted_ops: list[str] | None = None,
    ) -> list[str]:
        """Queue ``count`` jobs directly (no HTTP) and return their ids: for benchmarks and
        tests that need many jobs. By default each job may only add an article, so finishing
        10,000 of them does not search the knowledge base 10,000 times."""
        ops = ["ADD_ARTICLE_TO_FOLDER"] if restricted_ops is None else restricted_ops
        jobs = [
            self.queue(
                f"{text} #{i}",
                origin="generated",
                is_draft=is_draft,
                restricted_ops=ops,
                schedule=False,
            )
            for i in range(count)
        ]
        self.schedule(jobs)
        return [job.id for job in jobs]

    def queue(
        self, text: str, *, origin: str, is_draft: bool, schedule: bool = True, **extra: Any
    ) -> FakeJob:
        """Create a job; unless ``schedule=False`` (then call :meth:`schedule` for a batch),
        its effect on the knowledge base is applied when it finishes."""
        now = time.monotonic()
        doc = extra.get("document_id")
        job = FakeJob(
            id=str(uuid.uuid4()),
            text=text,
            origin=origin,
            is_draft=is_draft,
            created=now,
            created_at=datetime.now(timezone.utc),
            pending_for=self.pending_for,
            run_for=self.run_for,
            fail=any(m in text for m in self.fail_inputs) or (doc in self.fail_inputs),
            **extra,
        )
        self.jobs[job.id] = job
        if schedule:
            self.schedule([job])
        return job

    def schedule(self, jobs: list[FakeJob]) -> None:
        """Apply the effects of ``jobs`` (queued together) with one timer when they finish."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet: the status route settles them when it sees them finished
        if not jobs:
            return
        delay = max(
            job.pending_for + job.run_for - (time.monotonic() - job.created) for job in jobs
        )
        timer = loop.call_later(max(0.0, delay), self.settle_many, jobs)
        for job in jobs:
            job.timer = timer

    def settle(self, job: FakeJob) -> None:
        """Apply a finished job's effect on the knowledge base, once."""
        self.settle_many([job])

    def settle_many(self, jobs: list[FakeJob]) -> None:
        view: KnowledgeBase | None = None  # the published articles, gathered once per batch
        for job in jobs:
            if job.settled:
                continue
            job.settled = True
            job.timer = None
            if job.fail:
                continue
            if view is None:
                view = KnowledgeBase([])
                view.articles = {a.id: a for a in self.fake.kb.articles.values() if not a.draft}
            job.article_id = self._apply(job, view)

    def _apply(self, job: FakeJob, published: KnowledgeBase) -> str | None:
        kb = self.fake.kb
        ops = job.restricted_ops or list(RESTRICTED_OPS)
        if set(ops) == {"DO_NOTHING"}:
            return None
        hits = published.search(job.text, top_k=1) if "UPDATE_ARTICLE" in ops else []
        if hits and hits[0][1] >= UPDATE_SCORE:
            target = hits[0][0]
            if job.is_draft:  # a reviewable draft revision of the matched article
                draft = kb.add(
                    target.title, job.text, draft=True, source_id=target.id, source_type="draft"
                )
                return draft.id
            target.content = job.text
            return target.id
        if "ADD_ARTICLE_TO_FOLDER" not in ops:
            return None
        article = Article(
            title=_title(job.text),
            content=job.text,
            draft=job.is_draft,
            source_id=job.document_id or job.hc_event_id or "",
            source_type=job.origin,
        )
        kb.put(article)
        if not article.draft:
            published.put(article)
        return article.id

    def status(self, job: FakeJob, now: float) -> dict[str, Any]:
        state = job.state(now)
        if state in ("COMPLETED", "FAILED"):
            self.settle(job)
        out: dict[str, Any] = {
            "id": job.id,
            "jobStatus": state,
            "createdAt": _iso(job.created_at),
            "hcArticleId": job.article_id if state == "COMPLETED" else None,
        }
        elapsed = now - job.created
        if elapsed >= job.pending_for or state not in ("PENDING",):
            out["startedAt"] = _iso(job.created_at + timedelta(seconds=job.pending_for))
        if state in ("COMPLETED", "FAILED"):
            done = job.pending_for + job.run_for
            out["completedAt"] = _iso(job.created_at + timedelta(seconds=done))
        return out

    def cancel_timers(self) -> None:
        for job in self.jobs.values():
            if job.timer is not None:
                job.timer.cancel()
                job.timer = None


def knowledge_of(fake: FakeFini) -> FakeKnowledge:
    """The knowledge-job emulator of ``fake`` (the same object as ``fake.knowledge``)."""
    return fake.knowledge


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_SENTENCE = re.compile(r"^(.{1,80}?)(?:[.!?](?:\s|$)|$)", re.S)


def _title(text: str) -> str:
    first = text.strip().splitlines()[0] if text.strip() else "Generated article"
    match = _SENTENCE.match(first)
    title = (match.group(1) if match else first).strip()
    return title[:80] or "Generated article"


# -- routes --------------------------------------------------------------------------------------


def setup(fake: FakeFini, app: web.Application) -> None:
    async def on_cleanup(_app: web.Application) -> None:
        fake.knowledge.cancel_timers()

    app.on_cleanup.append(on_cleanup)

    async def generate(request: web.Request) -> web.StreamResponse:
        return await _generate(fake, request)

    async def bulk_generate(request: web.Request) -> web.StreamResponse:
        return await _bulk_generate(fake, request)

    async def jobs_status(request: web.Request) -> web.StreamResponse:
        return await _jobs_status(fake, request)

    fake.route(app, "POST", "/v2/knowledge/public", "knowledge.generate", "write", generate)
    fake.route(
        app, "POST", "/v2/knowledge/public/bulk", "knowledge.bulk_generate", "write", bulk_generate
    )
    fake.route(
        app,
        "POST",
        "/v2/knowledge/public/jobs/status",
        "knowledge.jobs.status",
        "read",
        jobs_status,
    )


async def _generate(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    emulator = fake.knowledge
    body, error = await _body(fake, request)
    if body is None:
        return error
    problems = []
    text = body.get("candidateKnowledge")
    if not isinstance(text, str) or not text.strip():
        problems.append("candidateKnowledge must be a non-empty string")
    origin = body.get("origin")
    if origin not in ORIGINS:
        problems.append("origin must be one of the following values: sources, generated, inbox")
    if origin == "sources" and not _str(body.get("documentId")):
        problems.append("documentId is required when origin is sources")
    if origin == "inbox" and not _str(body.get("hcEventId")):
        problems.append("hcEventId is required when origin is inbox")
    problems += _common_problems(body)
    if problems:
        return fake.error(400, problems)
    job = emulator.queue(
        text,
        origin=origin,
        is_draft=body.get("isDraft", True),
        document_id=body.get("documentId"),
        hc_event_id=body.get("hcEventId"),
        restricted_ops=body.get("restrictedOps"),
        instructions=body.get("instructions"),
        bot_id=body.get("botId"),
    )
    return json_response({"backgroundJobId": job.id})


async def _bulk_generate(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    emulator = fake.knowledge
    body, error = await _body(fake, request)
    if body is None:
        return error
    problems = []
    ids = body.get("documentIds")
    if not isinstance(ids, list) or not ids or not all(_str(i) for i in ids):
        problems.append("documentIds must be a non-empty array of strings")
    if body.get("origin") != "sources":
        problems.append("origin must be sources")
    problems += _common_problems(body)
    if problems:
        return fake.error(400, problems)
    jobs = []
    queued: list[FakeJob] = []
    for doc in ids:
        text = emulator.documents.get(doc) or f"Knowledge generated from document {doc}."
        job = emulator.queue(
            text,
            schedule=False,
            origin="sources",
            is_draft=body.get("isDraft", True),
            document_id=doc,
            restricted_ops=body.get("restrictedOps"),
            instructions=body.get("instructions"),
            bot_id=body.get("botId"),
        )
        queued.append(job)
        jobs.append({"documentId": doc, "backgroundJobId": job.id})
    emulator.schedule(queued)
    return json_response({"jobs": jobs})


async def _jobs_status(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    emulator = fake.knowledge
    body, error = await _body(fake, request)
    if body is None:
        return error
    ids = body.get("jobIds")
    if not isinstance(ids, list) or not ids or not all(_str(i) for i in ids):
        return fake.error(400, ["jobIds must be a non-empty array of strings"])
    now = time.monotonic()
    emulator.status_log.append((now, len(ids)))
    if any(i not in emulator.jobs for i in ids):
        return fake.error(404, "One or more knowledge jobs were not found")
    jobs = [emulator.jobs[i] for i in ids]
    emulator.settle_many(
        [j for j in jobs if not j.settled and j.state(now) in ("COMPLETED", "FAILED")]
    )
    return json_response({"jobs": [emulator.status(job, now) for job in jobs]})


def _str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _common_problems(body: dict[str, Any]) -> list[str]:
    problems = []
    ops = body.get("restrictedOps")
    if ops is not None and (
        not isinstance(ops, list) or any(op not in RESTRICTED_OPS for op in ops)
    ):
        problems.append(f"each value in restrictedOps must be one of {', '.join(RESTRICTED_OPS)}")
    if "isDraft" in body and not isinstance(body["isDraft"], bool):
        problems.append("isDraft must be a boolean value")
    for key in ("instructions", "botId"):
        if key in body and not isinstance(body[key], str):
            problems.append(f"{key} must be a string")
    return problems


async def _body(fake: FakeFini, request: web.Request) -> tuple[Any, web.Response]:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return None, fake.error(400, "Body is not valid JSON")
    if not isinstance(body, dict):
        return None, fake.error(400, "Body must be a JSON object")
    return body, fake.error(400, "bad request")
