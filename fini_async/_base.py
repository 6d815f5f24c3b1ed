"""The shells every client shares: ``AsyncCloseable`` (``async with`` -> ``aclose``) and
``_BaseClient`` (the transport and its settings, ``closed``, ``aclose``, a repr without secrets).

``AsyncCloseable`` is a local class rather than anyio's ``AsyncResource``: importing
``anyio.abc`` would add to the package's import time for three lines of code.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TypeVar

import aiohttp

from ._config import DEFAULT_TIMEOUT, Timeout, TimeoutTypes, coerce_timeout
from ._ratelimit import RateLimiter, as_rate_limiter
from ._transport import Auth, Transport
from ._validate import base_url as check_base_url

__all__ = ["AsyncCloseable"]

_CloseableT = TypeVar("_CloseableT", bound="AsyncCloseable")


class AsyncCloseable:
    """Something to close once: ``async with thing:`` closes it however the block ends."""

    __slots__ = ()

    async def aclose(self) -> None:
        """Release what this object holds. Idempotent."""
        raise NotImplementedError

    async def __aenter__(self: _CloseableT) -> _CloseableT:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class _BaseClient(AsyncCloseable):
    """What ``FiniClient`` and ``SharelyClient`` share: one :class:`Transport` built from the
    common settings (validated here, before any request), its ``max_retries``, ``rate_limit`` and
    ``closed``, ``aclose`` and a repr that names the base URL only (never a key or token).

    A subclass builds its resources after ``super().__init__`` and stops their background work
    in :meth:`_aclose_resources`."""

    # Not slotted: resources and the auth are set by the subclasses, and users may add attributes.

    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth,
        timeout: TimeoutTypes,
        max_retries: int,
        max_connections: int,
        default_headers: Mapping[str, str] | None,
        session: aiohttp.ClientSession | None,
        max_retry_after: float,
        rate_limit: float | RateLimiter | None,
        trust_env: bool,
    ) -> None:
        self.base_url = check_base_url(base_url)
        self.timeout: Timeout = coerce_timeout(timeout, DEFAULT_TIMEOUT)
        self._transport = Transport(
            base_url=self.base_url,
            auth=auth,
            timeout=self.timeout,
            max_retries=max_retries,
            max_connections=max_connections,
            default_headers=default_headers,
            session=session,
            max_retry_after=max_retry_after,
            rate_limit=as_rate_limiter(rate_limit),
            trust_env=trust_env,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def rate_limit(self) -> float | None:
        """The client's cap on requests per second now (None: no cap)."""
        bucket = self._transport.rate_limiter
        return bucket.rate if bucket is not None else None

    @property
    def max_retries(self) -> int:
        return self._transport.max_retries

    @property
    def closed(self) -> bool:
        return self._transport.closed

    async def _aclose_resources(self) -> None:
        """Stop the resources' background work (pending job waits); before the transport."""

    async def aclose(self) -> None:
        """Close the client's connections. Idempotent."""
        await self._aclose_resources()
        await self._transport.aclose()
