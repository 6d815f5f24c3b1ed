"""FakeSharely's workspace directory: the workspace and its RBAC switch, roles, the roles of each
knowledge item, categories and taxonomies.

State lives in one :class:`Directory` per emulator (``fake.directory``) and is shared with the
knowledge routes: a role assigned to an item shows in ``GET knowledge/{id}`` and filters the
knowledge list (``roleId``), a category's items show in its knowledge route and filter the list
(``categoryId``), and deleting a role unassigns it everywhere. Role assignment runs as a
background job (as Sharely's Temporal workflows do): it takes effect when the job completes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._server import Handler
from ._sharely_jobs import SharelyJob, now_iso

if TYPE_CHECKING:
    from ._sharely import FakeSharely

__all__ = ["Directory", "directory_routes"]

MAX_ROLE_NAME = 255
MAX_ROLE_DESCRIPTION = 1000


@dataclass
class Directory:
    """The emulator's roles, categories and taxonomies, and who is assigned to what."""

    name: str = "Test workspace"
    rbac_status: str = "INACTIVE"
    #: ``"status"`` answers ``PUT rbac-status`` with ``{id, rbacStatus, updatedAt}``;
    #: ``"enabled"`` with ``{"rbacEnabled": true}`` (the docs show both).
    rbac_answer: str = "status"
    created_at: str = field(default_factory=now_iso)
    roles: dict[str, dict[str, Any]] = field(default_factory=dict)
    categories: dict[str, dict[str, Any]] = field(default_factory=dict)
    taxonomies: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: knowledge id -> role ids / category ids, in assignment order
    item_roles: dict[str, list[str]] = field(default_factory=dict)
    item_categories: dict[str, list[str]] = field(default_factory=dict)

    # -- helpers for tests and for the knowledge routes ------------------------------------------

    def add_role(self, name: str, customer_role_id: str | None = None) -> dict[str, Any]:
        """Create a role directly (no background job)."""
        now = now_iso()
        role: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": None,
            "customerRoleId": customer_role_id,
            "createdAt": now,
            "updatedAt": now,
        }
        self.roles[role["id"]] = role
        return role

    def add_category(self, name: str, parent_id: str | None = None) -> dict[str, Any]:
        """Create a category directly."""
        now = now_iso()
        category: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "name": name,
            "description": None,
            "parentId": parent_id,
            "metadata": {},
            "createdAt": now,
            "updatedAt": now,
        }
        self.categories[category["id"]] = category
        return category

    def categorise(self, knowledge_id: str, category_id: str) -> None:
        """Put an item in a category (Sharely does it in its app; no public route does)."""
        ids = self.item_categories.setdefault(knowledge_id, [])
        if category_id not in ids:
            ids.append(category_id)

    def role_ref(self, workspace_id: str, role: dict[str, Any]) -> dict[str, Any]:
        """A role as the knowledge routes show it."""
        slug = role.get("customerRoleId") or re.sub(r"[^a-z0-9]+", "-", role["name"].lower())
        return {
            "id": role["id"],
            "name": role["name"],
            "description": role.get("description"),
            "metadata": {"uniqueCustomerRoleId": f"{workspace_id}.{slug}"},
        }

    def decorate(self, item: dict[str, Any], workspace_id: str) -> dict[str, Any]:
        """``GET knowledge/{id}``'s extra fields: tags, categories and roles."""
        kid = item["id"]
        item["tags"] = []
        item["categories"] = [
            {"id": c, "name": self.categories[c]["name"]}
            for c in self.item_categories.get(kid, [])
            if c in self.categories
        ]
        item["roles"] = [
            self.role_ref(workspace_id, self.roles[r])
            for r in self.item_roles.get(kid, [])
            if r in self.roles
        ]
        return item

    def matches(self, knowledge_id: str, category_id: str | None, role_id: str | None) -> bool:
        """Whether an item passes the knowledge list's ``categoryId`` / ``roleId`` filters."""
        if category_id and category_id not in self.item_categories.get(knowledge_id, []):
            return False
        return not role_id or role_id in self.item_roles.get(knowledge_id, [])


# -- routes ------------------------------------------------------------------------------------


