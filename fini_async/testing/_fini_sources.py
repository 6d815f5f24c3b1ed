"""Emulated knowledge sources ("documents"): list, get, ingest, deep crawl, refresh, delete,
provider discovery and registration.

Configure and seed it through ``fake.sources``::

    doc = fake.sources.add_source("https://example.com/pricing", text="Plans start at $10.")
    fake.sources.pages["https://example.com/pricing"] = "Plans start at $12."  # the site changed
    fake.sources.fail_on("broken.example")       # fetches of matching URLs/ids end FAILED
    fake.sources.connect("notion", [{"externalId": "n1", "title": "Handbook", ...}])
    fake.sources.foreign.add(doc.id)             # exists, but in another workspace (403)
    fake.sources.pending_for, fake.sources.run_for = 0.05, 0.1   # a fetch's timeline

Like the real API: the list is newest ``updatedAt`` first (ties by ``externalId`` desc), pages
by ``cursor`` (a source id) where ``direction=next`` means *older*, and answers
``{documents, hasMore}`` with no cursor. A fetch (ingest or refresh) moves the source's
``linkedJobStatus`` ``PENDING -> IN_PROGRESS -> COMPLETED`` (or ``FAILED``); on completion its
``paragraphs`` hold the page's text (``pages[url]``), ``oldParagraphs`` the previous run's, and
``changed`` says whether they differ. Refresh and delete are all-or-nothing (400 on any unknown
id); ``get`` answers 404 for an unknown id and 400 for a non-UUID. The text of every fetched
source is what bulk knowledge generation reads (``fake.knowledge.documents``), and a knowledge
job queued for a source shows as its ``linkedJobId``/``linkedJobStatus``/``linkedKnowledgeId``.
"""

from __future__ import annotations

import time
import urllib.parse
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from ._fini_sources_list import is_uuid as _is_uuid
from ._fini_sources_list import page_of, parse_query
from ._fini_sources_routes import setup

if TYPE_CHECKING:
    from ._fini import FakeFini
    from ._fini_knowledge import FakeJob

__all__ = ["FakeSource", "FakeSources", "setup"]

INGEST_SOURCES = ("web", "googledrive", "notion", "zendesk", "confluence")
PROVIDERS = ("notion", "zendesk", "confluence")


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urllib.parse.urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _title_of(url: str) -> str:
    path = urllib.parse.urlsplit(url).path.strip("/")
    last = path.rsplit("/", 1)[-1] if path else urllib.parse.urlsplit(url).netloc
    return last.replace("-", " ").replace("_", " ").strip().capitalize() or url


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n\n") if p.strip()]


@dataclass
class FakeSource:
    """One emulated source record."""

    id: str
    original_url: str
    title: str
    source: str = "web"
    external_id: str = ""
    english: bool = False
    baser: bool = False
    paragraphs: list[str] = field(default_factory=list)
    old_paragraphs: list[str] = field(default_factory=list)
    success: bool = False
    error: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    updated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    mime_type: str = "text/markdown"
    type: str = "page"
    linked_job_id: str | None = None
    linked_knowledge_id: str | None = None
    linked_operation: str | None = None
    changed: bool = False
    #: The fetch (ingest or refresh) in progress: when it started (monotonic) and its timeline.
    fetch_started: float | None = None
    fetch_pending_for: float = 0.0
    fetch_run_for: float = 0.0
    fetch_job_id: str | None = None
    fetch_state: str | None = None
    fetch_began: float = float("-inf")

    def key(self) -> tuple[datetime, str]:
        return (self.updated_at, self.external_id)


