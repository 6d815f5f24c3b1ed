"""Emulated knowledge tree: initialize (a CSV scaffold from a prompt) and persist (import a tree
file sent as multipart/form-data).

The scaffold's columns are ``folder,subfolder,article_title,article_content`` (the real file's
format is not documented). Persisting a file with at least the ``folder`` and ``article_title``
columns adds each row's article to the emulator's knowledge base (``fake.kb``) and answers
``{status: "SUCCESS", message}``; a file in another format answers 500, a request without a
``file`` part 400. ``fake.knowledge_tree.uploads`` records each received file's name, content
type and bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import BodyPartReader, web

from ._kb import Article
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeKnowledgeTree", "TreeUpload"]

COLUMNS = ("folder", "subfolder", "article_title", "article_content")
FILENAME = "fini-tree-template.csv"
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")


@dataclass
class TreeUpload:
    """One tree file the persist route received."""

    filename: str | None
    content_type: str | None
    data: bytes


def scaffold(prompt: str) -> bytes:
    """A small CSV tree about the prompt's subject."""
    words = [w for w in _WORD.findall(prompt) if len(w) > 3][:3] or ["Support"]
    subject = " ".join(words).capitalize()
    rows = [
        (subject, "Getting started", f"What is {subject}?", f"An overview of {subject}."),
        (subject, "Getting started", f"Setting up {subject}", f"How to set up {subject}."),
        (subject, "Troubleshooting", f"{subject} is not working", "Checks to run first."),
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    return out.getvalue().encode()


class FakeKnowledgeTree:
    """The knowledge-tree side of ``FakeFini`` (reachable as ``fake.knowledge_tree``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        self.uploads: list[TreeUpload] = []
        #: Folder paths created by persisted trees.
        self.folders: set[str] = set()

    def persist(self, data: bytes) -> tuple[int, Any]:
        try:
            rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
        except (UnicodeDecodeError, csv.Error):
            rows = []
        if not rows or not {"folder", "article_title"} <= set(rows[0]):
            return 500, "Failed to persist knowledge folders: check the file format"
        folders: set[str] = set()
        articles = 0
        for row in rows:
            folder = "/".join(p for p in (row.get("folder"), row.get("subfolder")) if p)
            title = (row.get("article_title") or "").strip()
            if folder:
                folders.add(folder)
            if title:
                content = (row.get("article_content") or "").strip() or title
                self.fake.kb.put(Article(title=title, content=content, source_type="tree"))
                articles += 1
        self.folders |= folders
        message = f"Persisted {len(folders)} folders and {articles} articles"
        return 200, {"status": "SUCCESS", "message": message}


def setup(fake: FakeFini, app: web.Application) -> None:
    tree = fake.knowledge_tree

    async def initialize(request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return fake.error(400, "Body is not valid JSON")
        prompt = body.get("initPrompt") if isinstance(body, dict) else None
        if not isinstance(prompt, str) or not prompt.strip():
            return fake.error(400, ["initPrompt must be a non-empty string"])
        return web.Response(
            body=scaffold(prompt),
            content_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{FILENAME}"'},
        )

    async def persist(request: web.Request) -> web.StreamResponse:
        if not request.content_type.startswith("multipart/"):
            return fake.error(400, "Expected multipart/form-data with a 'file' part")
        reader = await request.multipart()
        upload: TreeUpload | None = None
        while True:
            part = await reader.next()
            if part is None:
                break
            if isinstance(part, BodyPartReader) and part.name == "file":
                data = await part.read()
                ctype = part.headers.get("Content-Type")
                upload = TreeUpload(part.filename, ctype, bytes(data))
            elif isinstance(part, BodyPartReader):
                await part.release()
        if upload is None:
            return fake.error(400, "file is required")
        tree.uploads.append(upload)
        status, out = tree.persist(upload.data)
        if status >= 400:
            return fake.error(status, out)
        return json_response(out, status=status)

    base = "/v2/knowledge/public/tree"
    fake.route(app, "POST", f"{base}/initialize", "knowledge.tree.initialize", "write", initialize)
    fake.route(app, "POST", f"{base}/persist", "knowledge.tree.persist", "write", persist)