def directory_routes(fake: FakeSharely) -> list[tuple[str, str, str, Handler]]:
    """The routes of this module, bound to ``fake``."""
    ws = "/v1/workspaces/{ws}"

    def bind(handler: Any) -> Handler:
        async def route(request: web.Request) -> web.StreamResponse:
            result: web.StreamResponse = await handler(fake, request)
            return result

        return route

    return [
        ("GET", ws, "sharely.workspace.get", bind(_workspace)),
        ("PUT", f"{ws}/rbac-status", "sharely.workspace.rbac", bind(_rbac)),
        ("GET", f"{ws}/role", "sharely.roles.list", bind(_roles_list)),
        ("POST", f"{ws}/role", "sharely.roles.create", bind(_role_create)),
        (
            "GET",
            f"{ws}/role/by-customer-role-id/{{cid}}",
            "sharely.roles.by_customer_id",
            bind(_role_by_customer_id),
        ),
        ("GET", f"{ws}/role/{{id}}", "sharely.roles.get", bind(_role_get)),
        ("PUT", f"{ws}/role/{{id}}", "sharely.roles.update", bind(_role_update)),
        ("DELETE", f"{ws}/role/{{id}}", "sharely.roles.delete", bind(_role_delete)),
        ("GET", f"{ws}/knowledge/{{id}}/role", "sharely.knowledge.roles", bind(_item_roles)),
        ("POST", f"{ws}/knowledge/{{id}}/role", "sharely.knowledge.assign", bind(_assign)),
        ("DELETE", f"{ws}/knowledge/{{id}}/role", "sharely.knowledge.unassign", bind(_unassign)),
        (
            "PUT",
            f"{ws}/knowledge/{{id}}/reservedField",
            "sharely.knowledge.reserved",
            bind(_reserved),
        ),
        ("GET", f"{ws}/categories", "sharely.categories.list", bind(_categories)),
        (
            "GET",
            f"{ws}/categories/{{id}}/knowledge",
            "sharely.categories.knowledge",
            bind(_category_knowledge),
        ),
        ("POST", f"{ws}/category", "sharely.categories.create", bind(_category_create)),
        ("GET", f"{ws}/taxonomy", "sharely.taxonomies.list", bind(_taxonomies)),
        ("POST", f"{ws}/taxonomy", "sharely.taxonomies.create", bind(_taxonomy_create)),
    ]


async def _body(fake: FakeSharely, request: web.Request) -> dict[str, Any] | None:
    body = await fake.read_json(request)
    return body if isinstance(body, dict) else None


# -- workspace -----------------------------------------------------------------------------------


