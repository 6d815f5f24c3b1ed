"""One call's request as the transport carries it through its attempts, and the internal record
of a failed attempt."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import aiohttp
import yarl

from ._config import Timeout, TimeoutTypes
from ._exceptions import APIError

__all__ = ["_Failed", "_RequestOptions"]


class _RequestOptions:
    """One call's request, as given to ``request``/``stream``, and what the transport resolves
    from it once for all its attempts."""

    __slots__ = (
        "content",
        "content_factory",
        "content_type",
        "extra_headers",
        "headers",
        "idempotent",
        "max_retries",
        "method",
        "params",
        "path",
        "session",
        "stream",
        "surl",
        "timeout",
        "to",
        "url",
    )

    def __init__(
        self,
        method: str,
        path: str,
        *,
        content: Any,
        content_type: str | None,
        content_factory: Callable[[], Any] | None,
        params: Mapping[str, str] | None,
        extra_headers: Mapping[str, str] | None,
        timeout: TimeoutTypes,
        max_retries: int | None,
        idempotent: bool,
        stream: bool,
    ) -> None:
        self.method = method
        self.path = path
        self.content = content
        self.content_type = content_type
        self.content_factory = content_factory
        self.params = params
        self.extra_headers = extra_headers
        self.timeout = timeout
        self.max_retries = max_retries
        self.idempotent = idempotent
        self.stream = stream
        # Resolved once per call by the transport, shared by its attempts:
        self.session: aiohttp.ClientSession
        self.to: Timeout  # ``timeout`` with the client's default applied
        self.url: yarl.URL
        self.surl: str  # ``url`` as text, for errors and logs
        self.headers: Mapping[str, str]  # without the per-attempt auth


class _Failed(Exception):
    """Internal: one attempt failed with ``error``; ``delay`` is the server's Retry-After."""

    def __init__(self, error: APIError, delay: float | None = None) -> None:
        self.error = error
        self.delay = delay
