"""FakeSharely's knowledge writes from a JSON body: create (``STRING``/``URL``/``LINK``), create
a link, and update an item's metadata; each checks its body as the API does (a 400 naming the
problem) before changing anything. File uploads are in ``_sharely_uploads``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._sharely_jobs import now_iso

if TYPE_CHECKING:
    from ._sharely import FakeSharely

__all__ = ["create", "create_link", "update_metadata", "validate_metadata"]


def validate_metadata(metadata: Any) -> str | None:
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return "metadata must be an object"
    for key, value in metadata.items():
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return f"metadata.{key} must be a string or a number"
    return None


async def create(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await fake.read_json(request)
    if not isinstance(body, dict):
        return fake.error(400, "Body must be a JSON object")
    kind = body.get("type")
    if kind not in ("FILE", "URL", "LINK", "STRING"):
        return fake.error(400, "Missing required field: type" if not kind else "Invalid type")
    problem = validate_metadata(body.get("metadata"))
    if problem:
        return fake.error(400, problem)
    if kind == "STRING":
        content = body.get("content")
        if not isinstance(content, str) or not content:
            return fake.error(400, "Missing required field: content")
    elif kind in ("URL", "LINK"):
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            return fake.error(400, "Missing required field: url")
        host = url.split("/")[2].split(":")[0]
        if kind == "URL" and host.endswith(".invalid"):
            return fake.error(422, "Unable to fetch or process the provided URL")
    else:
        return fake.error(400, "Use the Upload File endpoint for FILE knowledge")
    item = fake.add_knowledge(
        kind,
        title=body.get("title"),
        content=body.get("content"),
        url=body.get("url"),
        metadata=body.get("metadata"),
    )
    return fake.reply({"id": item.id, "knowledgeId": item.id}, 201)


async def create_link(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await fake.read_json(request)
    if not isinstance(body, dict):
        return fake.error(400, "Body must be a JSON object")
    if body.get("type", "LINK") != "LINK":
        return fake.error(400, "type must be LINK")
    url = body.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return fake.error(400, "Missing required field: url")
    problem = validate_metadata(body.get("metadata"))
    if problem:
        return fake.error(400, problem)
    item = fake.add_knowledge(
        "LINK", title=body.get("title"), url=url, metadata=body.get("metadata")
    )
    return fake.reply({"id": item.id, "knowledgeId": item.id, "title": item.title}, 201)


async def update_metadata(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    body = await fake.read_json(request)
    item = fake.items.get(request.match_info["id"])
    if item is None:
        return fake.error(404, "Knowledge not found")
    if not isinstance(body, dict) or not isinstance(body.get("metadata"), dict):
        return fake.error(400, "Missing required field: metadata")
    if body.get("type") != item.type:
        return fake.error(400, f"type must match the item's type ({item.type})")
    problem = validate_metadata(body["metadata"])
    if problem:
        return fake.error(400, problem)
    reserved = {"title", "language"} & set(body["metadata"])
    if reserved:
        return fake.error(400, f"Reserved fields cannot be updated: {sorted(reserved)}")
    item.metadata.update(body["metadata"])
    for key in body.get("removeMetadataKeys") or []:
        item.metadata.pop(key, None)
    item.updated_at = now_iso()
    return fake.reply({"knowledgeId": item.id})
