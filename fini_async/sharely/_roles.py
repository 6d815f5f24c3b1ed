"""``sharely.roles``: the workspace's roles (RBAC): list, create, get, update, delete, and look one
up by the caller's own id (``customer_role_id``)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._validate import path_segment
from ._envelopes import accepted, listing, one
from ._models import Accepted, CreatedRole, Role
from ._routes import SharelyResource, bounded_str

__all__ = ["RolesResource"]

#: Documented maximum lengths of a role's fields.
MAX_NAME = 255
MAX_DESCRIPTION = 1000
MAX_CUSTOMER_ROLE_ID = 255


class RoleBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST role`` and ``PUT role/{id}``."""

    name: str | UnsetType = UNSET
    description: str | UnsetType = UNSET
    customer_role_id: str | UnsetType = UNSET


def _role_body(name: str | None, description: str | None, customer_role_id: str | None) -> RoleBody:
    body = RoleBody()
    if name is not None:
        body.name = bounded_str(name, "name", MAX_NAME).strip()
    if description is not None:
        if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
            raise ValidationError(
                f"description must be a string of at most {MAX_DESCRIPTION} characters",
                field="description",
            )
        body.description = description
    if customer_role_id is not None:
        body.customer_role_id = bounded_str(
            customer_role_id, "customer_role_id", MAX_CUSTOMER_ROLE_ID
        ).strip()
    return body


_roles = listing(Role, "roles")
_role = one(Role, "role")
_created = one(CreatedRole)


class RolesResource(SharelyResource):
    """The workspace's roles. Role changes run as background jobs on Sharely's side: ``create``
    answers at once with the role and a ``job_id`` to ``sharely.knowledge.wait`` on."""

    __slots__ = ()

    async def list(
        self,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Role]:
        """Every role of the workspace (``{roles, total}`` or a bare list on the wire)."""
        return await self._get(
            self._path("/role"), into=_roles, timeout=timeout, extra_headers=extra_headers
        )

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        customer_role_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> CreatedRole:
        """Create a role (201: the role and the ``job_id`` of its setup).

        ``name`` (1..255 characters), ``description`` (at most 1000) and ``customer_role_id``
        (your id for the role, unique in the workspace, at most 255) are checked before sending
        (:class:`ValidationError`). A ``customer_role_id`` already taken raises
        :class:`ConflictError`. A create is never retried once the server may have processed it
        (only on connect failures, 429 and 503)."""
        body = _role_body(name, description, customer_role_id)
        return await self._post(
            self._path("/role"),
            into=_created,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def get(
        self,
        role_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Role:
        """One role; :class:`NotFoundError` for an unknown id."""
        rid = path_segment(role_id, "role_id")
        return await self._get(
            self._path(f"/role/{rid}"), into=_role, timeout=timeout, extra_headers=extra_headers
        )

    async def get_by_customer_role_id(
        self,
        customer_role_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Role:
        """The role whose ``customer_role_id`` is given (sent percent-encoded: it may hold
        ``/``, ``.`` or spaces); :class:`NotFoundError` when none has it."""
        cid = path_segment(customer_role_id, "customer_role_id")
        return await self._get(
            self._path(f"/role/by-customer-role-id/{cid}"),
            into=_role,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def update(
        self,
        role_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        customer_role_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Role:
        """Change a role's name, description or ``customer_role_id`` (the fields given; at least
        one). Same checks as :meth:`create`; :class:`NotFoundError` for an unknown id,
        :class:`ConflictError` for a ``customer_role_id`` another role has. The body is not in
        the vendor docs: it is assumed to take the create's fields."""
        rid = path_segment(role_id, "role_id")
        body = _role_body(name, description, customer_role_id)
        if body == RoleBody():
            raise ValidationError(
                "nothing to update: pass name, description or customer_role_id", field="name"
            )
        return await self._put(
            self._path(f"/role/{rid}"),
            into=_role,
            body=body,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def delete(
        self,
        role_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Accepted:
        """Delete a role (it is also unassigned from every knowledge item). The answer may name
        a background job (``job_id``). :class:`NotFoundError` for an unknown id; not retried
        once sent, since a repeat of a processed delete answers 404."""
        rid = path_segment(role_id, "role_id")
        return await self._delete(
            self._path(f"/role/{rid}"),
            into=accepted,
            timeout=timeout,
            extra_headers=extra_headers,
        )
