"""Batch workloads (issues 6 and 8): ``knowledge_jobs``, ``ask_many`` and ``ask_many_limited``,
for the ``raw`` and ``fini-async`` flavours only. Registered in ``_workloads.WORKLOADS`` from
:data:`BATCH_WORKLOADS`; their server routes live in ``_server_jobs``.

* ``knowledge_jobs``: 10,000 knowledge jobs waited on at once. The warm-up queues them on the
  bench server (``POST /bench/knowledge/jobs``), whose clock starts then; job ``i`` finishes a
  fixed pseudo-random 0.5-1.5 s later. fini-async:
  ``asyncio.gather(*(client.knowledge.wait(id) for id in ids))`` with the poller's interval set to
  the tick (initial = max). raw: one loop that sleeps a tick, then POSTs every pending id to
  ``jobs/status`` in calls of 100 (all of a tick's calls at once) and resolves one asyncio
  future per finished job, awaited by 10,000 waiter coroutines. Units: jobs finished. Extra
  figures: status calls and ticks.
* ``ask_many``: 2,000 questions, concurrency 64. fini-async: ``client.bots.ask_many(...)``;
  raw: a pool of 64 workers doing the raw flavour's ``ask``. Units: answers.
* ``ask_many_limited``: the same 2,000 questions against the server's ask-question route behind
  a 200 requests/s sliding window (429 with ``Retry-After`` and ``retry-after-ms``). fini-async:
  ``ask_many`` with its default adaptive concurrency; raw: a naive pool of 64 that sleeps
  ``Retry-After`` (whole seconds) after a 429 and tries again. Extra figures: 429s and their
  share of all calls (and fini-async's adaptive rate at the end). The first second's 200 calls
  go at once, so 2,000 questions can reach at most ~222 answers/s.

Each measurement runs in its own interpreter, so the module-level ``_STATE`` (from warm-up to
run) and ``_EXTRA`` (read by the harness after the run) hold one measurement's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import msgspec

from benchmarks._clients import (
    API_KEY_FINI,
    FINI_PATH,
    Answer,
    AskRequest,
    FiniAsyncFlavour,
    Flavour,
    RawFlavour,
)

if TYPE_CHECKING:
    from benchmarks._report import Summary

__all__ = [
    "BATCH_WORKLOADS",
    "JOBS_SETUP_PATH",
    "LIMITED_PREFIX",
    "STATUS_PATH",
    "batch_notes",
]

Params = Mapping[str, int]

STATUS_PATH = "/v2/knowledge/public/jobs/status"
JOBS_SETUP_PATH = "/bench/knowledge/jobs"
LIMITED_PREFIX = "/bench/limited"
#: Ids per ``jobs/status`` call (the API's maximum, the SDK's chunk size).
STATUS_CHUNK = 100
#: Each job finishes this long after the run starts (a fixed pseudo-random spread).
MIN_DELAY_MS = 500
MAX_DELAY_MS = 1500
#: Connections opened by the knowledge warm-up (raw sends a tick's 100 calls at once).
WARM_CONNECTIONS = 100
WAIT_TIMEOUT = 120.0

_STATE: dict[str, Any] = {}
_EXTRA: dict[str, float] = {}


def extras() -> dict[str, float]:
    """Figures the last run recorded beside units, wall and CPU (status calls, 429s, ...)."""
    return dict(_EXTRA)


def _unsupported(fl: Flavour) -> NotImplementedError:
    return NotImplementedError(f"{fl.name} has no batch workloads")


async def _bench_call(base_url: str, path: str, body: Any) -> Any:
    """POST a control call to the bench server on a short-lived session (untimed set-up)."""
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            base_url + path,
            data=msgspec.json.encode(body),
            headers={"Content-Type": "application/json"},
        ) as resp,
    ):
        resp.raise_for_status()
        return msgspec.json.decode(await resp.read())


async def _warm(fl: Flavour, connections: int) -> None:
    """Open ``connections`` pooled connections (as the other workloads' warm-ups do)."""
    await asyncio.gather(*(fl.ask("How do I upgrade?") for _ in range(connections)))


def _questions(n: int) -> list[str]:
    return [f"Question {i}: how do I upgrade my plan?" for i in range(n)]


# --------------------------------------------------------------------------------------------
# knowledge_jobs
# --------------------------------------------------------------------------------------------


class _RawStatusBody(msgspec.Struct):
    jobIds: list[str]


class _RawJob(msgspec.Struct):
    id: str
    jobStatus: str
    completedAt: str | None = None
    hcArticleId: str | None = None


class _RawStatuses(msgspec.Struct):
    jobs: list[_RawJob]


_TERMINAL = frozenset({"COMPLETED", "FAILED"})


async def warm_knowledge_jobs(fl: Flavour, p: Params) -> None:
    if not isinstance(fl, (RawFlavour, FiniAsyncFlavour)):
        raise _unsupported(fl)
    await _warm(fl, WARM_CONNECTIONS)
    body = {"count": p["jobs"], "minMs": MIN_DELAY_MS, "maxMs": MAX_DELAY_MS}
    queued = await _bench_call(fl.base_url, JOBS_SETUP_PATH, body)
    _STATE["job_ids"] = queued["jobIds"]


async def run_knowledge_jobs(fl: Flavour, p: Params) -> int:
    _EXTRA.clear()
    ids: list[str] = _STATE.pop("job_ids")
    tick = p["tick_ms"] / 1000
    rss_before = _peak_rss_bytes()
    started = time.perf_counter()
    if isinstance(fl, RawFlavour):
        done, calls, ticks = await _raw_knowledge_jobs(fl, ids, tick)
    elif isinstance(fl, FiniAsyncFlavour):
        done, calls, ticks = await _fini_knowledge_jobs(fl, ids, tick)
        # issue 3's target: every tick makes ceil(pending / 100) calls, no more
        log = list(fl._client.knowledge.poller.tick_log)
        _EXTRA["extra calls"] = sum(c - math.ceil(n / STATUS_CHUNK) for n, c in log)
    else:
        raise _unsupported(fl)
    _EXTRA.update(
        {
            "status calls": calls,
            "ticks": ticks,
            # the time beyond the last job's finish (the server's clock starts a little after
            # this one, so this slightly overstates it)
            "beyond last job s": round(time.perf_counter() - started - MAX_DELAY_MS / 1000, 3),
            "peak RSS growth MiB": round((_peak_rss_bytes() - rss_before) / 2**20, 1),
        }
    )
    return done


def _peak_rss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


async def _fini_knowledge_jobs(
    fl: FiniAsyncFlavour, ids: list[str], tick: float
) -> tuple[int, int, int]:
    knowledge = fl._client.knowledge
    knowledge.configure_polling(interval_initial=tick, interval_max=tick)
    handles = await asyncio.gather(*(knowledge.wait(i, timeout=WAIT_TIMEOUT) for i in ids))
    done = sum(1 for h in handles if h.last_status is not None and h.last_status.is_completed)
    poller = knowledge.poller
    return done, int(poller.calls), int(poller.ticks)


async def _raw_knowledge_jobs(fl: RawFlavour, ids: list[str], tick: float) -> tuple[int, int, int]:
    """The hand-written equivalent: one polling loop, one future per job, one waiter per job."""
    session = fl._session
    url = fl.base_url + STATUS_PATH
    headers = {"Authorization": f"Bearer {API_KEY_FINI}", "Content-Type": "application/json"}
    encode = msgspec.json.Encoder().encode
    decode = msgspec.json.Decoder(_RawStatuses).decode
    loop = asyncio.get_running_loop()
    futures: dict[str, asyncio.Future[_RawJob]] = {i: loop.create_future() for i in ids}
    pending = dict(futures)
    calls = ticks = 0

    async def poll(chunk: list[str]) -> None:
        nonlocal calls
        calls += 1
        async with session.post(url, data=encode(_RawStatusBody(chunk)), headers=headers) as resp:
            resp.raise_for_status()
            statuses = decode(await resp.read()).jobs
        for job in statuses:
            if job.jobStatus in _TERMINAL:
                fut = pending.pop(job.id, None)
                if fut is not None:
                    fut.set_result(job)

    async def poller() -> None:
        nonlocal ticks
        try:
            while pending:
                await asyncio.sleep(tick)
                batch = list(pending)
                ticks += 1
                await asyncio.gather(
                    *(poll(batch[i : i + STATUS_CHUNK]) for i in range(0, len(batch), STATUS_CHUNK))
                )
        except Exception as exc:  # fail the waiters rather than leave them hanging
            for fut in pending.values():
                fut.set_exception(exc)
            pending.clear()

    async def waiter(fut: asyncio.Future[_RawJob]) -> _RawJob:
        return await fut

    task = loop.create_task(poller())
    try:
        jobs = await asyncio.gather(*(waiter(f) for f in futures.values()))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return sum(1 for j in jobs if j.jobStatus == "COMPLETED"), calls, ticks


# --------------------------------------------------------------------------------------------
# ask_many
# --------------------------------------------------------------------------------------------


async def warm_ask_many(fl: Flavour, p: Params) -> None:
    if not isinstance(fl, (RawFlavour, FiniAsyncFlavour)):
        raise _unsupported(fl)
    await _warm(fl, p["concurrency"])


async def run_ask_many(fl: Flavour, p: Params) -> int:
    questions = _questions(p["questions"])
    if isinstance(fl, RawFlavour):
        return await _raw_pool(fl, questions, p["concurrency"])
    if isinstance(fl, FiniAsyncFlavour):
        return await _fini_ask_many(fl, questions, p["concurrency"])
    raise _unsupported(fl)


async def _raw_pool(fl: RawFlavour, questions: list[str], concurrency: int) -> int:
    """A pool of ``concurrency`` workers; one failed question does not stop the others."""
    answers: list[str | None] = [None] * len(questions)
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(questions):
            index = next_index
            next_index += 1
            try:
                answers[index] = await fl.ask(questions[index])
            except Exception:
                answers[index] = None

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(questions)))))
    return sum(1 for a in answers if a is not None)


