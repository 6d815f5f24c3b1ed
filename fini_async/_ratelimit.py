"""Rate limiters: the :class:`RateLimiter` protocol and the in-process :class:`TokenBucket`
(anyio-based). The Redis-backed one, shared by processes, lives in ``_redis_ratelimit``."""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from typing import Protocol, runtime_checkable

import anyio

from ._exceptions import FiniError, ValidationError
from ._retry import MAX_RETRY_AFTER

__all__ = [
    "RateLimiter",
    "RateLimiterUnavailableError",
    "TokenBucket",
    "as_rate_limiter",
    "check_rate",
]

#: AIMD of an adaptive limiter's rate (the same rules as a batch's own adaptive rate, see
#: ``_batch``): a 429 for a request admitted after the last decrease multiplies the rate by
#: ``RATE_DECREASE``; each success adds ``RATE_GROWTH`` (``RATE_GROWTH_QUIET`` once no 429 was
#: seen for ``QUIET`` seconds) times ``min(rate, 1)``, so the rate grows by that fraction of itself
#: per second, up to the configured rate. A Retry-After pauses every user of the limiter.
RATE_DECREASE = 0.9
RATE_GROWTH = 0.02
RATE_GROWTH_QUIET = 0.25
QUIET = 2.0
#: The longest Retry-After pause a limiter honours (a server asking for more is misbehaving).
MAX_PAUSE = MAX_RETRY_AFTER


class RateLimiterUnavailableError(FiniError):
    """The shared rate limiter's store (Redis) could not be reached, so the request was not sent
    (it is safe to try again). Raised by :class:`RedisRateLimiter` with
    ``on_unavailable="raise"`` (its default)."""


@runtime_checkable
class RateLimiter(Protocol):
    """Paces requests for everything sharing it, and learns from the server's answers.

    ``FiniClient(rate_limit=...)`` and ``bots.ask_many(rate_limit=...)`` accept one. The client
    (or batch) calls :meth:`acquire` before every attempt of every request (retries included),
    then :meth:`on_rate_limited` for a 429 and :meth:`on_success` for a 2xx/3xx, in the same task.
    An ``adaptive`` limiter uses those to pause on Retry-After and adapt its rate (AIMD); a batch
    given one leaves the rate to it (it still adapts its own concurrency). Implementations:
    :class:`TokenBucket` (one process) and :class:`RedisRateLimiter` (any number of processes).
    """

    @property
    def rate(self) -> float:
        """The current rate, requests per second."""

    @property
    def adaptive(self) -> bool:
        """Whether the limiter pauses and adapts its rate on 429s by itself."""

    async def acquire(self) -> None:
        """Wait until one more request may go out."""

    def on_rate_limited(self, retry_after: float | None) -> None:
        """The request admitted last in this task was answered 429 (``retry_after``: seconds the
        server asked to wait, if it said)."""

    def on_success(self) -> None:
        """The request admitted last in this task succeeded."""


def check_rate(rate: object, field: str = "rate_limit") -> float | None:
    """``rate`` as a positive finite float (None stays None); a ValidationError otherwise."""
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise ValidationError(
            f"{field} must be a number of requests per second, got {type(rate).__name__}",
            field=field,
        )
    value = float(rate)
    if not (value > 0 and math.isfinite(value)):
        raise ValidationError(f"{field} must be positive and finite, got {rate!r}", field=field)
    return value


def as_rate_limiter(rate: object, field: str = "rate_limit") -> RateLimiter | None:
    """A ``rate_limit`` argument as a limiter: a number becomes a fixed :class:`TokenBucket`, a
    :class:`RateLimiter` is used as is, None stays None; a ValidationError otherwise."""
    if rate is None or isinstance(rate, RateLimiter):
        return rate
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        value = check_rate(rate, field)
        assert value is not None
        return TokenBucket(value)
    raise ValidationError(
        f"{field} must be a number of requests per second or a RateLimiter, "
        f"got {type(rate).__name__}",
        field=field,
    )


