"""Test setup: every ``async def`` test runs on asyncio through anyio's pytest plugin
(``anyio_mode = "auto"`` in pyproject.toml), against the project's own emulator over real
loopback sockets."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fini_async import FiniClient
from fini_async.testing import FakeFini


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def fake() -> AsyncIterator[FakeFini]:
    async with FakeFini() as server:
        yield server


@pytest.fixture
async def client(fake: FakeFini) -> AsyncIterator[FiniClient]:
    async with fake.client() as c:
        yield c
