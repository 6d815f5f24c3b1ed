"""Test setup: every ``async def`` test runs on asyncio through anyio's pytest plugin, against the
project's own emulator over real loopback sockets."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator

import pytest

from fini_async import FiniClient
from fini_async.testing import FakeFini


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        func = getattr(item, "function", None)
        if func is not None and inspect.iscoroutinefunction(func):
            item.add_marker(pytest.mark.anyio)


@pytest.fixture
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
