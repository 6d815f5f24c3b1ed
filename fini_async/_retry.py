"""Retry schedules and Retry-After parsing. The schedule itself comes from ``backoff``."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Generator, Mapping
from datetime import timezone

import backoff

# Statuses worth another attempt, by whether the server may have processed the request.
RETRY_STATUSES_SAFE = frozenset({408, 429, 500, 502, 503, 504})
#: For requests that create or queue something: only statuses that say "not processed".
RETRY_STATUSES_UNSAFE = frozenset({429, 503})


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


def backoff_delays(initial: float, cap: float) -> Generator[float, None, None]:
    """Exponential delays from ``initial`` doubling up to ``cap``, each with full jitter."""
    gen = backoff.expo(base=2, factor=initial, max_value=cap)
    next(gen)  # backoff's generators are primed with one send(None)
    for value in gen:
        yield backoff.full_jitter(value)
