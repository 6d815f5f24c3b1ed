"""Emulated help-center folder routes (``/v2/hc-folders`` and the folder-to-agent junctions),
registered by ``_fini_articles.setup``; their state is ``fake.articles`` (see that module for the
emulator's choices where the docs are silent)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._fini_wire import Checker, json_body, now_iso
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = [
    "JUNCTION_ACTIONS",
    "FakeFolder",
    "folder_create",
    "folder_delete",
    "folder_move",
    "folder_tree",
    "folder_update",
    "junctions",
]

JUNCTION_ACTIONS = ("ADD", "REMOVE")


@dataclass
class FakeFolder:
    """One help-center folder."""

    title: str
    description: str = ""
    parent_folder_id: str | None = None
    active: bool = True
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "description": self.description,
            "active": self.active,
            "parentFolderId": self.parent_folder_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        }


async def folder_tree(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    return json_response(hc.snapshot(request.query.get("botId") or None))


async def folder_create(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("title")
    check.text("description", empty=True)
    check.text("parentFolderId", required=False)
    if (error := check.error()) is not None:
        return error
    parent = body.get("parentFolderId")
    if parent is not None and parent not in hc.folders:
        return fake.error(404, "Parent folder not found")
    folder = FakeFolder(body["title"], body["description"], parent)
    hc.folders[folder.id] = folder
    return json_response(folder.wire(), status=201)


async def folder_update(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("title")
    check.text("description", empty=True)
    check.flag("active", required=True)
    if (error := check.error()) is not None:
        return error
    folder = hc.folders.get(request.match_info["id"])
    if folder is None:
        return fake.error(404, "Folder not found")
    folder.title, folder.description = body["title"], body["description"]
    folder.active = body["active"]
    folder.updated_at = now_iso()
    return json_response(folder.wire())


async def folder_move(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("parentFolderId")
    if (error := check.error()) is not None:
        return error
    folder = hc.folders.get(request.match_info["id"])
    target = body["parentFolderId"]
    if folder is None or target not in hc.folders:
        return fake.error(404, "Folder not found")
    if target in hc.subtree(folder.id):
        return fake.error(406, "A folder cannot be moved into itself or its subfolders")
    folder.parent_folder_id = target
    folder.updated_at = now_iso()
    return json_response(folder.wire())


async def folder_delete(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    folder = hc.folders.get(request.match_info["id"])
    if folder is None:
        return fake.error(404, "Folder not found")
    holds_folders = any(f.parent_folder_id == folder.id for f in hc.folders.values())
    holds_articles = any(hc.meta_of(a).parent_folder_id == folder.id for a in kb.articles.values())
    if holds_folders or holds_articles:
        return fake.error(406, "The folder still holds folders or articles")
    del hc.folders[folder.id]
    hc.junctions = {j for j in hc.junctions if j[0] != folder.id}
    return json_response(folder.wire())


async def junctions(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    items = body.get("junctions")
    if not isinstance(items, list) or not items:
        return fake.error(400, ["junctions must be a non-empty array"])
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("folderId"), str)
            and isinstance(item.get("botId"), str)
        ):
            return fake.error(400, ["each junction needs a folderId and a botId"])
        if item.get("action") not in JUNCTION_ACTIONS:
            return fake.error(400, ["action must be one of the following values: ADD, REMOVE"])
        if item["folderId"] not in hc.folders:
            return fake.error(400, [f"folder {item['folderId']} does not exist"])
    for item in items:  # all checked first: the batch applies whole or not at all
        pair = (item["folderId"], item["botId"])
        if item["action"] == "ADD":
            hc.junctions.add(pair)
        else:
            hc.junctions.discard(pair)
    return json_response({"status": True})
