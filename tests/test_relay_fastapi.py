"""The FastAPI example relays SSE over real HTTP (uvicorn on loopback), and a client that goes
away mid-answer cancels the upstream stream within a second."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from fini_async import FiniClient
from fini_async.testing import FakeFini, assert_pool_idle, pool_stats

pytest.importorskip("fastapi", reason="needs the test extra (fastapi)")
uvicorn = pytest.importorskip("uvicorn", reason="needs uvicorn to serve the FastAPI app")

Q = {"message": "How do I reset my password?"}


@asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a loopback port, in this event loop."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(1000):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        assert server.started
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def with_spec_version(app: Any, version: str) -> Any:
    """``app`` told that the server speaks ASGI HTTP ``version``. From 2.4 on, Starlette's own
    StreamingResponse stops listening for ``http.disconnect`` and relies on ``send`` raising
    instead; uvicorn's ``send`` ignores a gone client, so only the relay's own listener can
    notice."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "asgi": {**scope.get("asgi", {}), "spec_version": version}}
        await app(scope, receive, send)

    return wrapped


def _pending_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


async def _until(condition: Callable[[], bool], seconds: float = 10.0) -> float:
    """Wait for ``condition``; return how long it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():
        assert loop.time() - start < seconds, "condition never held"
        await asyncio.sleep(0.01)
    return loop.time() - start


async def test_fastapi_relay_streams_sse(fake: FakeFini, client: FiniClient) -> None:
    from examples.relay.fastapi_app import create_app

    async with serving(create_app(client)) as url, aiohttp.ClientSession() as s:
        async with s.get(url + "/") as r:
            assert r.status == 200 and "<form" in await r.text()
        async with s.post(url + "/api/chat", json=Q) as r:
            assert r.headers["Content-Type"].startswith("text/event-stream")
            body = (await r.read()).decode()
        names = [b.split("\n")[0][7:] for b in body.strip().split("\n\n")]
        assert names[0] == "metadata" and names[-1] == "done" and "delta" in names
        done = json.loads(body.strip().split("\n\n")[-1].split("\n")[1][6:])
        assert done["answer"].startswith("To reset your password")
        async with s.post(url + "/api/chat?format=ndjson", json=Q) as r:
            assert r.headers["Content-Type"].startswith("application/x-ndjson")
            lines = [json.loads(x) for x in (await r.read()).splitlines()]
        assert lines[0]["type"] == "metadata" and lines[-1]["type"] == "done"
        async with s.post(url + "/api/chat?format=text", json=Q) as r:
            assert (await r.text()) == done["answer"]
        async with s.post(url + "/api/chat", json={"nope": 1}) as r:
            assert r.status == 400 and "message" in (await r.json())["error"]
        async with s.post(url + "/api/chat?format=xml", json=Q) as r:
            assert r.status == 400 and "format" in (await r.json())["error"]
    assert fake.calls["ask-question"] == 3  # the refused requests never reached Fini


async def test_fini_failure_is_an_error_event(fake: FakeFini, client: FiniClient) -> None:
    from examples.relay.fastapi_app import create_app

    fake.fail_next("ask-question", status=401)
    async with (
        serving(create_app(client)) as url,
        aiohttp.ClientSession() as s,
        s.post(url + "/api/chat", json=Q) as r,
    ):
        body = (await r.read()).decode()
    name, data = body.strip().split("\n")
    assert name == "event: error"
    assert json.loads(data[6:])["status_code"] == 401


@pytest.mark.parametrize("upstream", ["streaming", "silent"])
@pytest.mark.parametrize("spec_version", ["2.3", "2.4"])
async def test_disconnect_cancels_upstream_within_a_second(
    fake: FakeFini, client: FiniClient, spec_version: str, upstream: str
) -> None:
    from examples.relay.fastapi_app import create_app

    if upstream == "streaming":
        fake.chunk_delay = 0.3
    else:
        fake.stall_stream_after(2, 3.0)  # Fini goes quiet after the metadata and one token
    app = with_spec_version(create_app(client), spec_version)
    async with serving(app) as url:
        baseline = _pending_tasks()
        async with aiohttp.ClientSession() as s:
            r = await s.post(url + "/api/chat", json=Q)
            await r.content.readuntil(b"\n\n")  # the metadata event: the answer is under way
            assert fake.streams_open == 1
            assert not pool_stats(client).idle  # the upstream answer holds a connection
            r.close()  # the browser goes away mid-answer
            if upstream == "streaming":
                took = await _until(lambda: fake.stream_disconnects == 1)
            else:
                # Nothing is written while Fini is silent, so no failed write can reveal the
                # disconnect: only listening for it does. The upstream response is closed...
                took = await _until(lambda: pool_stats(client).idle)
                assert fake.streams_open == 1  # ...while the emulator still holds its answer
        assert took < 1.0, took
        await _until(lambda: fake.streams_open == 0 and fake.stream_disconnects == 1)
        assert fake.streams_completed == 0 and fake.calls["ask-question"] == 1
        assert_pool_idle(client)
        await _until(lambda: _pending_tasks() <= baseline)
