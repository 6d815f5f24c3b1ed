"""``FiniClient``: the entry point of the Fini API."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from ._base import _BaseClient
from ._config import (
    DEFAULT_FINI_BASE_URL,
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
    TimeoutTypes,
    env,
)
from ._exceptions import ConfigurationError
from ._ratelimit import RateLimiter
from ._transport import Transport
from ._validate import header_value
from .resources.agents import AgentsResource
from .resources.articles import ArticlesResource
from .resources.bots import BotsResource
from .resources.conversations import ConversationsResource
from .resources.folders import FoldersResource
from .resources.knowledge import KnowledgeResource
from .resources.knowledge_items import KnowledgeItemsResource
from .resources.rules import RulesResource
from .resources.sources import SourcesResource
from .resources.tags import TagsResource

__all__ = ["FiniClient"]


class BearerAuth:
    """A static ``Authorization: Bearer`` key, resolved at the first request."""

    __slots__ = ("_env_name", "_key", "_service")

    def __init__(self, key: str | None, env_name: str, service: str) -> None:
        self._key = key
        self._env_name = env_name
        self._service = service

    def __repr__(self) -> str:
        return "BearerAuth(<hidden>)"

    def static_headers(self) -> Mapping[str, str]:
        key = self._key or env(self._env_name)
        if not key:
            raise ConfigurationError(
                f"no {self._service} API key: pass api_key=... or set the {self._env_name} "
                "environment variable"
            )
        header_value(key, "api_key" if self._key else self._env_name)
        return {"Authorization": f"Bearer {key}"}

    async def headers(self, transport: Transport) -> Mapping[str, str]:
        return self.static_headers()

    async def on_unauthorized(self, transport: Transport, sent: Mapping[str, str]) -> bool:
        return False


class FiniClient(_BaseClient):
    """An async client of the Fini API.

    ``api_key`` falls back to ``FINI_API_KEY`` and ``base_url`` to ``FINI_BASE_URL``, then to
    ``https://api-prod.usefini.com``. Nothing is opened in the constructor: the aiohttp session is
    created inside the running event loop on first use, and the client is bound to that loop.
    Use ``async with FiniClient() as client:`` or call ``await client.aclose()``. A ``session``
    you pass in is used as is and never closed by the client.

    ``rate_limit`` caps the client's requests per second (every attempt of every call, shared by
    all the tasks using this client): a number (a token bucket), or a :class:`RateLimiter` such
    as an adaptive ``TokenBucket`` shared with other clients or a :class:`RedisRateLimiter`
    shared with other processes.

    Like curl and the OpenAI/Anthropic SDKs, the client goes through the proxy that
    ``HTTPS_PROXY``/``HTTP_PROXY`` (or ``ALL_PROXY``) name unless ``NO_PROXY`` covers the API's
    host; they are read when the client first connects. ``trust_env=False`` ignores them. Neither
    applies to a ``session`` you pass in (its own settings do).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        default_headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        rate_limit: float | RateLimiter | None = None,
        trust_env: bool = True,
    ) -> None:
        if api_key is not None:
            header_value(api_key, "api_key")
        default = env("FINI_BASE_URL") or DEFAULT_FINI_BASE_URL
        super().__init__(
            base_url=base_url if base_url is not None else default,
            auth=BearerAuth(api_key, "FINI_API_KEY", "Fini"),
            timeout=timeout,
            max_retries=max_retries,
            max_connections=max_connections,
            default_headers=default_headers,
            session=session,
            max_retry_after=max_retry_after,
            rate_limit=rate_limit,
            trust_env=trust_env,
        )
        self.bots = BotsResource(self, self._transport)
        self.conversations = ConversationsResource(self, self._transport)
        self.knowledge = KnowledgeResource(self, self._transport)
        self.articles = ArticlesResource(self, self._transport)
        self.folders = FoldersResource(self, self._transport)
        self.rules = RulesResource(self, self._transport)
        self.tags = TagsResource(self, self._transport)
        self.sources = SourcesResource(self, self._transport)
        self.agents = AgentsResource(self, self._transport)
        self.knowledge_items = KnowledgeItemsResource(self, self._transport)

    async def _aclose_resources(self) -> None:
        await self.knowledge.aclose()  # pending job waits raise ClientStateError
        await self.sources.aclose()
