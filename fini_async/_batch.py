"""Batch answering machinery behind ``client.bots.ask_many``: lazy input, bounded concurrency that
adapts to the server (AIMD on 429s), an optional rate cap, per-item results and progress.

A :class:`Batch` is an async iterator and an async context manager. Its work runs in one driver
task holding an anyio task group (one task per request in flight); the consumer only receives
finished results from a memory stream. Closing the batch (``aclose``, leaving ``async with``,
an exception or cancellation while waiting for the next result) cancels the driver and with it
every request in flight.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeAlias, TypeVar

import anyio

if TYPE_CHECKING:  # anyio imports these lazily: importing them here would cost ~20 ms at import
    import anyio.abc
    from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._exceptions import (
    AuthenticationError,
    ClientStateError,
    PermissionDeniedError,
    ValidationError,
)
from ._ratelimit import RateLimiter, TokenBucket, as_rate_limiter
from ._retry import MAX_RETRY_AFTER
from ._transport import attempt_hook

__all__ = ["FATAL_ERRORS", "Batch", "BatchFailure", "BatchProgress", "BatchResult", "BatchSuccess"]

T = TypeVar("T")

#: On a 429: the concurrency limit is halved, the request rate set to this fraction of the
#: successes of the last second. Both then grow again as calls succeed (additive increase).
_DECREASE = 0.5
_RATE_DECREASE = 0.9
#: Window over which the success rate is measured when the server pushes back.
_WINDOW = 1.0
#: The adaptive rate grows by this fraction of itself per second of successful calls, and by
#: the second one once no 429 was seen for ``_QUIET`` seconds.
_RATE_GROWTH = 0.02
_RATE_GROWTH_QUIET = 0.25
_QUIET = 2.0
#: Fewer successes than this in the window say nothing about the server's rate.
_MIN_SAMPLE = 10

#: When the attempt being observed was sent (each worker task has its own value).
_sent_at: ContextVar[float] = ContextVar("fini_async_batch_sent_at", default=0.0)


@dataclass(frozen=True)
class BatchSuccess(Generic[T]):
    """An input that was answered: its ``index`` (position in the input) and its ``answer``."""

    index: int
    answer: T
    error: None = None
    #: Always True: ``if result.ok`` narrows a :data:`BatchResult` to this class for type checkers.
    ok: ClassVar[Literal[True]] = True


@dataclass(frozen=True)
class BatchFailure:
    """An input whose call failed: its ``index`` and the exception that call raised, ``error``
    (the batch went on, unless the error was one of :data:`FATAL_ERRORS`)."""

    index: int
    error: Exception
    answer: None = None
    #: Always False: ``if not result.ok`` narrows a :data:`BatchResult` to this class.
    ok: ClassVar[Literal[False]] = False


#: One input's outcome: a :class:`BatchSuccess` (``ok`` True, ``answer`` set) or a
#: :class:`BatchFailure` (``ok`` False, ``error`` set). Both have ``index``, ``ok``, ``answer``
#: and ``error``; ``if result.ok: result.answer...`` type-checks under ``mypy --strict``.
BatchResult: TypeAlias = BatchSuccess[T] | BatchFailure

#: Errors that would fail every other input the same way (a wrong key, a key without the scope):
#: after the first one the batch sends no further request and every remaining input fails at once
#: with that same error.
FATAL_ERRORS: tuple[type[Exception], ...] = (AuthenticationError, PermissionDeniedError)


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot of a batch, for a progress bar.

    ``completed`` counts results handed to the caller (``succeeded`` + ``failed``);
    ``in_flight`` counts inputs taken but not yet handed over (requests running or finished and
    buffered); ``concurrency`` is the current adaptive limit, ``rate_limit`` the current adaptive
    request rate (None until the server first answers 429), ``rate_limited`` the 429 responses
    seen (retried ones included)."""

    total: int | None
    submitted: int
    completed: int
    succeeded: int
    failed: int
    in_flight: int
    concurrency: int
    rate_limited: int
    rate_limit: float | None
    elapsed: float
    done: bool

    @property
    def rate(self) -> float:
        """Results per second so far."""
        return self.completed / self.elapsed if self.elapsed > 0 else 0.0


