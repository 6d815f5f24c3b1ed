"""Batch answering (``client.bots.ask_many``): laziness, ordering, per-item errors, cancellation,
progress, rate caps and the adaptive (AIMD) response to a rate-limited server."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

import fini_async
from fini_async import (
    Answer,
    AskRequest,
    AuthenticationError,
    Batch,
    BatchFailure,
    BatchProgress,
    BatchResult,
    BatchSuccess,
    FiniClient,
    PermissionDeniedError,
    RateLimitError,
    TokenBucket,
    ValidationError,
)
from fini_async.testing import FakeFini, assert_pool_idle


def _tasks() -> int:
    """Tasks of this process other than the emulator's request handlers (which go on serving a
    request the client gave up on, as a real server would)."""
    return sum(
        1
        for task in asyncio.all_tasks()
        if not getattr(task.get_coro(), "__qualname__", "").startswith("RequestHandler.")
    )


async def _settle(baseline: int, timeout: float = 5.0) -> int:
    """Wait until the number of tasks is back to ``baseline`` (cancelled tasks need a few loop
    turns to finish); return the final count."""
    with anyio.move_on_after(timeout):
        while _tasks() > baseline:  # noqa: ASYNC110 - polling what no event reports
            await anyio.sleep(0.01)
    return _tasks()


# -- token bucket ---------------------------------------------------------------------------


async def test_bucket_caps_rate() -> None:
    bucket = TokenBucket(100, burst=5)
    start = anyio.current_time()
    for _ in range(45):
        await bucket.acquire()
    # 5 burst + 40 at 100/s => at least ~0.4 s
    assert anyio.current_time() - start >= 0.35


async def test_bucket_rate_can_change_while_in_use() -> None:
    bucket = TokenBucket(1000, burst=1)
    await bucket.acquire()
    bucket.set_rate(20)
    start = anyio.current_time()
    for _ in range(5):
        await bucket.acquire()
    assert anyio.current_time() - start >= 0.18  # 5 tokens at 20/s, the first one partly earned


@pytest.mark.parametrize("rate", [0, -1, float("inf"), float("nan"), "10", True])
def test_bucket_rejects_bad_rate(rate: Any) -> None:
    with pytest.raises(ValidationError):
        TokenBucket(rate)


# -- the batch machinery ----------------------------------------------------------------------


async def test_ordered_lazy_and_per_item_errors() -> None:
    pulled = 0

    async def gen() -> AsyncIterator[int]:
        nonlocal pulled
        for i in range(1000):
            pulled += 1
            yield i

    async def call(i: int) -> int:
        await anyio.sleep(0.001 * (i % 3))
        if i % 7 == 0:
            raise RuntimeError(str(i))
        return i * 2

    seen = []
    async for r in Batch(call, gen(), concurrency=8, ordered=True):
        seen.append(r)
        # in flight + buffered <= concurrency, plus the one the feeder holds
        assert pulled <= r.index + 1 + 8 + 1
    assert [r.index for r in seen] == list(range(1000))
    assert all((r.error is not None) == (r.index % 7 == 0) for r in seen)
    assert all(r.answer == r.index * 2 for r in seen if r.ok)


async def test_ordered_buffers_at_most_concurrency_behind_a_slow_head() -> None:
    started: list[int] = []
    head_release = anyio.Event()

    async def call(i: int) -> int:
        started.append(i)
        if i == 0:
            await head_release.wait()
        return i

    async with Batch(call, range(100), concurrency=5, ordered=True) as batch:
        with anyio.fail_after(5):
            first = asyncio.ensure_future(batch.__anext__())
            while len(started) < 5:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            await anyio.sleep(0.05)
            assert started == [0, 1, 2, 3, 4]  # items 1-4 finished but hold their slots
            assert batch.progress.in_flight == 5
            head_release.set()
            assert (await first).index == 0
            rest = [r.index async for r in batch]
    assert rest == list(range(1, 100))


async def test_unordered_yields_as_they_finish() -> None:
    async def call(i: int) -> int:
        await anyio.sleep(0.2 if i == 0 else 0)
        return i

    order = [r.index async for r in Batch(call, range(6), concurrency=6)]
    assert order[-1] == 0 and sorted(order) == list(range(6))


async def test_input_failure_is_raised_after_the_finished_results() -> None:
    def items() -> Any:
        yield 1
        yield 2
        raise KeyError("broken input")

    async def call(i: int) -> int:
        return i

    got = []
    with pytest.raises(KeyError, match="broken input"):
        async for r in Batch(call, items(), concurrency=4):
            got.append(r.answer)
    assert sorted(got) == [1, 2]


async def test_async_with_exit_cancels_in_flight_and_leaves_nothing() -> None:
    started = finished = cancelled = 0

    async def call(i: int) -> int:
        nonlocal started, finished, cancelled
        started += 1
        try:
            await anyio.sleep(0 if i == 0 else 10)
        except BaseException:
            cancelled += 1
            raise
        finished += 1
        return i

    baseline = _tasks()
    with anyio.fail_after(5):
        async with Batch(call, range(100), concurrency=4) as batch:
            async for r in batch:
                assert r.index == 0
                break
    assert _tasks() == baseline  # aclose waited for the driver to finish
    assert started <= 5 and finished == 1 and cancelled == started - 1


async def test_bare_break_cancels_in_flight_when_the_batch_is_dropped() -> None:
    cancelled = 0

    async def call(i: int) -> int:
        nonlocal cancelled
        try:
            await anyio.sleep(0 if i == 0 else 10)
        except BaseException:
            cancelled += 1
            raise
        return i

    baseline = _tasks()
    async for r in Batch(call, range(100), concurrency=4):
        assert r.index == 0
        break
    gc.collect()  # CPython frees the batch at once; PyPy and friends need a collection
    assert await _settle(baseline) == baseline
    assert cancelled >= 3


async def test_cancelling_the_consumer_cancels_the_batch() -> None:
    async def call(i: int) -> int:
        await anyio.sleep(10)
        return i

    baseline = _tasks()
    batch = Batch(call, range(100), concurrency=8)
    with anyio.move_on_after(0.2):
        async for _ in batch:
            pass
    assert batch.progress.done
    assert await _settle(baseline) == baseline


async def test_progress_callback_sees_every_result() -> None:
    snapshots: list[BatchProgress] = []

    async def call(i: int) -> int:
        if i % 10 == 0:
            raise ValueError(i)
        return i

    batch = Batch(call, list(range(50)), concurrency=4)
    batch_results = [r async for r in Batch(call, range(50), on_progress=snapshots.append)]
    assert len(batch_results) == 50
    assert [p.completed for p in snapshots] == list(range(1, 51))
    assert all(p.total == 50 for p in snapshots)
    last = snapshots[-1]
    assert (last.succeeded, last.failed) == (45, 5)
    assert last.done and last.in_flight == 0 and last.rate > 0
    await batch.aclose()  # never iterated: closing is still clean
    assert batch.progress.completed == 0


async def test_progress_callback_failure_stops_the_batch() -> None:
    def boom(progress: BatchProgress) -> None:
        raise RuntimeError("progress bar broke")

    async def call(i: int) -> int:
        return i

    baseline = _tasks()
    with pytest.raises(RuntimeError, match="progress bar broke"):
        async for _ in Batch(call, range(1000), on_progress=boom):
            pass
    assert await _settle(baseline) == baseline


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 2.5}, "concurrency"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": "fast"}, "rate_limit"),
        ({"temperature": 7}, "temperature"),
        ({"tempreature": 0.1}, "tempreature"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    fake: FakeFini, client: FiniClient, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.bots.ask_many(["q"], **kwargs)
    assert info.value.field == field
    assert sum(fake.calls.values()) == 0


def test_client_rate_limit_is_validated() -> None:
    with pytest.raises(ValidationError):
        FiniClient(api_key="k", rate_limit=-5)
    assert FiniClient(api_key="k", rate_limit=50).rate_limit == 50


# -- against the emulator ---------------------------------------------------------------------


async def test_ask_many_against_emulator(fake: FakeFini, client: FiniClient) -> None:
    questions: list[Any] = [f"How do I upgrade, question {i}?" for i in range(50)]
    questions += [
        {"question": "with options", "instruction": "Be brief.", "id": "mine"},
        AskRequest("as a request object", temperature=0.1, id=7),
        "",
        {"question": "bad option", "colour": "red"},
        42,
    ]
    results = [r async for r in client.bots.ask_many(questions, concurrency=8, ordered=True)]
    assert [r.index for r in results] == list(range(55))
    assert all(r.ok for r in results[:52])
    assert all(r.answer is not None and r.answer.answer for r in results[:52])
    for bad in results[52:]:
        assert isinstance(bad.error, ValidationError)
    assert fake.calls["ask-question"] == 52  # the three bad items never reached the server


async def test_ask_many_per_item_http_errors_do_not_stop_the_batch(fake: FakeFini) -> None:
    async with fake.client(max_retries=0) as client:
        fake.fail_next("ask-question", times=3, status=500)
        results = await client.bots.ask_many([f"q{i}" for i in range(20)], concurrency=1).collect()
    assert [r.index for r in results] == list(range(20))
    assert sum(1 for r in results if not r.ok) == 3
    assert all(r.ok for r in results[3:])


async def test_million_question_generator_runs_lazily(fake: FakeFini, client: FiniClient) -> None:
    pulled = 0

    async def questions() -> AsyncIterator[str]:
        nonlocal pulled
        for i in range(1_000_000):
            pulled += 1
            yield f"question {i}"

    got = 0
    async with client.bots.ask_many(questions(), concurrency=16) as batch:
        async for r in batch:
            assert r.ok
            got += 1
            assert pulled <= got + 16 + 1
            if got == 300:
                break
    assert batch.progress.total is None
    assert_pool_idle(client)


async def test_breaking_out_of_ask_many_leaves_no_connection_or_task(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.add_latency("ask-question", 0.3)
    baseline = _tasks()
    async with client.bots.ask_many([f"q{i}" for i in range(100)], concurrency=10) as batch:
        async for _ in batch:
            break
    assert _tasks() == baseline
    assert_pool_idle(client)
    assert fake.calls["ask-question"] <= 21  # nothing was sent after the break


async def test_client_rate_limit_is_shared_by_concurrent_batches(fake: FakeFini) -> None:
    fake.set_rate_limit(60, per=1.0)
    async with fake.client(rate_limit=40, max_retries=0) as client:
        # burst of 4, then 40/s: 2 x 40 requests fit under 60 in any second
        first = client.bots.ask_many([f"a{i}" for i in range(40)], adaptive=False)
        second = client.bots.ask_many([f"b{i}" for i in range(40)], adaptive=False)
        results = await asyncio.gather(first.collect(), second.collect())
    assert all(r.ok for batch in results for r in batch)
    assert fake.rate_limited["ask-question"] == 0


async def test_batch_rate_limit_caps_requests(fake: FakeFini, client: FiniClient) -> None:
    fake.set_rate_limit(30, per=1.0)
    results = await client.bots.ask_many(
        [f"q{i}" for i in range(45)], rate_limit=25, adaptive=False, max_retries=0
    ).collect()
    assert all(r.ok for r in results)
    assert fake.rate_limited["ask-question"] == 0


async def test_without_adaptation_a_rate_limited_server_fails_items(fake: FakeFini) -> None:
    """The control for the next test: the same load, not adapting, loses items to 429s."""
    fake.set_rate_limit(50, per=1.0)
    async with fake.client(max_retries=0) as client:
        results = await client.bots.ask_many(
            [f"q{i}" for i in range(200)], concurrency=32, adaptive=False
        ).collect()
    failed = [r for r in results if not r.ok]
    assert failed and all(isinstance(r.error, RateLimitError) for r in failed)
    assert all(r.error.retry_after is not None for r in failed)  # type: ignore[union-attr]


async def test_2000_questions_converge_on_a_200_per_second_server() -> None:
    async with FakeFini(rate_limit=200) as fake, fake.client() as client:
        batch = client.bots.ask_many(
            [f"Question number {i} about upgrading?" for i in range(2000)], concurrency=32
        )
        concurrency_seen: set[int] = set()
        async with batch:
            results = []
            async for r in batch:
                results.append(r)
                concurrency_seen.add(batch.progress.concurrency)
        progress = batch.progress
    assert len(results) == 2000 and all(r.ok for r in results)
    calls = fake.calls["ask-question"]
    refused = fake.rate_limited["ask-question"]
    assert calls == 2000 + refused
    assert refused < 0.05 * calls, f"{refused} of {calls} calls answered 429"
    assert progress.rate_limited == refused
    assert min(concurrency_seen) < 32  # it backed off (AIMD) ...
    assert progress.succeeded == 2000 and progress.done
    # ... not to a crawl: over half the server's 200/s on average. The rate the batch ended on is
    # wherever the sawtooth stood (0.9x the successes of the second before the last 429, then
    # growing), so it is held to what actually got through rather than to a fixed figure: a
    # loaded machine gets fewer through per second, and learns a lower rate, rightly.
    achieved = progress.rate
    assert achieved >= 100, f"{achieved:.0f}/s on a 200/s server"
    assert progress.rate_limit is not None and progress.rate_limit >= 0.5 * achieved, progress


async def test_429s_before_any_success_do_not_pin_a_crawling_rate(fake: FakeFini) -> None:
    """With nothing through yet there is no rate to learn: the batch only narrows its concurrency
    (and honours Retry-After), then widens it again."""
    fake.fail_next("ask-question", times=5, status=429, retry_after=0)
    async with fake.client() as client:
        batch = client.bots.ask_many([f"q{i}" for i in range(300)], concurrency=32)
        results = await batch.collect()
    assert all(r.ok for r in results)
    assert batch.progress.rate_limited == 5
    assert batch.progress.rate_limit is None
    assert batch.progress.concurrency > 16  # grown back after halving


# -- hardening (issue 11) ---------------------------------------------------------------------


@pytest.mark.parametrize("questions", ["How do I upgrade?", b"How do I upgrade?", bytearray(b"q")])
async def test_a_single_string_is_refused_not_asked_per_character(
    fake: FakeFini, client: FiniClient, questions: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        client.bots.ask_many(questions)
    assert info.value.field == "questions"
    assert "not a single" in str(info.value)
    assert sum(fake.calls.values()) == 0


async def test_a_wrong_key_stops_the_batch_at_once(fake: FakeFini) -> None:
    questions = [f"What is Fini? {i}" for i in range(100)]
    async with (
        fake.client(api_key="fini_wrong_key") as client,
        client.bots.ask_many(questions, concurrency=4, ordered=True) as batch,
    ):
        results = [r async for r in batch]
    assert [r.index for r in results] == list(range(100))
    assert all(isinstance(r.error, AuthenticationError) for r in results)
    # The 4 sent before the first 401 came back; no request after it.
    assert fake.calls["ask-question"] <= 4
    first = {id(r.error) for r in results[4:]}
    assert len(first) == 1  # the remaining items carry that same error
    assert batch.progress.failed == 100 and batch.progress.succeeded == 0


async def test_a_403_stops_the_batch_and_retries_are_not_sent(fake: FakeFini) -> None:
    async with fake.client() as client:
        fake.fail_next("ask-question", times=1, status=403)
        results = await client.bots.ask_many([f"q{i}" for i in range(20)], concurrency=1).collect()
    assert fake.calls["ask-question"] == 1
    assert len(results) == 20
    assert all(isinstance(r.error, PermissionDeniedError) for r in results)
    assert all(r.error is results[0].error for r in results)


async def test_other_errors_do_not_stop_the_batch(fake: FakeFini) -> None:
    async with fake.client(max_retries=0) as client:
        fake.fail_next("ask-question", times=1, status=404)
        results = await client.bots.ask_many([f"q{i}" for i in range(5)], concurrency=1).collect()
    assert [r.ok for r in results] == [False, True, True, True, True]
    assert fake.calls["ask-question"] == 5


async def test_results_are_a_union_narrowed_by_ok(fake: FakeFini, client: FiniClient) -> None:
    results = await client.bots.ask_many(["What is Fini?", ""], ordered=True).collect()
    good, bad = results
    assert isinstance(good, BatchSuccess) and good.ok is True and good.error is None
    assert good.answer.answer
    assert isinstance(bad, BatchFailure) and bad.ok is False and bad.answer is None
    assert isinstance(bad.error, ValidationError)
    # The alias names both, and subscripts like the generic class it replaced.
    assert BatchResult[Answer] == BatchSuccess[Answer] | BatchFailure
    for name in ("BatchResult", "BatchSuccess", "BatchFailure"):
        assert name in fini_async.__all__
