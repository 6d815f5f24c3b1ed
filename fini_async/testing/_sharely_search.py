"""FakeSharely's search and user spaces: semantic and title search over the stored knowledge, user
spaces (activate-or-retrieve, get) and a space's RAG route.

"Semantic" search here is real text matching: an item scores the share of the query's words found
in its title and content, and items that match nothing are left out; title search is a
case-insensitive substring match. Search honours ``roleIds`` through the roles assigned to items.
The search routes (no ``/v1``) want the API key in ``x-api-key`` besides the bearer token.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._server import Handler
from ._sharely_jobs import now_iso

if TYPE_CHECKING:
    from ._sharely import FakeSharely, SharelyItem

__all__ = ["search_routes"]

MAX_SEARCH_LIMIT = 50
MAX_TOP_K = 10
_WORD = re.compile(r"\w+")


def search_routes(fake: FakeSharely) -> list[tuple[str, str, str, Handler]]:
    """The routes of this module, bound to ``fake``."""

    def bind(handler: Any) -> Handler:
        async def route(request: web.Request) -> web.StreamResponse:
            result: web.StreamResponse = await handler(fake, request)
            return result

        return route

    return [
        ("POST", "/workspaces/{ws}/knowledge/search", "sharely.search", bind(_search)),
        ("POST", "/workspaces/{ws}/knowledge/search-title", "sharely.search_title", bind(_title)),
        (
            "PUT",
            "/workspaces/{ws}/activate-or-retrieve-user-space",
            "sharely.spaces.activate",
            bind(_activate),
        ),
        ("GET", "/v1/workspaces/{ws}/spaces/{id}", "sharely.spaces.get", bind(_space)),
        ("POST", "/v1/workspaces/{ws}/spaces/{id}/rag", "sharely.spaces.rag", bind(_rag)),
    ]


def _words(text: str | None) -> set[str]:
    return {w.lower() for w in _WORD.findall(text or "")}


def score(query: str, item: SharelyItem) -> float:
    """The share of the query's words found in the item's title and content (0 when none)."""
    wanted = _words(query)
    if not wanted:
        return 0.0
    return len(wanted & (_words(item.title) | _words(item.content))) / len(wanted)


def _result(item: SharelyItem, value: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": item.id,
        "title": item.title,
        "type": item.type,
        "url": item.url,
        "content": item.content,
        "metadata": dict(item.metadata),
    }
    if value is not None:
        out["score"] = round(value, 4)
    return out


async def _search_body(
    fake: FakeSharely, request: web.Request, key: str
) -> tuple[dict[str, Any], list[SharelyItem]] | web.StreamResponse:
    """The checks both search routes make; the body and the items visible to it."""
    if request.headers.get("x-api-key") != fake.api_key:
        fake.auth_failures["api_key"] += 1
        return fake.error(401, "Invalid or missing API key")
    body = await fake.read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get(key), str) or not body[key].strip():
        return fake.error(400, f"Missing required field: {key}")
    limit = body.get("limit", 10)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_LIMIT:
        return fake.error(400, "limit must be between 1 and 50")
    audience = body.get("audienceId")
    if audience is not None:
        try:
            uuid.UUID(str(audience))
        except ValueError:
            return fake.error(400, "audienceId must be a UUID")
    items = list(fake.items.values())
    role_ids = body.get("roleIds")
    if role_ids:
        assigned = fake.directory.item_roles
        items = [i for i in items if set(role_ids) & set(assigned.get(i.id, []))]
    return body, items


async def _search(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    checked = await _search_body(fake, request, "query")
    if isinstance(checked, web.StreamResponse):
        return checked
    body, items = checked
    scored = sorted(
        ((score(body["query"], i), n, i) for n, i in enumerate(items)), key=lambda t: (-t[0], t[1])
    )
    hits = [_result(i, s) for s, _, i in scored if s > 0][: body.get("limit", 10)]
    return fake.reply({"results": hits})


async def _title(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    checked = await _search_body(fake, request, "title")
    if isinstance(checked, web.StreamResponse):
        return checked
    body, items = checked
    wanted = body["title"].strip().lower()
    hits = [_result(i, None) for i in items if wanted in (i.title or "").lower()]
    return fake.reply({"results": hits[: body.get("limit", 10)]})


# -- spaces --------------------------------------------------------------------------------------


async def _activate(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await fake.read_json(request)
    if not isinstance(body, dict):
        return fake.error(400, "Body must be a JSON object")
    if body.get("workspaceId") != request.match_info["ws"]:
        return fake.error(400, "workspaceId must match the workspace in the path")
    user_id, customer = body.get("userId"), body.get("customerIdString")
    if (user_id is None) == (customer is None):
        return fake.error(400, "Provide exactly one of userId or customerIdString")
    if body.get("roleId") and body.get("customerRoleId"):
        return fake.error(400, "Provide either roleId or customerRoleId, not both")
    if user_id is not None:
        try:
            user_id = str(uuid.UUID(str(user_id)))
        except ValueError:
            return fake.error(400, "userId must be a UUID")
    else:
        user_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"sharely-customer:{customer}"))
    spaces = fake.spaces
    space = next((s for s in spaces.values() if s["userId"] == user_id), None)
    is_new = space is None
    if space is None:
        now = now_iso()
        space = {
            "id": str(uuid.uuid4()),
            "userId": user_id,
            "workspaceId": fake.workspace_id,
            "customerIdString": customer,
            "roleId": body.get("roleId"),
            "createdAt": now,
            "updatedAt": now,
        }
        spaces[space["id"]] = space
    return fake.reply(
        {
            "token": f"space-token-{uuid.uuid4().hex}",
            "spaceId": space["id"],
            "userId": user_id,
            "workspaceId": fake.workspace_id,
            "isNew": is_new,
        }
    )


async def _space(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    space = fake.spaces.get(request.match_info["id"])
    if space is None:
        return fake.error(404, "Space not found")
    return fake.reply(space)


def _source(item: SharelyItem) -> str:
    if item.url:
        return item.url
    return f"1:{item.title or item.filename or ''}:{item.id}"  # "<page>:<title>:<knowledgeId>"


async def _rag(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    if request.match_info["id"] not in fake.spaces:
        return fake.error(404, "Space not found")
    body = await fake.read_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("text"), str) or not body["text"]:
        return fake.error(400, "Missing required field: text")
    top_k = body.get("topK", 5)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        return fake.error(400, "topK must be between 1 and 10")
    scored = [(score(body["text"], i), i) for i in fake.items.values()]
    best = sorted((t for t in scored if t[0] > 0), key=lambda t: -t[0])[:top_k]
    chunks = [{"text": i.content or i.title or "", "source": _source(i)} for _, i in best]
    return fake.reply({"knowledgeResults": chunks, "spaceKnowledgeResults": []})
