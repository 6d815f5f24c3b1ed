"""Redirects are never followed (issue 11): an API key, a token or a request body must not reach
an address the caller did not choose. A 3xx raises APIStatusError naming the Location, and the
redirect's target (another port of 127.0.0.1: another origin) never sees a request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from fini_async import APIStatusError, FiniClient
from fini_async.sharely import SharelyClient


class Target:
    """The server a redirect points at: records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append((request.path, dict(request.headers), await request.read()))
        return web.json_response({"token": "stolen", "answer": "from elsewhere"})


async def _start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def servers() -> AsyncIterator[tuple[str, Target, dict[str, Any]]]:
    target = Target()
    other = web.Application()
    other.router.add_route("*", "/{tail:.*}", target.handle)
    runner_b, url_b = await _start(other)
    state: dict[str, Any] = {"status": 307, "seen": []}

    async def redirect(request: web.Request) -> web.Response:
        state["seen"].append(request.path)
        await request.read()
        location = url_b + request.path_qs
        return web.Response(status=state["status"], headers={"Location": location})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", redirect)
    runner_a, url_a = await _start(app)
    yield url_a, target, state
    await runner_a.cleanup()
    await runner_b.cleanup()


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_sharely_key_never_follows_a_redirect(
    servers: tuple[str, Target, dict[str, Any]], status: int
) -> None:
    url, target, state = servers
    state["status"] = status
    async with SharelyClient(
        "sk-secret", workspace_id="ws", organization_id="org", base_url=url, max_retries=0
    ) as client:
        with pytest.raises(APIStatusError) as info:
            await client.knowledge.list()
    assert target.requests == []
    assert state["seen"] == ["/workspaces/ws/generate-access-key-token"]
    err = info.value
    assert err.status_code == status
    assert "redirected to http://127.0.0.1:" in str(err)
    assert "sk-secret" not in str(err) + repr(err)


async def test_fini_post_body_and_key_never_follow_a_redirect(
    servers: tuple[str, Target, dict[str, Any]],
) -> None:
    url, target, state = servers
    async with FiniClient("fini-secret", base_url=url, max_retries=2) as client:
        with pytest.raises(APIStatusError) as info:
            await client.bots.ask_question("a private question")
        assert info.value.status_code == 307
        with pytest.raises(APIStatusError):
            async with client.bots.stream_question("a private question") as stream:
                await stream.get_final_text()
        with pytest.raises(APIStatusError):
            await client.conversations.list()
        with pytest.raises(APIStatusError):
            await client.bots.ask_question("q", extra_headers={"X-Custom-Auth": "c-secret"})
    assert target.requests == []
    assert len(state["seen"]) == 4  # one attempt each: a redirect is not retried