class TokenBucket:
    """Caps acquisitions at ``rate`` per second with bursts up to ``burst`` (default: a tenth of a
    second's worth, at least one), within one process. One bucket may be shared by any number of
    tasks (and clients and batches); waiters are served in arrival order. ``rate`` can be changed
    while in use (:meth:`set_rate`).

    With ``adaptive=True`` it is a :class:`RateLimiter` that reacts to the server: a 429 with
    Retry-After pauses every task using it, and its rate adapts (AIMD) below ``rate``, which
    stays the ceiling. The default (``adaptive=False``) is a fixed cap: it ignores what the server
    says (what ``rate_limit=<number>`` makes).

    Raises:
        ValidationError: if ``rate`` or ``burst`` is not positive.
    """

    def __init__(self, rate: float, *, burst: float | None = None, adaptive: bool = False) -> None:
        value = check_rate(rate)
        assert value is not None
        if burst is not None:
            check_rate(burst, "burst")
        self._burst = None if burst is None else float(burst)
        self.rate = value
        self.ceiling = value
        self.capacity = self._capacity_for(value)
        self._tokens = self.capacity
        self._last: float | None = None
        self._lock: anyio.Lock | None = None
        self._adaptive = bool(adaptive)
        self._paused_until = 0.0
        self._last_decrease = -math.inf
        self._last_429 = -math.inf
        # When the request admitted last in a task went out (for "one decrease per round trip").
        self._admitted: ContextVar[float] | None = (
            ContextVar(f"fini_async_bucket_{id(self)}", default=-math.inf) if adaptive else None
        )

    def __repr__(self) -> str:
        adaptive = ", adaptive=True" if self._adaptive else ""
        return f"TokenBucket(rate={self.rate:g}, burst={self.capacity:g}{adaptive})"

    @property
    def adaptive(self) -> bool:
        return self._adaptive

    def _capacity_for(self, rate: float) -> float:
        return self._burst if self._burst is not None else max(1.0, rate / 10.0)

    def _refill(self, now: float) -> None:
        if self._last is None:
            self._last = now
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def set_rate(self, rate: float) -> None:
        """Change the rate from now on (tokens already earned are kept, up to the new burst)."""
        value = check_rate(rate)
        assert value is not None
        if self._last is not None:
            self._refill(anyio.current_time())
        self.rate = value
        self.capacity = self._capacity_for(value)
        self._tokens = min(self._tokens, self.capacity)

    async def acquire(self) -> None:
        """Wait until one token is available, then take it (cancellation-safe: a cancelled
        waiter takes nothing)."""
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            while True:
                pause = self._paused_until - time.monotonic()
                if pause > 0:
                    await anyio.sleep(pause)
                    continue
                self._refill(anyio.current_time())
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    if self._admitted is not None:
                        self._admitted.set(time.monotonic())
                    return
                await anyio.sleep((1.0 - self._tokens) / self.rate)

    def on_rate_limited(self, retry_after: float | None) -> None:
        """A 429: pause everyone for ``retry_after`` and lower the rate (adaptive only)."""
        if self._admitted is None:
            return
        now = time.monotonic()
        self._last_429 = now
        if retry_after:
            self._paused_until = max(self._paused_until, now + min(retry_after, MAX_PAUSE))
        if self._admitted.get() >= self._last_decrease:  # news: sent at the current rate
            self._last_decrease = now
            self.set_rate(max(min(1.0, self.ceiling), self.rate * RATE_DECREASE))

    def on_success(self) -> None:
        """A success: raise the rate back towards the ceiling (adaptive only)."""
        if self._admitted is None or self.rate >= self.ceiling:
            return
        quiet = time.monotonic() - self._last_429 > QUIET
        growth = RATE_GROWTH_QUIET if quiet else RATE_GROWTH
        self.set_rate(min(self.ceiling, self.rate + growth * min(self.rate, 1.0)))
