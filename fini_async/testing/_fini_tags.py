"""Emulated tags and tag groups: the ``/v2/tag-groups`` and ``/v2/tags`` routes and their
quirks.

One path, ``/v2/tag-groups/{id}/tags/public``, takes a group id for GET/POST and a tag id for
PUT/DELETE. Unknown ids answer 500 on the group routes, the tags of a group and tag update,
and 200 ``null`` on get-one-tag. A Fini-managed group (``companyId`` null, seeded: "Sentiment",
mandatory) is listed but read-only: writes to it answer 500 like an unknown id. Lists are
top-level arrays, newest first. The across-groups list wants repeated ``tagGroupIds``; a comma
in a value answers 400. Emulator choices where the docs are silent: deleting a group deletes its
tags; deleting an unknown tag or group answers 500, as their siblings do.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._fini_wire import Checker, add_routes, json_body, now_iso
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeTag", "FakeTagGroup", "FakeTags"]

_order = itertools.count()


@dataclass
class FakeTagGroup:
    """One emulated tag group (``company_id`` None: managed by Fini, read-only)."""

    title: str
    company_id: str | None
    description: str = ""
    prompt: str = ""
    multiselect: bool = False
    mandatory: bool = False
    is_output_tag_group: bool = False
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    order: int = field(default_factory=lambda: next(_order))

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "companyId": self.company_id,
            "title": self.title,
            "description": self.description,
            "prompt": self.prompt,
            "multiselect": self.multiselect,
            "updatedAt": self.updated_at,
            "mandatory": self.mandatory,
            "isOutputTagGroup": self.is_output_tag_group,
        }


@dataclass
class FakeTag:
    """One emulated tag."""

    tag_group_id: str
    tag_name: str
    tag_description: str = ""
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created_at: str = field(default_factory=now_iso)
    order: int = field(default_factory=lambda: next(_order))

    def wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "tagGroupId": self.tag_group_id,
            "tagName": self.tag_name,
            "tagDescription": self.tag_description,
        }


class FakeTags:
    """The tags side of ``FakeFini`` (``fake.tags``): ``groups`` and ``tags`` by id."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        #: The workspace's company: the owner of the custom groups.
        self.company_id = str(uuid.uuid4())
        self.groups: dict[str, FakeTagGroup] = {}
        self.tags: dict[str, FakeTag] = {}
        sentiment = self.add_group("Sentiment", managed=True, mandatory=True)
        for name in ("Positive", "Neutral", "Negative"):
            self.add_tag(sentiment.id, name)
        self.managed_group_id = sentiment.id

    def add_group(self, title: str, *, managed: bool = False, **kw: Any) -> FakeTagGroup:
        """Store a tag group directly (no HTTP)."""
        group = FakeTagGroup(title, None if managed else self.company_id, **kw)
        self.groups[group.id] = group
        return group

    def add_tag(self, group_id: str, name: str, description: str = "") -> FakeTag:
        """Store a tag directly (no HTTP)."""
        tag = FakeTag(group_id, name, description)
        self.tags[tag.id] = tag
        return tag

    def newest_first(self, tags: list[FakeTag]) -> list[dict[str, Any]]:
        return [t.wire() for t in sorted(tags, key=lambda t: t.order, reverse=True)]


def setup(fake: FakeFini, app: web.Application) -> None:
    groups = "/v2/tag-groups"
    add_routes(
        fake,
        app,
        [
            # before the /{id}/ patterns: "tags" would otherwise be taken for a group id
            ("GET", f"{groups}/tags/public", "tags.across", "read", _across_groups),
            ("GET", f"{groups}/public", "tags.groups.list", "read", _list_groups),
            ("POST", f"{groups}/public", "tags.groups.create", "write", _create_group),
            ("GET", f"{groups}/{{id}}/public", "tags.groups.get", "read", _get_group),
            ("PUT", f"{groups}/{{id}}/public", "tags.groups.update", "write", _update_group),
            ("DELETE", f"{groups}/{{id}}/public", "tags.groups.delete", "write", _delete_group),
            ("GET", f"{groups}/{{id}}/tags/public", "tags.list", "read", _list_group_tags),
            ("POST", f"{groups}/{{id}}/tags/public", "tags.create", "write", _create_tag),
            ("PUT", f"{groups}/{{id}}/tags/public", "tags.update", "write", _update_tag),
            ("DELETE", f"{groups}/{{id}}/tags/public", "tags.delete", "write", _delete_tag),
            ("GET", "/v2/tags/{id}/public", "tags.get", "read", _get_tag),
        ],
    )