class _Control:
    """The adaptive part: a concurrency limit and, once the server has pushed back, a request rate,
    both AIMD; a pause for the server's Retry-After; and the caller's fixed rate cap. Installed as
    the transport's attempt hook in every worker, so retries are paced and observed too.

    A 429 lowers the limits once per round trip: only a 429 for an attempt sent after the last
    decrease counts as news (those sent before it were sent at the old pace).

    The caller's ``rate_limit`` is a :class:`RateLimiter` (a number made a fixed TokenBucket),
    told of each 429 and success. An adaptive one (maybe shared with other batches or processes)
    owns the request rate: the batch then adapts only its concurrency."""

    def __init__(self, concurrency: int, rate_limit: RateLimiter | None, adaptive: bool) -> None:
        self.max_concurrency = concurrency
        self.limit = float(concurrency)
        self.in_use = 0
        self.adaptive = adaptive
        self.fixed = rate_limit
        self.shared_rate = rate_limit is not None and rate_limit.adaptive
        self.cap = None if rate_limit is None or self.shared_rate else rate_limit.rate
        self.bucket: TokenBucket | None = None  # the adaptive rate, from the first 429 on
        self.paused_until = 0.0
        self.last_decrease = -1.0
        self.started = time.monotonic()
        self.last_429 = -1.0
        self.rate_limited = 0
        self._successes: collections.deque[float] = collections.deque()
        self._freed: anyio.Event | None = None
        #: The first of :data:`FATAL_ERRORS` a call raised: no request is sent after it.
        self.fatal: Exception | None = None

    # slots: a worker takes one per input; the consumer frees it when it takes the result

    async def acquire_slot(self) -> None:
        while self.in_use >= max(1, int(self.limit)):
            if self._freed is None:
                self._freed = anyio.Event()
            await self._freed.wait()
        self.in_use += 1

    def release_slot(self) -> None:
        self.in_use -= 1
        self._wake()

    def _wake(self) -> None:
        if self._freed is not None:
            self._freed.set()
            self._freed = None

    # AttemptHook

    async def before_attempt(self) -> None:
        while True:
            wait = self.paused_until - time.monotonic()
            if wait <= 0:
                break
            await anyio.sleep(wait)
        if self.fixed is not None:
            await self.fixed.acquire()
        if self.bucket is not None:
            await self.bucket.acquire()
        if self.fatal is not None:  # it came while this attempt waited (or before a retry)
            raise self.fatal
        _sent_at.set(time.monotonic())

    def after_attempt(self, status: int | None, retry_after: float | None) -> None:
        if status is None:
            return
        now = time.monotonic()
        if status == 429:
            self.rate_limited += 1
            if self.fixed is not None:
                self.fixed.on_rate_limited(retry_after)
            self.last_429 = now
            if retry_after:
                self.paused_until = max(self.paused_until, now + min(retry_after, MAX_RETRY_AFTER))
            if self.adaptive and _sent_at.get() >= self.last_decrease:
                self.last_decrease = now
                self._decrease(now)
            return
        if status >= 400:
            return
        if self.fixed is not None:
            self.fixed.on_success()
        if not self.adaptive:
            return
        successes = self._successes
        successes.append(now)
        while successes[0] < now - _WINDOW:
            successes.popleft()
        if self.limit < self.max_concurrency:
            self.limit = min(float(self.max_concurrency), self.limit + 1.0 / self.limit)
            self._wake()
        bucket = self.bucket
        if bucket is not None and (self.cap is None or bucket.rate < self.cap):
            growth = _RATE_GROWTH_QUIET if now - self.last_429 > _QUIET else _RATE_GROWTH
            grown = bucket.rate + growth * min(bucket.rate, 1.0)
            bucket.set_rate(grown if self.cap is None else min(grown, self.cap))

    def _decrease(self, now: float) -> None:
        self.limit = max(1.0, self.limit * _DECREASE)
        successes = self._successes
        while successes and successes[0] < now - _WINDOW:
            successes.popleft()
        if self.shared_rate or len(successes) < _MIN_SAMPLE:
            # The caller's adaptive limiter owns the rate; or too little got through lately
            # (429s from the very start, say) to learn a rate from: rely on the smaller
            # concurrency and the Retry-After pause.
            return
        # Successes in the last second. Early in a batch this underestimates (it ran for less
        # than a second); the rate then grows back, faster once 429s have stopped.
        measured = len(successes) / _WINDOW
        current = self.bucket.rate if self.bucket is not None else None
        rate = measured if current is None else min(current, measured)
        rate = max(1.0, rate * _RATE_DECREASE)
        if self.cap is not None:
            rate = min(rate, self.cap)
        if self.bucket is None:
            self.bucket = TokenBucket(rate, burst=max(1.0, rate / 20.0))
        else:
            self.bucket.set_rate(rate)

    @property
    def rate(self) -> float | None:
        if self.shared_rate:
            assert self.fixed is not None
            return self.fixed.rate
        return self.bucket.rate if self.bucket is not None else None


