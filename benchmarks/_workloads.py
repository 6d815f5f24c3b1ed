"""Workloads and the per-measurement child process.

Each (flavour, workload, loop, run) measurement runs in a fresh interpreter::

    python -m benchmarks._workloads '<json spec>'

which prints one ``BENCH-RESULT {json}`` line. Fresh processes keep peak RSS
(``ru_maxrss``) and import state clean and comparable between flavours.

Extension point: add a :class:`Workload` to :data:`WORKLOADS`. The batch workloads
(``knowledge_jobs``, ``ask_many``, ``ask_many_limited``) live in ``_batch_workloads`` (routes in
``_server_jobs``) and are registered below from their specs. A flavour method that raises
``NotImplementedError`` makes the runner report the pair as unsupported instead of failing.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from benchmarks._batch_workloads import BATCH_WORKLOADS
from benchmarks._clients import FLAVOURS, Flavour

QUESTION = "How do I upgrade?"
RESULT_PREFIX = "BENCH-RESULT "

Params = Mapping[str, int]


async def _pool(n: int, concurrency: int, job: Callable[[], Awaitable[int]]) -> int:
    """Run ``job`` ``n`` times with a fixed pool of ``concurrency`` workers; sum the results."""
    remaining = n
    total = 0

    async def worker() -> None:
        nonlocal remaining, total
        while remaining > 0:
            remaining -= 1
            done = await job()  # not `total += await job()`: that reads `total` before awaiting
            total += done

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))
    return total


async def run_plain(fl: Flavour, p: Params) -> int:
    async def one() -> int:
        return 1 if await fl.ask(QUESTION) else 0

    return await _pool(p["requests"], p["concurrency"], one)


async def warm_plain(fl: Flavour, p: Params) -> None:
    await _pool(p["concurrency"], p["concurrency"], lambda: _ask_one(fl))


async def _ask_one(fl: Flavour) -> int:
    await fl.ask(QUESTION)
    return 1


async def run_streams(fl: Flavour, p: Params) -> int:
    chunks = p["chunks"]
    return await _pool(p["streams"], p["concurrency"], lambda: fl.stream(QUESTION, chunks))


async def warm_streams(fl: Flavour, p: Params) -> None:
    await _pool(p["concurrency"], p["concurrency"], lambda: fl.stream(QUESTION, 10))


async def run_bigstream(fl: Flavour, p: Params) -> int:
    return await fl.stream(QUESTION, p["chunks"])


async def warm_bigstream(fl: Flavour, p: Params) -> None:
    await fl.stream(QUESTION, 10)


@dataclass(frozen=True)
class Workload:
    name: str
    unit: str  # what throughput counts: "req" or "chunk"
    description: str
    run: Callable[[Flavour, Params], Awaitable[int]]
    warmup: Callable[[Flavour, Params], Awaitable[None]]
    expected: Callable[[Params], int]
    full: Params
    quick: Params
    #: params multiplied by ``Flavour.scale`` (slow peers get fewer requests, same rates)
    scaled: tuple[str, ...] = ()
    #: flavours that implement it; ``None`` = all
    flavours: frozenset[str] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    #: figures the last run recorded beyond units/wall/CPU (status calls, 429s, ...)
    extras: Callable[[], Mapping[str, float]] | None = None

    def params(self, flavour: type[Flavour], quick: bool) -> dict[str, int]:
        p = dict(self.quick if quick else self.full)
        scale = flavour.scale_for(self.name)
        for key in self.scaled:
            p[key] = max(1, round(p[key] * scale))
        return p


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            name="plain",
            unit="req",
            description="non-streaming ask-question requests at fixed concurrency",
            run=run_plain,
            warmup=warm_plain,
            expected=lambda p: p["requests"],
            full={"requests": 5000, "concurrency": 64},
            quick={"requests": 1000, "concurrency": 64},
            scaled=("requests",),
        ),
        Workload(
            name="streams",
            unit="chunk",
            description="many concurrent SSE streams",
            run=run_streams,
            warmup=warm_streams,
            expected=lambda p: p["streams"] * p["chunks"],
            full={"streams": 200, "chunks": 200, "concurrency": 32},
            quick={"streams": 40, "chunks": 200, "concurrency": 32},
            scaled=("streams",),
        ),
        Workload(
            name="bigstream",
            unit="chunk",
            description="one long SSE stream",
            run=run_bigstream,
            warmup=warm_bigstream,
            expected=lambda p: p["chunks"],
            full={"chunks": 100_000},
            quick={"chunks": 20_000},
            scaled=("chunks",),
        ),
    )
}

#: knowledge_jobs, ask_many, ask_many_limited (raw and fini-async only)
WORKLOADS.update((spec["name"], Workload(**spec)) for spec in BATCH_WORKLOADS)

#: Workloads computed by the runner rather than by a child of their own.
DERIVED_WORKLOADS: dict[str, str] = {
    "rss": "peak RSS (ru_maxrss) of the client process during the plain workload",
    "import": "wall time of `import <module>` in a fresh interpreter",
}


# --------------------------------------------------------------------------------------------
# child process
# --------------------------------------------------------------------------------------------


def _peak_rss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


async def _measure(spec: Mapping[str, Any]) -> dict[str, Any]:
    from benchmarks._server import process_cpu_seconds

    workload = WORKLOADS[spec["workload"]]
    params: Params = spec["params"]
    server_pid: int = spec["server_pid"]
    fl = FLAVOURS[spec["flavour"]](spec["base_url"], max_connections=100)
    await fl.open()
    try:
        rss_open = _peak_rss_bytes()
        await workload.warmup(fl, params)
        profiler = None
        if spec.get("profile"):
            import cProfile

            profiler = cProfile.Profile()
        srv0 = process_cpu_seconds(server_pid)
        c0 = time.process_time()
        t0 = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        units = await workload.run(fl, params)
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        srv1 = process_cpu_seconds(server_pid)
    finally:
        await fl.close()
    if profiler is not None:
        _dump_profile(profiler, spec["profile"])
    return {
        "ok": True,
        "units": units,
        "expected": workload.expected(params),
        "wall": wall,
        "cpu": cpu,
        "rss_open": rss_open,
        "server_cpu": None if srv0 is None or srv1 is None else srv1 - srv0,
        "extra": dict(workload.extras()) if workload.extras is not None else {},
    }


def _dump_profile(profiler: Any, path: str) -> None:
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(35)
    stats.sort_stats("cumulative").print_stats(35)
    with open(path, "w") as f:
        f.write(out.getvalue())


def child_main(argv: list[str]) -> int:
    spec: dict[str, Any] = json.loads(argv[1])
    coro = _measure(spec)
    try:
        if spec["loop"] == "uvloop":
            import uvloop

            result = uvloop.run(coro)
        else:
            result = asyncio.run(coro)
    except NotImplementedError:
        result = {"ok": False, "unsupported": True, "error": "not implemented by flavour"}
    except Exception as exc:  # reported, not raised: one failure must not stop the suite
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
    result["rss_peak"] = _peak_rss_bytes()
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(child_main(sys.argv))
