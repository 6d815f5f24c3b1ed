"""What waiting on background jobs is made of: the job states and the classifier that maps a
route's raw status strings to them, one waiter per interest in a job, the wait for one job (a
bare future and a timer each, so that thousands cost little) and the iterator that yields many
jobs as they finish. The engine that resolves the waiters, polling in coalesced batches, is
:class:`~fini_async.JobPoller` in ``_poller.py``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

import anyio

from ._exceptions import JobError, JobTimeoutError, ValidationError
from ._logging import logger

if TYPE_CHECKING:
    from ._poller import JobPoller

__all__ = ["JobIterator", "JobState", "make_classifier", "wait_one"]

S = TypeVar("S")
T = TypeVar("T")

JobState = Literal["running", "completed", "failed"]


def make_classifier(
    *,
    completed: Collection[str],
    failed: Collection[str],
    running: Collection[str] = (),
    name: str = "jobs",
) -> Callable[[str], JobState]:
    """A ``classify`` function: values in ``completed``/``failed`` (compared case-insensitively)
    are terminal; anything else means still running. A value in none of the three sets is logged
    once (per classifier and value) as a warning, then treated as running."""
    done = frozenset(s.upper() for s in completed)
    bad = frozenset(s.upper() for s in failed)
    known = frozenset(s.upper() for s in running) | done | bad
    seen: set[str] = set()

    def classify(state: str) -> JobState:
        key = state.upper() if isinstance(state, str) else str(state)
        if key in done:
            return "completed"
        if key in bad:
            return "failed"
        if key not in known and key not in seen:
            if len(seen) < 1000:
                seen.add(key)
            logger.warning("%s: unknown job status %r, treated as still running", name, state)
        return "running"

    return classify


class _Waiter(Generic[S]):
    """One interest in one job id. ``notify`` is called (synchronously) once it is resolved."""

    __slots__ = ("done", "error", "job_id", "notify", "result")

    def __init__(self, job_id: str, notify: Callable[[_Waiter[S]], None]) -> None:
        self.job_id = job_id
        self.notify = notify
        self.done = False
        self.result: S | None = None
        self.error: BaseException | None = None


async def wait_one(
    poller: JobPoller[S], job_id: str, *, timeout: float | None, raise_on_failure: bool
) -> S:
    """:meth:`JobPoller.wait`: wait for one job with a bare future and a timer."""
    job_id = _check_id(job_id)
    delta = _deadline_delta(timeout)
    # A bare future and one timer per waiter: thousands of waiters are the point, and an
    # anyio Event plus a cancel scope cost ~4x as much CPU each. Cancelling the waiting
    # task (anyio scopes included) cancels the future and unregisters the waiter.
    loop = asyncio.get_running_loop()
    future: asyncio.Future[None] = loop.create_future()
    waiter: _Waiter[S] = _Waiter(job_id, lambda _w: _wake(future))
    poller._register(waiter)
    timer = loop.call_later(delta, _wake, future) if delta is not None else None
    last: S | None = None
    try:
        await future
    finally:
        if timer is not None:
            timer.cancel()
        if not waiter.done:
            last = poller.last_status(job_id)
            poller._unregister(waiter)
    if not waiter.done:
        raise JobTimeoutError(
            f"{poller.name}: job {job_id} did not finish within {timeout} s",
            job=last,
        ) from poller._last_error
    return poller._outcome(waiter, raise_on_failure)


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class JobIterator(Generic[T]):
    """``async for job in ...as_completed(...)``: each job as it finishes, in the order they
    finish (Fini's :class:`~fini_async.KnowledgeJobIterator` yields handles, Sharely's yields
    statuses). An async context manager too: leaving it, or :meth:`aclose`, stops waiting on
    the jobs not yielded yet.

    ``timeout`` bounds the whole iteration from the first ``__anext__``. Built by
    ``as_completed``: the ids are checked (ValidationError) when it is made."""

    def __init__(
        self,
        poller: JobPoller[Any],
        job_ids: Iterable[str],
        *,
        timeout: float | None,
        raise_on_failure: bool,
    ) -> None:
        ids = [_check_id(j) for j in job_ids]
        self._poller = poller
        self._ids = list(dict.fromkeys(ids))
        self._timeout = _deadline_delta(timeout)
        self._raise = raise_on_failure
        self._waiters: list[_Waiter[Any]] = []
        self._ready: list[_Waiter[Any]] = []
        self._out: list[T] = []
        self._event: anyio.Event | None = None
        self._deadline: float | None = None
        self._started = False
        self._closed = False
        self._remaining = len(self._ids)

    def __aiter__(self) -> JobIterator[T]:
        return self

    # -- what a job's final status becomes (overridden by iterators of handles) ---------------

    def _deliver(self, status: Any) -> Sequence[T]:
        """What to yield for a finished job's status: the status itself."""
        return (status,)

    def _on_job_error(self, exc: JobError) -> None:
        """A job failed (``raise_on_failure``); called before the error is raised."""

    # -- iteration -----------------------------------------------------------------------------

    def _notify(self, waiter: _Waiter[Any]) -> None:
        self._ready.append(waiter)
        if self._event is not None:
            self._event.set()

    def _start(self) -> None:
        self._started = True
        self._deadline = math.inf if self._timeout is None else time.monotonic() + self._timeout
        for job_id in self._ids:
            waiter: _Waiter[Any] = _Waiter(job_id, self._notify)
            self._waiters.append(waiter)
            self._poller._register(waiter)

    async def __anext__(self) -> T:
        if self._out:
            return self._out.pop(0)
        if self._closed:
            raise StopAsyncIteration
        if not self._started:
            self._start()
        try:
            while not self._out:
                self._out.extend(self._deliver(await self._next_status()))
        except BaseException:
            self.close()
            raise
        return self._out.pop(0)

    async def _next_status(self) -> Any:
        while not self._ready:
            if self._remaining <= 0:
                raise StopAsyncIteration
            assert self._deadline is not None
            remaining = self._deadline - time.monotonic()
            if remaining <= 0:
                self._timed_out()
            self._event = anyio.Event()
            with anyio.move_on_after(remaining):
                await self._event.wait()
        waiter = self._ready.pop(0)
        self._remaining -= 1
        try:
            return self._poller._outcome(waiter, self._raise)
        except JobError as exc:
            self._on_job_error(exc)
            raise

    def _timed_out(self) -> None:
        unfinished = [w for w in self._waiters if not w.done]
        last = [self._poller.last_status(w.job_id) for w in unfinished]
        count = len(unfinished)
        raise JobTimeoutError(
            f"{self._poller.name}: {count} job(s) did not finish within {self._timeout} s",
            job=last,
        ) from self._poller._last_error

    def close(self) -> None:
        """Stop waiting on the jobs not yielded yet. Idempotent."""
        if self._closed:
            return
        self._closed = True
        for waiter in self._waiters:
            if not waiter.done:
                self._poller._unregister(waiter)
        self._ready.clear()

    async def aclose(self) -> None:
        """Stop waiting on the jobs not yielded yet."""
        self.close()

    async def __aenter__(self) -> JobIterator[T]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        # getattr: __init__ may have refused its arguments before setting anything
        if getattr(self, "_started", False) and not self._closed:
            try:
                self.close()
            except Exception:  # pragma: no cover - best effort at collection time
                pass


def _check_id(job_id: Any) -> str:
    if not isinstance(job_id, str) or not job_id.strip():
        raise ValidationError(f"job ids must be non-empty strings, got {job_id!r}", field="job_id")
    return job_id


def _deadline_delta(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
        raise ValidationError(
            f"timeout must be None or a number >= 0, got {timeout!r}", field="timeout"
        )
    return float(timeout)