async def _fini_ask_many(fl: FiniAsyncFlavour, questions: list[str], concurrency: int) -> int:
    answers: list[Any] = [None] * len(questions)
    async with fl._client.bots.ask_many(questions, concurrency=concurrency) as batch:
        async for result in batch:
            if result.ok:
                answers[result.index] = result.answer
    _STATE["progress"] = batch.progress
    return sum(1 for a in answers if a is not None)


# --------------------------------------------------------------------------------------------
# ask_many_limited
# --------------------------------------------------------------------------------------------


async def warm_ask_many_limited(fl: Flavour, p: Params) -> None:
    """Re-open the flavour on the rate-limited route (a fresh window key per run), warm its
    connections there, then wait until the warm-up calls have left the server's window."""
    if not isinstance(fl, (RawFlavour, FiniAsyncFlavour)):
        raise _unsupported(fl)
    await fl.close()
    fl.base_url = f"{fl.base_url}{LIMITED_PREFIX}/{p['rate']}/{uuid.uuid4().hex}"
    await fl.open()
    await _warm(fl, min(p["concurrency"], p["rate"]))
    await asyncio.sleep(1.1)


async def run_ask_many_limited(fl: Flavour, p: Params) -> int:
    _EXTRA.clear()
    questions = _questions(p["questions"])
    if isinstance(fl, RawFlavour):
        done, refused = await _raw_naive_limited(fl, questions, p["concurrency"])
    elif isinstance(fl, FiniAsyncFlavour):
        done = await _fini_ask_many(fl, questions, p["concurrency"])
        progress = _STATE.pop("progress")
        refused = int(progress.rate_limited)
        if progress.rate_limit is not None:
            _EXTRA["adaptive rate"] = float(progress.rate_limit)
    else:
        raise _unsupported(fl)
    calls = refused + done
    _EXTRA.update({"429s": refused, "429 %": 100 * refused / calls if calls else 0.0})
    return done


