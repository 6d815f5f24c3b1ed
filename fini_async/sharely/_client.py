"""``SharelyClient``: the entry point of Sharely's knowledge API."""

from __future__ import annotations

from collections.abc import Mapping

import aiohttp

from .._base import _BaseClient
from .._config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MAX_RETRY_AFTER,
    DEFAULT_TIMEOUT,
    TimeoutTypes,
    env,
)
from .._exceptions import ValidationError
from .._ratelimit import RateLimiter
from .._validate import header_value
from ._auth import DEFAULT_TOKEN_LIFETIME, REFRESH_MARGIN, SharelyTokenAuth, check_role
from ._categories import CategoriesResource
from ._knowledge import KnowledgeResource
from ._roles import RolesResource
from ._spaces import SpacesResource
from ._taxonomies import TaxonomiesResource
from ._workspace import WorkspaceResource

__all__ = ["DEFAULT_SHARELY_BASE_URL", "SharelyClient"]

DEFAULT_SHARELY_BASE_URL = "https://api.sharely.ai"


class SharelyClient(_BaseClient):
    """An async client of Sharely's knowledge API.

    ::

        async with SharelyClient() as sharely:
            created = await sharely.knowledge.create_text("Our refund window is 30 days.")
            async for item in sharely.knowledge.list(type="STRING"):
                print(item.id, item.title)

    ``api_key``, ``workspace_id`` and ``organization_id`` fall back to ``SHARELY_API_KEY``,
    ``SHARELY_WORKSPACE_ID`` and ``SHARELY_ORGANIZATION_ID``; ``base_url`` to ``SHARELY_BASE_URL``,
    then ``https://api.sharely.ai``. A missing one raises :class:`ConfigurationError` at the first
    request. ``role_id`` / ``customer_role_id`` scope the access token to a role; passing both
    raises :class:`ValidationError` here.

    The API key is exchanged for an access token at the first request (one exchange however many
    requests start at once), the token is refreshed a minute before it expires and exchanged once
    more if a request comes back 401. Nothing is opened in the constructor: the aiohttp session is
    created inside the running loop on first use. Use ``async with`` or ``await client.aclose()``.
    ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` are honoured as by :class:`~fini_async.FiniClient`
    (``trust_env=False`` ignores them), and so is ``rate_limit`` (requests per second, or a
    :class:`~fini_async.RateLimiter` shared with other clients).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        workspace_id: str | None = None,
        organization_id: str | None = None,
        role_id: str | None = None,
        customer_role_id: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        default_headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        rate_limit: float | RateLimiter | None = None,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        token_refresh_margin: float = REFRESH_MARGIN,
        trust_env: bool = True,
    ) -> None:
        _check_arguments(
            api_key,
            workspace_id,
            organization_id,
            role_id,
            customer_role_id,
            token_lifetime,
            token_refresh_margin,
        )
        self._auth = SharelyTokenAuth(
            api_key,
            workspace_id=workspace_id,
            organization_id=organization_id,
            role_id=role_id,
            customer_role_id=customer_role_id,
            default_lifetime=token_lifetime,
            refresh_margin=token_refresh_margin,
        )
        default = env("SHARELY_BASE_URL") or DEFAULT_SHARELY_BASE_URL
        super().__init__(
            base_url=base_url if base_url is not None else default,
            auth=self._auth,
            timeout=timeout,
            max_retries=max_retries,
            max_connections=max_connections,
            default_headers=default_headers,
            session=session,
            max_retry_after=max_retry_after,
            rate_limit=rate_limit,
            trust_env=trust_env,
        )
        self.knowledge = KnowledgeResource(self, self._transport)
        self.workspace = WorkspaceResource(self, self._transport)
        self.roles = RolesResource(self, self._transport)
        self.categories = CategoriesResource(self, self._transport)
        self.taxonomies = TaxonomiesResource(self, self._transport)
        self.spaces = SpacesResource(self, self._transport)

    @property
    def workspace_id(self) -> str:
        """The workspace (argument or ``SHARELY_WORKSPACE_ID``); ConfigurationError if none."""
        return self._auth.workspace_id()

    @property
    def organization_id(self) -> str:
        return self._auth.organization_id()

    async def _aclose_resources(self) -> None:
        await self.knowledge.aclose()  # stops background polling


def _check_arguments(
    api_key: str | None,
    workspace_id: str | None,
    organization_id: str | None,
    role_id: str | None,
    customer_role_id: str | None,
    token_lifetime: float,
    token_refresh_margin: float,
) -> None:
    """The constructor's checks, before anything is built (ValidationError)."""
    check_role(role_id, customer_role_id)
    for value, field, zero_ok in (
        (token_lifetime, "token_lifetime", False),
        (token_refresh_margin, "token_refresh_margin", True),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value < 0
            or (value == 0 and not zero_ok)
        ):
            raise ValidationError(
                f"{field} must be a {'non-negative' if zero_ok else 'positive'} number of "
                f"seconds, got {value!r}",
                field=field,
            )
    for secret, name in (
        (api_key, "api_key"),
        (workspace_id, "workspace_id"),
        (organization_id, "organization_id"),
    ):
        if secret is not None:
            header_value(secret, name)
