"""The FastAPI example relays SSE over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest

from fini_async import FiniClient
from fini_async.testing import FakeFini

pytest.importorskip("fastapi", reason="needs the test extra (fastapi)")
uvicorn = pytest.importorskip("uvicorn", reason="needs uvicorn to serve the FastAPI app")


async def test_fastapi_relay_streams_sse(fake: FakeFini, client: FiniClient) -> None:
    from examples.relay.fastapi_app import create_app

    config = uvicorn.Config(create_app(client), host="127.0.0.1", port=0, log_level="error")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        q = {"message": "How do I reset my password?"}
        url = f"http://127.0.0.1:{port}/api/chat"
        async with aiohttp.ClientSession() as s, s.post(url, json=q) as r:
            body = (await r.read()).decode()
        names = [b.split("\n")[0][7:] for b in body.strip().split("\n\n")]
        assert names[0] == "metadata" and names[-1] == "done" and "delta" in names
        done = json.loads(body.strip().split("\n\n")[-1].split("\n")[1][6:])
        assert done["answer"].startswith("To reset your password")
    finally:
        server.should_exit = True
        await task
