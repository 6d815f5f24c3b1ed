"""What a transport is given to authenticate and to pace attempts: the :class:`Auth` protocol,
and the :class:`AttemptHook` a context (a batch's workers) installs through :data:`attempt_hook`."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._transport import Transport

__all__ = ["AttemptHook", "Auth", "attempt_hook"]


class Auth(Protocol):
    """How a transport authenticates. Fini uses a static bearer key; Sharely exchanges its key for
    short-lived tokens."""

    def static_headers(self) -> Mapping[str, str] | None:
        """Headers that never change (None if the auth is dynamic). May raise ConfigurationError."""

    async def headers(self, transport: Transport) -> Mapping[str, str]:
        """Headers for one attempt (dynamic auth only)."""

    async def on_unauthorized(self, transport: Transport, sent: Mapping[str, str]) -> bool:
        """A 401 came back for ``sent``: refresh and return True to try once more."""


class AttemptHook(Protocol):
    """Paces and observes every attempt made in a context (see :data:`attempt_hook`)."""

    async def before_attempt(self) -> None:
        """Wait until this attempt may go out (a rate limit, a Retry-After pause)."""

    def after_attempt(self, status: int | None, retry_after: float | None) -> None:
        """An attempt ended with ``status`` (None: no response) and the server's Retry-After."""


#: Set in a task's context (a batch does, for its workers) to pace and observe each attempt of
#: each request made from that context, retries included. The transport reads it once per request.
attempt_hook: ContextVar[AttemptHook | None] = ContextVar("fini_async_attempt_hook", default=None)
