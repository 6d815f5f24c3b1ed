"""Batch answering machinery behind ``client.bots.ask_many`` (issue 6, partial)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import anyio

from ._exceptions import ValidationError
from ._ratelimit import TokenBucket

T = TypeVar("T")


@dataclass(frozen=True)
class BatchResult(Generic[T]):
    """One input's outcome: its ``index`` and either ``answer`` or ``error``."""

    index: int
    answer: T | None = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


async def _iterate(items: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[Any]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def run_many(
    call: Callable[[Any], Awaitable[T]],
    items: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int = 32,
    rate_limit: float | TokenBucket | None = None,
    ordered: bool = False,
) -> AsyncIterator[BatchResult[T]]:
    """Run ``call`` on each item lazily, at most ``concurrency`` in flight or buffered.

    Raises:
        ValidationError: if ``concurrency`` < 1 or ``rate_limit`` is not positive.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError("concurrency must be a positive integer", field="concurrency")
    bucket = TokenBucket(rate_limit) if isinstance(rate_limit, (int, float)) else rate_limit
    limiter = anyio.CapacityLimiter(concurrency)
    send, recv = anyio.create_memory_object_stream[BatchResult[T]](concurrency)

    async def worker(index: int, item: Any, out: Any) -> None:
        async with out:
            try:
                if bucket is not None:
                    await bucket.acquire()
                result: BatchResult[T] = BatchResult(index, answer=await call(item))
            except Exception as exc:
                result = BatchResult(index, error=exc)
            await out.send(result)

    async def feed(tg: anyio.abc.TaskGroup) -> None:
        async with send:
            index = 0
            async for item in _iterate(items):
                await limiter.acquire_on_behalf_of(index)
                tg.start_soon(worker, index, item, send.clone())
                index += 1

    async with anyio.create_task_group() as tg:
        tg.start_soon(feed, tg)
        try:
            pending: dict[int, BatchResult[T]] = {}
            next_index = 0
            async with recv:
                async for result in recv:
                    if not ordered:
                        limiter.release_on_behalf_of(result.index)
                        yield result
                        continue
                    pending[result.index] = result
                    while next_index in pending:
                        ready = pending.pop(next_index)
                        limiter.release_on_behalf_of(ready.index)
                        next_index += 1
                        yield ready
        except GeneratorExit:
            # The consumer broke out (aclose): cancel everything in flight and end quietly,
            # so the task group exits without wrapping GeneratorExit in an exception group.
            tg.cancel_scope.cancel()
            return
        finally:
            tg.cancel_scope.cancel()
