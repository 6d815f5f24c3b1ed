"""``sharely.workspace``: the workspace itself: read it, switch role-based access control
(RBAC) on or off, and read its background jobs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from ._envelopes import one
from ._models import BackgroundJob, Workspace
from ._routes import SharelyResource

__all__ = ["WorkspaceResource"]

RBAC_STATUSES = ("ACTIVE", "INACTIVE")


class RbacBody(msgspec.Struct, rename="camel"):
    """The body of ``PUT rbac-status``."""

    rbac_status: str


_workspace = one(Workspace, "workspace")


class WorkspaceResource(SharelyResource):
    """The client's workspace."""

    __slots__ = ()

    async def get(
        self,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Workspace:
        """The workspace: name, organization, ``rbac_status`` and settings. An unknown
        workspace raises :class:`NotFoundError`, one the token may not read
        :class:`PermissionDeniedError`."""
        return await self._get(
            self._path(""), into=_workspace, timeout=timeout, extra_headers=extra_headers
        )

    async def set_rbac_status(
        self,
        status: str | bool,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Workspace:
        """Switch RBAC on (``"ACTIVE"`` or True) or off (``"INACTIVE"`` or False); anything else
        raises :class:`ValidationError` before sending. Knowledge role assignment needs RBAC on.
        The answer is decoded whether it is ``{id, rbacStatus, updatedAt}`` or
        ``{"rbacEnabled": true}`` (the docs show both): read ``rbac_active``. Safe to repeat."""
        if isinstance(status, bool):
            value = "ACTIVE" if status else "INACTIVE"
        elif isinstance(status, str) and status.strip().upper() in RBAC_STATUSES:
            value = status.strip().upper()
        else:
            raise ValidationError(
                f"status must be 'ACTIVE', 'INACTIVE' or a bool, got {status!r}", field="status"
            )
        return await self._put(
            self._path("/rbac-status"),
            into=_workspace,
            body=RbacBody(rbac_status=value),
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def background_jobs(
        self,
        job_ids: Iterable[str] | None = None,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> list[BackgroundJob]:
        """The workspace's background jobs (all, or those of ``job_ids``): the same route and
        answer as ``sharely.knowledge.jobs``, which this calls."""
        return await self._client.knowledge.jobs(
            job_ids, timeout=timeout, extra_headers=extra_headers
        )
