"""Leak checks on a client's connection pool, for tests: after the code under test is done, no
connection may still be checked out and no request may still hold or wait for a slot.

They read the transport's state (this package ships with it), so tests need not: the same check
works for :class:`~fini_async.FiniClient` and :class:`~fini_async.SharelyClient`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import FiniClient
    from ..sharely import SharelyClient

    AnyClient = FiniClient | SharelyClient

__all__ = ["PoolStats", "assert_pool_idle", "pool_stats", "wait_for_pool_idle"]


@dataclass(frozen=True)
class PoolStats:
    """What a client's pool holds right now.

    ``in_use``: slots of ``max_connections`` taken (one per request in flight or stream open);
    ``waiting``: requests waiting for a slot; ``acquired``: connections checked out of aiohttp's
    pool (an abandoned response that was not closed keeps one)."""

    in_use: int
    waiting: int
    acquired: int

    @property
    def idle(self) -> bool:
        return self.in_use == 0 and self.waiting == 0 and self.acquired == 0


def pool_stats(client: AnyClient) -> PoolStats:
    """The pool's state (all zero before the first request and after ``aclose``)."""
    transport = client._transport
    limiter = transport._limiter
    in_use = waiting = acquired = 0
    if limiter is not None:
        in_use = int(limiter.borrowed_tokens)
        waiting = limiter.statistics().tasks_waiting
    session = transport._session
    connector = session.connector if session is not None else None
    if connector is not None:
        acquired = len(connector._acquired)
    return PoolStats(in_use=in_use, waiting=waiting, acquired=acquired)


def assert_pool_idle(client: AnyClient) -> None:
    """Raise AssertionError (naming what is held) unless no connection is checked out and no
    request holds or waits for a slot. Closing a response may take one event-loop turn: right
    after cancelling something, use :func:`wait_for_pool_idle`."""
    stats = pool_stats(client)
    if not stats.idle:
        raise AssertionError(f"the client's connection pool is not idle: {stats}")


async def wait_for_pool_idle(client: AnyClient, timeout: float = 5.0) -> None:
    """Wait until the pool is idle; AssertionError (as :func:`assert_pool_idle`) after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    step = 0.005  # a closed response gives its slot back within a loop turn or two
    for _ in range(int(timeout / step) + 1):
        if pool_stats(client).idle or time.monotonic() >= deadline:
            break
        await asyncio.sleep(step)
    assert_pool_idle(client)
