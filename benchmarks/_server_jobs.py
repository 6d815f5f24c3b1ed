"""Bench-server routes for the batch workloads (``knowledge_jobs``, ``ask_many_limited``).

Added to the loopback server by :func:`add_routes` (called from ``_server.build_app``). None of
them touches the routes the other workloads use, so those pay nothing for them.

* ``POST /bench/knowledge/jobs`` ``{"count": N, "minMs": 500, "maxMs": 1500}`` queues a run of
  N jobs and answers ``{"jobIds": [...]}``. The run's clock starts when the call is handled; job
  ``i`` finishes ``minMs + (maxMs - minMs) * u(i)`` ms later, ``u(i)`` a hash of ``i`` in
  [0, 1): every run has the same set of finish times.
* ``POST /v2/knowledge/public/jobs/status`` ``{"jobIds": [...]}`` answers like the real API:
  ``{"jobs": [{"id", "jobStatus", "createdAt", "startedAt", "completedAt", "hcArticleId"}]}``
  (``IN_PROGRESS`` until the job's finish time, then ``COMPLETED``); 404 if any id is unknown.
  Each job's two possible answers are encoded once, when the run is queued.
* ``POST /bench/limited/{rate}/{key}/v2/bots/ask-question``: the ask-question answer behind a
  sliding-window limit of ``rate`` requests in any second, kept per ``key`` (one key per run, so
  a run never inherits another's window). Refused calls get 429 with ``Retry-After`` (whole
  seconds, rounded up) and ``retry-after-ms``, like the SDK's emulator (``set_rate_limit``).
  Point a client at ``.../bench/limited/200/<key>`` as its base URL.
* ``GET /bench/stats``: counters (status calls and ids polled; admitted and refused calls per
  limited key), for tests and for poking with curl.
"""

from __future__ import annotations

import asyncio
import collections
import datetime
import hashlib
import math
import uuid
from dataclasses import dataclass, field

import msgspec
from aiohttp import web

from benchmarks._batch_workloads import JOBS_SETUP_PATH, LIMITED_PREFIX, STATUS_PATH
from benchmarks._server import FINI_ANSWER

__all__ = ["STATS_PATH", "add_routes", "finish_fraction"]

STATS_PATH = "/bench/stats"
#: Runs whose jobs are kept (runs are sequential; older ones are dropped).
KEEP_RUNS = 4
_JSON = {"Content-Type": "application/json"}


