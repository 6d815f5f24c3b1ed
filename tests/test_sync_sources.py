"""client.knowledge.sync_sources: refresh -> wait -> list changed -> bulk generate -> wait for
the jobs -> publish, with progress and per-document results, over real HTTP to the emulator."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from fini_async import (
    BadRequestError,
    FiniClient,
    InternalServerError,
    JobFailedError,
    JobTimeoutError,
    SyncProgress,
    SyncReport,
    ValidationError,
)
from fini_async.testing import FakeFini, assert_pool_idle
from fini_async.testing._fini_sources import FakeSource, FakeSources


@pytest.fixture
def src(fake: FakeFini, client: FiniClient) -> FakeSources:
    client.sources.configure_polling(interval_initial=0.02, interval_max=0.05)
    client.knowledge.configure_polling(interval_initial=0.02, interval_max=0.05)
    fake.sources.pending_for = 0.02
    fake.sources.run_for = 0.03
    fake.knowledge.pending_for = 0.02
    fake.knowledge.run_for = 0.03
    return fake.sources


def seed(src: FakeSources, n: int, *, change: int) -> list[FakeSource]:
    """``n`` ingested web sources; the pages of the first ``change`` of them changed since."""
    docs = []
    for i in range(n):
        url = f"https://docs.example.com/sync-{i}"
        docs.append(src.add_source(url, text=f"Topic {i}: the plan costs $10."))
        if i < change:
            src.pages[url] = f"Topic {i}: the plan costs $12 since December."
    return docs


async def test_sync_generates_from_the_changed_sources_only_and_publishes(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 3, change=2)
    progress: list[SyncProgress] = []
    report = await client.knowledge.sync_sources(
        [d.id for d in docs], publish=True, on_progress=progress.append
    )
    assert isinstance(report, SyncReport) and report.ok
    assert report.refreshed == [d.id for d in docs]
    assert [r.document_id for r in report.results] == [docs[0].id, docs[1].id]
    for result in report.results:
        assert result.job_id and result.article_id and result.published
        assert result.live_article_id is not None
    live = await client.articles.list(type="live")
    live_ids = {a.id for a in live}
    assert {r.live_article_id for r in report.results} <= live_ids
    stages = [p.stage for p in progress]
    assert stages[0] == "refresh" and stages[-1] == "done" and progress[-1].done
    assert [s for s in dict.fromkeys(stages)] == ["refresh", "list", "generate", "wait", "done"]
    finished = [p.result for p in progress if p.result is not None]
    assert sorted(r.document_id for r in finished) == sorted(r.document_id for r in report.results)
    assert progress[-1].published == 2 and progress[-1].total == 2
    assert_pool_idle(client)


async def test_without_publish_the_drafts_stay_drafts(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 1, change=1)
    report = await client.knowledge.sync_sources([docs[0].id])
    (result,) = report.results
    assert result.ok and not result.published and result.live_article_id is None
    (draft,) = await client.articles.get_many([result.article_id or ""])
    assert draft.is_draft
    assert fake.calls["articles.publish"] == 0


async def test_ids_none_syncs_every_source_but_raw_files(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 2, change=2)
    src.add_source("https://files.example.com/manual.pdf", source="files")
    report = await client.knowledge.sync_sources(only_changed=False)
    assert sorted(report.refreshed) == sorted(d.id for d in docs)
    assert len(report.results) == 2 and report.ok


async def test_one_failing_document_does_not_stop_the_others(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 4, change=3)
    src.fail_on("sync-0")  # its fetch fails
    fake.knowledge.fail_on(docs[1].id)  # its job fails
    fake.fail_next("articles.publish", status=500)  # one publish fails (which one: any)
    report = await client.knowledge.sync_sources([d.id for d in docs], publish=True)
    by_doc = {r.document_id: r for r in report.results}
    assert set(by_doc) == {docs[0].id, docs[1].id, docs[2].id}
    assert isinstance(by_doc[docs[0].id].error, JobFailedError)
    assert by_doc[docs[0].id].job_id is None
    assert isinstance(by_doc[docs[1].id].error, JobFailedError)
    assert by_doc[docs[1].id].job_id is not None
    third = by_doc[docs[2].id]
    assert isinstance(third.error, InternalServerError) and not third.published
    assert third.article_id is not None
    assert not report.ok and len(report.failed) == 3
    assert_pool_idle(client)


async def test_a_refused_bulk_call_fails_its_documents_only(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 3, change=3)
    fake.fail_next("knowledge.bulk_generate", status=500)
    report = await client.knowledge.sync_sources([d.id for d in docs], bulk_size=2)
    errors = [r.error for r in report.results]
    assert isinstance(errors[0], InternalServerError) and isinstance(errors[1], InternalServerError)
    assert errors[2] is None and report.results[2].article_id
    assert fake.calls["knowledge.bulk_generate"] == 2  # never repeated: it may have queued jobs


async def test_an_unknown_id_fails_the_refresh_whole(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 1, change=1)
    with pytest.raises(BadRequestError):
        await client.knowledge.sync_sources([docs[0].id, str(uuid.uuid4())])
    assert fake.calls["knowledge.bulk_generate"] == 0


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (([],), {}, "ids"),
        ((["not-a-uuid"],), {}, "ids"),
        ((None,), {"publish": "yes"}, "publish"),
        ((None,), {"only_changed": 1}, "only_changed"),
        ((None,), {"job_timeout": 0}, "job_timeout"),
        ((None,), {"refresh_timeout": -1}, "refresh_timeout"),
        ((None,), {"bulk_size": 0}, "bulk_size"),
        ((None,), {"publish_concurrency": 0}, "publish_concurrency"),
        ((None,), {"on_progress": 3}, "on_progress"),
        ((None,), {"restricted_ops": ["NOPE"]}, "restricted_ops"),
        ((None,), {"bot_id": ""}, "bot_id"),
    ],
)
async def test_bad_arguments_are_refused_before_any_request(
    fake: FakeFini,
    client: FiniClient,
    args: tuple[object, ...],
    kwargs: dict[str, object],
    field: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.knowledge.sync_sources(*args, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert sum(fake.calls.values()) == 0


async def test_cancelling_a_sync_leaves_nothing_running(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 3, change=3)
    fake.knowledge.run_for = 60  # the jobs never finish during the test
    waiting = asyncio.Event()

    def on_progress(p: SyncProgress) -> None:
        if p.stage == "wait":
            waiting.set()

    task = asyncio.create_task(
        client.knowledge.sync_sources([d.id for d in docs], on_progress=on_progress)
    )
    await asyncio.wait_for(waiting.wait(), 10)
    await asyncio.sleep(0.1)  # a few status polls
    assert client.knowledge.poller.pending
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.knowledge.poller.pending == []
    assert client.sources.poller.pending == []
    polls = fake.calls["knowledge.jobs.status"]
    await asyncio.sleep(0.2)
    assert fake.calls["knowledge.jobs.status"] == polls  # no poll after the cancel
    assert_pool_idle(client)


async def test_jobs_that_outlast_job_timeout_fail_their_documents_and_the_sync_returns(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 2, change=2)
    fake.knowledge.run_for = 60
    report = await client.knowledge.sync_sources([d.id for d in docs], job_timeout=0.3)
    assert [r.document_id for r in report.results] == [d.id for d in docs]
    assert all(isinstance(r.error, JobTimeoutError) and r.job_id for r in report.results)
    assert client.knowledge.poller.pending == []
    assert_pool_idle(client)
