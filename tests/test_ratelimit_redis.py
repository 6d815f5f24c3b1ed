"""RedisRateLimiter against a real ``redis-server`` (started on a free loopback port in a temp
dir, no persistence) and the emulator; and the RateLimiter protocol's in-process TokenBucket.

Without redis-server or redis-py these tests skip, unless ``FINI_REQUIRE_SCALE=1`` (set by the
nox session that installs them), where they fail instead."""

from __future__ import annotations

import collections
import logging
import os
import pickle
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import anyio
import pytest

import fini_async
from fini_async import (
    FiniClient,
    RateLimiter,
    RateLimiterUnavailableError,
    TokenBucket,
    ValidationError,
)
from fini_async.testing import FakeFini
from fini_async.testing._redis_server import RedisServer, redis_server_binary

REQUIRE = os.environ.get("FINI_REQUIRE_SCALE") == "1"


def _missing() -> str | None:
    if redis_server_binary() is None:
        return "redis-server is not installed (apt-get install redis-server)"
    try:
        import redis  # noqa: F401
    except ImportError:
        return "redis-py is not installed (pip install 'fini-async[redis]')"
    return None


def need_redis() -> None:
    reason = _missing()
    if reason is not None:
        if REQUIRE:
            pytest.fail(f"FINI_REQUIRE_SCALE=1 but {reason}")
        pytest.skip(reason)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    need_redis()
    with RedisServer() as server:
        yield server


@pytest.fixture
def key() -> str:
    return f"fini-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def limiters(redis_server: RedisServer, key: str) -> AsyncIterator[list[RateLimiter]]:
    """Two workers' limiters on one budget (separate objects, separate connections)."""
    made = [fini_async.RedisRateLimiter(redis_server.url, key, 50) for _ in range(2)]
    try:
        yield list(made)
    finally:
        for limiter in made:
            await limiter.aclose()


# -- the protocol and the in-process bucket ---------------------------------------------------


def test_both_limiters_satisfy_the_protocol() -> None:
    assert isinstance(TokenBucket(10), RateLimiter)
    assert "RateLimiter" in fini_async.__all__ and "RedisRateLimiter" in fini_async.__all__
    assert not TokenBucket(10).adaptive and TokenBucket(10, adaptive=True).adaptive


async def test_adaptive_bucket_pauses_every_client_sharing_it(fake: FakeFini) -> None:
    bucket = TokenBucket(1000, adaptive=True)
    fake.fail_next("ask-question", 1, 429, retry_after_ms=600, retry_after=1)
    async with fake.client(rate_limit=bucket) as first, fake.client(rate_limit=bucket) as second:
        await first.bots.ask_question("How do I upgrade?")  # 429, paused, retried
        assert bucket.rate == pytest.approx(900, rel=0.001)  # one decrease (x0.9)
        fake.fail_next("ask-question", 1, 429, retry_after_ms=600, retry_after=1)
        async with anyio.create_task_group() as tg:
            tg.start_soon(first.bots.ask_question, "How do I upgrade?")
            await anyio.sleep(0.1)  # the first client's 429 has come back: the pause is on
            started = time.monotonic()
            await second.bots.ask_question("How do I upgrade?")
            waited = time.monotonic() - started
    assert waited >= 0.4  # the second client waited out the first one's Retry-After


async def test_fixed_bucket_ignores_the_server(fake: FakeFini) -> None:
    bucket = TokenBucket(1000)
    fake.fail_next("ask-question", 1, 429, retry_after_ms=50, retry_after=1)
    async with fake.client(rate_limit=bucket) as client:
        await client.bots.ask_question("How do I upgrade?")
    assert bucket.rate == 1000


def test_rate_limit_must_be_a_number_or_a_limiter() -> None:
    with pytest.raises(ValidationError) as info:
        FiniClient(api_key="k", rate_limit=object())  # type: ignore[arg-type]
    assert info.value.field == "rate_limit"
    bucket = TokenBucket(7, adaptive=True)
    assert FiniClient(api_key="k", rate_limit=bucket).rate_limit == 7