def finish_fraction(index: int) -> float:
    """A deterministic pseudo-random number in [0, 1) for job ``index`` (the same every run)."""
    digest = hashlib.blake2b(index.to_bytes(8, "little"), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


class _SetupBody(msgspec.Struct):
    count: int
    minMs: int = 500
    maxMs: int = 1500


class _StatusBody(msgspec.Struct):
    jobIds: list[str]


class _WireJob(msgspec.Struct):
    id: str
    jobStatus: str
    createdAt: str
    startedAt: str | None
    completedAt: str | None
    hcArticleId: str | None


@dataclass
class _Run:
    ids: list[str]
    #: id -> (finish time on the loop clock (a delay until started), IN_PROGRESS bytes,
    #: COMPLETED bytes)
    jobs: dict[str, tuple[float, bytes, bytes]]


@dataclass
class _Window:
    admitted: collections.deque[float] = field(default_factory=collections.deque)
    accepted: int = 0
    refused: int = 0


class _State:
    def __init__(self) -> None:
        self.runs: collections.OrderedDict[int, _Run] = collections.OrderedDict()
        self.next_run = 0
        self.status_calls = 0
        self.status_ids = 0
        self.windows: dict[str, _Window] = {}


def _iso(at: datetime.datetime) -> str:
    return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _make_run(run_no: int, body: _SetupBody) -> _Run:
    """Encode every job's two answers; finish times are set by :func:`_start`."""
    encode = msgspec.json.encode
    created = datetime.datetime.now(datetime.timezone.utc)
    created_s = _iso(created)
    span = max(0, body.maxMs - body.minMs)
    ids: list[str] = []
    jobs: dict[str, tuple[float, bytes, bytes]] = {}
    for i in range(body.count):
        job_id = str(uuid.UUID(int=(run_no << 64) | i, version=4))
        delay = (body.minMs + span * finish_fraction(i)) / 1000
        done_s = _iso(created + datetime.timedelta(seconds=delay))
        article = str(uuid.UUID(int=(run_no << 64) | (1 << 48) | i, version=4))
        running = encode(_WireJob(job_id, "IN_PROGRESS", created_s, created_s, None, None))
        finished = encode(_WireJob(job_id, "COMPLETED", created_s, created_s, done_s, article))
        ids.append(job_id)
        jobs[job_id] = (delay, running, finished)
    return _Run(ids, jobs)


def _start(run: _Run, now: float) -> None:
    """Start the run's clock: each job's delay becomes its finish time on the loop clock."""
    run.jobs = {job_id: (now + delay, r, f) for job_id, (delay, r, f) in run.jobs.items()}


def add_routes(app: web.Application) -> None:
    """Register the batch workloads' routes (and their state) on the bench app."""
    state = _State()
    decode_setup = msgspec.json.Decoder(_SetupBody).decode
    decode_status = msgspec.json.Decoder(_StatusBody).decode

    async def setup_jobs(request: web.Request) -> web.StreamResponse:
        body = decode_setup(await request.read())
        state.next_run += 1
        run = _make_run(state.next_run, body)
        _start(run, asyncio.get_running_loop().time())  # after the encoding, not before
        state.runs[state.next_run] = run
        while len(state.runs) > KEEP_RUNS:
            state.runs.popitem(last=False)
        return web.Response(body=msgspec.json.encode({"jobIds": run.ids}), headers=_JSON)

    async def jobs_status(request: web.Request) -> web.StreamResponse:
        try:
            ids = decode_status(await request.read()).jobIds
        except msgspec.DecodeError:
            return _error(400, "jobIds must be a non-empty array of strings")
        if not ids:
            return _error(400, "jobIds must be a non-empty array of strings")
        state.status_calls += 1
        state.status_ids += len(ids)
        now = asyncio.get_running_loop().time()
        parts: list[bytes] = []
        for job_id in ids:
            job = _lookup(state, job_id)
            if job is None:
                return _error(404, "One or more knowledge jobs were not found")
            parts.append(job[2] if now >= job[0] else job[1])
        return web.Response(body=b'{"jobs":[' + b",".join(parts) + b"]}", headers=_JSON)

    async def limited_ask(request: web.Request) -> web.StreamResponse:
        await request.read()
        rate = int(request.match_info["rate"])
        key = request.match_info["key"]
        window = state.windows.get(key)
        if window is None:
            window = state.windows[key] = _Window()
        now = asyncio.get_running_loop().time()
        admitted = window.admitted
        horizon = now - 1.0
        while admitted and admitted[0] <= horizon:
            admitted.popleft()
        if len(admitted) < rate:
            admitted.append(now)
            window.accepted += 1
            return web.Response(body=FINI_ANSWER, headers=_JSON)
        window.refused += 1
        wait = admitted[0] - horizon
        headers = {
            "Retry-After": str(max(1, math.ceil(wait))),
            "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
        }
        return _error(429, f"rate limit of {rate} requests per 1s exceeded", headers)

    async def stats(_request: web.Request) -> web.StreamResponse:
        body = {
            "statusCalls": state.status_calls,
            "statusIds": state.status_ids,
            "limited": {
                k: {"admitted": w.accepted, "refused": w.refused} for k, w in state.windows.items()
            },
        }
        return web.Response(body=msgspec.json.encode(body), headers=_JSON)

    app.router.add_post(JOBS_SETUP_PATH, setup_jobs)
    app.router.add_post(STATUS_PATH, jobs_status)
    app.router.add_post(LIMITED_PREFIX + "/{rate:\\d+}/{key}/v2/bots/ask-question", limited_ask)
    app.router.add_get(STATS_PATH, stats)


def _lookup(state: _State, job_id: str) -> tuple[float, bytes, bytes] | None:
    for run in reversed(state.runs.values()):
        job = run.jobs.get(job_id)
        if job is not None:
            return job
    return None


_REASONS = {400: "Bad Request", 404: "Not Found", 429: "Too Many Requests"}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = msgspec.json.encode(
        {"statusCode": status, "message": message, "error": _REASONS.get(status, "Error")}
    )
    return web.Response(body=body, status=status, headers={**_JSON, **(headers or {})})