async def _raw_naive_limited(
    fl: RawFlavour, questions: list[str], concurrency: int
) -> tuple[int, int]:
    """A pool of ``concurrency`` workers that sleep ``Retry-After`` seconds after a 429."""
    session = fl._session
    url = fl.base_url + FINI_PATH
    headers = {"Authorization": f"Bearer {API_KEY_FINI}", "Content-Type": "application/json"}
    encode = msgspec.json.Encoder().encode
    decode = msgspec.json.Decoder(Answer).decode
    answers: list[str | None] = [None] * len(questions)
    next_index = 0
    refused = 0

    async def ask(question: str) -> str:
        nonlocal refused
        body = encode(AskRequest(question))
        while True:
            async with session.post(url, data=body, headers=headers) as resp:
                if resp.status == 429:
                    refused += 1
                    wait = float(resp.headers.get("Retry-After", "1"))
                else:
                    resp.raise_for_status()
                    return decode(await resp.read()).answer
            await asyncio.sleep(wait)

    async def worker() -> None:
        nonlocal next_index
        while next_index < len(questions):
            index = next_index
            next_index += 1
            try:
                answers[index] = await ask(questions[index])
            except Exception:
                answers[index] = None

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(questions)))))
    return sum(1 for a in answers if a is not None), refused


# --------------------------------------------------------------------------------------------
# registration and report notes
# --------------------------------------------------------------------------------------------


class _SpecBase(TypedDict):
    name: str
    unit: str
    description: str
    run: Callable[[Flavour, Params], Awaitable[int]]
    warmup: Callable[[Flavour, Params], Awaitable[None]]
    expected: Callable[[Params], int]
    full: Params
    quick: Params


class WorkloadSpec(_SpecBase, total=False):
    """Keyword arguments of ``_workloads.Workload`` (this module cannot import it: the child
    process runs ``_workloads`` as ``__main__``)."""

    flavours: frozenset[str]
    extras: Callable[[], Mapping[str, float]]


