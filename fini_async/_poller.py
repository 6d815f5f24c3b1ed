"""A generic, coalescing poller of background jobs. It knows no routes.

Thousands of coroutines can wait on their own job at once: one background task per poller asks
``fetch`` for the status of every pending id each tick, ``chunk_size`` ids per call, so 1,000
waiters cost ``ceil(1000 / chunk_size)`` calls per tick, not 1,000. The task starts with the first
waiter, stops as soon as nobody waits, and is never left behind.

The tick interval starts at ``interval_initial`` and backs off exponentially, with jitter, to
``interval_max`` (new jobs bring it back to the start). A failing status call is retried on its
own backoff schedule:

* :class:`~fini_async.NotFoundError` (one unknown id fails the whole batch) makes the poller bisect
  the batch to isolate the unknown ids; only their waiters fail, with ``NotFoundError``.
* transient errors (``_retry.is_transient``: 429, 408, 425, 500, 502-504, connection and
  timeout errors) fail no waiter: waiters only
  give up at their own ``timeout`` (``JobTimeoutError``, chained to the last error).
* any other error (401, 403, 400, an undecodable body, a closed client) fails the waiters of the
  ids in that batch with that error.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import anyio
import backoff

from ._exceptions import (
    ClientStateError,
    JobFailedError,
    NotFoundError,
    ValidationError,
)
from ._logging import logger
from ._retry import MAX_RETRY_AFTER, backoff_schedule, is_transient

# The job states, the waiters and the iterator over many jobs live in _waiting; the names are
# re-exported here, where they were first defined.
from ._waiting import JobIterator, JobState, _Waiter, make_classifier, wait_one

__all__ = ["JobIterator", "JobPoller", "JobState", "make_classifier"]

S = TypeVar("S")


def _equal_jitter(value: float) -> float:
    """Half the value plus a full-jitter half: never less than half of the schedule."""
    return value / 2 + backoff.full_jitter(value / 2)


class JobPoller(Generic[S]):
    """Waits on background jobs by polling their statuses in coalesced batches.

    ``fetch(ids)`` returns the statuses of up to ``chunk_size`` ids in one call (ids it leaves out
    stay pending) and raises ``NotFoundError`` when any id of the batch is unknown. ``state_of``
    gives a status's raw state string and ``classify`` maps it to running, completed or failed.

    Attributes you may read: ``ticks`` (ticks run), ``calls`` (fetch calls made, bisection
    included), ``tick_log`` (ids polled and calls made per recent tick), ``running`` (whether the
    background task is alive), ``pending`` (ids waited on).
    """

    def __init__(
        self,
        fetch: Callable[[list[str]], Awaitable[Mapping[str, S]]],
        *,
        state_of: Callable[[S], str],
        classify: Callable[[str], JobState],
        chunk_size: int = 100,
        interval_initial: float = 0.25,
        interval_max: float = 5.0,
        name: str = "jobs",
        error_backoff_initial: float | None = None,
        error_backoff_max: float = 30.0,
        max_concurrency: int = 10,
        max_chunk_size: int | None = None,
    ) -> None:
        self._fetch = fetch
        #: The most ids the status route takes in one call (None: no limit); configure() refuses
        #: a larger ``chunk_size``.
        self.max_chunk_size = max_chunk_size
        self._state_of = state_of
        self._classify = classify
        # The schedule is set through configure(), so that it is checked one way; the error
        # backoff's cap is raised to its start when that is higher.
        self.interval_initial = self.interval_max = 1.0
        self.error_backoff_initial = self.error_backoff_max = 1.0
        self.chunk_size = self.max_concurrency = 1
        first_error = interval_initial if error_backoff_initial is None else error_backoff_initial
        self.configure(
            interval_initial=interval_initial,
            interval_max=interval_max,
            chunk_size=chunk_size,
            error_backoff_initial=first_error,
            error_backoff_max=_at_least(error_backoff_max, first_error),
            max_concurrency=max_concurrency,
        )
        self.name = name
        self.ticks = 0
        self.calls = 0
        #: ``(ids polled, status calls made)`` for each recent tick (bisection calls included).
        self.tick_log: collections.deque[tuple[int, int]] = collections.deque(maxlen=1000)
        self._waiters: dict[str, list[_Waiter[S]]] = {}
        self._last: dict[str, S] = {}
        self._last_state: dict[str, str] = {}
        self._last_error: BaseException | None = None
        self._callbacks: list[Callable[[str, S], None]] = []
        self._task: asyncio.Task[None] | None = None
        self._alive: set[asyncio.Task[None]] = set()  # the task, and one still being cancelled
        self._wake: asyncio.Event | None = None
        self._new_ids = False
        self._closed = False

    def __repr__(self) -> str:
        return (
            f"<JobPoller {self.name} pending={len(self._waiters)} running={self.running} "
            f"ticks={self.ticks} calls={self.calls}>"
        )

    def configure(
        self,
        *,
        interval_initial: float | None = None,
        interval_max: float | None = None,
        chunk_size: int | None = None,
        error_backoff_initial: float | None = None,
        error_backoff_max: float | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        """Change the schedule (None keeps a setting): the first tick interval and its cap, ids
        per status call, the retry schedule of failing status calls, and how many status calls
        run at once. Checked as a whole, then applied at once; takes effect at the next tick.
        Raises :class:`~fini_async.ValidationError` for values out of range (nothing changes)."""
        first = _seconds(interval_initial, self.interval_initial, "interval_initial")
        cap = _seconds(interval_max, self.interval_max, "interval_max")
        if not first <= cap:
            raise ValidationError(
                "polling intervals must satisfy 0 < interval_initial <= interval_max",
                field="interval_initial",
            )
        err_first = _seconds(
            error_backoff_initial, self.error_backoff_initial, "error_backoff_initial"
        )
        err_cap = _seconds(error_backoff_max, self.error_backoff_max, "error_backoff_max")
        if not err_first <= err_cap:
            raise ValidationError(
                "error backoff must satisfy 0 < error_backoff_initial <= error_backoff_max",
                field="error_backoff_initial",
            )
        chunks = _count(chunk_size, self.chunk_size, "chunk_size")
        if self.max_chunk_size is not None and chunks > self.max_chunk_size:
            raise ValidationError(
                f"chunk_size must be between 1 and {self.max_chunk_size}", field="chunk_size"
            )
        concurrency = _count(max_concurrency, self.max_concurrency, "max_concurrency")
        self.interval_initial, self.interval_max = first, cap
        self.error_backoff_initial, self.error_backoff_max = err_first, err_cap
        self.chunk_size, self.max_concurrency = chunks, concurrency

    # -- introspection -------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        """Whether a background polling task is alive (one being cancelled counts)."""
        return any(not t.done() for t in self._alive)

    @property
    def pending(self) -> list[str]:
        """The ids being waited on."""
        return list(self._waiters)

    def last_status(self, job_id: str) -> S | None:
        """The last status seen for a job still being waited on."""
        return self._last.get(job_id)

    # -- progress ------------------------------------------------------------------------------

    def add_progress_callback(self, cb: Callable[[str, S], None]) -> Callable[[], None]:
        """Call ``cb(job_id, status)`` whenever a waited-on job's state changes (its first status
        seen, each new state, and its terminal state). Returns a function that removes it.
        Exceptions raised by ``cb`` are logged and ignored."""
        self._callbacks.append(cb)

        def remove() -> None:
            try:
                self._callbacks.remove(cb)
            except ValueError:
                pass

        return remove

    # -- waiting -------------------------------------------------------------------------------

    async def wait(
        self, job_id: str, *, timeout: float | None = 600, raise_on_failure: bool = True
    ) -> S:
        """Wait until ``job_id`` reaches a terminal state and return its last status.

        Raises ``JobFailedError(job=status)`` when it failed (unless ``raise_on_failure=False``,
        which returns the status), ``JobTimeoutError(job=last status seen or None)`` after
        ``timeout`` seconds (chained to the last status-call error, if the calls were failing),
        ``NotFoundError`` when the server does not know the id, and the status call's error when
        it failed for a reason that retrying cannot fix (401, 403, ...). ``ValidationError`` for
        an empty id or a negative timeout. Cancelling the wait disturbs no other waiter."""
        return await wait_one(self, job_id, timeout=timeout, raise_on_failure=raise_on_failure)

    def as_completed(
        self,
        job_ids: Iterable[str],
        *,
        timeout: float | None = 600,
        raise_on_failure: bool = False,
    ) -> JobIterator[S]:
        """An async iterator yielding each job's final status as it reaches a terminal state.

        ``timeout`` bounds the whole iteration (it starts at the first ``__anext__``):
        ``JobTimeoutError`` then carries, as ``job``, the list of last statuses seen (None where
        none was) of the jobs still unfinished, in input order. Failed jobs are yielded unless
        ``raise_on_failure=True`` (then ``JobFailedError``). ``NotFoundError`` (or another
        non-retryable status-call error) ends the iteration. Use ``async with`` (or ``aclose()``)
        to stop waiting early; an abandoned iterator also stops waiting when collected."""
        iterator: JobIterator[S] = JobIterator(
            self, job_ids, timeout=timeout, raise_on_failure=raise_on_failure
        )
        return iterator

    async def aclose(self) -> None:
        """Stop the background task and fail every waiter with ``ClientStateError``."""
        self._closed = True
        error = ClientStateError(f"{self.name}: the poller was closed")
        for job_id in list(self._waiters):
            self._resolve(job_id, None, error)
        self._task = None
        tasks = [t for t in self._alive if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)

    # -- internals: waiters ----------------------------------------------------------------------

    def _outcome(self, waiter: _Waiter[S], raise_on_failure: bool) -> S:
        if waiter.error is not None:
            raise waiter.error
        result = waiter.result
        assert result is not None
        if raise_on_failure and self._classify(self._state_of(result)) == "failed":
            raise JobFailedError(f"{self.name}: job {waiter.job_id} failed", job=result)
        return result

    def _register(self, waiter: _Waiter[S]) -> None:
        if self._closed:
            raise ClientStateError(f"{self.name}: the poller was closed")
        waiters = self._waiters.get(waiter.job_id)
        if waiters is None:
            self._waiters[waiter.job_id] = [waiter]
            self._new_ids = True
            if self._wake is not None:
                self._wake.set()
        else:
            waiters.append(waiter)
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            task = asyncio.get_running_loop().create_task(
                self._run(), name=f"fini-async {self.name} poller"
            )
            self._task = task
            self._alive.add(task)
            task.add_done_callback(self._alive.discard)

    def _unregister(self, waiter: _Waiter[S]) -> None:
        """A waiter leaves without a result (timeout, cancellation, iterator closed)."""
        waiters = self._waiters.get(waiter.job_id)
        if waiters is None:
            return
        try:
            waiters.remove(waiter)
        except ValueError:
            return
        if not waiters:
            self._forget(waiter.job_id)
        if not self._waiters:
            task, self._task = self._task, None
            if task is not None and not task.done() and task is not _current_task():
                task.cancel()  # nobody waits: stop now, in-flight call included

    def _forget(self, job_id: str) -> None:
        self._waiters.pop(job_id, None)
        self._last.pop(job_id, None)
        self._last_state.pop(job_id, None)

    def _resolve(self, job_id: str, result: S | None, error: BaseException | None) -> None:
        waiters = self._waiters.get(job_id)
        self._forget(job_id)
        for waiter in waiters or ():
            waiter.done = True
            waiter.result = result
            waiter.error = error
            waiter.notify(waiter)

    def _progress(self, job_id: str, status: S) -> None:
        for cb in list(self._callbacks):
            try:
                cb(job_id, status)
            except Exception:
                logger.exception("%s: a progress callback raised", self.name)

    # -- internals: the polling task -----------------------------------------------------------

    async def _run(self) -> None:
        me = _current_task()
        try:
            await self._loop()
        except Exception as exc:  # a bug must fail the waiters, never leave them hanging
            logger.exception("%s: the poller failed", self.name)
            for job_id in list(self._waiters):
                self._resolve(job_id, None, exc)
        finally:
            if self._task is me:
                self._task = None

    def _intervals(self) -> Iterator[float]:
        return backoff_schedule(self.interval_initial, self.interval_max, _equal_jitter)

    async def _loop(self) -> None:
        settings = (self.interval_initial, self.interval_max)
        intervals = self._intervals()
        errors: Iterator[float] | None = None
        delay = self.interval_initial / 2
        while self._waiters:
            if self._new_ids:  # jobs arrived: poll them soon, then back off afresh
                self._new_ids = False
                intervals = self._intervals()
                delay = min(delay, self.interval_initial)
            await self._sleep(delay)
            if self._new_ids or settings != (self.interval_initial, self.interval_max):
                self._new_ids = False
                settings = (self.interval_initial, self.interval_max)
                intervals = self._intervals()
            if not self._waiters:
                break
            pending = list(self._waiters)
            calls_before = self.calls
            retry_after = await self._tick(pending)
            self.ticks += 1
            self.tick_log.append((len(pending), self.calls - calls_before))
            if retry_after is None:
                errors = None
                self._last_error = None
                delay = next(intervals)
            else:
                if errors is None:
                    errors = backoff_schedule(self.error_backoff_initial, self.error_backoff_max)
                delay = max(next(errors), min(retry_after, MAX_RETRY_AFTER))

    async def _sleep(self, delay: float) -> None:
        """Sleep ``delay`` seconds; new ids shorten the rest to at most ``interval_initial``."""
        deadline = time.monotonic() + delay
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            wake = self._wake
            if wake is None:
                await anyio.sleep(remaining)
                return
            with anyio.move_on_after(remaining):
                await wake.wait()
            wake.clear()
            if not self._waiters:
                return
            if self._new_ids:
                deadline = min(deadline, time.monotonic() + self.interval_initial)

    async def _tick(self, ids: list[str]) -> float | None:
        """Poll every id once. Returns None when all calls succeeded, else the wait to apply
        before retrying (the largest Retry-After seen, or 0)."""
        chunks = [ids[i : i + self.chunk_size] for i in range(0, len(ids), self.chunk_size)]
        limiter = anyio.CapacityLimiter(self.max_concurrency)
        transient: list[float] = []

        async def run(chunk: list[str]) -> None:
            async with limiter:
                await self._poll(chunk, transient)

        if len(chunks) == 1:
            await self._poll(chunks[0], transient)
        else:
            async with anyio.create_task_group() as tg:
                for chunk in chunks:
                    tg.start_soon(run, chunk)
        return max(transient) if transient else None

    async def _poll(self, ids: list[str], transient: list[float]) -> None:
        """One status call for ``ids``; bisects on NotFoundError. Never raises but cancellation."""
        ids = [i for i in ids if i in self._waiters]
        if not ids:
            return
        self.calls += 1
        try:
            statuses = await self._fetch(ids)
        except NotFoundError as exc:
            if len(ids) == 1:
                self._resolve(ids[0], None, exc)
                return
            mid = len(ids) // 2
            await self._poll(ids[:mid], transient)
            await self._poll(ids[mid:], transient)
            return
        except Exception as exc:
            if is_transient(exc):
                self._last_error = exc
                retry_after = getattr(exc, "retry_after", None)
                transient.append(float(retry_after) if retry_after else 0.0)
                logger.info("%s: status call failed (%s), will retry", self.name, exc)
                return
            logger.warning("%s: status call failed for %d jobs: %r", self.name, len(ids), exc)
            for job_id in ids:
                self._resolve(job_id, None, exc)
            return
        if not isinstance(statuses, Mapping):
            error = TypeError(
                f"{self.name}: fetch returned {type(statuses).__name__}, not a mapping"
            )
            for job_id in ids:
                self._resolve(job_id, None, error)
            return
        for job_id in ids:
            status = statuses.get(job_id)
            if status is None or job_id not in self._waiters:
                continue
            try:
                state = self._state_of(status)
                kind = self._classify(state)
            except Exception as exc:  # a broken classifier must not hang the waiters
                self._resolve(job_id, None, exc)
                continue
            self._last[job_id] = status
            changed = self._last_state.get(job_id) != state
            self._last_state[job_id] = state
            if kind != "running":
                self._resolve(job_id, status, None)
            if changed or kind != "running":
                self._progress(job_id, status)


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _seconds(value: Any, current: float, field: str) -> float:
    if value is None:
        return current
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError(f"{field} must be a positive number, got {value!r}", field=field)
    return float(value)


def _at_least(value: Any, low: Any) -> Any:
    """``max(value, low)`` when both are numbers; else ``value``, for configure() to refuse."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, low))
    return max(value, low) if numbers else value


def _count(value: Any, current: int, field: str) -> int:
    if value is None:
        return current
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{field} must be an integer >= 1, got {value!r}", field=field)
    return value
