"""Token-bucket rate limiter shared by concurrent callers (anyio-based)."""

from __future__ import annotations

import anyio

from ._exceptions import ValidationError


class TokenBucket:
    """Caps acquisitions at ``rate`` per second with bursts up to ``burst``.

    Raises:
        ValidationError: if ``rate`` or ``burst`` is not positive.
    """

    def __init__(self, rate: float, *, burst: float | None = None) -> None:
        if not rate > 0:
            raise ValidationError("rate must be positive", field="rate_limit")
        cap = float(burst) if burst is not None else max(1.0, float(rate) / 10.0)
        if not cap > 0:
            raise ValidationError("burst must be positive", field="burst")
        self.rate = float(rate)
        self.capacity = cap
        self._tokens = cap
        self._last: float | None = None
        self._lock: anyio.Lock | None = None

    async def acquire(self) -> None:
        """Wait until one token is available, then take it (cancellation-safe)."""
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            while True:
                now = anyio.current_time()
                if self._last is None:
                    self._last = now
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await anyio.sleep((1.0 - self._tokens) / self.rate)
