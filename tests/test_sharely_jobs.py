"""Sharely background jobs: both documented response shapes, Temporal's status names, and waiting
on them with the shared coalescing poller (timeouts, failures, unknown ids, cancellation)."""

from __future__ import annotations

import asyncio
import json

import pytest

from fini_async import (
    ClientStateError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    SharelyClient,
    ValidationError,
)
from fini_async.sharely import BackgroundJob, classify_job_status, normalise_job_status
from fini_async.sharely._models import decode_jobs
from fini_async.testing import FakeSharely


def _tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


def _is_server_task(task: asyncio.Task[object]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "aiohttp/web_" in code.co_filename


# -- decoding --------------------------------------------------------------------------------


def test_the_temporal_array_shape() -> None:
    body = [
        {"workflowId": "wf-1", "status": {"code": 2, "name": "COMPLETED"}, "runId": "r1"},
        {"workflowId": "wf-2", "status": {"code": 1, "name": "RUNNING"}, "runId": "r2"},
        {"workflowId": "wf-3", "status": {"code": 7}},
        {"workflowId": "wf-4", "status": "WORKFLOW_EXECUTION_STATUS_TERMINATED"},
        {"workflowId": "wf-5", "status": 6},
        {"runId": "no id: skipped"},
    ]
    jobs = decode_jobs(json.dumps(body).encode())
    assert [(j.id, j.status, j.state) for j in jobs] == [
        ("wf-1", "COMPLETED", "completed"),
        ("wf-2", "RUNNING", "running"),
        ("wf-3", "TIMED_OUT", "failed"),
        ("wf-4", "TERMINATED", "failed"),
        ("wf-5", "CONTINUED_AS_NEW", "running"),
    ]
    assert jobs[0].status_code == 2 and jobs[0].run_id == "r1"
    assert jobs[0].raw == body[0]


def test_the_jobs_envelope_shape() -> None:
    body = {
        "jobs": [
            {
                "id": "job-1",
                "status": "COMPLETED",
                "type": "ROLE_ASSIGNMENT",
                "createdAt": "2024-11-14T15:30:00Z",
                "completedAt": "2024-11-14T15:30:05Z",
                "result": {"assignedCount": 150},
            },
            {"id": "job-2", "status": "RUNNING", "type": "ROLE_DELETION", "progress": 65},
            {
                "id": "job-3",
                "status": "FAILED",
                "error": {"code": "PROCESSING_ERROR", "message": "Failed to extract text"},
            },
            {"id": "job-4", "status": "CANCELLED"},
            {"id": 5, "status": "pending"},
        ]
    }
    jobs = decode_jobs(json.dumps(body).encode())
    by_id = {j.id: j for j in jobs}
    assert by_id["job-1"].done and by_id["job-1"].result == {"assignedCount": 150}
    assert by_id["job-1"].completed is not None and by_id["job-1"].type == "ROLE_ASSIGNMENT"
    assert by_id["job-2"].progress == 65 and by_id["job-2"].state == "running"
    assert by_id["job-3"].state == "failed"
    assert by_id["job-3"].error_message == "Failed to extract text"
    assert by_id["job-4"].state == "failed"
    assert by_id["5"].status == "PENDING" and by_id["5"].state == "running"
    assert decode_jobs(b"[]") == [] and decode_jobs(b'{"jobs": []}') == []
    assert decode_jobs(b"") == []


@pytest.mark.parametrize(
    ("raw", "state"),
    [
        ("RUNNING", "running"),
        ("CONTINUED_AS_NEW", "running"),
        ("UNSPECIFIED", "running"),
        ("SOMETHING_NEW", "running"),
        ("COMPLETED", "completed"),
        ("completed", "completed"),
        ("FAILED", "failed"),
        ("CANCELED", "failed"),
        ("CANCELLED", "failed"),
        ("TERMINATED", "failed"),
        ("TIMED_OUT", "failed"),
        ("WORKFLOW_EXECUTION_STATUS_COMPLETED", "completed"),
    ],
)
def test_temporal_status_names(raw: str, state: str) -> None:
    assert classify_job_status(raw) == state
    assert normalise_job_status(None, 4) == "CANCELED"


# -- waiting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["temporal", "jobs"])
async def test_wait_for_a_background_upload_job(shape: str) -> None:
    async with (
        FakeSharely(jobs_shape=shape, processing_delay=0.3) as fake,
        fake.client() as client,
    ):
        uploaded = await client.knowledge.upload_file(b"x", filename="a.txt", background=True)
        assert uploaded.job_id
        running = await client.knowledge.jobs([uploaded.job_id])
        assert [j.status for j in running] == ["RUNNING"]
        job = await client.knowledge.wait(uploaded.job_id, timeout=10)
        assert isinstance(job, BackgroundJob)
        assert (job.id, job.status, job.state) == (uploaded.job_id, "COMPLETED", "completed")
        meta = await client.knowledge.get_upload_metadata(uploaded)
        assert meta.done
        every = await client.knowledge.jobs()
        assert [j.id for j in every] == [uploaded.job_id]


@pytest.mark.parametrize("outcome", ["FAILED", "CANCELED", "TERMINATED", "TIMED_OUT"])
@pytest.mark.parametrize("shape", ["temporal", "jobs"])
async def test_a_failed_job_raises_or_is_returned(shape: str, outcome: str) -> None:
    async with FakeSharely(jobs_shape=shape, processing_delay=0.05) as fake:
        fake.fail_next_jobs(2, outcome)
        async with fake.client() as client:
            first = fake.add_job()
            second = fake.add_job()
            with pytest.raises(JobFailedError) as info:
                await client.knowledge.wait(first.id, timeout=10)
            assert info.value.job.state == "failed"
            job = await client.knowledge.wait(second.id, timeout=10, raise_on_failure=False)
            assert job.state == "failed"
            assert job.status in (outcome, "CANCELLED")


async def test_timeout_carries_the_last_status(sfake: FakeSharely, sharely: SharelyClient) -> None:
    job = sfake.add_job(delay=60)
    with pytest.raises(JobTimeoutError) as info:
        await sharely.knowledge.wait(job.id, timeout=0.5)
    assert info.value.job is not None and info.value.job.status == "RUNNING"
    with pytest.raises(ValidationError):
        await sharely.knowledge.wait(job.id, timeout=-1)
    with pytest.raises(ValidationError):
        await sharely.knowledge.wait("")


async def test_an_unknown_id_fails_only_its_own_waiter(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    jobs = [sfake.add_job(delay=0.3) for _ in range(3)]
    waits = [asyncio.create_task(sharely.knowledge.wait(j.id, timeout=10)) for j in jobs]
    unknown = asyncio.create_task(sharely.knowledge.wait("wf-does-not-exist", timeout=10))
    with pytest.raises(NotFoundError):
        await unknown
    done = await asyncio.gather(*waits)
    assert [d.status for d in done] == ["COMPLETED"] * 3


async def test_many_waiters_share_the_status_calls(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    jobs = [sfake.add_job(delay=0.4) for _ in range(60)]
    done = await asyncio.gather(*(sharely.knowledge.wait(j.id, timeout=20) for j in jobs))
    assert {d.id for d in done} == {j.id for j in jobs}
    assert all(d.status == "COMPLETED" for d in done)
    assert sfake.calls["sharely.background_jobs"] < 20  # batched: not one call per job per tick


async def test_as_completed_yields_in_completion_order(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    slow = sfake.add_job(delay=0.8)
    fast = sfake.add_job(delay=0.05)
    sfake.fail_next_jobs(1, "FAILED")
    failing = sfake.add_job(delay=0.3)
    seen = [
        (job.id, job.state)
        async for job in sharely.knowledge.as_completed([slow.id, fast.id, failing.id], timeout=10)
    ]
    assert seen == [(fast.id, "completed"), (failing.id, "failed"), (slow.id, "completed")]


async def test_transient_status_errors_do_not_fail_a_wait(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    job = sfake.add_job(delay=0.3)
    sfake.fail_next("sharely.background_jobs", 4, 503)
    done = await sharely.knowledge.wait(job.id, timeout=20)
    assert done.status == "COMPLETED"


async def test_cancelling_one_wait_leaves_the_others_and_then_nothing_runs(
    sfake: FakeSharely,
) -> None:
    before = _tasks()
    async with sfake.client() as client:
        a = sfake.add_job(delay=0.6)
        b = sfake.add_job(delay=0.6)
        wait_a = asyncio.create_task(client.knowledge.wait(a.id, timeout=10))
        wait_b = asyncio.create_task(client.knowledge.wait(b.id, timeout=10))
        await asyncio.sleep(0.2)
        wait_a.cancel()
        with pytest.raises(asyncio.CancelledError):
            await wait_a
        assert (await wait_b).status == "COMPLETED"
        await asyncio.sleep(0.05)
        assert not client.knowledge.poller.running
        # a wait still pending when the client closes ends with ClientStateError
        c = sfake.add_job(delay=60)
        wait_c = asyncio.create_task(client.knowledge.wait(c.id, timeout=30))
        await asyncio.sleep(0.1)
    with pytest.raises(ClientStateError):
        await wait_c
    await asyncio.sleep(0.05)
    assert not {t for t in _tasks() - before if not _is_server_task(t)}


async def test_progress_callback(sfake: FakeSharely, sharely: SharelyClient) -> None:
    seen: list[tuple[str, str]] = []
    remove = sharely.knowledge.add_progress_callback(lambda i, j: seen.append((i, j.status)))
    job = sfake.add_job(delay=0.3)
    await sharely.knowledge.wait(job.id, timeout=10)
    remove()
    assert seen[0] == (job.id, "RUNNING") and seen[-1] == (job.id, "COMPLETED")