async def _workspace(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    d = fake.directory
    return fake.reply(
        {
            "id": fake.workspace_id,
            "name": d.name,
            "organizationId": fake.organization_id,
            "rbacStatus": d.rbac_status,
            "createdAt": d.created_at,
            "updatedAt": d.created_at,
            "settings": {"defaultLanguage": "en", "features": ["rag", "rbac"]},
        }
    )


async def _rbac(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await _body(fake, request)
    d = fake.directory
    if body is not None and body.get("rbacStatus") in ("ACTIVE", "INACTIVE"):
        d.rbac_status = body["rbacStatus"]
    elif body is not None and isinstance(body.get("rbacEnabled"), bool):
        d.rbac_status = "ACTIVE" if body["rbacEnabled"] else "INACTIVE"
    else:
        return fake.error(400, "rbacStatus must be ACTIVE or INACTIVE")
    if d.rbac_answer == "enabled":
        return fake.reply({"rbacEnabled": d.rbac_status == "ACTIVE"})
    return fake.reply(
        {"id": fake.workspace_id, "rbacStatus": d.rbac_status, "updatedAt": now_iso()}
    )


# -- roles -------------------------------------------------------------------------------------


def _role_problem(fake: FakeSharely, body: dict[str, Any], role_id: str | None) -> str | None:
    name = body.get("name")
    if role_id is None or "name" in body:
        if not isinstance(name, str) or not name.strip():
            return "Missing required field: name"
        if len(name) > MAX_ROLE_NAME:
            return "name must be at most 255 characters"
    description = body.get("description")
    if description is not None and (
        not isinstance(description, str) or len(description) > MAX_ROLE_DESCRIPTION
    ):
        return "description must be at most 1000 characters"
    cid = body.get("customerRoleId")
    if cid is not None and (not isinstance(cid, str) or not cid or len(cid) > MAX_ROLE_NAME):
        return "customerRoleId must be a string of at most 255 characters"
    return None


def _taken(fake: FakeSharely, cid: Any, role_id: str | None) -> bool:
    return cid is not None and any(
        r["customerRoleId"] == cid and r["id"] != role_id for r in fake.directory.roles.values()
    )


async def _roles_list(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    roles = list(fake.directory.roles.values())
    return fake.reply({"roles": roles, "total": len(roles)})


async def _role_create(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await _body(fake, request)
    if body is None:
        return fake.error(400, "Body must be a JSON object")
    problem = _role_problem(fake, body, None)
    if problem:
        return fake.error(400, problem)
    if _taken(fake, body.get("customerRoleId"), None):
        return fake.error(409, "customerRoleId already exists in this workspace")
    role = fake.directory.add_role(body["name"].strip(), body.get("customerRoleId"))
    role["description"] = body.get("description")
    job = fake.start_job("ROLE_CREATION", None)
    return fake.reply({"workflowId": job.id, "role": role}, 201)


async def _role_get(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    role = fake.directory.roles.get(request.match_info["id"])
    if role is None:
        return fake.error(404, "Role not found")
    return fake.reply(role)


async def _role_by_customer_id(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    cid = request.match_info["cid"]
    for role in fake.directory.roles.values():
        if role["customerRoleId"] == cid:
            return fake.reply(role)
    return fake.error(404, "Role not found")


async def _role_update(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    role = fake.directory.roles.get(request.match_info["id"])
    if role is None:
        return fake.error(404, "Role not found")
    body = await _body(fake, request)
    if body is None:
        return fake.error(400, "Body must be a JSON object")
    problem = _role_problem(fake, body, role["id"])
    if problem:
        return fake.error(400, problem)
    if _taken(fake, body.get("customerRoleId"), role["id"]):
        return fake.error(409, "customerRoleId already exists in this workspace")
    for key in ("name", "description", "customerRoleId"):
        if key in body:
            role[key] = body[key]
    role["updatedAt"] = now_iso()
    return fake.reply(role)


async def _role_delete(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    d = fake.directory
    role = d.roles.pop(request.match_info["id"], None)
    if role is None:
        return fake.error(404, "Role not found")
    for ids in d.item_roles.values():
        if role["id"] in ids:
            ids.remove(role["id"])
    job = fake.start_job("ROLE_DELETION", None)
    return fake.reply({"success": True, "workflowId": job.id})


# -- knowledge roles and reserved fields ------------------------------------------------------


async def _item_roles(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    fake.advance()
    kid = request.match_info["id"]
    if kid not in fake.items:
        return fake.error(404, "Knowledge not found")
    d = fake.directory
    refs = [d.role_ref(fake.workspace_id, d.roles[r]) for r in d.item_roles.get(kid, [])]
    return fake.reply(refs)  # a top-level array, as documented


async def _role_change(fake: FakeSharely, request: web.Request, add: bool) -> web.StreamResponse:
    fake.advance()
    d = fake.directory
    kid = request.match_info["id"]
    if kid not in fake.items:
        return fake.error(404, "Knowledge not found")
    if d.rbac_status != "ACTIVE":
        return fake.error(400, "RBAC is not enabled for this workspace")
    body = await _body(fake, request)
    ids = body.get("roleIds") if body is not None else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
        return fake.error(400, "roleIds must be a non-empty array of role ids")
    unknown = [i for i in ids if i not in d.roles]
    if unknown:
        return fake.error(404, "Role not found", roleIds=unknown)

    def apply(job: SharelyJob) -> None:
        current = d.item_roles.setdefault(kid, [])
        for rid in ids:
            if add and rid not in current:
                current.append(rid)
            elif not add and rid in current:
                current.remove(rid)

    job = fake.start_job("ROLE_ASSIGNMENT" if add else "ROLE_UNASSIGNMENT", apply)
    return fake.reply({"success": True, "workflowId": job.id})


async def _assign(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    return await _role_change(fake, request, True)


async def _unassign(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    return await _role_change(fake, request, False)


async def _reserved(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    item = fake.items.get(request.match_info["id"])
    if item is None:
        return fake.error(404, "Knowledge not found")
    body = await _body(fake, request)
    if body is None or not isinstance(body.get("title"), str) or not body["title"].strip():
        return fake.error(400, "Missing required field: title")
    if body.get("type") not in ("URL", "FILE", "LINK", "STRING"):
        return fake.error(400, "type must be one of URL, FILE, LINK, STRING")
    if body["type"] != item.type:
        return fake.error(400, f"type must match the item's type ({item.type})")
    language = body.get("language")
    if language is not None and not isinstance(language, str):
        return fake.error(400, "language must be a string")
    item.title = body["title"]
    if language:
        item.language = language
    item.updated_at = now_iso()
    return fake.reply({"knowledgeId": item.id})


# -- categories and taxonomies ---------------------------------------------------------------


async def _categories(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    d = fake.directory
    counts = {c: 0 for c in d.categories}
    for kid, ids in d.item_categories.items():
        if kid in fake.items:
            for c in ids:
                if c in counts:
                    counts[c] += 1
    out = [
        {k: v for k, v in {**c, "knowledgeCount": counts[c["id"]]}.items() if k != "parentId"}
        for c in d.categories.values()
    ]
    return fake.reply({"categories": out})


async def _category_knowledge(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    cid = request.match_info["id"]
    d = fake.directory
    if cid not in d.categories:
        return fake.error(404, "Category not found")
    out = []
    for kid, ids in d.item_categories.items():
        item = fake.items.get(kid)
        if item is not None and cid in ids:
            data = item.to_json(fake.workspace_id)
            data["type"] = item.type  # this route says STRING, as create does
            data["categoryId"] = cid
            out.append(data)
    return fake.reply({"knowledge": out})


async def _category_create(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await _body(fake, request)
    d = fake.directory
    if body is None or not isinstance(body.get("name"), str) or not body["name"].strip():
        return fake.error(400, "Missing required field: name")
    parent = body.get("parentId")
    if parent is not None and parent not in d.categories:
        return fake.error(404, "Parent category not found")
    if any(c["name"] == body["name"] and c["parentId"] == parent for c in d.categories.values()):
        return fake.error(409, "A category with this name already exists here")
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return fake.error(400, "metadata must be an object")
    category = d.add_category(body["name"], parent)
    category["description"] = body.get("description")
    category["metadata"] = metadata or {}
    return fake.reply({**category, "workspaceId": fake.workspace_id}, 201)


def _taxonomy_json(fake: FakeSharely, t: dict[str, Any], q: Any) -> dict[str, Any]:
    out = {k: v for k, v in t.items() if k not in ("roleIds", "languageIds", "categoryIds")}
    d = fake.directory
    if q.get("includeRoles") == "true":
        out["roles"] = [d.roles[r] for r in t["roleIds"] if r in d.roles]
    if q.get("includeLanguages") == "true":
        out["languages"] = [{"languageId": lang} for lang in t["languageIds"]]
    if q.get("includeCategories") == "true":
        out["categoryCount"] = len(t["categoryIds"])
    return out


async def _taxonomies(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    q = request.query
    found = [
        t
        for t in fake.directory.taxonomies.values()
        if (not q.get("roleId") or q["roleId"] in t["roleIds"])
        and (not q.get("languageId") or q["languageId"] in t["languageIds"])
    ]
    return fake.reply([_taxonomy_json(fake, t, q) for t in found])  # a top-level array


async def _taxonomy_create(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await _body(fake, request)
    if body is None or not isinstance(body.get("name"), str) or not body["name"].strip():
        return fake.error(400, "Missing required field: name")
    now = now_iso()
    taxonomy = {
        "id": str(uuid.uuid4()),
        "workspaceId": fake.workspace_id,
        "name": body["name"],
        "description": body.get("description"),
        "published": False,
        "createdAt": now,
        "updatedAt": now,
        "roleIds": [],
        "languageIds": [],
        "categoryIds": [],
    }
    fake.directory.taxonomies[taxonomy["id"]] = taxonomy
    return fake.reply(_taxonomy_json(fake, taxonomy, {}), 201)
