"""Emulated help-center articles and folders: the ``/v2/hc-articles`` and ``/v2/hc-folders``
routes and the folder-to-agent junctions (the folder handlers in ``_fini_folders``).

Articles live in the emulator's knowledge base (``fake.kb``), so state is shared across routes:
an article a knowledge job creates (a draft by default) is listed, fetched and published here,
and publishing makes it answer ask-question. The help-center fields the knowledge base does not
hold (questions, keywords, folder, version, ...) are kept beside it in ``fake.articles.meta``.
A generated article starts with its title as its one question and keyword, so it can be
published as is.

Folders start with one top-level folder, ``fake.articles.default_folder_id`` ("General"),
which holds the seeded and generated articles. Emulator choices where the docs are silent:
an unknown ``parentFolderId`` answers 404 on create and move; a folder move into itself or its
own subtree answers 406; deleting a folder that still holds folders or articles answers 406;
junction ``action`` is ``ADD`` or ``REMOVE``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._fini_folders import (
    FakeFolder,
    folder_create,
    folder_delete,
    folder_move,
    folder_tree,
    folder_update,
    junctions,
)
from ._fini_wire import Checker, add_routes, json_body, now_iso
from ._kb import Article, terms
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeArticles", "FakeFolder", "HelpCenterMeta"]

_CONTENT = ("title", "mainKnowledge", "agentInstruction", "questions", "keywords", "escalation")


@dataclass
class HelpCenterMeta:
    """The help-center fields of one knowledge-base article."""

    parent_folder_id: str
    agent_instruction: str = ""
    questions: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    escalation: bool = False
    version: int = 1
    active: bool = True
    public: bool = True
    origin: str | None = None
    original_article_id: str | None = None
    original_article_version: int | None = None
    is_draft_published: bool | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


class FakeArticles:
    """The help-center side of ``FakeFini`` (``fake.articles``): article metadata, folders and
    the folder-to-agent junctions (``junctions``: a set of ``(folder_id, bot_id)``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        self.meta: dict[str, HelpCenterMeta] = {}
        general = FakeFolder("General", "Articles not filed elsewhere")
        self.default_folder_id = general.id
        self.folders: dict[str, FakeFolder] = {general.id: general}
        self.junctions: set[tuple[str, str]] = set()
        self.snapshot_id = str(uuid.uuid4())
        self.snapshot_created_at = now_iso()

    # -- articles ------------------------------------------------------------------------------

    def meta_of(self, article: Article) -> HelpCenterMeta:
        meta = self.meta.get(article.id)
        if meta is None:  # seeded or generated: give it what a help-center article needs
            words = terms(article.title)[:5] or ["article"]
            meta = HelpCenterMeta(
                parent_folder_id=self.default_folder_id,
                questions=[article.title],
                keywords=words,
                origin=article.source_type if article.source_type != "draft" else None,
            )
            if article.source_type == "draft" and article.source_id:  # a generated revision
                original = self.fake.kb.articles.get(article.source_id)
                meta.original_article_id = article.source_id
                if original is not None:
                    meta.original_article_version = self.meta_of(original).version
                meta.is_draft_published = False
            self.meta[article.id] = meta
        return meta

    def wire(self, article: Article) -> dict[str, Any]:
        meta = self.meta_of(article)
        return {
            "id": article.id,
            "title": article.title,
            "mainKnowledge": article.content,
            "agentInstruction": meta.agent_instruction,
            "questions": list(meta.questions),
            "keywords": list(meta.keywords),
            "escalation": meta.escalation,
            "parentFolderId": meta.parent_folder_id,
            "isDraft": article.draft,
            "version": meta.version,
            "active": meta.active,
            "public": meta.public,
            "origin": meta.origin,
            "originalArticleId": meta.original_article_id,
            "originalArticleVersion": meta.original_article_version,
            "isDraftPublished": meta.is_draft_published,
            "createdAt": meta.created_at,
            "updatedAt": meta.updated_at,
        }

    def add(
        self,
        body: dict[str, Any],
        *,
        draft: bool,
        folder_id: str,
        article_id: str | None = None,
    ) -> Article:
        article = Article(
            title=body["title"],
            content=body["mainKnowledge"],
            draft=draft,
            source_type="article",
            **({"id": article_id} if article_id else {}),
        )
        self.fake.kb.put(article)
        self.meta[article.id] = HelpCenterMeta(parent_folder_id=folder_id)
        self.write(article, body)
        return article

    def write(self, article: Article, body: dict[str, Any]) -> None:
        """Apply a content body (and its optional flags) to an article."""
        meta = self.meta_of(article)
        article.title = body["title"]
        article.content = body["mainKnowledge"]
        meta.agent_instruction = body["agentInstruction"]
        meta.questions = list(body["questions"])
        meta.keywords = list(body["keywords"])
        meta.escalation = body["escalation"]
        for key in ("active", "public"):
            if key in body:
                setattr(meta, key, body[key])
        if "origin" in body:
            meta.origin = body["origin"]
        meta.updated_at = now_iso()

    def remove(self, article_id: str) -> None:
        self.fake.kb.articles.pop(article_id, None)
        self.meta.pop(article_id, None)

    # -- folders -------------------------------------------------------------------------------

    def subtree(self, folder_id: str) -> set[str]:
        """The folder and every folder under it."""
        out = {folder_id}
        grew = True
        while grew:
            grew = False
            for folder in self.folders.values():
                if folder.parent_folder_id in out and folder.id not in out:
                    out.add(folder.id)
                    grew = True
        return out

    def node(self, folder: FakeFolder) -> dict[str, Any]:
        children = [f for f in self.folders.values() if f.parent_folder_id == folder.id]
        arts = [
            {"id": a.id, "title": a.title, "isDraft": a.draft}
            for a in self.fake.kb.articles.values()
            if self.meta_of(a).parent_folder_id == folder.id
        ]
        return {
            **folder.wire(),
            "type": "folder",
            "children": [self.node(c) for c in children],
            "articles": arts,
        }

    def snapshot(self, bot_id: str | None) -> dict[str, Any]:
        if bot_id is None:
            roots = [f for f in self.folders.values() if f.parent_folder_id is None]
        else:
            attached = {f for f, b in self.junctions if b == bot_id and f in self.folders}
            # attached folders whose parent is attached too show up inside it
            roots = [
                self.folders[f]
                for f in sorted(attached)
                if self.folders[f].parent_folder_id not in attached
            ]
        return {
            "id": self.snapshot_id,
            "createdAt": self.snapshot_created_at,
            "updatedAt": now_iso(),
            "snapshotObjV2": [self.node(f) for f in roots],
        }


# -- routes --------------------------------------------------------------------------------------


def setup(fake: FakeFini, app: web.Application) -> None:
    articles = "/v2/hc-articles"
    folders = "/v2/hc-folders"
    add_routes(
        fake,
        app,
        [
            ("GET", f"{articles}/public", "articles.list", "read", _list_articles),
            ("POST", f"{articles}/ids/public", "articles.ids", "read", _by_ids),
            ("POST", f"{articles}/public", "articles.create", "write", _create),
            ("PUT", f"{articles}/{{id}}/public", "articles.update", "write", _update),
            ("POST", f"{articles}/{{id}}/draft/public", "articles.draft", "write", _draft),
            ("POST", f"{articles}/{{id}}/publish/public", "articles.publish", "write", _publish),
            ("DELETE", f"{articles}/{{id}}/public", "articles.delete", "write", _delete),
            ("PUT", f"{articles}/{{id}}/move/public", "articles.move", "write", _move),
            ("GET", f"{folders}/public", "folders.tree", "read", folder_tree),
            ("POST", f"{folders}/public", "folders.create", "write", folder_create),
            ("PUT", f"{folders}/{{id}}/public", "folders.update", "write", folder_update),
            ("PUT", f"{folders}/{{id}}/move/public", "folders.move", "write", folder_move),
            ("DELETE", f"{folders}/{{id}}/public", "folders.delete", "write", folder_delete),
            (
                "POST",
                "/v2/hc-bot-folder-junctions/public",
                "folders.junctions",
                "write",
                junctions,
            ),
        ],
    )


def _content_problems(fake: FakeFini, body: dict[str, Any]) -> Checker:
    check = Checker(fake, body)
    check.text("title")
    check.text("mainKnowledge")
    check.text("agentInstruction", empty=True)
    check.strings("questions")
    check.strings("keywords")
    check.flag("escalation", required=True)
    check.flag("active")
    check.flag("public")
    return check


async def _list_articles(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    kind = request.query.get("type")
    if kind not in (None, "live", "draft"):
        return fake.error(400, ["type must be one of the following values: live, draft"])
    out = [
        hc.wire(a)
        for a in list(kb.articles.values())
        if kind is None or a.draft == (kind == "draft")
    ]
    return json_response(out)


async def _by_ids(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.strings("articleIds", non_empty=False)
    if (error := check.error()) is not None:
        return error
    # missing ids are silently dropped: no 404
    found = [kb.articles[i] for i in dict.fromkeys(body["articleIds"]) if i in kb.articles]
    return json_response([hc.wire(a) for a in found])


async def _create(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = _content_problems(fake, body)
    check.text("parentFolderId")
    check.flag("isDraft")
    check.text("origin", required=False)
    if (error := check.error()) is not None:
        return error
    if body["parentFolderId"] not in hc.folders:
        return fake.error(404, "Parent folder not found")
    # active/public/originalArticleId are ignored here: new articles take the defaults
    clean = {k: v for k, v in body.items() if k not in ("active", "public")}
    article = hc.add(clean, draft=body.get("isDraft", False), folder_id=body["parentFolderId"])
    return json_response(hc.wire(article), status=201)


async def _update(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = _content_problems(fake, body)
    check.forbid("parentFolderId", "isDraft", "origin")
    if (error := check.error()) is not None:
        return error
    article = kb.articles.get(request.match_info["id"])
    if article is None:
        return fake.error(404, "Article not found")
    hc.write(article, body)
    hc.meta_of(article).version += 1
    return json_response(hc.wire(article))


async def _draft(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = _content_problems(fake, body)
    check.text("origin", required=False)
    if (error := check.error()) is not None:
        return error
    live = kb.articles.get(request.match_info["id"])
    if live is None or live.draft:
        return json_response(None)  # documented quirk: 200 null, not 404
    meta = hc.meta_of(live)
    fork = hc.add(body, draft=True, folder_id=meta.parent_folder_id)
    fork_meta = hc.meta_of(fork)
    fork_meta.original_article_id = live.id
    fork_meta.original_article_version = meta.version
    fork_meta.is_draft_published = False
    return json_response(hc.wire(fork))


async def _publish(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = _content_problems(fake, body)
    check.text("origin", required=False)
    if (error := check.error()) is not None:
        return error
    pending = kb.articles.get(request.match_info["id"])
    if pending is None or not pending.draft:
        return fake.error(404, "Draft article not found")
    meta = hc.meta_of(pending)
    original = kb.articles.get(meta.original_article_id or "")
    if original is not None and not original.draft:
        hc.write(original, body)  # the live original takes the draft's content
        hc.meta_of(original).version += 1
        live = original
    else:  # a draft of its own becomes a new live article, with a new id
        live = hc.add(body, draft=False, folder_id=meta.parent_folder_id)
        live_meta = hc.meta_of(live)
        live_meta.origin = body.get("origin", meta.origin)
    hc.remove(pending.id)
    return json_response(hc.wire(live))


async def _delete(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    article = kb.articles.get(request.match_info["id"])
    if article is None:
        return fake.error(404, "Article not found")
    out = hc.wire(article)
    hc.remove(article.id)
    return json_response(out)


async def _move(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    hc = fake.articles
    kb = fake.kb
    body = await json_body(fake, request)
    if isinstance(body, web.Response):
        return body
    check = Checker(fake, body)
    check.text("parentFolderId")
    if (error := check.error()) is not None:
        return error
    article = kb.articles.get(request.match_info["id"])
    if article is None:
        return fake.error(404, "Article not found")
    if body["parentFolderId"] not in hc.folders:
        return fake.error(404, "Destination folder not found")
    meta = hc.meta_of(article)
    meta.parent_folder_id = body["parentFolderId"]
    meta.updated_at = now_iso()
    return json_response(hc.wire(article))