class _End:
    """Marks the end of the input."""


_END = _End()


class _Runner(Generic[T]):
    """Everything a batch's driver task touches. It holds no reference to the :class:`Batch`, so
    a batch dropped without being closed can be finalized (which cancels the driver).

    The driver runs a fixed pool of ``concurrency`` workers; each takes a slot, pulls the next
    input, calls, and puts the result in the output buffer. The consumer frees the slot when it
    takes the result, so requests in flight plus results buffered never exceed the (adaptive)
    limit, and the buffer never blocks a worker."""

    def __init__(
        self,
        call: Callable[[Any], Awaitable[T]],
        items: Iterable[Any] | AsyncIterable[Any],
        control: _Control,
        ordered: bool,
        total: int | None,
    ) -> None:
        self.call = call
        self.control = control
        self.ordered = ordered
        self.total = total
        self.submitted = 0
        self.completed = 0
        self.succeeded = 0
        self.failed = 0
        self.started: float | None = None
        self.finished: float | None = None
        self.last_result: float | None = None
        self.error: BaseException | None = None
        self.task: asyncio.Task[None] | None = None
        self.send: MemoryObjectSendStream[BatchResult[T]]
        self.recv: MemoryObjectReceiveStream[BatchResult[T]]
        self.send, self.recv = anyio.create_memory_object_stream[BatchResult[T]](math.inf)
        self._items = items
        self._iterator: Iterator[Any] | None = None
        self._aiterator: AsyncIterator[Any] | None = None
        self._pull_lock = asyncio.Lock()
        self._exhausted = False
        self._pending: dict[int, BatchResult[T]] = {}
        self._next = 0
        self._tg: anyio.abc.TaskGroup | None = None

    def start(self) -> None:
        self.started = time.monotonic()
        self.task = asyncio.get_running_loop().create_task(self._drive())
        _RUNNING.add(self.task)
        self.task.add_done_callback(_RUNNING.discard)

    def abort(self) -> None:
        """Stop everything now (synchronous: usable from a finalizer)."""
        self.recv.close()
        task = self.task
        if task is None:
            self.send.close()  # never started: nobody else will close it
        elif not task.done():
            task.cancel()

    async def _drive(self) -> None:
        try:
            items = self._items
            if isinstance(items, AsyncIterable):
                self._aiterator = items.__aiter__()
            else:
                self._iterator = iter(items)
            async with anyio.create_task_group() as tg:
                self._tg = tg
                for _ in range(self.control.max_concurrency):
                    tg.start_soon(self._work)
        except Exception as exc:  # iter() itself failed
            self.error = exc
        finally:
            self.finished = time.monotonic()
            self.send.close()

    async def _pull(self) -> tuple[int, Any]:
        """The next input and its index, or ``_END``."""
        try:
            if self._aiterator is None:
                assert self._iterator is not None
                item = next(self._iterator, _END)
            else:
                async with self._pull_lock:  # an async generator admits one caller at a time
                    if self._exhausted:
                        return -1, _END
                    item = await anext(self._aiterator, _END)
        except Exception as exc:  # the input failed: report it after the rest
            self.error = exc
            item = _END
        if item is _END:
            self._exhausted = True
            return -1, _END
        index = self.submitted
        self.submitted += 1
        return index, item

    async def _work(self) -> None:
        attempt_hook.set(self.control)
        control = self.control
        call = self.call
        while not self._exhausted:
            await control.acquire_slot()
            if self._exhausted:
                control.release_slot()
                return
            index, item = await self._pull()
            if item is _END:
                control.release_slot()
                return
            result: BatchResult[T]
            if control.fatal is not None:
                result = BatchFailure(index, control.fatal)  # fail fast: nothing is sent
            else:
                try:
                    result = BatchSuccess(index, await call(item))
                except Exception as exc:
                    if control.fatal is None and isinstance(exc, FATAL_ERRORS):
                        control.fatal = exc
                    result = BatchFailure(index, exc)
            if not self.ordered:
                self._put(result)
                continue
            pending = self._pending
            pending[index] = result
            while self._next in pending:
                self._put(pending.pop(self._next))
                self._next += 1

    def _put(self, result: BatchResult[T]) -> None:
        try:
            self.send.send_nowait(result)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            # The consumer closed the batch: stop everything (aclose also cancels the driver).
            if self._tg is not None:
                self._tg.cancel_scope.cancel()