def _unknown(fake: FakeFini, what: str) -> web.Response:
    # the documented quirk: an unknown id surfaces as a server error
    return fake.error(500, f"Internal server error ({what})")


def _custom_group(fake: FakeFini, request: web.Request) -> FakeTagGroup | None:
    store = fake.tags
    group = store.groups.get(request.match_info["id"])
    return None if group is None or group.company_id is None else group


def _group_checks(fake: FakeFini, body: dict[str, Any], *, create: bool) -> Checker:
    check = Checker(fake, body)
    check.text("title", required=create)
    check.text("description", required=False, empty=True)
    check.text("prompt", required=False, empty=True)
    check.flag("multiselect")
    check.flag("isOutputTagGroup")
    return check


async def _list_groups(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    groups = sorted(store.groups.values(), key=lambda g: g.order, reverse=True)
    return json_response([g.wire() for g in groups])


async def _create_group(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    if (error := _group_checks(fake, body, create=True).error()) is not None:
        return error
    group = store.add_group(
        body["title"],
        description=body.get("description", ""),
        prompt=body.get("prompt", ""),
        multiselect=body.get("multiselect", False),
        is_output_tag_group=body.get("isOutputTagGroup", False),
    )
    return json_response(group.wire(), status=201)


async def _get_group(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    group = store.groups.get(request.match_info["id"])
    if group is None:
        return _unknown(fake, "tag group")
    return json_response(group.wire())


async def _update_group(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    if (error := _group_checks(fake, body, create=False).error()) is not None:
        return error
    group = _custom_group(fake, request)
    if group is None:  # unknown or Fini-managed: both 500
        return _unknown(fake, "tag group")
    for key, attr in (
        ("title", "title"),
        ("description", "description"),
        ("prompt", "prompt"),
        ("multiselect", "multiselect"),
        ("isOutputTagGroup", "is_output_tag_group"),
    ):
        if key in body:
            setattr(group, attr, body[key])
    group.updated_at = now_iso()
    return json_response(group.wire())


async def _delete_group(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    group = _custom_group(fake, request)
    if group is None:
        return _unknown(fake, "tag group")
    del store.groups[group.id]
    store.tags = {k: t for k, t in store.tags.items() if t.tag_group_id != group.id}
    return json_response({"success": True})


async def _list_group_tags(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    group_id = request.match_info["id"]  # a GROUP id on GET
    if group_id not in store.groups:
        return _unknown(fake, "tag group")
    return json_response(
        store.newest_first([t for t in store.tags.values() if t.tag_group_id == group_id])
    )


async def _create_tag(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("tagName")
    check.text("tagDescription", required=False, empty=True)
    if (error := check.error()) is not None:
        return error
    group = _custom_group(fake, request)  # a GROUP id on POST; custom groups only
    if group is None:
        return _unknown(fake, "tag group")
    tag = store.add_tag(group.id, body["tagName"], body.get("tagDescription", ""))
    return json_response(tag.wire(), status=201)


async def _update_tag(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("tagName", required=False)
    check.text("tagDescription", required=False, empty=True)
    if (error := check.error()) is not None:
        return error
    tag = store.tags.get(request.match_info["id"])  # a TAG id on PUT
    if tag is None:
        return _unknown(fake, "tag")
    tag.tag_name = body.get("tagName", tag.tag_name)
    tag.tag_description = body.get("tagDescription", tag.tag_description)
    return json_response(tag.wire())


async def _delete_tag(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    tag = store.tags.pop(request.match_info["id"], None)  # a TAG id on DELETE
    if tag is None:
        return _unknown(fake, "tag")
    return web.Response(body=b"true", content_type="application/json")


async def _across_groups(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    ids = request.query.getall("tagGroupIds", [])
    if not ids or any(not i or "," in i for i in ids):
        return fake.error(
            400, ["tagGroupIds must be one or more ids, as repeated query parameters"]
        )
    wanted = set(ids)
    return json_response(
        store.newest_first([t for t in store.tags.values() if t.tag_group_id in wanted])
    )


async def _get_tag(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    store = fake.tags
    tag = store.tags.get(request.match_info["id"])
    return json_response(None if tag is None else tag.wire())  # unknown: 200 null
