"""Sharely on the core pieces: the offset paginator's pages walk like Fini's, waits run on the
shared ``JobPoller`` (one polling task for many upload waits), job waits yield the one public
``JobIterator`` type, and ``JobPoller.configure`` checks a new schedule as a whole."""

from __future__ import annotations

import asyncio

import pytest

import fini_async
from fini_async import JobIterator, JobPoller, KnowledgeJobIterator, SharelyClient, ValidationError
from fini_async.sharely import KnowledgeList, KnowledgePage
from fini_async.testing import FakeSharely


async def test_knowledge_pages_walk_with_get_next_page_like_fini_pages(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    ids = [sfake.add_knowledge(title=f"t{i}").id for i in range(7)]
    listing = sharely.knowledge.list(limit=3)
    assert isinstance(listing, KnowledgeList) and isinstance(listing, fini_async.AsyncPaginator)
    page: KnowledgePage | None = await listing
    seen: list[str] = []
    offsets: list[int] = []
    while page is not None:
        assert isinstance(page, fini_async.Page)
        seen += [k.id for k in page]
        offsets.append(page.offset)
        assert page.has_next_page() == (page.offset + len(page) < 7)
        page = await page.get_next_page()
    assert seen == ids and offsets == [0, 3, 6]
    assert sfake.calls["sharely.knowledge.list"] == 3


async def test_max_items_ends_the_page_walk_too(sfake: FakeSharely, sharely: SharelyClient) -> None:
    for i in range(10):
        sfake.add_knowledge(title=f"t{i}")
    first = await sharely.knowledge.list(limit=4, max_items=6)
    second = await first.get_next_page()
    assert second is not None and len(second) == 2 and second.offset == 4
    assert not second.has_next_page() and await second.get_next_page() is None
    assert sfake.calls["sharely.knowledge.list"] == 2


async def test_concurrent_upload_waits_share_one_polling_task(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    sfake.processing_delay = 0.3
    uploads = [
        await sharely.knowledge.upload_file(b"x", filename=f"f{i}.txt", background=True)
        for i in range(8)
    ]
    waits = [
        asyncio.create_task(sharely.knowledge.wait_for_upload(u, interval=0.05)) for u in uploads
    ]
    await asyncio.sleep(0.1)
    pollers = [t for t in asyncio.all_tasks() if "sharely uploads poller" in t.get_name()]
    assert len(pollers) == 1  # not one loop per wait
    metas = await asyncio.gather(*waits)
    assert all(m.done for m in metas)
    await asyncio.sleep(0.05)
    assert not [t for t in asyncio.all_tasks() if "poller" in t.get_name() and not t.done()]


async def test_job_waits_yield_the_one_public_iterator_type(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    jobs = [sfake.add_job(delay=0.05).id for _ in range(3)]
    async with sharely.knowledge.as_completed(jobs, timeout=10) as it:
        assert isinstance(it, JobIterator)
        done = [job.id async for job in it]
    assert sorted(done) == sorted(jobs)
    assert issubclass(KnowledgeJobIterator, JobIterator)
    assert isinstance(sharely.knowledge.poller, JobPoller)


async def test_poller_configure_checks_the_whole_schedule_before_changing_it() -> None:
    async def fetch(ids: list[str]) -> dict[str, str]:
        return {}

    poller: JobPoller[str] = JobPoller(fetch, state_of=str, classify=lambda s: "running")
    before = (poller.interval_initial, poller.interval_max, poller.chunk_size)
    for bad in (
        {"interval_initial": 0},
        {"interval_initial": 10.0},  # above the current interval_max
        {"interval_max": float("nan")},
        {"chunk_size": 0},
        {"chunk_size": True},
        {"max_concurrency": 1.5},
        {"error_backoff_initial": 100.0, "error_backoff_max": 1.0},
    ):
        with pytest.raises(ValidationError):
            poller.configure(**bad)  # type: ignore[arg-type]
        assert (poller.interval_initial, poller.interval_max, poller.chunk_size) == before
    poller.configure(interval_initial=0.5, interval_max=2, chunk_size=7, max_concurrency=3)
    assert (poller.interval_initial, poller.interval_max) == (0.5, 2.0)
    assert (poller.chunk_size, poller.max_concurrency) == (7, 3)
