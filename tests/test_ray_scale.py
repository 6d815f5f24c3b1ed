"""Scale-out: Ray Data actors and separate worker processes sharing one Redis rate budget
against the emulator limited to N requests/s; and ``fini_async.ray.ask_dataset``'s per-row
errors. One local Ray runtime (loopback only) for the whole session.

Without redis-server, redis-py or Ray these tests skip, unless ``FINI_REQUIRE_SCALE=1`` (set by
the nox session that installs them), where they fail instead."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from fini_async import RedisRateLimiter, ValidationError
from fini_async.testing import WRITE_KEY, FakeFini
from fini_async.testing._redis_server import RedisServer, redis_server_binary

REQUIRE = os.environ.get("FINI_REQUIRE_SCALE") == "1"
WORKER = os.path.join(os.path.dirname(__file__), "scale_worker.py")
#: The emulator's limit: 2,000 questions take ~17 s.
N = 120


def _need() -> None:
    reasons = []
    if redis_server_binary() is None:
        reasons.append("redis-server is not installed")
    for module in ("redis", "ray", "ray.data"):
        try:
            __import__(module)
        except ImportError:
            reasons.append(f"{module} is not installed (pip install 'fini-async[redis,ray]')")
            break
    if reasons:
        if REQUIRE:
            pytest.fail("FINI_REQUIRE_SCALE=1 but " + "; ".join(reasons))
        pytest.skip("; ".join(reasons))


@pytest.fixture(scope="session")
def ray_runtime() -> Iterator[Any]:
    """One local Ray runtime: 2 CPUs, no dashboard, every address on loopback (Ray binds its
    node's address; this makes it 127.0.0.1 on Linux too)."""
    _need()
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # read when ray is imported
    import ray

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        object_store_memory=100 * 2**20,
        _node_ip_address="127.0.0.1",
    )
    try:
        import ray.data

        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    _need()
    with RedisServer() as server:
        yield server


class ThreadedFake:
    """The emulator on its own event loop in a thread (Ray Data blocks the test's thread), with a
    sampler of how many calls it admitted, over time."""

    def __init__(self, rate_limit: int | None) -> None:
        self.fake = FakeFini(rate_limit=rate_limit)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.samples: list[tuple[float, int]] = []
        self._sampler: asyncio.Task[None] | None = None

    def __enter__(self) -> ThreadedFake:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    async def _start(self) -> None:
        await self.fake.start()
        self._sampler = asyncio.get_running_loop().create_task(self._sample())

    async def _sample(self) -> None:
        while True:
            fake = self.fake
            admitted = fake.calls["ask-question"] - fake.rate_limited["ask-question"]
            self.samples.append((time.monotonic(), admitted))
            await asyncio.sleep(0.05)

    async def _stop(self) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
        await self.fake.stop()

    def __exit__(self, *exc_info: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def admitted_rate(self) -> float:
        """Admitted calls per second from the first to the last one admitted."""
        total = self.samples[-1][1]
        first = next(t for t, n in self.samples if n > 0)
        last = next(t for t, n in self.samples if n == total)
        return total / (last - first)


def _start_workers(fake: FakeFini, redis: RedisServer, key: str, parts: list[tuple[int, int]]):
    procs = []
    for start, count in parts:
        spec = {
            "base_url": fake.url,
            "redis_url": redis.url,
            "key": key,
            "rate": N,
            "start": start,
            "count": count,
        }
        proc = subprocess.Popen(
            [sys.executable, WORKER, json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
    for proc in procs:  # each has imported everything and waits for "go"
        assert proc.stdout is not None
        assert json.loads(proc.stdout.readline()) == {"ready": True}
    return procs


def test_ray_actors_and_processes_share_one_redis_budget(
    ray_runtime: Any, redis_server: RedisServer
) -> None:
    """2,000 questions: 1,000 through 2 Ray actors, 500 through each of 2 worker processes, all
    on one RedisRateLimiter budget of N/s against an emulator admitting N/s."""
    from fini_async.ray import ask_dataset

    key = f"fini-scale-{uuid.uuid4().hex[:8]}"
    with ThreadedFake(rate_limit=N) as threaded:
        fake = threaded.fake
        procs = _start_workers(fake, redis_server, key, [(1000, 500), (1500, 500)])
        ds = ray_runtime.data.from_items(
            [{"id": i, "question": f"Question {i}: how do I upgrade my plan?"} for i in range(1000)]
        )
        limiter = RedisRateLimiter(redis_server.url, key, N)
        answered = ask_dataset(
            ds,
            concurrency=2,
            rate_limit=limiter,
            base_url=fake.url,
            api_key=WRITE_KEY,
            batch_size=50,
            # Enough to keep the budget busy; more would only queue reservations in Redis.
            requests_per_actor=8,
        )
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        rows = answered.take_all()
        outputs = [proc.communicate(timeout=120)[0] for proc in procs]
        calls = fake.calls["ask-question"]
        refused = fake.rate_limited["ask-question"]
        rate = threaded.admitted_rate()

    assert all(proc.returncode == 0 for proc in procs)
    results: dict[int, bool] = {}
    for row in rows:
        assert row["id"] not in results
        assert row["error"] is None, row["error"]
        assert row["answer"]
        results[int(row["id"])] = True
    for out in outputs:
        for line in out.splitlines():
            item = json.loads(line)
            if "index" in item:
                assert item["index"] not in results
                assert item["ok"], item
                results[item["index"]] = True
    assert sorted(results) == list(range(2000))  # none lost, none twice, none failed
    assert calls == 2000 + refused
    assert refused / calls < 0.02, f"{refused} of {calls} calls answered 429"
    assert 0.9 * N <= rate <= 1.1 * N, f"{rate:.1f} admitted/s against a limit of {N}/s"


def test_ask_dataset_reports_row_errors_without_failing(ray_runtime: Any) -> None:
    from fini_async.ray import ask_dataset

    with ThreadedFake(rate_limit=None) as threaded:
        fake = threaded.fake
        fake.fail_next("ask-question", 1, 400)  # one row's call is refused
        ds = ray_runtime.data.from_items(
            [{"id": i, "question": "" if i == 3 else f"Question {i}?"} for i in range(12)]
        )
        rows = ask_dataset(
            ds,
            concurrency=1,
            rate_limit=50,
            base_url=fake.url,
            api_key=WRITE_KEY,
            requests_per_actor=1,
            client_options={"max_retries": 0},
        ).take_all()
    by_id = {int(r["id"]): r for r in rows}
    assert sorted(by_id) == list(range(12))
    failed = {i for i, r in by_id.items() if r["error"] is not None}
    assert 3 in failed and by_id[3]["error"].startswith("ValidationError")
    assert len(failed) == 2  # the empty question and the refused call
    assert any(by_id[i]["error"].startswith("BadRequestError") for i in failed)
    assert all(r["answer"] for i, r in by_id.items() if i not in failed)


def test_ask_dataset_checks_its_arguments_first() -> None:
    from fini_async.ray import _Secret, _Settings, ask_dataset

    ds: Any = object()  # never touched: the checks come first
    with pytest.raises(ValidationError):
        ask_dataset(ds, concurrency=0)
    with pytest.raises(ValidationError):
        ask_dataset(ds, rate_limit="fast")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        ask_dataset(ds, colour="blue")
    settings = _Settings(_Secret("fini_secret_key"), None, {}, "q", "a", "e", 1, None)
    assert "fini_secret_key" not in repr(settings)
