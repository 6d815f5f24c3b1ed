"""Who sees a Sharely knowledge item and how it is found: its roles (RBAC: list, assign,
unassign) and search (semantic, or by title). :class:`KnowledgeResource` (``sharely.knowledge``)
inherits these methods; this base also holds the workspace paths every knowledge route uses."""

from __future__ import annotations

import builtins
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .._config import TimeoutTypes
from .._validate import int_in, non_empty_str, path_segment, str_list, uuid_str
from ..resources._base import Resource
from ._directory_models import Accepted, Role, RoleIdsBody, SearchBody, SearchResult
from ._envelopes import accepted, listing

if TYPE_CHECKING:
    from ._client import SharelyClient  # noqa: F401 (named in the base class)

__all__ = ["DEFAULT_SEARCH_LIMIT", "MAX_SEARCH_LIMIT", "KnowledgeAccess"]

DEFAULT_SEARCH_LIMIT = 10
MAX_SEARCH_LIMIT = 50

_roles = listing(Role, "roles")
_results = listing(SearchResult, "results")


class KnowledgeAccess(Resource["SharelyClient"]):
    """An item's roles and search (the base of :class:`KnowledgeResource`)."""

    __slots__ = ()

    def _ws(self) -> str:
        ws = self._client.workspace_id
        return urllib.parse.quote(ws, safe="")

    def _path(self, tail: str) -> str:
        return f"/v1/workspaces/{self._ws()}{tail}"

    # -- roles (RBAC) ------------------------------------------------------------------------

    async def list_roles(
        self,
        knowledge_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Role]:
        """The roles an item is assigned to (a top-level array on the wire).
        :class:`NotFoundError` for an unknown id."""
        kid = path_segment(knowledge_id, "knowledge_id")
        return await self._get(
            self._path(f"/knowledge/{kid}/role"),
            into=_roles,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def assign_roles(
        self,
        knowledge_id: str,
        role_ids: Iterable[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Accepted:
        """Assign an item to roles (at least one id). The assignment runs in the background:
        wait on ``job_id`` (when the answer names one) before relying on it. Needs RBAC on
        (``sharely.workspace.set_rbac_status(True)``) and the roles created; otherwise
        :class:`BadRequestError`; an unknown item or role raises :class:`NotFoundError`.
        Assigning twice leaves the same roles, so it is retried like a read."""
        return await self._roles_change("POST", knowledge_id, role_ids, timeout, extra_headers)

    async def unassign_roles(
        self,
        knowledge_id: str,
        role_ids: Iterable[str],
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Accepted:
        """Remove an item from roles (a DELETE with a JSON body); errors and background job as
        :meth:`assign_roles`."""
        return await self._roles_change("DELETE", knowledge_id, role_ids, timeout, extra_headers)

    async def _roles_change(
        self,
        method: str,
        knowledge_id: str,
        role_ids: Iterable[str],
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> Accepted:
        kid = path_segment(knowledge_id, "knowledge_id")
        body = RoleIdsBody(role_ids=str_list(role_ids, "role_ids", allow_empty=False))
        verb = self._post if method == "POST" else self._delete
        return await verb(
            self._path(f"/knowledge/{kid}/role"),
            into=accepted,
            body=body,
            idempotent=True,  # a set of roles: a repeat changes nothing more
            timeout=timeout,
            extra_headers=extra_headers,
        )

    # -- search ------------------------------------------------------------------------------

    async def search(
        self,
        query: str,
        *,
        limit: int = DEFAULT_SEARCH_LIMIT,
        audience_id: str | None = None,
        role_ids: Iterable[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[SearchResult]:
        """Semantic search: the ``limit`` (1..50) items most relevant to ``query``, best first,
        optionally only those visible to ``audience_id`` (a UUID) or to ``role_ids``.

        Bad arguments raise :class:`ValidationError` before sending. The route has no ``/v1``
        and wants the access token *and* the API key (``x-api-key``): both are sent. A search
        changes nothing, so it is retried like a read."""
        body = SearchBody(query=non_empty_str(query, "query"))
        return await self._search(
            "/knowledge/search", body, limit, audience_id, role_ids, timeout, extra_headers
        )

    async def search_title(
        self,
        title: str,
        *,
        limit: int = DEFAULT_SEARCH_LIMIT,
        audience_id: str | None = None,
        role_ids: Iterable[str] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[SearchResult]:
        """Items whose title contains ``title`` (a partial match); otherwise as :meth:`search`."""
        body = SearchBody(title=non_empty_str(title, "title"))
        return await self._search(
            "/knowledge/search-title", body, limit, audience_id, role_ids, timeout, extra_headers
        )

    async def _search(
        self,
        tail: str,
        body: SearchBody,
        limit: int,
        audience_id: str | None,
        role_ids: Iterable[str] | None,
        timeout: TimeoutTypes,
        extra_headers: Mapping[str, str] | None,
    ) -> builtins.list[SearchResult]:
        body.limit = int_in(limit, 1, MAX_SEARCH_LIMIT, "limit")
        if audience_id is not None:
            body.audience_id = uuid_str(audience_id, "audience_id")
        if role_ids is not None:
            body.role_ids = str_list(role_ids, "role_ids")
        # this route checks the API key besides the token (the key never reaches a log line)
        headers = {"x-api-key": self._client._auth.api_key(), **(extra_headers or {})}
        return await self._post(
            f"/workspaces/{self._ws()}{tail}",
            into=_results,
            body=body,
            idempotent=True,
            timeout=timeout,
            extra_headers=headers,
        )
