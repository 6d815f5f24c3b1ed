import anyio
import pytest

from fini_async._exceptions import ValidationError
from fini_async._ratelimit import TokenBucket


async def test_bucket_caps_rate() -> None:
    bucket = TokenBucket(100, burst=5)
    start = anyio.current_time()
    for _ in range(45):
        await bucket.acquire()
    # 5 burst + 40 at 100/s => at least ~0.4 s
    assert anyio.current_time() - start >= 0.35


def test_bucket_rejects_bad_rate() -> None:
    with pytest.raises(ValidationError):
        TokenBucket(0)


async def test_run_many_ordered_lazy_and_errors() -> None:
    from fini_async._batch import run_many

    pulled = 0

    async def gen():  # type: ignore[no-untyped-def]
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
    async for r in run_many(call, gen(), concurrency=8, ordered=True):
        seen.append(r)
        assert pulled <= r.index + 1 + 8 + 1
    assert [r.index for r in seen] == list(range(1000))
    assert all((r.error is not None) == (r.index % 7 == 0) for r in seen)
    assert all(r.answer == r.index * 2 for r in seen if r.ok)


async def test_run_many_break_cancels_in_flight() -> None:
    from contextlib import aclosing

    from fini_async._batch import run_many

    started = 0
    finished = 0

    async def call(i: int) -> int:
        nonlocal started, finished
        started += 1
        await anyio.sleep(0 if i == 0 else 10)
        finished += 1
        return i

    with anyio.fail_after(5):
        async with aclosing(run_many(call, range(100), concurrency=4)) as results:
            async for r in results:
                assert r.index == 0
                break
    assert started <= 5 and finished == 1


async def test_ask_many_against_emulator(fake, client) -> None:  # type: ignore[no-untyped-def]
    questions = [f"question {i}" for i in range(50)] + [{"question": "with options"}, ""]
    results = [r async for r in client.bots.ask_many(questions, concurrency=8, ordered=True)]
    assert [r.index for r in results] == list(range(52))
    assert all(r.ok for r in results[:51])
    assert isinstance(results[51].error, ValidationError)
