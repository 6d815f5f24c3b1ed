"""The batch benchmark workloads (benchmarks/_batch_workloads.py) and their bench-server routes
(benchmarks/_server_jobs.py), at small sizes: every job and answer is counted, and the figures a
workload reports (status calls, 429s) match what the server saw. Correctness only: performance
is measured by ``python -m benchmarks``, never here."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import msgspec
import pytest
from aiohttp import web

from benchmarks import _batch_workloads as bw
from benchmarks._clients import FiniAsyncFlavour, Flavour, HttpxFlavour, RawFlavour
from benchmarks._report import Measurement, render_markdown, summarize
from benchmarks._server import build_app
from benchmarks._server_jobs import STATS_PATH, finish_fraction
from benchmarks._workloads import WORKLOADS

FLAVOURS = [RawFlavour, FiniAsyncFlavour]


@pytest.fixture
async def bench_url() -> AsyncIterator[str]:
    runner = web.AppRunner(build_app(), access_log=None, handle_signals=False)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    site = web.SockSite(runner, sock)
    await site.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        await runner.cleanup()


async def _stats(url: str) -> Any:
    async with aiohttp.ClientSession() as session, session.get(url + STATS_PATH) as resp:
        return msgspec.json.decode(await resp.read())


async def _measure(flavour: type[Flavour], url: str, workload: str, params: dict[str, int]) -> int:
    wl = WORKLOADS[workload]
    fl = flavour(url, max_connections=100)
    await fl.open()
    try:
        await wl.warmup(fl, params)
        return await wl.run(fl, params)
    finally:
        await fl.close()


def test_registered_for_raw_and_fini_async_only() -> None:
    for name in ("knowledge_jobs", "ask_many", "ask_many_limited"):
        assert WORKLOADS[name].flavours == frozenset({"raw", "fini-async"})
        assert WORKLOADS[name].extras is not None


def test_finish_times_are_fixed_and_spread() -> None:
    fractions = [finish_fraction(i) for i in range(10_000)]
    assert fractions == [finish_fraction(i) for i in range(10_000)]
    assert all(0 <= f < 1 for f in fractions)
    assert 0.45 < sum(fractions) / len(fractions) < 0.55
    assert min(fractions) < 0.01 and max(fractions) > 0.99


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
async def test_knowledge_jobs_counts_every_job_and_each_status_call(
    flavour: type[Flavour], bench_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bw, "MIN_DELAY_MS", 100)
    monkeypatch.setattr(bw, "MAX_DELAY_MS", 300)
    before = (await _stats(bench_url))["statusCalls"]
    done = await _measure(flavour, bench_url, "knowledge_jobs", {"jobs": 450, "tick_ms": 50})
    assert done == 450
    extra = bw.extras()
    calls = (await _stats(bench_url))["statusCalls"] - before
    assert extra["status calls"] == calls
    assert calls >= extra["ticks"] >= 2  # at least one call per tick
    assert calls >= 5  # the first tick splits the 450 pending ids into calls of 100


async def test_status_route_answers_404_for_an_unknown_id(bench_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        body = msgspec.json.encode({"jobIds": ["not-a-job"]})
        async with session.post(bench_url + bw.STATUS_PATH, data=body) as resp:
            assert resp.status == 404


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
async def test_ask_many_answers_every_question(flavour: type[Flavour], bench_url: str) -> None:
    done = await _measure(flavour, bench_url, "ask_many", {"questions": 300, "concurrency": 16})
    assert done == 300


@pytest.mark.parametrize("flavour", FLAVOURS, ids=lambda f: f.name)
async def test_ask_many_limited_reports_the_429s_the_server_sent(
    flavour: type[Flavour], bench_url: str
) -> None:
    params = {"questions": 160, "rate": 100, "concurrency": 16}
    done = await _measure(flavour, bench_url, "ask_many_limited", params)
    assert done == 160
    extra = bw.extras()
    (window,) = [w for k, w in (await _stats(bench_url))["limited"].items()]
    assert window["admitted"] == 160 + 16  # the warm-up's calls, then every question once
    assert extra["429s"] == window["refused"]
    assert extra["429 %"] == pytest.approx(100 * window["refused"] / (160 + window["refused"]))


async def test_limited_route_sends_retry_after_headers(bench_url: str) -> None:
    url = f"{bench_url}{bw.LIMITED_PREFIX}/2/k/v2/bots/ask-question"
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(3):
            async with session.post(url, data=b'{"question": "q"}') as resp:
                statuses.append(resp.status)
                headers = resp.headers
        assert statuses == [200, 200, 429]
        assert headers["Retry-After"] == "1"
        assert 0 < int(headers["retry-after-ms"]) <= 1000


async def test_other_flavours_are_unsupported(bench_url: str) -> None:
    pytest.importorskip("httpx")
    fl = HttpxFlavour(bench_url)
    await fl.open()
    try:
        with pytest.raises(NotImplementedError):
            await WORKLOADS["ask_many"].warmup(fl, {"questions": 1, "concurrency": 1})
    finally:
        await fl.close()


def test_report_shows_the_extra_figures_and_notes() -> None:
    def m(flavour: str, run: int, refused: float) -> Measurement:
        return Measurement(
            "ask_many_limited",
            flavour,
            "asyncio",
            run,
            {"questions": 2000, "rate": 200, "concurrency": 64},
            ok=True,
            units=2000,
            expected=2000,
            wall=10.0,
            cpu=1.0,
            extra={"429s": refused, "429 %": 100 * refused / (2000 + refused)},
        )

    ms = [m("raw", r, 400 + r) for r in (1, 2, 3)] + [m("fini-async", r, 8) for r in (1, 2, 3)]
    summaries = summarize(ms, {"ask_many_limited": "answer"})
    raw = next(s for s in summaries if s.flavour == "raw")
    assert raw.extra["429s"] == 402 and raw.extra_range["429s"] == [401, 403]
    md = render_markdown(summaries, [], ["raw", "fini-async"], _INFO, bw.batch_notes(summaries))
    assert "| extra |" in md and "429s 402, 429 16.7%" in md
    assert "server limit 200 req/s" in md and "fini-async (ask_many, adaptive) 200" in md


_INFO: dict[str, Any] = {
    "cpu": "cpu",
    "cores": 2,
    "implementation": "CPython",
    "python": "3",
    "os": "os",
    "date": "today",
    "versions": {},
}
