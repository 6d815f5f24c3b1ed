"""Emulated legacy knowledge items: list (filters, no paging), create and update.

Items live in ``fake.knowledge_items.items``; a ``LIVE`` item is also an article of the
emulator's knowledge base (``fake.kb``, same id), so ask-question answers from it, while
``IN_REVIEW`` and ``DRAFT`` items are drafts there. Create and update take the whole item and
refuse a body missing any field with 400; updating an unknown id answers 404 (the docs name no
error statuses: this is the emulator's choice). List items carry ``botIds`` as a map of agent id
to ``SUCCESS``; create and update answers do not.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._kb import Article
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeKnowledgeItems"]

STATUSES = ("LIVE", "IN_REVIEW", "DRAFT")
_LISTS = ("botIds", "similarQs", "keywords", "categories", "subcategories")
COMPANY_ID = "00000000-0000-4000-8000-00000000c0de"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class FakeKnowledgeItems:
    """The knowledge-items side of ``FakeFini`` (reachable as ``fake.knowledge_items``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        #: Stored items (wire dicts, ``botIds`` kept as the list sent).
        self.items: dict[str, dict[str, Any]] = {}
        self._number = 0

    def _problems(self, body: Any) -> list[str]:
        if not isinstance(body, dict):
            return ["Body must be a JSON object"]
        problems = []
        for key in ("question", "answer"):
            if not isinstance(body.get(key), str) or not body[key].strip():
                problems.append(f"{key} must be a non-empty string")
        if body.get("status") not in STATUSES:
            problems.append(f"status must be one of the following values: {', '.join(STATUSES)}")
        for key in _LISTS:
            value = body.get(key)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{key} must be an array of strings")
        if not isinstance(body.get("escalation"), bool):
            problems.append("escalation must be a boolean value")
        if "instruction" not in body or not isinstance(body["instruction"], (str, type(None))):
            problems.append("instruction must be a string or null")
        return problems

    def _sync_kb(self, item: dict[str, Any]) -> None:
        self.fake.kb.put(
            Article(
                id=item["id"],
                title=item["question"],
                content=item["answer"],
                draft=item["status"] != "LIVE",
                source_id=item["id"],
                source_type="knowledge_item",
            )
        )

    def _answer(self, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if k != "botIds"}

    def create(self, body: Any) -> tuple[int, Any]:
        problems = self._problems(body)
        if problems:
            return 400, problems
        self._number += 1
        now = _now()
        item = {
            "id": str(uuid.uuid4()),
            "companyId": COMPANY_ID,
            "userId": None,
            "createdAt": now,
            "updatedAt": now,
            "knowledgeNumber": self._number,
            "updatedBy": "api",
            **{k: body[k] for k in ("status", "question", "answer", "instruction", "escalation")},
            **{k: list(body[k]) for k in _LISTS},
        }
        self.items[item["id"]] = item
        self._sync_kb(item)
        return 201, self._answer(item)

    def update(self, item_id: str, body: Any) -> tuple[int, Any]:
        item = self.items.get(item_id)
        if item is None:
            return 404, f"Knowledge item {item_id} not found"
        problems = self._problems(body)
        if problems:
            return 400, problems
        for key in ("status", "question", "answer", "instruction", "escalation"):
            item[key] = body[key]
        for key in _LISTS:
            item[key] = list(body[key])
        item["updatedAt"] = _now()
        self._sync_kb(item)
        return 200, self._answer(item)

    def list(self, query: Any) -> tuple[int, Any]:
        status = query.get("status")
        if status is not None and status not in STATUSES:
            return 400, [f"status must be one of the following values: {', '.join(STATUSES)}"]
        escalation = query.get("escalation")
        if escalation is not None and escalation not in ("true", "false"):
            return 400, ["escalation must be a boolean value"]

        def keep(item: dict[str, Any]) -> bool:
            if status is not None and item["status"] != status:
                return False
            if escalation is not None and item["escalation"] != (escalation == "true"):
                return False
            for key in ("question", "answer", "instruction"):
                wanted = query.get(key)
                if wanted is not None and wanted.lower() not in (item[key] or "").lower():
                    return False
            for key, field in (
                ("keyword", "keywords"),
                ("category", "categories"),
                ("subcategory", "subcategories"),
            ):
                wanted = query.get(key)
                if wanted is not None and wanted not in item[field]:
                    return False
            return True

        out = []
        for item in sorted(self.items.values(), key=lambda i: i["knowledgeNumber"]):
            if keep(item):
                out.append({**item, "botIds": {b: "SUCCESS" for b in item["botIds"]}})
        return 200, {"knowledgeItems": out}


def setup(fake: FakeFini, app: web.Application) -> None:
    items = fake.knowledge_items

    def reply(status: int, body: Any) -> web.Response:
        if status >= 400:
            return fake.error(status, body)
        return json_response(body, status=status)

    async def body_of(request: web.Request) -> Any:
        try:
            return json.loads(await request.read() or b"null")
        except ValueError:
            return None

    async def list_items(request: web.Request) -> web.StreamResponse:
        return reply(*items.list(request.query))

    async def create(request: web.Request) -> web.StreamResponse:
        return reply(*items.create(await body_of(request)))

    async def update(request: web.Request) -> web.StreamResponse:
        return reply(*items.update(request.match_info["id"], await body_of(request)))

    base = "/v2/knowledge-items"
    fake.route(app, "GET", f"{base}/public", "knowledge_items.list", "read", list_items)
    fake.route(app, "POST", f"{base}/public", "knowledge_items.create", "write", create)
    fake.route(app, "PUT", f"{base}/{{id}}/public", "knowledge_items.update", "write", update)