_RUNNING: set[asyncio.Task[None]] = set()


def _validate_concurrency(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError(
            f"concurrency must be a positive integer, got {concurrency!r}", field="concurrency"
        )
    return concurrency


class Batch(Generic[T]):
    """Results of a batch, as they finish (or in input order with ``ordered=True``).

    ::

        async with client.bots.ask_many(questions, concurrency=64) as batch:
            async for result in batch:
                print(result.index, result.answer if result.ok else result.error)

    Iterating without ``async with`` works too; breaking out of such a loop cancels the requests
    in flight when the batch is garbage-collected (at once in CPython), while ``async with`` or
    ``await batch.aclose()`` cancel them deterministically. A batch is iterated once. If the
    input iterable itself raises, the results already finished are delivered first, then the
    iteration raises that exception.
    """

    def __init__(
        self,
        call: Callable[[Any], Awaitable[T]],
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int = 32,
        rate_limit: float | RateLimiter | None = None,
        ordered: bool = False,
        adaptive: bool = True,
        total: int | None = None,
        on_progress: Callable[[BatchProgress], object] | None = None,
    ) -> None:
        concurrency = _validate_concurrency(concurrency)
        rate = as_rate_limiter(rate_limit)
        if total is None and hasattr(items, "__len__"):
            try:
                total = len(items)  # type: ignore[arg-type]
            except TypeError:
                total = None
        if total is not None and (isinstance(total, bool) or not isinstance(total, int)):
            raise ValidationError("total must be an int", field="total")
        if on_progress is not None and not callable(on_progress):
            raise ValidationError("on_progress must be callable", field="on_progress")
        self._runner: _Runner[T] = _Runner(
            call, items, _Control(concurrency, rate, adaptive), ordered, total
        )
        self._on_progress = on_progress
        self._closed = False
        self._finalizer = weakref.finalize(self, self._runner.abort)

    def __repr__(self) -> str:
        p = self.progress
        return (
            f"<Batch completed={p.completed} total={p.total} in_flight={p.in_flight} "
            f"concurrency={p.concurrency}>"
        )

    @property
    def progress(self) -> BatchProgress:
        """Where the batch stands now."""
        r = self._runner
        c = r.control
        end = r.finished if r.finished is not None and r.completed >= r.submitted else None
        if end is None and r.total is not None and r.completed >= r.total:
            end = r.last_result
        elapsed = 0.0 if r.started is None else (end or time.monotonic()) - r.started
        return BatchProgress(
            total=r.total,
            submitted=r.submitted,
            completed=r.completed,
            succeeded=r.succeeded,
            failed=r.failed,
            in_flight=r.submitted - r.completed,
            concurrency=max(1, int(c.limit)),
            rate_limited=c.rate_limited,
            rate_limit=c.rate,
            elapsed=elapsed,
            done=self._closed
            or (r.completed >= r.submitted and (r.finished is not None or r.completed == r.total)),
        )

    def __aiter__(self) -> Batch[T]:
        return self

    async def __anext__(self) -> BatchResult[T]:
        runner = self._runner
        if runner.task is None:
            if self._closed:
                raise StopAsyncIteration
            runner.start()
        try:
            try:
                result = runner.recv.receive_nowait()
            except anyio.WouldBlock:
                result = await runner.recv.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            await self._settle()
            if runner.error is not None:
                error, runner.error = runner.error, None
                raise error from None
            raise StopAsyncIteration from None
        except BaseException:
            self._closed = True
            runner.abort()
            raise
        runner.control.release_slot()
        runner.completed += 1
        runner.last_result = time.monotonic()
        if result.error is None:
            runner.succeeded += 1
        else:
            runner.failed += 1
        if self._on_progress is not None:
            try:
                self._on_progress(self.progress)
            except BaseException:
                self._closed = True
                runner.abort()
                raise
        return result

    async def _settle(self) -> None:
        self._closed = True
        self._runner.recv.close()
        task = self._runner.task
        if task is not None and not task.done():
            await asyncio.wait({task})

    async def aclose(self) -> None:
        """Cancel what is in flight and wait until nothing of the batch is left running."""
        self._closed = True
        self._runner.abort()
        await self._settle()

    async def collect(self) -> list[BatchResult[T]]:
        """All results, in input order."""
        results = [result async for result in self]
        results.sort(key=lambda r: r.index)
        return results

    async def __aenter__(self) -> Batch[T]:
        if self._closed:
            raise ClientStateError("this batch was already closed")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