class FakeSources:
    """The sources side of ``FakeFini`` (reachable as ``fake.sources``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        self.documents: dict[str, FakeSource] = {}
        #: The text a fetch of a URL (or a provider item's external id) finds.
        self.pages: dict[str, str] = {}
        #: Fetches of sources whose URL, id or external id contains one of these fail.
        self.fail_inputs: set[str] = set()
        #: Ids of sources that exist in another workspace (403 on every route).
        self.foreign: set[str] = set()
        #: Connected providers and their importable items (camelCase wire dicts).
        self.connected: dict[str, list[dict[str, Any]]] = {}
        #: URLs a deep crawl finds below each seed (besides the ``pages`` under it).
        self.crawl_width = 5
        #: The last JSON body each route received (tests check what a client sent).
        self.last_bodies: dict[str, Any] = {}
        self.pending_for = 0.05
        self.run_for = 0.1

    # -- seeding and configuration ---------------------------------------------------------------

    def add_source(
        self,
        url: str = "",
        *,
        text: str = "",
        title: str | None = None,
        source: str = "web",
        external_id: str | None = None,
        updated_at: datetime | None = None,
        english: bool = False,
        changed: bool = False,
        linked_knowledge_id: str | None = None,
        linked_operation: str | None = None,
        id: str | None = None,
    ) -> FakeSource:
        """Store an already-ingested source (``success`` true, ``paragraphs`` from ``text``)."""
        url = url or f"https://example.com/{uuid.uuid4().hex[:8]}"
        text = text or self.pages.get(url) or f"Content of {url}."
        self.pages.setdefault(url, text)
        when = updated_at or datetime.now(timezone.utc)
        doc = FakeSource(
            id=id or str(uuid.uuid4()),
            original_url=url,
            title=title or _title_of(url),
            source=source,
            external_id=external_id or url,
            english=english,
            paragraphs=_paragraphs(text),
            success=True,
            created_at=when,
            updated_at=when,
            changed=changed,
            linked_knowledge_id=linked_knowledge_id,
            linked_operation=linked_operation,
        )
        self.documents[doc.id] = doc
        self.fake.knowledge.documents[doc.id] = text
        return doc

    def fail_on(self, marker: str) -> None:
        """Fetches of sources whose URL, id or external id contains ``marker`` end FAILED."""
        self.fail_inputs.add(marker)

    def connect(self, provider: str, items: Iterable[dict[str, Any]]) -> None:
        """Connect ``provider`` with these importable items (as discovery answers them)."""
        self.connected[provider] = [dict(i) for i in items]

    # -- the fetch timeline ----------------------------------------------------------------------

    def start_fetch(self, doc: FakeSource) -> None:
        doc.fetch_started = doc.fetch_began = time.monotonic()
        doc.fetch_pending_for = self.pending_for
        doc.fetch_run_for = self.run_for
        doc.fetch_job_id = str(uuid.uuid4())
        doc.fetch_state = "PENDING"

    def _fetch_state(self, doc: FakeSource, now: float) -> str | None:
        if doc.fetch_started is None:
            return doc.fetch_state
        elapsed = now - doc.fetch_started
        if elapsed < doc.fetch_pending_for:
            return "PENDING"
        if elapsed < doc.fetch_pending_for + doc.fetch_run_for:
            return "IN_PROGRESS"
        self._settle(doc)
        return doc.fetch_state

    def _settle(self, doc: FakeSource) -> None:
        doc.fetch_started = None
        haystack = (doc.original_url, doc.id, doc.external_id)
        if any(m in h for m in self.fail_inputs for h in haystack):
            doc.success = False
            doc.error = f"Failed to fetch {doc.original_url}"
            doc.fetch_state = "FAILED"
        else:
            text = self.pages.get(doc.original_url) or self.pages.get(doc.external_id)
            text = text or f"Content of {doc.title}."
            new = _paragraphs(text)
            doc.changed = bool(doc.paragraphs) and new != doc.paragraphs
            doc.old_paragraphs, doc.paragraphs = doc.paragraphs, new
            doc.success, doc.error = True, ""
            doc.fetch_state = "COMPLETED"
            self.fake.knowledge.documents[doc.id] = text
        doc.updated_at = datetime.now(timezone.utc)

    def settle_due(self) -> None:
        """Finish every fetch whose time is up (called before each read)."""
        now = time.monotonic()
        for doc in list(self.documents.values()):
            if doc.fetch_started is not None:
                self._fetch_state(doc, now)

    # -- wire ----------------------------------------------------------------------------------

    def _knowledge_jobs(self) -> dict[str, FakeJob]:
        """The latest knowledge job queued for each source id."""
        latest: dict[str, FakeJob] = {}
        for job in self.fake.knowledge.jobs.values():
            doc = job.document_id
            if doc is not None and doc in self.documents:
                seen = latest.get(doc)
                if seen is None or job.created >= seen.created:
                    latest[doc] = job
        return latest

    def to_wire(self, doc: FakeSource, jobs: dict[str, FakeJob], now: float) -> dict[str, Any]:
        status = self._fetch_state(doc, now)
        job_id = doc.fetch_job_id
        job = jobs.get(doc.id)
        if job is not None and job.created >= doc.fetch_began:  # generation after the fetch
            state = job.state(now)
            if state in ("COMPLETED", "FAILED"):
                self.fake.knowledge.settle(job)
            job_id, status = job.id, state
            if job.article_id is not None:
                doc.linked_knowledge_id = job.article_id
                doc.linked_operation = doc.linked_operation or "ADD_ARTICLE_TO_FOLDER"
        return {
            "id": doc.id,
            "originalUrl": doc.original_url,
            "title": doc.title,
            "storageUrl": f"gs://fake-fini-sources/{doc.id}",
            "source": doc.source,
            "externalId": doc.external_id,
            "english": doc.english,
            "baser": doc.baser,
            "paragraphs": doc.paragraphs,
            "oldParagraphs": doc.old_paragraphs,
            "success": doc.success,
            "error": doc.error,
            "createdAt": _iso(doc.created_at),
            "updatedAt": _iso(doc.updated_at),
            "mimeType": doc.mime_type,
            "type": doc.type,
            "linkedJobId": job_id,
            "linkedKnowledgeId": doc.linked_knowledge_id,
            "linkedOperation": doc.linked_operation,
            "linkedReason": None,
            "linkedJobStatus": status,
            "changed": doc.changed,
        }

    # -- routes' logic ---------------------------------------------------------------------------

    def list_page(self, query: Any) -> tuple[int, Any]:
        self.settle_due()
        checked = parse_query(query)
        if isinstance(checked, list):
            return 400, checked
        ordered = sorted(
            (d for d in self.documents.values() if d.id not in self.foreign),
            key=FakeSource.key,
            reverse=True,
        )
        jobs = self._knowledge_jobs()
        now = time.monotonic()
        return page_of(checked, [self.to_wire(d, jobs, now) for d in ordered])

    def get(self, doc_id: str) -> tuple[int, Any]:
        if not _is_uuid(doc_id):
            return 400, ["id must be a UUID"]
        if doc_id in self.foreign:
            return 403, "Forbidden resource"
        doc = self.documents.get(doc_id)
        if doc is None:
            return 404, f"Source {doc_id} not found"
        return 200, self.to_wire(doc, self._knowledge_jobs(), time.monotonic())

    def _find_url(self, url: str) -> FakeSource | None:
        for doc in self.documents.values():
            if doc.source == "web" and doc.original_url == url:
                return doc
        return None

    def ingest(self, body: dict[str, Any]) -> tuple[int, Any]:
        kind = body.get("source", "web")
        if kind not in INGEST_SOURCES:
            return 400, [f"source must be one of the following values: {', '.join(INGEST_SOURCES)}"]
        lists: dict[str, list[str]] = {}
        for key in ("documentIdsToAdd", "documentIdsToRefresh"):
            values = body.get(key, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                return 400, [f"{key} must be an array of strings"]
            lists[key] = values
        for key in ("english", "baser"):
            if key in body and not isinstance(body[key], bool):
                return 400, [f"{key} must be a boolean value"]
        every = lists["documentIdsToAdd"] + lists["documentIdsToRefresh"]
        if not every:
            return 400, ["documentIdsToAdd or documentIdsToRefresh must not be empty"]
        if kind == "web":
            bad = [v for v in every if not _is_url(v)]
            if bad:
                return 400, [f"documentIdsToAdd must contain URLs when source is web: {bad[0]}"]
        else:
            for value in every:
                doc = self.documents.get(value)
                if doc is None or doc.source != kind:
                    return 400, [f"{value} is not a {kind} source of this workspace"]
                if value in self.foreign:
                    return 403, "Forbidden resource"
        added: list[str] = []
        updated: list[str] = []
        for value in dict.fromkeys(every):
            doc = self._find_url(value) if kind == "web" else self.documents[value]
            if doc is None:
                doc = FakeSource(
                    id=str(uuid.uuid4()),
                    original_url=value,
                    title=_title_of(value),
                    external_id=value,
                )
                self.documents[doc.id] = doc
                added.append(doc.id)
            else:
                updated.append(doc.id)
            doc.english = body.get("english", doc.english)
            doc.baser = body.get("baser", doc.baser)
            self.start_fetch(doc)
        return 200, {"addedDocumentIds": added, "updatedDocumentIds": updated}

    def crawl(self, body: dict[str, Any]) -> tuple[int, Any]:
        links = body.get("links")
        if not isinstance(links, list) or not links:
            return 400, ["links must be a non-empty array"]
        bad = [link for link in links if not _is_url(link)]
        if bad:
            return 400, [f"each value in links must be a URL address: {bad[0]!r}"]
        limit = body.get("limit", 250)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            return 400, ["limit must be a positive integer"]
        found: list[str] = []
        for seed in links:
            base = seed.rstrip("/")
            found += [u for u in self.pages if u.startswith(base + "/")]
            found += [f"{base}/page-{i}" for i in range(1, self.crawl_width + 1)]
        data = list(dict.fromkeys(found))[:limit]
        return 200, {"data": data, "message": "Successfully crawled parent URLs"}

    def _check_ids(self, body: dict[str, Any]) -> tuple[int, Any] | list[str]:
        ids = body.get("documentIds")
        if not isinstance(ids, list) or not ids:
            return 400, ["documentIds must be a non-empty array"]
        if not all(_is_uuid(i) for i in ids):
            return 400, ["each value in documentIds must be a UUID"]
        if any(i in self.foreign for i in ids):
            return 403, "Forbidden resource"
        unknown = [i for i in ids if i not in self.documents]
        if unknown:  # all or nothing
            return 400, [f"Unknown document ids: {', '.join(unknown)}"]
        return list(dict.fromkeys(ids))

    def refresh(self, body: dict[str, Any]) -> tuple[int, Any]:
        checked = self._check_ids(body)
        if isinstance(checked, tuple):
            return checked
        files = [i for i in checked if self.documents[i].source == "files"]
        if files:
            return 400, [f"Raw file sources cannot be refreshed: {files[0]}"]
        for doc_id in checked:
            self.start_fetch(self.documents[doc_id])
        return 200, checked

    def delete(self, body: dict[str, Any]) -> tuple[int, Any]:
        checked = self._check_ids(body)
        if isinstance(checked, tuple):
            return checked
        with_articles = body.get("deleteArticles", False)
        if not isinstance(with_articles, bool):
            return 400, ["deleteArticles must be a boolean value"]
        documents = []
        articles = []
        kb = self.fake.kb
        for doc_id in checked:
            doc = self.documents.pop(doc_id)
            self.fake.knowledge.documents.pop(doc_id, None)
            documents.append({"id": doc.id, "title": doc.title, "originalUrl": doc.original_url})
            if with_articles:
                for article in list(kb.articles.values()):
                    if article.source_id == doc_id:
                        del kb.articles[article.id]
                        articles.append(
                            {"id": article.id, "title": article.title, "parentFolderId": None}
                        )
        return 200, {"deletedDocuments": documents, "deletedArticles": articles}

    def discover(self, provider: str) -> tuple[int, Any]:
        if provider not in PROVIDERS or provider not in self.connected:
            return 400, f"{provider} is not connected or not supported"
        imported = {
            d.external_id for d in self.documents.values() if d.source == provider and d.success
        }
        return 200, [i for i in self.connected[provider] if i.get("externalId") not in imported]

    def register(self, provider: str, body: dict[str, Any]) -> tuple[int, Any]:
        if provider not in PROVIDERS or provider not in self.connected:
            return 400, f"{provider} is not connected or not supported"
        items = body.get("resources")
        if not isinstance(items, list) or not items:
            return 400, ["resources must be a non-empty array"]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                return 400, [f"resources.{index} must be an object"]
            for key in ("originalUrl", "title", "externalId", "mimeType"):
                if not isinstance(item.get(key), str) or not item[key]:
                    return 400, [f"resources.{index}.{key} must be a non-empty string"]
        added: list[str] = []
        updated: list[str] = []
        for item in items:
            doc = next(
                (
                    d
                    for d in self.documents.values()
                    if d.source == provider and d.external_id == item["externalId"]
                ),
                None,
            )
            if doc is None:
                doc = FakeSource(
                    id=str(uuid.uuid4()),
                    original_url=item["originalUrl"],
                    title=item["title"],
                    source=provider,
                    external_id=item["externalId"],
                    mime_type=item["mimeType"],
                    type=item.get("object") or "page",
                )
                self.documents[doc.id] = doc
                added.append(doc.id)
            else:
                doc.original_url, doc.title = item["originalUrl"], item["title"]
                doc.mime_type = item["mimeType"]
                doc.updated_at = datetime.now(timezone.utc)
                updated.append(doc.id)
        return 200, {"addedDocumentIds": added, "updatedDocumentIds": updated}
