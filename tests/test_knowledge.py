"""client.knowledge: generate, bulk generate, job statuses and the coalescing poller, over real
HTTP against the emulator."""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime, timezone

import anyio
import pytest

from fini_async import (
    APIConnectionError,
    APITimeoutError,
    ClientStateError,
    FiniClient,
    InternalServerError,
    JobFailedError,
    JobStatus,
    JobTimeoutError,
    KnowledgeJob,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from fini_async.testing import READ_KEY, FakeFini, FakeKnowledge, assert_pool_idle, knowledge_of

STATUS = "knowledge.jobs.status"
GENERATE = "knowledge.generate"
BULK = "knowledge.bulk_generate"


@pytest.fixture
def kn(fake: FakeFini, client: FiniClient) -> FakeKnowledge:
    client.knowledge.configure_polling(
        interval_initial=0.02, interval_max=0.1, error_backoff_initial=0.01, error_backoff_max=0.05
    )
    emulator = knowledge_of(fake)
    emulator.pending_for = 0.05
    emulator.run_for = 0.05
    return emulator


async def settle(client: FiniClient) -> None:
    with anyio.fail_after(5):
        while client.knowledge.poller.running:  # noqa: ASYNC110 - polling a flag on purpose
            await anyio.sleep(0.005)


# -- generate -----------------------------------------------------------------------------------


async def test_generate_sends_the_documented_body(client: FiniClient, kn: FakeKnowledge) -> None:
    job = await client.knowledge.generate(
        "Customers on annual plans can cancel at the end of the current billing term.",
        origin="sources",
        document_id="doc-7",
        restricted_ops=["UPDATE_ARTICLE", "DO_NOTHING"],
        instructions="Keep it short",
        bot_id="4f5ef695-d03b-4d56-8fef-7f2bd5c17ef3",
    )
    assert isinstance(job, KnowledgeJob)
    assert job.document_id == "doc-7"
    queued = kn.jobs[job.id]
    assert queued.origin == "sources"
    assert queued.document_id == "doc-7"
    assert queued.restricted_ops == ["UPDATE_ARTICLE", "DO_NOTHING"]
    assert queued.instructions == "Keep it short"
    assert queued.bot_id == "4f5ef695-d03b-4d56-8fef-7f2bd5c17ef3"
    assert queued.is_draft is True
    inbox = await client.knowledge.generate("text", origin="inbox", hc_event_id="evt-1")
    assert kn.jobs[inbox.id].hc_event_id == "evt-1"


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (("",), {}, "candidate_knowledge"),
        (("   ",), {}, "candidate_knowledge"),
        ((None,), {}, "candidate_knowledge"),
        (("text",), {"origin": "manual"}, "origin"),
        (("text",), {"origin": "sources"}, "document_id"),
        (("text",), {"origin": "sources", "document_id": ""}, "document_id"),
        (("text",), {"origin": "inbox"}, "hc_event_id"),
        (("text",), {"restricted_ops": ["DELETE_EVERYTHING"]}, "restricted_ops"),
        (("text",), {"restricted_ops": "NOPE"}, "restricted_ops"),
        (("text",), {"is_draft": "yes"}, "is_draft"),
        (("text",), {"bot_id": ""}, "bot_id"),
        (("text",), {"instructions": 3}, "instructions"),
    ],
)
async def test_generate_refuses_bad_input_before_any_request(
    fake: FakeFini, client: FiniClient, args: tuple[object], kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.knowledge.generate(*args, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert fake.calls[GENERATE] == 0


async def test_generate_is_not_repeated_when_the_server_may_have_queued_it(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    fake.fail_next(GENERATE, status=500)
    with pytest.raises(InternalServerError):
        await client.knowledge.generate("text")
    assert fake.calls[GENERATE] == 1
    fake.drop_next(GENERATE)
    with pytest.raises(APIConnectionError):
        await client.knowledge.generate("text")
    assert fake.calls[GENERATE] == 2
    fake.add_latency(GENERATE, 1.0)
    with pytest.raises(APITimeoutError):
        await client.knowledge.generate("text", timeout=0.2)
    assert fake.calls[GENERATE] == 3
    fake.clear_faults()
    # 429 and 503 say "not processed": those are retried, and one job results
    fake.fail_next(GENERATE, status=429)
    fake.fail_next(GENERATE, status=503)
    job = await client.knowledge.generate("text")
    assert fake.calls[GENERATE] == 6
    assert job.id in kn.jobs


async def test_generate_needs_the_write_scope(fake: FakeFini) -> None:
    async with fake.client(api_key=READ_KEY) as reader:
        with pytest.raises(PermissionDeniedError):
            await reader.knowledge.generate("text")
        with pytest.raises(PermissionDeniedError):
            await reader.knowledge.bulk_generate(["doc"])
    assert fake.calls[GENERATE] == 1
    assert fake.calls[BULK] == 1


async def test_generate_tolerates_other_id_shapes(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next(GENERATE, status=200, body={"jobId": 12345})
    job = await client.knowledge.generate("text")
    assert job.id == "12345"
    fake.fail_next(GENERATE, status=200, body={"unexpected": True})
    with pytest.raises(Exception, match="backgroundJobId"):
        await client.knowledge.generate("text")


# -- bulk generate ------------------------------------------------------------------------------


async def test_bulk_generate_keeps_the_document_to_job_pairing(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    kn.documents["doc-a"] = "Shipping to Canada takes five business days."
    jobs = await client.knowledge.bulk_generate(
        ["doc-a", "doc-b", "doc-c"], restricted_ops=["ADD_ARTICLE_TO_FOLDER"], is_draft=False
    )
    assert [j.document_id for j in jobs] == ["doc-a", "doc-b", "doc-c"]
    for job in jobs:
        assert kn.jobs[job.id].document_id == job.document_id
        assert kn.jobs[job.id].origin == "sources"
        assert kn.jobs[job.id].is_draft is False
    assert fake.calls[BULK] == 1


async def test_bulk_generate_pairs_reordered_and_bare_responses(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.fail_next(
        BULK,
        status=200,
        body={
            "jobs": [
                {"documentId": "d2", "backgroundJobId": "j2"},
                {"documentId": "d1", "backgroundJobId": "j1"},
            ]
        },
    )
    jobs = await client.knowledge.bulk_generate(["d1", "d2"])
    assert [(j.document_id, j.id) for j in jobs] == [("d1", "j1"), ("d2", "j2")]
    # a bare list without documentIds: the jobs follow the request's order
    fake.fail_next(BULK, status=200, body=[{"backgroundJobId": "x1"}, {"backgroundJobId": "x2"}])
    jobs = await client.knowledge.bulk_generate(["d1", "d2"])
    assert [(j.document_id, j.id) for j in jobs] == [("d1", "x1"), ("d2", "x2")]


async def test_bulk_generate_refuses_bad_input(fake: FakeFini, client: FiniClient) -> None:
    for bad in ([], "doc-1", ["ok", ""], ["ok", 3], None):
        with pytest.raises(ValidationError) as info:
            await client.knowledge.bulk_generate(bad)  # type: ignore[arg-type]
        assert info.value.field == "document_ids"
    with pytest.raises(ValidationError) as info:
        await client.knowledge.bulk_generate(["d"], restricted_ops=["MERGE"])
    assert info.value.field == "restricted_ops"
    assert fake.calls[BULK] == 0


async def test_bulk_generate_is_not_repeated_after_a_500(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.fail_next(BULK, status=502)
    with pytest.raises(InternalServerError):
        await client.knowledge.bulk_generate(["d1"])
    assert fake.calls[BULK] == 1


# -- statuses -----------------------------------------------------------------------------------


async def test_get_jobs_decodes_statuses(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    job = await client.knowledge.generate("Our support line opens at 9am.", is_draft=False)
    [first] = await client.knowledge.get_jobs([job])
    assert first.id == job.id
    assert first.status == "PENDING"
    assert isinstance(first.created_at, datetime)
    assert first.created_at.tzinfo is not None
    assert first.started_at is None
    assert first.completed_at is None
    assert first.hc_article_id is None
    assert job.last_status == first
    await anyio.sleep(0.15)
    [done] = await client.knowledge.get_jobs([job.id])
    assert done.status == "COMPLETED"
    assert done.is_completed
    assert done.is_terminal
    assert done.started_at is not None
    assert done.completed_at is not None
    assert done.started_at <= done.completed_at
    assert done.hc_article_id in fake.kb.articles


async def test_get_jobs_tolerates_wire_variants(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next(
        STATUS,
        status=200,
        body={
            "jobs": {
                "id": 42,
                "status": "COMPLETED",
                "createdAt": 1_700_000_000_000,
                "completedAt": "2026-01-02T03:04:05",
                "hcArticleId": 7,
            }
        },
    )
    [status] = await client.knowledge.get_jobs(["42"])
    assert status.id == "42"
    assert status.status == "COMPLETED"
    assert status.created_at == datetime.fromtimestamp(1_700_000_000, tz=timezone.utc)
    assert status.completed_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert status.hc_article_id == "7"


async def test_get_jobs_splits_long_lists(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    ids = kn.create_jobs(250)
    statuses = await client.knowledge.get_jobs([*ids, ids[0]])
    assert [s.id for s in statuses] == ids
    assert fake.calls[STATUS] == 3
    assert sorted(n for _, n in kn.status_log) == [50, 100, 100]


async def test_get_jobs_unknown_id_and_bad_input(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    ids = kn.create_jobs(2)
    with pytest.raises(NotFoundError):
        await client.knowledge.get_jobs([ids[0], "no-such-job", ids[1]])
    with pytest.raises(NotFoundError):  # one failing chunk of several fails the call
        await client.knowledge.get_jobs([*kn.create_jobs(150), "no-such-job"])
    calls = fake.calls[STATUS]
    for bad in ([], "job-id", [""], [None]):
        with pytest.raises(ValidationError):
            await client.knowledge.get_jobs(bad)  # type: ignore[arg-type]
    assert fake.calls[STATUS] == calls


# -- waiting ------------------------------------------------------------------------------------


async def test_1000_concurrent_waiters_share_the_status_calls(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    kn.pending_for, kn.run_for = 0.1, 0.2
    ids = kn.create_jobs(1000)
    done: list[KnowledgeJob] = []

    async def one(job_id: str) -> None:
        done.append(await client.knowledge.wait(job_id, timeout=60))

    async with anyio.create_task_group() as tg:
        for job_id in ids:
            tg.start_soon(one, job_id)
    assert len(done) == 1000
    assert all(j.status == "COMPLETED" for j in done)
    poller = client.knowledge.poller
    calls = fake.calls[STATUS]
    # counted at the emulator: one call per 100 pending ids per tick, never one per waiter
    assert calls == poller.calls == sum(c for _, c in poller.tick_log)
    assert poller.tick_log[0] == (1000, 10)
    assert all(c == math.ceil(n / 100) for n, c in poller.tick_log)
    assert all(n <= 100 for _, n in kn.status_log)
    assert calls <= 10 * poller.ticks < 1000
    await settle(client)


async def test_one_unknown_id_in_a_batch_fails_only_its_waiter(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    kn.pending_for, kn.run_for = 0.2, 0.3
    ids = kn.create_jobs(99)
    ids.insert(37, "not-a-knowledge-job")
    results: dict[str, object] = {}

    async def one(job_id: str) -> None:
        try:
            results[job_id] = await client.knowledge.wait(job_id, timeout=30)
        except NotFoundError as exc:
            results[job_id] = exc

    async with anyio.create_task_group() as tg:
        for job_id in ids:
            tg.start_soon(one, job_id)
    assert isinstance(results.pop("not-a-knowledge-job"), NotFoundError)
    assert len(results) == 99
    assert all(isinstance(r, KnowledgeJob) and r.completed for r in results.values())
    # after the bisection the batch of the 99 good ids went on being polled in one call
    assert 99 in [n for _, n in kn.status_log]


async def test_cancelled_waiter_disturbs_no_other(client: FiniClient, kn: FakeKnowledge) -> None:
    kn.pending_for, kn.run_for = 0.1, 0.2
    a, b = kn.create_jobs(2)
    kept: list[KnowledgeJob] = []
    scope = anyio.CancelScope()

    async def doomed() -> None:
        with scope:
            await client.knowledge.wait(a, timeout=30)

    async def keeper() -> None:
        kept.append(await client.knowledge.wait(a, timeout=30))
        kept.append(await client.knowledge.wait(b, timeout=30))

    async with anyio.create_task_group() as tg:
        tg.start_soon(doomed)
        tg.start_soon(keeper)
        await anyio.sleep(0.05)
        scope.cancel()
    assert scope.cancelled_caught
    assert [j.status for j in kept] == ["COMPLETED", "COMPLETED"]
    await settle(client)


async def test_cancelling_every_waiter_stops_the_poller_and_its_call(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    kn.pending_for = 60
    [job_id] = kn.create_jobs(1)
    fake.add_latency(STATUS, 0.5)  # the status call is in flight when the waiter goes
    with anyio.move_on_after(0.3):
        await client.knowledge.wait(job_id, timeout=None)
    await settle(client)
    assert not client.knowledge.poller.running
    assert client.knowledge.poller.pending == []
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("fini-async")] == []
    assert_pool_idle(client)  # the in-flight status call gave its connection back
    assert fake.calls[STATUS] == 1
    await anyio.sleep(0.3)  # let the emulator notice the cancelled call before it stops


async def test_failed_job(fake: FakeFini, client: FiniClient, kn: FakeKnowledge) -> None:
    kn.fail_on("BROKEN")
    articles = len(fake.kb.articles)
    job = await client.knowledge.generate("This text is BROKEN on purpose", is_draft=False)
    with pytest.raises(JobFailedError) as info:
        await job.wait(timeout=30)
    assert isinstance(info.value.job, JobStatus)
    assert info.value.job.status == "FAILED"
    assert job.failed
    same = await client.knowledge.wait(job, timeout=30, raise_on_failure=False)
    assert same is job
    assert job.status == "FAILED"
    assert job.hc_article_id is None
    assert len(fake.kb.articles) == articles


async def test_timeout_carries_the_last_status_and_the_job_can_be_waited_again(
    client: FiniClient, kn: FakeKnowledge
) -> None:
    job = await client.knowledge.generate("Orders ship within two days.")
    kn.force_status(job.id, "IN_PROGRESS")
    with pytest.raises(JobTimeoutError) as info:
        await client.knowledge.wait(job, timeout=0.2)
    assert isinstance(info.value.job, JobStatus)
    assert info.value.job.status == "IN_PROGRESS"
    assert job.status == "IN_PROGRESS"
    kn.force_status(job.id, None)
    again = await client.knowledge.wait(job, timeout=30)
    assert again.status == "COMPLETED"


async def test_transient_status_failures_fail_no_waiter(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    ids = kn.create_jobs(3)
    fake.fail_next(STATUS, times=2, status=500)
    fake.fail_next(STATUS, status=429, retry_after=0.05)
    fake.drop_next(STATUS)
    fake.fail_next(STATUS, status=503)
    async with anyio.create_task_group() as tg:
        for job_id in ids:
            tg.start_soon(lambda j=job_id: client.knowledge.wait(j, timeout=30))
    assert fake.calls[STATUS] >= 6


async def test_transient_failures_outlasting_the_timeout(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    [job_id] = kn.create_jobs(1)
    fake.fail_next(STATUS, times=10_000, status=503)
    with pytest.raises(JobTimeoutError) as info:
        await client.knowledge.wait(job_id, timeout=0.4)
    assert info.value.job is None
    assert isinstance(info.value.__cause__, InternalServerError)
    fake.clear_faults()
    await settle(client)


async def test_unknown_status_is_still_running_and_logged_once(
    client: FiniClient, kn: FakeKnowledge, caplog: pytest.LogCaptureFixture
) -> None:
    job = await client.knowledge.generate("Gift cards never expire.")
    kn.force_status(job.id, "AWAITING_REVIEW")

    async def later() -> None:
        await anyio.sleep(0.3)
        kn.force_status(job.id, None)

    with caplog.at_level(logging.WARNING, logger="fini_async"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(later)
            await client.knowledge.wait(job, timeout=30)
    assert job.status == "COMPLETED"
    logged = [r for r in caplog.records if "AWAITING_REVIEW" in r.getMessage()]
    assert len(logged) == 1


async def test_as_completed_and_progress(client: FiniClient, kn: FakeKnowledge) -> None:
    kn.run_for = 0.3
    slow = await client.knowledge.generate("Slow job text")
    kn.run_for = 0.0
    quick = await client.knowledge.generate("Quick job text")
    kn.fail_on("BROKEN")
    broken = await client.knowledge.generate("BROKEN job text")
    seen: list[tuple[str, str]] = []
    remove = client.knowledge.add_progress_callback(lambda i, s: seen.append((i, s.status)))
    order = []
    async with client.knowledge.as_completed([slow, quick, broken], timeout=30) as it:
        async for job in it:
            order.append(job)
    remove()
    assert order[-1] is slow
    assert {j.id for j in order[:2]} == {quick.id, broken.id}
    assert broken.failed
    assert quick.completed
    finals = {i: s for i, s in seen if s in ("COMPLETED", "FAILED")}
    assert finals == {slow.id: "COMPLETED", quick.id: "COMPLETED", broken.id: "FAILED"}
    assert (slow.id, "IN_PROGRESS") in seen


async def test_as_completed_timeout_and_unknown_id(client: FiniClient, kn: FakeKnowledge) -> None:
    quick = await client.knowledge.generate("quick")
    stuck = await client.knowledge.generate("stuck")
    kn.force_status(stuck.id, "PENDING")
    got = []
    with pytest.raises(JobTimeoutError) as info:
        async for job in client.knowledge.as_completed([quick, stuck], timeout=0.4):
            got.append(job)
    assert got == [quick]
    assert [s.status for s in info.value.job] == ["PENDING"]
    with pytest.raises(NotFoundError):
        async for _ in client.knowledge.as_completed(["no-such-job"]):
            pass
    with pytest.raises(ValidationError):
        client.knowledge.as_completed([])
    await settle(client)
    assert client.knowledge.poller.pending == []


async def test_wait_refuses_bad_arguments(fake: FakeFini, client: FiniClient) -> None:
    for bad in ("", None, 3):
        with pytest.raises(ValidationError) as info:
            await client.knowledge.wait(bad)  # type: ignore[arg-type]
        assert info.value.field == "job"
    with pytest.raises(ValidationError) as info:
        await client.knowledge.wait("job", timeout=-1)
    assert info.value.field == "timeout"
    with pytest.raises(ValidationError):
        client.knowledge.configure_polling(interval_initial=2, interval_max=1)
    with pytest.raises(ValidationError):
        client.knowledge.configure_polling(chunk_size=101)
    with pytest.raises(ValidationError):
        await KnowledgeJob("x").wait()
    assert fake.calls[STATUS] == 0


async def test_closing_the_client_ends_pending_waits(fake: FakeFini, kn: FakeKnowledge) -> None:
    kn.pending_for = 60
    [job_id] = kn.create_jobs(1)
    client = fake.client()
    errors: list[BaseException] = []

    async def waiter() -> None:
        try:
            await client.knowledge.wait(job_id, timeout=30)
        except ClientStateError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(waiter)
        await anyio.sleep(0.1)
        await client.aclose()
    assert len(errors) == 1
    assert not client.knowledge.poller.running


# -- the emulator's knowledge base --------------------------------------------------------------


async def test_completed_jobs_change_the_knowledge_base(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    question = "Do you deliver to Iceland?"
    before = await client.bots.ask_question(question)
    text = "We deliver to Iceland in 7 to 10 business days by air mail."
    draft = await (await client.knowledge.generate(text)).wait(timeout=30)
    assert draft.hc_article_id is not None
    assert fake.kb.articles[draft.hc_article_id].draft is True
    assert (await client.bots.ask_question(question)).answer == before.answer  # drafts are unused

    live = await (await client.knowledge.generate(text, is_draft=False)).wait(timeout=30)
    assert live.hc_article_id is not None
    assert fake.kb.articles[live.hc_article_id].draft is False
    assert (await client.bots.ask_question(question)).answer == text

    update = "We deliver to Iceland in 3 business days by air mail, free of charge."
    updated = await (
        await client.knowledge.generate(update, restricted_ops=["UPDATE_ARTICLE"], is_draft=False)
    ).wait(timeout=30)
    assert updated.hc_article_id == live.hc_article_id  # the same article, updated in place
    assert (await client.bots.ask_question(question)).answer == update

    count = len(fake.kb.articles)
    nothing = await (
        await client.knowledge.generate("Anything", restricted_ops=["DO_NOTHING"])
    ).wait(timeout=30)
    assert nothing.completed
    assert nothing.hc_article_id is None
    assert len(fake.kb.articles) == count


async def test_emulator_validates_like_the_api(fake: FakeFini, client: FiniClient) -> None:
    transport = client._transport
    for path, body in [
        ("/v2/knowledge/public", b'{"origin": "generated"}'),
        ("/v2/knowledge/public", b'{"candidateKnowledge": "x", "origin": "sources"}'),
        ("/v2/knowledge/public/bulk", b'{"documentIds": ["d"], "origin": "generated"}'),
        ("/v2/knowledge/public/jobs/status", b'{"jobIds": []}'),
    ]:
        with pytest.raises(Exception) as info:
            await transport.request("POST", path, content=body, max_retries=0)
        assert getattr(info.value, "status_code", None) == 400


async def test_refresh_reads_one_status(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    job = await client.knowledge.generate("Returns are free within 30 days.")
    status = await job.refresh()
    assert status.id == job.id
    assert job.last_status is status
    assert job.status in ("PENDING", "IN_PROGRESS")
    assert fake.calls[STATUS] == 1
    assert repr(job).startswith("<KnowledgeJob")


async def test_jobs_queued_before_the_loop_settle_when_polled(
    fake: FakeFini, client: FiniClient, kn: FakeKnowledge
) -> None:
    job = kn.queue(
        "Parking is free for visitors.", origin="generated", is_draft=False, schedule=False
    )
    assert job.timer is None
    done = await client.knowledge.wait(job.id, timeout=30)
    assert done.hc_article_id is not None
    assert fake.kb.articles[done.hc_article_id].content == "Parking is free for visitors."


async def test_the_poller_itself_refuses_more_ids_per_call_than_the_route_takes(
    client: FiniClient,
) -> None:
    # The 100-id cap used to be checked by configure_polling only: the public poller's own
    # configure() took any chunk size, and status calls would have sent more ids than allowed.
    poller = client.knowledge.poller
    with pytest.raises(ValidationError) as info:
        poller.configure(chunk_size=101)
    assert info.value.field == "chunk_size"
    assert poller.chunk_size == 100
    poller.configure(chunk_size=100)
