"""HTTP(S)_PROXY and NO_PROXY are honoured, with an opt-out (issue 11). The proxy is a tiny
loopback forward proxy that answers absolute-form requests itself and records them."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from fini_async import FiniError
from fini_async.testing import FakeFini, FakeSharely

_PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


class Proxy:
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append((request.method, str(request.url), dict(request.headers)))
        return web.json_response({"answer": "via proxy", "token": "proxy-token"})


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Proxy]:
    for name in _PROXY_VARS:  # whatever the machine running the tests has set
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    server = Proxy()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield server
    await runner.cleanup()


async def test_http_proxy_is_used(
    proxy: Proxy, fake: FakeFini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with fake.client(trust_env=True) as client:
        answer = await client.bots.ask_question("q")
    assert answer.answer == "via proxy"
    [(method, url, headers)] = proxy.seen
    assert (method, url) == ("POST", f"{fake.url}/v2/bots/ask-question")  # absolute form
    assert headers["Authorization"].startswith("Bearer ")
    assert fake.calls["ask-question"] == 0


async def test_proxy_credentials_go_to_the_proxy_only(
    proxy: Proxy, fake: FakeFini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://me:pw@"))
    async with fake.client(trust_env=True) as client:
        await client.bots.ask_question("q")
        assert "pw" not in repr(client)
    [(_, _, headers)] = proxy.seen
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"me:pw").decode()


@pytest.mark.parametrize("no_proxy", ["127.0.0.1", "localhost,127.0.0.1", "*"])
async def test_no_proxy_is_honoured(
    proxy: Proxy, fake: FakeFini, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", no_proxy)
    async with fake.client(trust_env=True) as client:
        answer = await client.bots.ask_question("q")
    assert answer.answer != "via proxy"
    assert proxy.seen == []
    assert fake.calls["ask-question"] == 1


async def test_trust_env_false_ignores_the_proxy(
    proxy: Proxy, fake: FakeFini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with fake.client(trust_env=False) as client:
        answer = await client.bots.ask_question("q")
    assert answer.answer != "via proxy"
    assert proxy.seen == []


@pytest.mark.parametrize("trust_env", [True, False])
async def test_sharely_client_honours_the_proxy_and_its_opt_out(
    proxy: Proxy, monkeypatch: pytest.MonkeyPatch, trust_env: bool
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with FakeSharely() as fake:
        kwargs: dict[str, Any] = {"trust_env": trust_env, "max_retries": 0}
        async with fake.client(**kwargs) as client:
            try:
                await client.knowledge.list()
            except FiniError:
                pass  # the proxy's canned answer need not be a page of knowledge
        paths = [url.removeprefix(fake.url) for _, url, _ in proxy.seen]
    if trust_env:
        assert paths[0] == f"/workspaces/{fake.workspace_id}/generate-access-key-token"
    else:
        assert paths == []


async def test_emulator_clients_never_take_the_machines_proxy(
    proxy: Proxy, fake: FakeFini, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The emulator is on this machine: its clients ignore a proxy the environment names (a user's
    test suite on a runner with HTTP_PROXY set still reaches it)."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with fake.client() as client:
        answer = await client.bots.ask_question("How do I upgrade?")
    async with FakeSharely() as sfake, sfake.client() as sharely:
        await sharely.knowledge.list()
    assert answer.answer != "via proxy"
    assert proxy.seen == []
    assert fake.calls["ask-question"] == 1
