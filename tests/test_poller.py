"""The generic coalescing poller, driven by an in-memory job table (the poller knows no routes;
the HTTP path through it is covered in test_knowledge.py)."""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import anyio
import pytest

from fini_async import (
    AuthenticationError,
    ClientStateError,
    InternalServerError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RateLimitError,
    ValidationError,
)
from fini_async._poller import JobPoller, _equal_jitter, make_classifier
from fini_async._retry import backoff_schedule


@dataclass
class Status:
    id: str
    state: str


@dataclass
class Table:
    """Jobs that finish ``duration`` seconds after they are added, in ``final`` state."""

    duration: float = 0.05
    jobs: dict[str, tuple[float, str]] = field(default_factory=dict)
    batches: list[list[str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    fail_with: list[Exception] = field(default_factory=list)
    forced: dict[str, str] = field(default_factory=dict)
    in_flight: int = 0
    cancelled: int = 0
    delay: float = 0.0

    def add(self, job_id: str, final: str = "COMPLETED", duration: float | None = None) -> str:
        d = self.duration if duration is None else duration
        self.jobs[job_id] = (time.monotonic() + d, final)
        return job_id

    async def fetch(self, ids: list[str]) -> Mapping[str, Status]:
        self.batches.append(list(ids))
        self.times.append(time.monotonic())
        self.in_flight += 1
        try:
            if self.delay:
                await anyio.sleep(self.delay)
        except BaseException:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        if self.fail_with:
            raise self.fail_with.pop(0)
        if any(i not in self.jobs for i in ids):
            raise NotFoundError("one or more jobs not found", status_code=404)
        now = time.monotonic()
        out = {}
        for i in ids:
            ready, final = self.jobs[i]
            state = final if now >= ready else "IN_PROGRESS"
            out[i] = Status(i, self.forced.get(i, state))
        return out


classify = make_classifier(
    completed=["COMPLETED"], failed=["FAILED"], running=["PENDING", "IN_PROGRESS"], name="test"
)


def make(table: Table, **kw: object) -> JobPoller[Status]:
    opts: dict[str, object] = {"interval_initial": 0.01, "interval_max": 0.05}
    opts.update(kw)
    return JobPoller(
        table.fetch,
        state_of=lambda s: s.state,
        classify=classify,
        error_backoff_max=0.05,
        **opts,  # type: ignore[arg-type]
    )


async def settle(poller: JobPoller[Status]) -> None:
    with anyio.fail_after(5):
        while poller.running:  # noqa: ASYNC110 - polling a flag is the point here
            await anyio.sleep(0.005)


async def test_1000_waiters_share_one_call_per_chunk_per_tick() -> None:
    table = Table(duration=0.15)
    poller = make(table)
    ids = [table.add(f"job-{i}") for i in range(1000)]
    results: dict[str, Status] = {}

    async def one(job_id: str) -> None:
        results[job_id] = await poller.wait(job_id, timeout=30)

    async with anyio.create_task_group() as tg:
        for job_id in ids:
            tg.start_soon(one, job_id)
    assert len(results) == 1000
    assert all(s.state == "COMPLETED" for s in results.values())
    # every tick polled all 1,000 pending ids in ceil(1000 / 100) = 10 calls, never one per waiter
    assert poller.ticks >= 1
    assert sum(calls for _, calls in poller.tick_log) == len(table.batches) < 1000
    # (a loaded machine may tick once before the last waiters registered)
    assert (1000, 10) in poller.tick_log
    assert all(calls == math.ceil(n / 100) for n, calls in poller.tick_log)
    log = list(poller.tick_log)
    calls_before = sum(calls for _, calls in log[: log.index((1000, 10))])
    assert [len(b) for b in table.batches[calls_before : calls_before + 10]] == [100] * 10
    assert all(len(b) <= 100 for b in table.batches)
    await settle(poller)
    assert not poller.running
    assert poller.pending == []


async def test_calls_per_tick_is_ceil_of_pending_over_chunk_size() -> None:
    table = Table(duration=0.1)
    poller = make(table, chunk_size=7)
    ids = [table.add(f"j{i}") for i in range(50)]
    async with anyio.create_task_group() as tg:
        for job_id in ids:
            tg.start_soon(lambda j=job_id: poller.wait(j, timeout=30))
    assert poller.ticks >= 1
    assert all(calls == math.ceil(n / 7) for n, calls in poller.tick_log)
    assert sum(calls for _, calls in poller.tick_log) == len(table.batches)
    assert sorted(len(b) for b in table.batches[:8]) == [1, 7, 7, 7, 7, 7, 7, 7]


async def test_one_unknown_id_fails_only_its_waiter_and_polling_goes_on() -> None:
    table = Table(duration=0.4)
    poller = make(table)
    good = [table.add(f"g{i}") for i in range(99)]
    bad = "missing-job"
    outcome: dict[str, object] = {}

    async def one(job_id: str) -> None:
        try:
            outcome[job_id] = await poller.wait(job_id, timeout=30)
        except NotFoundError as exc:
            outcome[job_id] = exc

    async with anyio.create_task_group() as tg:
        for job_id in [*good[:50], bad, *good[50:]]:
            tg.start_soon(one, job_id)
    assert isinstance(outcome[bad], NotFoundError)
    assert all(isinstance(outcome[g], Status) for g in good)
    # the unknown id was isolated by bisection, and never sent again once isolated
    assert [bad] in table.batches
    last_bad = max(i for i, b in enumerate(table.batches) if bad in b)
    assert table.batches[last_bad] == [bad]
    assert any(len(b) == 99 for b in table.batches[last_bad:])


async def test_two_unknown_ids_in_one_batch() -> None:
    table = Table(duration=0.0)
    poller = make(table)
    ids = [table.add(f"g{i}") for i in range(20)]
    ids[3], ids[17] = "bad-a", "bad-b"
    seen: dict[str, object] = {}

    async def one(job_id: str) -> None:
        try:
            seen[job_id] = await poller.wait(job_id, timeout=30)
        except NotFoundError as exc:
            seen[job_id] = exc

    async with anyio.create_task_group() as tg:
        for job_id in ids:
            tg.start_soon(one, job_id)
    assert {k for k, v in seen.items() if isinstance(v, NotFoundError)} == {"bad-a", "bad-b"}
    assert sum(isinstance(v, Status) for v in seen.values()) == 18


async def test_transient_errors_fail_no_waiter() -> None:
    table = Table(duration=0.0)
    table.fail_with = [
        InternalServerError("boom", status_code=500),
        RateLimitError("slow down", status_code=429, retry_after=0.01),
        InternalServerError("boom", status_code=502),
    ]
    poller = make(table)
    table.add("a")
    status = await poller.wait("a", timeout=30)
    assert status.state == "COMPLETED"
    assert len(table.batches) == 4


async def test_transient_errors_outlasting_the_timeout_raise_job_timeout() -> None:
    table = Table(duration=0.0)
    table.fail_with = [InternalServerError("down", status_code=503) for _ in range(10_000)]
    poller = make(table)
    table.add("a")
    with pytest.raises(JobTimeoutError) as info:
        await poller.wait("a", timeout=0.3)
    assert info.value.job is None  # no status was ever seen
    assert isinstance(info.value.__cause__, InternalServerError)
    await settle(poller)


async def test_non_retryable_error_fails_the_batch_waiters() -> None:
    table = Table(duration=0.0)
    table.fail_with = [AuthenticationError("bad key", status_code=401)]
    poller = make(table)
    table.add("a")
    with pytest.raises(AuthenticationError):
        await poller.wait("a", timeout=30)


async def test_failed_job_raises_or_returns() -> None:
    table = Table(duration=0.02)
    poller = make(table)
    table.add("f", final="FAILED")
    with pytest.raises(JobFailedError) as info:
        await poller.wait("f", timeout=30)
    assert isinstance(info.value.job, Status)
    assert info.value.job.state == "FAILED"
    status = await poller.wait("f", timeout=30, raise_on_failure=False)
    assert status.state == "FAILED"


async def test_timeout_carries_last_status_and_job_can_be_waited_again() -> None:
    table = Table()
    poller = make(table)
    table.add("slow", duration=0.6)
    with pytest.raises(JobTimeoutError) as info:
        await poller.wait("slow", timeout=0.15)
    assert isinstance(info.value.job, Status)
    assert info.value.job.state == "IN_PROGRESS"
    status = await poller.wait("slow", timeout=30)
    assert status.state == "COMPLETED"


async def test_cancelling_one_waiter_disturbs_no_other() -> None:
    table = Table(duration=0.2)
    poller = make(table)
    table.add("a")
    table.add("b")
    got: list[Status] = []
    scopes = [anyio.CancelScope(), anyio.CancelScope()]

    async def keep() -> None:
        got.append(await poller.wait("a", timeout=30))

    async def doomed(job_id: str, scope: anyio.CancelScope) -> None:
        with scope:
            await poller.wait(job_id, timeout=30)
        got_cancelled.append(job_id)

    got_cancelled: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(keep)
        tg.start_soon(doomed, "a", scopes[0])  # same job as the keeper
        tg.start_soon(doomed, "b", scopes[1])
        await anyio.sleep(0.05)
        assert sorted(poller.pending) == ["a", "b"]
        for scope in scopes:
            scope.cancel()
        await anyio.sleep(0.01)
        assert poller.pending == ["a"]
    assert sorted(got_cancelled) == ["a", "b"]
    assert [s.state for s in got] == ["COMPLETED"]
    await settle(poller)
    assert poller.pending == []


async def test_last_waiter_leaving_stops_the_task_and_its_inflight_call() -> None:
    table = Table(duration=60)
    table.delay = 5.0  # the status call hangs
    poller = make(table)
    table.add("a")
    with anyio.move_on_after(0.2):
        await poller.wait("a", timeout=None)
    await settle(poller)
    assert not poller.running
    assert table.in_flight == 0
    assert table.cancelled == 1
    # and it starts again for the next waiter
    table.delay = 0.0
    table.jobs["a"] = (0.0, "COMPLETED")
    assert (await poller.wait("a", timeout=30)).state == "COMPLETED"


async def test_unknown_status_is_running_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    table = Table(duration=0.3)
    local = make_classifier(completed=["COMPLETED"], failed=["FAILED"], running=["IN_PROGRESS"])
    poller = JobPoller(
        table.fetch,
        state_of=lambda s: s.state,
        classify=local,
        interval_initial=0.01,
        interval_max=0.02,
    )
    table.add("a")
    table.forced["a"] = "QUEUED_FOR_REVIEW"

    async def unforce() -> None:
        await anyio.sleep(0.2)
        del table.forced["a"]

    with caplog.at_level(logging.WARNING, logger="fini_async"):
        async with anyio.create_task_group() as tg:
            tg.start_soon(unforce)
            status = await poller.wait("a", timeout=30)
    assert status.state == "COMPLETED"
    assert len(table.batches) >= 3  # it kept polling through the unknown state
    warnings = [r for r in caplog.records if "QUEUED_FOR_REVIEW" in r.getMessage()]
    assert len(warnings) == 1


async def test_as_completed_yields_in_completion_order() -> None:
    table = Table()
    poller = make(table)
    table.add("late", duration=0.3)
    table.add("early", duration=0.0)
    table.add("bad", final="FAILED", duration=0.1)
    order = [s.id async for s in poller.as_completed(["late", "early", "bad"], timeout=30)]
    assert order == ["early", "bad", "late"]
    await settle(poller)


async def test_as_completed_raise_on_failure_and_timeout() -> None:
    table = Table()
    poller = make(table)
    table.add("bad", final="FAILED", duration=0.0)
    with pytest.raises(JobFailedError):
        async for _ in poller.as_completed(["bad"], raise_on_failure=True):
            pass
    table.add("ok", duration=0.0)
    table.add("never", duration=600)
    seen = []
    with pytest.raises(JobTimeoutError) as info:
        async for status in poller.as_completed(["ok", "never"], timeout=0.3):
            seen.append(status.id)
    assert seen == ["ok"]
    assert [s.state for s in info.value.job] == ["IN_PROGRESS"]
    await settle(poller)
    assert poller.pending == []


async def test_as_completed_closed_early_stops_waiting() -> None:
    table = Table()
    poller = make(table)
    table.add("a", duration=0.0)
    table.add("b", duration=600)
    async with poller.as_completed(["a", "b"]) as it:
        async for status in it:
            assert status.id == "a"
            break
    await settle(poller)
    assert poller.pending == []


async def test_progress_callback_sees_state_changes() -> None:
    table = Table(duration=0.1)
    poller = make(table)
    events: list[tuple[str, str]] = []
    remove = poller.add_progress_callback(lambda job_id, s: events.append((job_id, s.state)))
    poller.add_progress_callback(lambda job_id, s: 1 / 0)  # a broken callback harms nobody
    table.add("a")
    await poller.wait("a", timeout=30)
    assert events == [("a", "IN_PROGRESS"), ("a", "COMPLETED")]
    remove()
    table.add("b", duration=0.0)
    await poller.wait("b", timeout=30)
    assert len(events) == 2


async def test_interval_backs_off_to_its_cap() -> None:
    values = list(itertools.islice(backoff_schedule(0.25, 5.0, lambda v: v), 8))
    assert values == [0.25, 0.5, 1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    jittered = [_equal_jitter(5.0) for _ in range(200)]
    assert all(2.5 <= v <= 5.0 for v in jittered)
    assert len(set(jittered)) > 1
    # live: with a 10 ms start and a 40 ms cap, 0.6 s holds far fewer ticks than 60
    table = Table()
    poller = make(table, interval_initial=0.01, interval_max=0.04)
    table.add("a", duration=0.6)
    await poller.wait("a", timeout=30)
    assert 5 <= poller.ticks <= 45
    gaps = [b - a for a, b in zip(table.times, table.times[1:], strict=False)]
    assert max(gaps[-3:]) > min(gaps[:2])


async def test_new_jobs_are_polled_soon_after_a_long_backoff() -> None:
    table = Table()
    poller = make(table, interval_initial=0.02, interval_max=2.0)
    table.add("long", duration=600)

    async def background() -> None:
        with anyio.move_on_after(3):
            await poller.wait("long", timeout=None)

    async with anyio.create_task_group() as tg:
        tg.start_soon(background)
        await anyio.sleep(1.2)  # the interval has grown to ~1 s
        table.add("quick", duration=0.0)
        start = time.monotonic()
        await poller.wait("quick", timeout=30)
        assert time.monotonic() - start < 0.8
        tg.cancel_scope.cancel()


async def test_aclose_fails_waiters_and_refuses_new_ones() -> None:
    table = Table(duration=600)
    poller = make(table)
    table.add("a")
    errors: list[BaseException] = []

    async def one() -> None:
        try:
            await poller.wait("a", timeout=30)
        except ClientStateError as exc:
            errors.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(one)
        await anyio.sleep(0.05)
        await poller.aclose()
    assert len(errors) == 1
    assert not poller.running
    with pytest.raises(ClientStateError):
        await poller.wait("a")


async def test_bad_arguments() -> None:
    poller = make(Table())
    with pytest.raises(ValidationError) as info:
        await poller.wait("", timeout=1)
    assert info.value.field == "job_id"
    with pytest.raises(ValidationError) as info:
        await poller.wait("x", timeout=-1)
    assert info.value.field == "timeout"
    with pytest.raises(ValidationError):
        poller.as_completed(["a", 3])  # type: ignore[list-item]
    with pytest.raises(ValidationError):
        make(Table(), chunk_size=0)
    assert not poller.running


async def test_no_task_left_behind() -> None:
    table = Table(duration=0.05)
    poller = make(table)
    before = len(asyncio.all_tasks())
    table.add("a")
    await poller.wait("a", timeout=30)
    await settle(poller)
    assert len(asyncio.all_tasks()) == before


async def test_a_broken_fetch_or_classifier_fails_waiters_instead_of_hanging() -> None:
    async def garbage(ids: list[str]) -> Mapping[str, Status]:
        return None  # type: ignore[return-value]

    poller: JobPoller[Status] = JobPoller(
        garbage, state_of=lambda s: s.state, classify=classify, interval_initial=0.01
    )
    with pytest.raises(TypeError):
        await poller.wait("a", timeout=30)

    def broken(state: str) -> Literal["running", "completed", "failed"]:
        raise KeyError(state)

    table = Table(duration=0.0)
    table.add("a")
    poller = JobPoller(table.fetch, state_of=lambda s: s.state, classify=broken)
    with pytest.raises(KeyError):
        await poller.wait("a", timeout=30)
    await settle(poller)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"interval_initial": "0.1"}, "interval_initial"),
        ({"chunk_size": True}, "chunk_size"),
        ({"max_concurrency": 2.5}, "max_concurrency"),
        ({"interval_initial": 0.0}, "interval_initial"),
    ],
)
def test_constructor_checks_the_schedule_as_configure_does(
    kw: dict[str, object], field: str
) -> None:
    # The constructor used to compare the raw values itself (a TypeError for a string, a bool
    # taken as a chunk size); it now sets the schedule through configure().
    with pytest.raises(ValidationError) as info:
        make(Table(), **kw)
    assert info.value.field == field


def test_constructor_raises_the_error_backoff_cap_to_its_start() -> None:
    poller = make(Table(), interval_initial=0.2, interval_max=1.0)  # error_backoff_max=0.05
    assert poller.error_backoff_initial == 0.2 and poller.error_backoff_max == 0.2
