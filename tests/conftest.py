"""Test setup: every ``async def`` test runs on asyncio through anyio's pytest plugin
(``anyio_mode = "auto"`` in pyproject.toml), against the project's own emulator over real
loopback sockets. The emulator fixtures are the ones the package ships to its users
(``fini_async.testing.pytest_plugin``), under the short names these tests use."""

from __future__ import annotations

import os

import pytest

from fini_async import FiniClient, SharelyClient
from fini_async.testing import FakeFini, FakeSharely


def pytest_configure(config: pytest.Config) -> None:
    # Installed, the plugin is loaded through its pytest11 entry point; from a bare checkout
    # (or an install that predates the entry point) it is registered here instead.
    if not config.pluginmanager.has_plugin("fini_async"):
        from fini_async.testing import pytest_plugin

        config.pluginmanager.register(pytest_plugin, "fini_async")


@pytest.fixture(autouse=True)
def _no_proxy_of_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Clients honour HTTP(S)_PROXY; the emulator is on loopback, so a proxy set on the machine
    running the tests (a CI runner's, say) must not carry their calls. Proxy tests set their own."""
    for name in list(os.environ):
        if name.lower() in {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}:
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake(fini_fake: FakeFini) -> FakeFini:
    return fini_fake


@pytest.fixture
def client(fini_client: FiniClient) -> FiniClient:
    return fini_client


@pytest.fixture
def sfake(sharely_fake: FakeSharely) -> FakeSharely:
    return sharely_fake


@pytest.fixture
def sharely(sharely_client: SharelyClient) -> SharelyClient:
    return sharely_client