_PAIR = frozenset({"raw", "fini-async"})

BATCH_WORKLOADS: tuple[WorkloadSpec, ...] = (
    {
        "name": "knowledge_jobs",
        "unit": "job",
        "description": "knowledge jobs waited on at once through one status poller",
        "run": run_knowledge_jobs,
        "warmup": warm_knowledge_jobs,
        "expected": lambda p: p["jobs"],
        "full": {"jobs": 10_000, "tick_ms": 250},
        "quick": {"jobs": 2_000, "tick_ms": 250},
        "flavours": _PAIR,
        "extras": extras,
    },
    {
        "name": "ask_many",
        "unit": "answer",
        "description": "client.bots.ask_many vs a raw worker pool",
        "run": run_ask_many,
        "warmup": warm_ask_many,
        "expected": lambda p: p["questions"],
        "full": {"questions": 2_000, "concurrency": 64},
        "quick": {"questions": 500, "concurrency": 64},
        "flavours": _PAIR,
        "extras": extras,
    },
    {
        "name": "ask_many_limited",
        "unit": "answer",
        "description": "ask_many against a 200 req/s rate-limited route vs a naive raw pool",
        "run": run_ask_many_limited,
        "warmup": warm_ask_many_limited,
        "expected": lambda p: p["questions"],
        "full": {"questions": 2_000, "rate": 200, "concurrency": 64},
        "quick": {"questions": 600, "rate": 200, "concurrency": 64},
        "flavours": _PAIR,
        "extras": extras,
    },
)


def _fig(s: Summary, key: str, fmt: str = "{:,.0f}") -> str:
    low, high = s.extra_range.get(key, (s.extra[key], s.extra[key]))
    return f"{fmt.format(s.extra[key])} ({fmt.format(low)}-{fmt.format(high)})"


def batch_notes(summaries: Sequence[Summary]) -> list[str]:
    """Note lines for the report: status calls of ``knowledge_jobs`` and the rate and 429
    share reached by ``ask_many_limited`` (medians, min-max over the runs)."""
    index = {(s.workload, s.loop, s.flavour): s for s in summaries if s.runs}
    notes: list[str] = []
    for loop in sorted({s.loop for s in summaries}):
        parts = []
        found = []
        for flavour in ("fini-async", "raw"):
            s = index.get(("knowledge_jobs", loop, flavour))
            if s is not None and "status calls" in s.extra:
                found.append(s)
                parts.append(
                    f"{flavour} {_fig(s, 'status calls')} status calls in "
                    f"{_fig(s, 'ticks')} ticks, {s.cpu_per_unit_us:.0f} us CPU per job, "
                    f"done {_fig(s, 'beyond last job s', '{:.2f}')} s after the last job, "
                    f"peak RSS +{_fig(s, 'peak RSS growth MiB', '{:.1f}')} MiB"
                    + (
                        f", calls beyond ceil(pending/100) per tick: {_fig(s, 'extra calls')}"
                        if "extra calls" in s.extra
                        else ""
                    )
                )
        if parts:
            s = found[0]
            notes.append(
                f"knowledge_jobs [{loop}]: {s.params['jobs']:,} jobs finishing "
                f"{MIN_DELAY_MS / 1000:g}-{MAX_DELAY_MS / 1000:g} s after the start, polled "
                f"every {s.params['tick_ms']} ms in calls of {STATUS_CHUNK} ids: "
                + "; ".join(parts)
                + " (fini-async's poller jitters each interval within [tick/2, tick] and runs "
                "at most 10 calls at once; raw sleeps exactly one tick and sends all at once)"
            )
        parts = []
        found = []
        for flavour, how in (
            ("fini-async", "ask_many, adaptive"),
            ("raw", "naive pool sleeping Retry-After"),
        ):
            s = index.get(("ask_many_limited", loop, flavour))
            if s is not None and "429s" in s.extra:
                found.append(s)
                parts.append(
                    f"{flavour} ({how}) {s.median:,.0f} answers/s "
                    f"({s.low:,.0f}-{s.high:,.0f}), {_fig(s, '429s')} 429s = "
                    f"{_fig(s, '429 %', '{:.1f}')}% of calls"
                )
        if parts:
            s = found[0]
            n, rate = s.params["questions"], s.params["rate"]
            ceiling = n / max(1e-9, (n - rate) / rate)
            notes.append(
                f"ask_many_limited [{loop}]: {n:,} questions, server limit {rate} req/s "
                f"(sliding 1 s window; ceiling ~{ceiling:,.0f} answers/s as the first second's "
                f"{rate} go at once): "
                + "; ".join(parts)
                + " (what counts is the rate reached and the 429 share; no ratio target)"
            )
    return notes
