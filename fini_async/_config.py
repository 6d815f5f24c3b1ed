"""Client configuration: timeouts, defaults, environment variables, the User-Agent."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, replace
from typing import Union

import aiohttp

from ._exceptions import ValidationError
from ._retry import MAX_RETRY_AFTER
from ._version import __version__

__all__ = ["DEFAULT_TIMEOUT", "Timeout", "TimeoutTypes"]

DEFAULT_FINI_BASE_URL = "https://api-prod.usefini.com"
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_CONNECTIONS = 100
#: A server asking to wait longer than this (Retry-After) gets a RateLimitError at once.
DEFAULT_MAX_RETRY_AFTER = MAX_RETRY_AFTER
#: First backoff step and cap of the exponential retry schedule (seconds, before full jitter).
DEFAULT_BACKOFF_INITIAL = 0.5
DEFAULT_BACKOFF_MAX = 8.0

USER_AGENT = (
    f"fini-async/{__version__} (python {platform.python_version()}; aiohttp {aiohttp.__version__})"
)


@dataclass(frozen=True)
class Timeout:
    """Timeouts in seconds; None means no limit.

    - ``connect``: establishing a TCP/TLS connection.
    - ``pool``: waiting for a free connection when ``max_connections`` are all in use.
    - ``read``: waiting for the response (between two reads of a plain response; for a stream,
      the whole wait for its headers).
    - ``total``: one whole attempt of a plain request (retries each get their own); for a
      stream, the wait for its headers (its body is bounded by ``stream_idle`` instead).
    - ``stream_idle``: the longest gap between two chunks of a stream.

    Pass one on the client and override it on any call with ``timeout=``. A bare number on a call
    means "at most this long" for every phase.
    """

    connect: float | None = 10.0
    read: float | None = 120.0
    total: float | None = None
    pool: float | None = 30.0
    stream_idle: float | None = 60.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "total", "pool", "stream_idle"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, (int, float)) or value <= 0):
                raise ValidationError(
                    f"Timeout.{name} must be a positive number of seconds or None, got {value!r}",
                    field=name,
                )

    def with_(self, **changes: float | None) -> Timeout:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_aiohttp(self, *, stream: bool = False) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=None if stream else self.total,
            connect=None,  # the pool wait is ours (Timeout.pool); the socket connect is below
            sock_connect=self.connect,
            sock_read=self.read,
        )


TimeoutTypes = Union[Timeout, float, int, None]  # noqa: UP007 (a runtime alias on 3.10)

DEFAULT_TIMEOUT = Timeout()


def coerce_timeout(value: TimeoutTypes, default: Timeout) -> Timeout:
    if value is None:
        return default
    if isinstance(value, Timeout):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValidationError(
            f"timeout must be a Timeout or a positive number of seconds, got {value!r}",
            field="timeout",
        )
    v = float(value)
    return Timeout(connect=v, read=v, total=v, pool=v, stream_idle=v)


def env(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() or None if value is not None else None
