"""A pytest plugin with fixtures for code that uses fini-async, registered with pytest through the
``pytest11`` entry point (installing fini-async is enough; ``-p no:fini_async`` turns it off).

- ``fini_fake``: a running :class:`~fini_async.testing.FakeFini` (emulator on loopback);
- ``fini_client``: a :class:`~fini_async.FiniClient` pointed at it (fast retries);
- ``sharely_fake`` / ``sharely_client``: the same for Sharely.

Each is function-scoped, and the clients are closed after the test. The fixtures are async: they
run under anyio's pytest plugin (installed with anyio) on the asyncio backend, so mark the tests
``@pytest.mark.anyio`` (or set ``anyio_mode = "auto"``) and keep ``anyio_backend`` "asyncio".

``assert_pool_idle(client)`` (from ``fini_async.testing``) checks that nothing leaked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import pytest

from ._pool import assert_pool_idle, pool_stats, wait_for_pool_idle

if TYPE_CHECKING:
    from .._client import FiniClient
    from ..sharely import SharelyClient
    from ._fini import FakeFini
    from ._sharely import FakeSharely

# The emulators (aiohttp.web) are imported by the fixtures, not here: the plugin loads in every
# pytest run of a project that has fini-async installed, and costs nothing until used.

__all__ = [
    "assert_pool_idle",
    "fini_client",
    "fini_fake",
    "pool_stats",
    "sharely_client",
    "sharely_fake",
    "wait_for_pool_idle",
]


@pytest.fixture
async def fini_fake(anyio_backend: object) -> AsyncIterator[FakeFini]:
    """A running Fini emulator, stopped after the test."""
    from ._fini import FakeFini

    async with FakeFini() as fake:
        yield fake


@pytest.fixture
async def fini_client(fini_fake: FakeFini) -> AsyncIterator[FiniClient]:
    """A FiniClient (write key) pointed at ``fini_fake``, closed after the test."""
    async with fini_fake.client() as client:
        yield client


@pytest.fixture
async def sharely_fake(anyio_backend: object) -> AsyncIterator[FakeSharely]:
    """A running Sharely emulator, stopped after the test."""
    from ._sharely import FakeSharely

    async with FakeSharely() as fake:
        yield fake


@pytest.fixture
async def sharely_client(sharely_fake: FakeSharely) -> AsyncIterator[SharelyClient]:
    """A SharelyClient pointed at ``sharely_fake``, closed after the test."""
    async with sharely_fake.client() as client:
        yield client
