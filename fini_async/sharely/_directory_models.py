"""Sharely's workspace directory on the wire: roles, categories, taxonomies, the workspace and
its spaces, search results and RAG answers, and the bodies of the role and search routes."""

from __future__ import annotations

from typing import Any, Union

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "Accepted",
    "Category",
    "CreatedRole",
    "RagAnswer",
    "RagChunk",
    "Role",
    "RoleIdsBody",
    "SearchBody",
    "SearchResult",
    "Space",
    "Taxonomy",
    "TaxonomyLanguage",
    "UserSpace",
    "Workspace",
    "WorkspaceSettings",
]


class Role(msgspec.Struct, rename="camel"):
    """A role (RBAC). ``customer_role_id`` is the caller's own id for it (unique in the
    workspace); roles attached to a knowledge item carry ``metadata.uniqueCustomerRoleId``."""

    id: str = ""
    name: str | None = None
    description: str | None = None
    customer_role_id: str | None = None
    metadata: dict[str, Any] = {}
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class CreatedRole(msgspec.Struct, rename="camel"):
    """What ``sharely.roles.create`` returns (201): the role, and the background job setting it
    up (``job_id``; wait on it with ``sharely.knowledge.wait``)."""

    role: Role | None = None
    workflow_id: str | None = None
    background_job_id: str | None = None

    @property
    def job_id(self) -> str | None:
        return self.workflow_id or self.background_job_id


class Accepted(msgspec.Struct, rename="camel"):
    """The answer of a route that changes something, maybe in the background: ``{"success":
    true}``, a bare ``true``, an empty body or an object naming a workflow all decode to it.
    ``job_id`` is the background job to ``sharely.knowledge.wait`` on, when there is one."""

    success: bool | None = None
    message: str | None = None
    workflow_id: str | None = None
    background_job_id: str | None = None

    @property
    def job_id(self) -> str | None:
        return self.workflow_id or self.background_job_id


class Category(msgspec.Struct, rename="camel"):
    """A knowledge category. The list route counts its items (``knowledge_count``); the create
    route echoes ``parent_id`` and ``metadata``."""

    id: str = ""
    name: str | None = None
    description: str | None = None
    workspace_id: str | None = None
    parent_id: str | None = None
    metadata: dict[str, Any] = {}
    knowledge_count: int | None = None
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class TaxonomyLanguage(msgspec.Struct, rename="camel"):
    """A language a taxonomy is published in."""

    language_id: str = ""


class Taxonomy(msgspec.Struct, rename="camel"):
    """A taxonomy (a named tree of categories). ``roles``, ``languages`` are filled only when the
    list asked for them (``include_roles=True``, ...). A new taxonomy is unpublished."""

    id: str = ""
    name: str | None = None
    description: str | None = None
    workspace_id: str | None = None
    published: bool | None = None
    roles: list[Role] = []
    languages: list[TaxonomyLanguage] = []
    category_count: int | None = None
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class WorkspaceSettings(msgspec.Struct, rename="camel"):
    default_language: str | None = None
    features: list[str] = []


class Workspace(msgspec.Struct, rename="camel"):
    """``sharely.workspace.get()`` (and the answer of ``set_rbac_status``, which may hold only
    ``id``/``rbac_status`` or only ``rbac_enabled``: the docs show both)."""

    id: str = ""
    name: str | None = None
    organization_id: str | None = None
    rbac_status: str | None = None
    rbac_enabled: bool | None = None
    settings: WorkspaceSettings | None = None
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007

    @property
    def rbac_active(self) -> bool | None:
        """Whether role-based access control is on (None when the answer did not say)."""
        if self.rbac_status is not None:
            return self.rbac_status.upper() == "ACTIVE"
        return self.rbac_enabled


class SearchResult(msgspec.Struct, rename="camel"):
    """One hit of ``sharely.knowledge.search`` / ``search_title``."""

    id: str = ""
    title: str | None = None
    type: str | None = None
    url: str | None = None
    content: str | None = None
    score: float | None = None
    metadata: dict[str, Any] = {}


class UserSpace(msgspec.Struct, rename="camel"):
    """``sharely.spaces.activate(...)``: the user's space and a token scoped to it. ``is_new``
    says whether this call created it. The token is never shown in the repr."""

    token: str = ""
    space_id: str = ""
    user_id: str | None = None
    workspace_id: str | None = None
    is_new: bool | None = None

    def __repr__(self) -> str:
        return (
            f"UserSpace(space_id={self.space_id!r}, user_id={self.user_id!r}, "
            f"workspace_id={self.workspace_id!r}, is_new={self.is_new!r}, token=<hidden>)"
        )


class Space(msgspec.Struct, rename="camel"):
    """A user's space (``sharely.spaces.get``). The vendor does not document this answer's
    fields: these are the likely ones, each optional, and unknown keys are ignored."""

    id: str = ""
    user_id: str | None = None
    workspace_id: str | None = None
    customer_id_string: str | None = None
    role_id: str | None = None
    name: str | None = None
    metadata: dict[str, Any] = {}
    created_at: Union[str, int, float, None] = None  # noqa: UP007
    updated_at: Union[str, int, float, None] = None  # noqa: UP007


class RagChunk(msgspec.Struct, rename="camel"):
    """A passage ``sharely.spaces.rag`` found. ``source`` is a URL for web knowledge and
    ``"<page>:<title>:<knowledgeId>"`` for files (see ``knowledge_id``)."""

    text: str = ""
    source: str | None = None

    @property
    def knowledge_id(self) -> str | None:
        """The knowledge item of a file source (the part after the last ``:``), else None."""
        src = self.source or ""
        if src.startswith(("http://", "https://")) or src.count(":") < 2:
            return None
        return src.rsplit(":", 1)[1] or None


class RagAnswer(msgspec.Struct, rename="camel"):
    """``sharely.spaces.rag``: passages from workspace knowledge and from the space's own."""

    knowledge_results: list[RagChunk] = []
    space_knowledge_results: list[RagChunk] = []


class RoleIdsBody(msgspec.Struct, rename="camel"):
    """The body of the knowledge role routes (assign and unassign)."""

    role_ids: list[str]


class SearchBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of the search routes: ``query`` (semantic) or ``title`` (partial match)."""

    query: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    limit: int | UnsetType = UNSET
    audience_id: str | UnsetType = UNSET
    role_ids: list[str] | UnsetType = UNSET
