"""Token-bucket rate limiter shared by concurrent callers (anyio-based)."""

from __future__ import annotations

import math

import anyio

from ._exceptions import ValidationError

__all__ = ["TokenBucket", "check_rate"]


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


class TokenBucket:
    """Caps acquisitions at ``rate`` per second with bursts up to ``burst`` (default: a tenth of a
    second's worth, at least one). One bucket may be shared by any number of tasks; waiters are
    served in arrival order. ``rate`` can be changed while in use (:meth:`set_rate`).

    Raises:
        ValidationError: if ``rate`` or ``burst`` is not positive.
    """

    def __init__(self, rate: float, *, burst: float | None = None) -> None:
        value = check_rate(rate)
        assert value is not None
        if burst is not None:
            check_rate(burst, "burst")
        self._burst = None if burst is None else float(burst)
        self.rate = value
        self.capacity = self._capacity_for(value)
        self._tokens = self.capacity
        self._last: float | None = None
        self._lock: anyio.Lock | None = None

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.capacity:g})"

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
                self._refill(anyio.current_time())
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await anyio.sleep((1.0 - self._tokens) / self.rate)
