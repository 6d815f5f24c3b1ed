"""``sharely.spaces``: per-user spaces: activate (or find) a user's space, read it, and retrieve
passages for a question from the workspace's and the space's knowledge (RAG)."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._validate import int_in, non_empty_str, optional_str, path_segment, uuid_str
from ._envelopes import one
from ._models import RagAnswer, Space, UserSpace
from ._routes import SharelyResource

__all__ = ["SpacesResource"]

DEFAULT_TOP_K = 5
MAX_TOP_K = 10


class ActivateBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``PUT activate-or-retrieve-user-space``."""

    workspace_id: str
    user_id: str | UnsetType = UNSET
    customer_id_string: str | UnsetType = UNSET
    role_id: str | UnsetType = UNSET
    customer_role_id: str | UnsetType = UNSET


class RagBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST spaces/{id}/rag``."""

    text: str
    top_k: int
    language_id: str | UnsetType = UNSET


_user_space = one(UserSpace)
_space = one(Space, "space")
_rag = one(RagAnswer)


class SpacesResource(SharelyResource):
    """Users' spaces."""

    __slots__ = ()

    async def activate(
        self,
        *,
        user_id: str | None = None,
        customer_id_string: str | None = None,
        role_id: str | None = None,
        customer_role_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> UserSpace:
        """Activate a user's space, or find it if it exists (``is_new`` says which), and get a
        token scoped to it.

        Name the user by exactly one of ``user_id`` (a UUID) or ``customer_id_string`` (your
        own id, any string), and optionally scope it by one of ``role_id`` (a UUID) or
        ``customer_role_id``; other combinations raise :class:`ValidationError` before
        sending. Safe to repeat (the route is idempotent), so it is retried like a read."""
        body = ActivateBody(workspace_id=self._client.workspace_id)
        if (user_id is None) == (customer_id_string is None):
            raise ValidationError(
                "pass exactly one of user_id or customer_id_string", field="user_id"
            )
        if user_id is not None:
            body.user_id = uuid_str(user_id, "user_id")
        else:
            body.customer_id_string = non_empty_str(customer_id_string, "customer_id_string")
        if role_id is not None and customer_role_id is not None:
            raise ValidationError(
                "pass role_id or customer_role_id, not both", field="customer_role_id"
            )
        if role_id is not None:
            body.role_id = uuid_str(role_id, "role_id")
        if customer_role_id is not None:
            body.customer_role_id = non_empty_str(customer_role_id, "customer_role_id")
        return await self._put(
            self._unversioned("/activate-or-retrieve-user-space"),
            into=_user_space,
            body=body,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def get(
        self,
        space_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Space:
        """One space; :class:`NotFoundError` for an unknown id."""
        sid = path_segment(space_id, "space_id")
        return await self._get(
            self._path(f"/spaces/{sid}"), into=_space, timeout=timeout, extra_headers=extra_headers
        )

    async def rag(
        self,
        space_id: str,
        text: str,
        *,
        top_k: int = DEFAULT_TOP_K,
        language_id: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> RagAnswer:
        """The ``top_k`` (1..10) passages most relevant to ``text``, from the workspace's
        knowledge and from the space's own. Bad arguments raise :class:`ValidationError` before
        sending; an unknown space :class:`NotFoundError`. A query changes nothing, so it is
        retried like a read."""
        sid = path_segment(space_id, "space_id")
        body = RagBody(text=non_empty_str(text, "text"), top_k=int_in(top_k, 1, MAX_TOP_K, "top_k"))
        language_id = optional_str(language_id, "language_id")
        if language_id:
            body.language_id = language_id
        return await self._post(
            self._path(f"/spaces/{sid}/rag"),
            into=_rag,
            body=body,
            idempotent=True,
            timeout=timeout,
            extra_headers=extra_headers,
        )