# -- RedisRateLimiter ---------------------------------------------------------------------------


async def test_workers_share_one_budget(limiters: list[RateLimiter]) -> None:
    acquired: collections.Counter[int] = collections.Counter()

    async def worker(n: int) -> None:
        for _ in range(30):
            await limiters[n].acquire()
            acquired[n] += 1

    started = time.monotonic()
    async with anyio.create_task_group() as tg:
        for n in range(2):
            tg.start_soon(worker, n)
    elapsed = time.monotonic() - started
    # 60 acquisitions at 50/s shared, evenly spaced: the last one at 59/50 s, whoever asked.
    assert elapsed >= 59 / 50 * 0.95
    assert acquired == {0: 30, 1: 30}


async def test_a_429_seen_by_one_worker_pauses_and_slows_all(
    fake: FakeFini, limiters: list[RateLimiter]
) -> None:
    a, b = limiters
    async with fake.client(rate_limit=a) as first, fake.client(rate_limit=b) as second:
        await second.bots.ask_question("How do I upgrade?")
        assert b.rate == 50
        fake.fail_next("ask-question", 1, 429, retry_after_ms=800, retry_after=1)
        async with anyio.create_task_group() as tg:
            tg.start_soon(first.bots.ask_question, "How do I upgrade?")
            await anyio.sleep(0.2)  # the 429 is back and reported to Redis by now
            started = time.monotonic()
            await second.bots.ask_question("How do I upgrade?")
            waited = time.monotonic() - started
        assert waited >= 0.4  # the other worker waited out the shared pause
        assert b.rate == pytest.approx(45, rel=0.001)  # the shared rate, lowered once (x0.9)
        for _ in range(20):  # successes raise it again, cluster-wide
            await first.bots.ask_question("How do I upgrade?")
        await second.bots.ask_question("How do I upgrade?")
        assert 45 < b.rate <= 50


async def test_in_a_batch_the_shared_limiter_owns_the_rate(
    fake: FakeFini, limiters: list[RateLimiter]
) -> None:
    fake.fail_next("ask-question", 1, 429, retry_after_ms=100, retry_after=1)
    async with fake.client() as client:
        batch = client.bots.ask_many([f"q{i}" for i in range(15)], rate_limit=limiters[0])
        results = await batch.collect()
    assert all(r.ok for r in results)
    assert batch.progress.rate_limited == 1
    assert batch.progress.rate_limit == limiters[0].rate < 50


async def test_redis_unreachable_raises_a_typed_error_and_sends_nothing(
    fake: FakeFini, redis_server: RedisServer, key: str
) -> None:
    url = f"redis://:s3cret@127.0.0.1:{redis_server.port}/0"
    limiter = fini_async.RedisRateLimiter(url, key, 50, timeout=0.5)
    assert "s3cret" not in repr(limiter) and "s3cret" not in limiter.url
    redis_server.stop()
    async with fake.client(rate_limit=limiter) as client:
        with pytest.raises(RateLimiterUnavailableError) as info:
            await client.bots.ask_question("How do I upgrade?")
    assert "s3cret" not in str(info.value) and "not sent" in str(info.value)
    assert fake.calls["ask-question"] == 0
    await limiter.aclose()


