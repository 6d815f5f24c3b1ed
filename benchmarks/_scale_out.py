"""The ``scale_out`` workload (issue 14): aggregate answers/s and 429 share of 1, 2 and 4 worker
processes answering one set of questions against one rate-limited route of the bench server
(a sliding window of ``RATE`` calls in any second), each with ``ask_many``:

* ``independent``: each process paces itself with ``rate_limit=RATE`` (its own token bucket,
  plus the batch's own AIMD on 429s): what separate workers do without a shared budget.
* ``shared``: every process uses one ``RedisRateLimiter(RATE)`` on a throwaway ``redis-server``
  (Debian's package; the configuration is skipped if it is not installed).

Opt-in (CPU-heavy, needs redis-server): ``python -m benchmarks --workloads scale_out``. Each
configuration runs once; the workers start together (each waits for "go" on stdin after its
imports and warm-up). Writes ``results/scale_out.{json,md}``.

    python -m benchmarks._scale_out worker '<json spec>'   # one worker (internal)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Sequence
from typing import Any

from benchmarks._batch_workloads import LIMITED_PREFIX
from benchmarks._clients import API_KEY_FINI, REPO_ROOT

#: The route's limit (calls in any second) and the questions of each configuration.
RATE = 200
QUESTIONS = 3000
QUICK_QUESTIONS = 800
WORKERS = (1, 2, 4)
MODES = ("independent", "shared")
#: ask_many concurrency per worker.
CONCURRENCY = 16


# -- worker --------------------------------------------------------------------------------------


async def _worker(spec: dict[str, Any]) -> dict[str, Any]:
    from fini_async import FiniClient, RateLimiter, RedisRateLimiter

    limiter: RateLimiter | float
    if spec["mode"] == "shared":
        limiter = RedisRateLimiter(spec["redis_url"], spec["key"], spec["rate"])
    else:
        limiter = float(spec["rate"])
    questions = [f"Question {i}: how do I upgrade my plan?" for i in range(spec["count"])]
    async with FiniClient(API_KEY_FINI, base_url=spec["base_url"], max_connections=100) as client:
        print("ready", flush=True)
        sys.stdin.readline()
        started = time.time()
        batch = client.bots.ask_many(questions, concurrency=spec["concurrency"], rate_limit=limiter)
        results = await batch.collect()
        ended = time.time()
    if isinstance(limiter, RedisRateLimiter):
        await limiter.aclose()
    return {
        "answered": sum(r.ok for r in results),
        "failed": sum(not r.ok for r in results),
        "rate_limited": batch.progress.rate_limited,
        "started": started,
        "ended": ended,
    }


def worker_main(argv: Sequence[str]) -> int:
    result = asyncio.run(_worker(json.loads(argv[0])))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


# -- runner ---------------------------------------------------------------------------------------


def _stats(base_url: str, key: str) -> dict[str, int]:
    with urllib.request.urlopen(base_url + "/bench/stats", timeout=10) as resp:  # loopback only
        body: dict[str, Any] = json.loads(resp.read())
    counts: dict[str, int] = body["limited"].get(key, {"admitted": 0, "refused": 0})
    return counts


def _one(
    server_url: str, mode: str, workers: int, questions: int, redis_url: str | None
) -> dict[str, Any]:
    key = uuid.uuid4().hex
    base = f"{server_url}{LIMITED_PREFIX}/{RATE}/{key}"
    procs = []
    for n in range(workers):
        count = questions // workers + (1 if n < questions % workers else 0)
        spec = {
            "mode": mode,
            "base_url": base,
            "redis_url": redis_url,
            "key": f"bench-{key}",
            "rate": RATE,
            "count": count,
            "concurrency": CONCURRENCY,
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "benchmarks._scale_out", "worker", json.dumps(spec)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                cwd=REPO_ROOT,
            )
        )
    for proc in procs:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("a scale_out worker did not start")
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, _ = proc.communicate(timeout=600)
        line = next(ln for ln in reversed(out.splitlines()) if ln.startswith("RESULT "))
        results.append(json.loads(line[len("RESULT ") :]))
    counts = _stats(server_url, key)
    answered = sum(r["answered"] for r in results)
    wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    calls = counts["admitted"] + counts["refused"]
    return {
        "mode": mode,
        "workers": workers,
        "questions": questions,
        "answered": answered,
        "failed": sum(r["failed"] for r in results),
        "wall": wall,
        "answers_per_s": answered / wall if wall else 0.0,
        "calls": calls,
        "refused": counts["refused"],
        "share_429": counts["refused"] / calls if calls else 0.0,
    }


def render(rows: list[dict[str, Any]], machine: str) -> str:
    lines = [
        "# scale_out",
        "",
        f"{rows[0]['questions'] if rows else 0:,} questions per configuration against one route "
        f"limited to {RATE} calls in any second (bench server, sliding window), split among "
        f"N worker processes, each `ask_many(concurrency={CONCURRENCY})`. `independent`: "
        f"`rate_limit={RATE}` in each process; `shared`: one `RedisRateLimiter(rate={RATE})`. "
        "One run per configuration.",
        "",
        f"Machine: {machine}",
        "",
        "| budget | workers | answers/s | of the limit | 429 share | calls | failed |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['mode']} | {r['workers']} | {r['answers_per_s']:,.0f} | "
            f"{r['answers_per_s'] / RATE:.0%} | {r['share_429']:.1%} | {r['calls']:,} | "
            f"{r['failed']} |"
        )
    return "\n".join(lines) + "\n"


def run_scale_out(quick: bool, output_dir: str, write: bool) -> int:
    """Every (mode, workers) configuration once; prints and writes the table. 0 if all ran."""
    from benchmarks._report import machine_info, machine_line
    from benchmarks._server import ServerProcess
    from fini_async.testing._redis_server import RedisServer, redis_server_binary

    questions = QUICK_QUESTIONS if quick else QUESTIONS
    rows: list[dict[str, Any]] = []
    status = 0
    redis = RedisServer() if redis_server_binary() is not None else None
    if redis is None:
        print("skipped: scale_out shared (redis-server is not installed)", flush=True)
        status = 1
    else:
        redis.start()
    try:
        with ServerProcess() as server:
            for mode in MODES:
                if mode == "shared" and redis is None:
                    continue
                for workers in WORKERS:
                    row = _one(
                        server.base_url,
                        mode,
                        workers,
                        questions,
                        redis.url if redis is not None else None,
                    )
                    rows.append(row)
                    print(
                        f"  scale_out {mode:<11} workers={workers}  "
                        f"{row['answers_per_s']:7,.1f} answers/s  429 share "
                        f"{row['share_429']:6.1%}  failed {row['failed']}",
                        flush=True,
                    )
                    if row["failed"]:
                        status = 1
    finally:
        if redis is not None:
            redis.stop()
    markdown = render(rows, machine_line(machine_info()))
    print()
    print(markdown)
    if write:
        os.makedirs(output_dir, exist_ok=True)
        with open(os.path.join(output_dir, "scale_out.json"), "w") as fh:
            json.dump({"rate": RATE, "rows": rows}, fh, indent=1)
        with open(os.path.join(output_dir, "scale_out.md"), "w") as fh:
            fh.write(markdown)
    return status


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "worker":
        raise SystemExit(worker_main(sys.argv[2:]))
    raise SystemExit("usage: python -m benchmarks --workloads scale_out")
