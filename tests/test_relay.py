"""The relay helpers over real HTTP: a loopback aiohttp app relays FakeFini's stream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiohttp import web

from fini_async import FiniClient
from fini_async.relay import relay_to
from fini_async.testing import FakeFini, assert_pool_idle, pool_stats

Q = "How do I reset my password?"


@pytest.fixture
async def relay(client: FiniClient) -> AsyncIterator[str]:
    async def chat(request: web.Request) -> web.StreamResponse:
        fmt = request.match_info["fmt"]
        return await relay_to(request, client.bots.stream_question(Q), format=fmt)

    app = web.Application()
    app.router.add_get("/chat/{fmt}", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def _wait_closed(fake: FakeFini) -> None:
    for _ in range(100):
        if fake.streams_open == 0:
            return
        await asyncio.sleep(0.01)


async def test_sse_carries_metadata_deltas_and_done(relay: str, client: FiniClient) -> None:
    plain = await client.bots.ask_question(Q)
    async with aiohttp.ClientSession() as s, s.get(relay + "/chat/sse") as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        body = (await r.read()).decode()
    events = [
        (b.split("\n")[0][7:], json.loads(b.split("\n")[1][6:])) for b in body.strip().split("\n\n")
    ]
    names = [n for n, _ in events]
    assert names[0] == "metadata" and names[-1] == "done" and names.count("delta") > 3
    assert events[0][1]["based_on"] == [
        {k: v for k, v in s.items() if v is not None} for s in _builtins(plain.based_on)
    ]
    text = "".join(p["text"] for n, p in events if n == "delta")
    assert text == plain.answer == events[-1][1]["answer"]
    assert events[-1][1]["messages"][-1]["content"] == plain.answer


def _builtins(x: object) -> list[dict[str, object]]:
    import msgspec

    return msgspec.to_builtins(x)  # type: ignore[no-any-return]


async def test_ndjson_and_text(relay: str, client: FiniClient) -> None:
    plain = await client.bots.ask_question(Q)
    async with aiohttp.ClientSession() as s:
        async with s.get(relay + "/chat/ndjson") as r:
            lines = [json.loads(x) for x in (await r.read()).splitlines()]
        async with s.get(relay + "/chat/text") as r:
            text = (await r.read()).decode()
    assert lines[0]["type"] == "metadata" and lines[-1]["type"] == "done"
    assert "".join(x["text"] for x in lines if x["type"] == "delta") == plain.answer
    assert text == plain.answer


async def test_fini_failure_is_an_error_event(
    relay: str, fake: FakeFini, client: FiniClient
) -> None:
    fake.fail_next("ask-question", times=5, status=401)
    async with aiohttp.ClientSession() as s, s.get(relay + "/chat/ndjson") as r:
        lines = [json.loads(x) for x in (await r.read()).splitlines()]
    assert lines == [
        {
            "type": "error",
            "error": "AuthenticationError",
            "message": "injected failure (401)",
            "status_code": 401,
            "request_id": None,
        }
    ]
    assert lines[0]["message"]


@pytest.mark.parametrize("upstream", ["streaming", "silent"])
async def test_disconnect_cancels_upstream_within_a_second(
    relay: str, fake: FakeFini, client: FiniClient, upstream: str
) -> None:
    if upstream == "streaming":
        fake.chunk_delay = 0.5
    else:
        fake.stall_stream_after(2, 3.0)  # Fini goes quiet after the metadata and one token
    baseline = _pending_tasks()
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession() as s:
        r = await s.get(relay + "/chat/sse")
        await r.content.readuntil(b"\n\n")
        assert fake.streams_open == 1
        assert not pool_stats(client).idle  # the upstream answer holds a connection
        r.close()
        start = loop.time()
        if upstream == "streaming":
            await _wait_for(lambda: fake.stream_disconnects == 1)
        else:
            # No write to the browser fails while Fini is silent: the relay's watch on the
            # connection closes the upstream response while the emulator still holds it back.
            await _wait_for(lambda: pool_stats(client).idle)
            assert fake.streams_open == 1
        took = loop.time() - start
        await _wait_for(lambda: fake.stream_disconnects == 1)
    assert took < 1.0, took
    assert fake.streams_open == 0 and fake.streams_completed == 0
    assert_pool_idle(client)
    await _wait_for(lambda: _pending_tasks() <= baseline)


def _pending_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


async def _wait_for(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


async def test_slow_reader_slows_the_upstream_read(fake: FakeFini, client: FiniClient) -> None:
    token = "x" * 16000 + " "
    fake.kb.add(
        "Gigantic manual", token * 5000
    )  # about 80 MB of answer: more than any socket buffers
    streams = []

    async def chat(request: web.Request) -> web.StreamResponse:
        stream = client.bots.stream_question("gigantic manual")
        streams.append(stream)
        return await relay_to(request, stream, format="text")

    app = web.Application()
    app.router.add_get("/t", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{port}/t") as r:
            got = 0
            for _ in range(20):
                got += len(await r.content.read(4096))
                await asyncio.sleep(0.05)
            # Reading slowly for a second: the relay pulled at most socket buffers' worth ahead
            # and the emulator is still writing, not finished into an unbounded buffer.
            assert len(streams[0].text_so_far) > 100_000, streams[0].text_so_far[:80]
            assert fake.streams_completed == 0 and fake.streams_open == 1
            ahead = len(streams[0].text_so_far) - got
            assert ahead < 70_000_000
    finally:
        await runner.cleanup()
    await _wait_closed(fake)
    assert fake.streams_open == 0