async def test_local_fallback_then_back_to_redis(
    fake: FakeFini, redis_server: RedisServer, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = fini_async.RedisRateLimiter(
        redis_server.url, key, 40, on_unavailable="local", retry_interval=0.2, timeout=0.5
    )
    caplog.set_level(logging.WARNING, logger="fini_async")
    async with fake.client(rate_limit=limiter) as client:
        await client.bots.ask_question("How do I upgrade?")
        redis_server.kill()
        await client.bots.ask_question("How do I upgrade?")
        assert limiter.using_fallback and limiter.rate == 40  # its share: the only worker
        redis_server.start()
        await anyio.sleep(0.3)
        await client.bots.ask_question("How do I upgrade?")
        assert not limiter.using_fallback
    assert fake.calls["ask-question"] == 3
    messages = [r.getMessage() for r in caplog.records]
    assert any("pacing locally" in m for m in messages)
    assert any("Redis is back" in m for m in messages)
    await limiter.aclose()


@pytest.mark.parametrize("mode", ["raise", "local"])
async def test_redis_killed_mid_batch_loses_and_duplicates_nothing(
    fake: FakeFini, redis_server: RedisServer, key: str, mode: str
) -> None:
    """Two workers (own limiter and client each) share 100 req/s; Redis dies after ~1 s. With
    "raise" the items not yet admitted carry RateLimiterUnavailableError and were never sent;
    with "local" every item is answered. Either way each input has exactly one result."""
    limiters = [
        fini_async.RedisRateLimiter(redis_server.url, key, 100, on_unavailable=mode, timeout=0.5)
        for _ in range(2)
    ]
    outcomes: list[list[fini_async.BatchResult[fini_async.Answer]]] = [[], []]

    async def worker(n: int) -> None:
        async with fake.client() as client:
            batch = client.bots.ask_many(
                [f"q{i}" for i in range(200)], rate_limit=limiters[n], max_retries=2
            )
            outcomes[n] = await batch.collect()

    async def killer() -> None:
        await anyio.sleep(1.0)
        redis_server.kill()

    async with anyio.create_task_group() as tg:
        tg.start_soon(worker, 0)
        tg.start_soon(worker, 1)
        tg.start_soon(killer)
    for results in outcomes:
        assert [r.index for r in results] == list(range(200))  # each once, none lost
    flat = [r for results in outcomes for r in results]
    answered = sum(r.ok for r in flat)
    if mode == "raise":
        errors = {type(r.error) for r in flat if not r.ok}
        assert errors == {RateLimiterUnavailableError}
        assert 0 < answered < 400
    else:
        assert answered == 400
        assert all(limiter.using_fallback for limiter in limiters)
    # nothing was sent twice or for a failed item: every call is an answer or a refused one
    assert fake.calls["ask-question"] == answered + fake.rate_limited["ask-question"]
    for limiter in limiters:
        await limiter.aclose()


def test_limiter_pickles_its_settings_only(redis_server: RedisServer, key: str) -> None:
    url = f"redis://:s3cret@127.0.0.1:{redis_server.port}/0"
    limiter = fini_async.RedisRateLimiter(url, key, 25, burst=3, on_unavailable="local")
    copy = pickle.loads(pickle.dumps(limiter))
    assert (copy.key, copy.ceiling, copy.burst, copy.on_unavailable) == (key, 25, 3, "local")
    assert copy.workers == 1 and "s3cret" not in repr(copy)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"rate": 0}, "rate"),
        ({"burst": 0.5}, "burst"),
        ({"key": ""}, "key"),
        ({"on_unavailable": "ignore"}, "on_unavailable"),
    ],
)
def test_bad_settings_are_rejected(kwargs: dict[str, object], field: str) -> None:
    need_redis()
    args: dict[str, object] = {"url": "redis://127.0.0.1:1/0", "key": "k", "rate": 10, **kwargs}
    with pytest.raises(ValidationError) as info:
        fini_async.RedisRateLimiter(**args)  # type: ignore[arg-type]
    assert info.value.field == field


def test_package_imports_without_redis() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "import fini_async, fini_async.ray\n"
        "try:\n"
        "    fini_async.RedisRateLimiter('redis://127.0.0.1:1/0', 'k', 10)\n"
        "except fini_async.ConfigurationError as exc:\n"
        "    print('ConfigurationError', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "ConfigurationError" in out.stdout and "fini-async[redis]" in out.stdout
