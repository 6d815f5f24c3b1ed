"""The one retry decision: which failures are worth another attempt (:func:`is_transient`), how
long to wait between attempts (:func:`backoff_schedule`, on ``backoff``'s generators), and how long
a server's Retry-After may hold a caller back (:data:`MAX_RETRY_AFTER`). The transport, the job
poller and the batch all read them here."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Generator, Mapping
from datetime import timezone

import backoff

from ._exceptions import APIConnectionError, APIStatusError, APITimeoutError

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRY_STATUSES_SAFE",
    "RETRY_STATUSES_UNSAFE",
    "backoff_schedule",
    "is_transient",
    "is_transient_status",
    "parse_retry_after",
]

#: Statuses worth another attempt of a request that is safe to repeat (425: "too early, repeat
#: it later").
RETRY_STATUSES_SAFE = frozenset({408, 425, 429, 500, 502, 503, 504})
#: For requests that create or queue something: only statuses that say "not processed".
RETRY_STATUSES_UNSAFE = frozenset({429, 503})
#: The longest a server's Retry-After may hold a caller back, in seconds: a call asked to wait
#: longer fails at once (``max_retry_after``'s default), a poller or a batch waits this long.
MAX_RETRY_AFTER = 60.0
#: Timeouts that expire before anything was sent, so any request may be sent again.
_UNSENT_TIMEOUTS = frozenset({"connect", "pool"})


def is_transient_status(status: int, *, idempotent: bool = True) -> bool:
    """Whether an HTTP error status is worth another attempt (later)."""
    return status in (RETRY_STATUSES_SAFE if idempotent else RETRY_STATUSES_UNSAFE)


def is_transient(exc: BaseException, *, idempotent: bool = True) -> bool:
    """Whether a failed request is worth another attempt (later): a retryable status, a timeout
    or a connection failure. For a request that is not safe to repeat (``idempotent=False``),
    only failures that say the server did not process it: 429, 503 and the connect/pool
    timeouts."""
    if isinstance(exc, APIStatusError):
        return is_transient_status(exc.status_code, idempotent=idempotent)
    if isinstance(exc, APITimeoutError) and exc.kind in _UNSENT_TIMEOUTS:
        return True
    return idempotent and isinstance(exc, APIConnectionError)


def parse_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks us to wait: ``retry-after-ms``, or ``Retry-After`` as seconds or an
    HTTP date. None when absent or unreadable; never negative."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - time.time())


def backoff_schedule(
    initial: float, cap: float, jitter: Callable[[float], float] = backoff.full_jitter
) -> Generator[float, None, None]:
    """Exponential delays from ``initial`` doubling up to ``cap``, each passed through ``jitter``
    (full jitter by default: a random value between 0 and the step)."""
    gen = backoff.expo(base=2, factor=initial, max_value=cap)
    next(gen)  # backoff's generators are primed with one send(None)
    for value in gen:
        yield jitter(value)
