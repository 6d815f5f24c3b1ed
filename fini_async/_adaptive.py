"""How a batch adapts to the server: the control its workers share. A concurrency limit and,
once the server has pushed back, a request rate, both AIMD (halved on a 429, grown again as calls
succeed); a pause for the server's Retry-After; and the caller's rate cap. It is the transport's
attempt hook in every worker of a batch (see ``_batch.py``), so retries are paced and observed
too.
"""

from __future__ import annotations

import collections
import time
from contextvars import ContextVar

import anyio

from ._ratelimit import RateLimiter, TokenBucket
from ._retry import MAX_RETRY_AFTER

__all__ = ["AdaptiveControl"]

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


class AdaptiveControl:
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
