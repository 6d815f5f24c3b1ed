"""Emulated agent prompts: the merged prompt, its history, and saving a new version.

Configure it through ``fake.agents``::

    fake.agents.add_agent("bot_sales", "Sales")     # an agent of the workspace
    fake.agents.foreign.add("bot_other")            # an agent of another workspace: 406
    fake.agents.template["hcGuidelinePrompt"]       # the workspace template's sections

Like the real API: reads are merged (template plus the latest saved version, each section with
``defaultPrompt`` and ``custom``); with no saved version the template comes back with the
requested ``botId``; the history is newest first and ``[]`` without saved versions; saving
needs all three arrays (400 otherwise) and appends a version. Unknown agents answer 404,
another workspace's agents **406**. The save route has no ``/public`` suffix.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeAgents"]

SECTIONS = ("hcPlanningPrompt", "hcGuidelinePrompt", "hcChannelPrompt")
_HELPERS = ("defaultPrompt", "custom")
_TEMPLATE_TIME = "2026-01-01T00:00:00.000Z"


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _template() -> dict[str, list[dict[str, Any]]]:
    return {
        "hcPlanningPrompt": [
            {"key": "planning", "title": "Planning", "prompt": "Understand the question first."}
        ],
        "hcGuidelinePrompt": [
            {"key": "tone", "title": "Tone", "prompt": "Be friendly and concise."},
            {"key": "escalation", "title": "Escalation", "prompt": "Escalate billing disputes."},
        ],
        "hcChannelPrompt": [
            {"key": "chat", "title": "Chat", "prompt": "Answer in at most three sentences."}
        ],
    }


class FakeAgents:
    """The prompts side of ``FakeFini`` (reachable as ``fake.agents``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        #: Agent ids of another workspace: their prompt routes answer 406.
        self.foreign: set[str] = set()
        #: The workspace template's sections (what a read merges saved versions with).
        self.template = _template()
        #: Saved versions per agent id, oldest first (stored rows, not merged).
        self.versions: dict[str, list[dict[str, Any]]] = {}

    def agent_ids(self) -> set[str]:
        bots = self.fake.state["bots"]
        return set(bots) if bots else {"bot_default"}

    def add_agent(self, bot_id: str, name: str = "") -> None:
        """Add an agent to the workspace (``client.agents.list()`` lists it)."""
        bots = self.fake.state["bots"]
        if not bots:
            bots["bot_default"] = {"id": "bot_default", "name": "Default"}
        bots[bot_id] = {"id": bot_id, "name": name or bot_id}

    def _check(self, bot_id: str) -> tuple[int, Any] | None:
        if bot_id in self.foreign:
            return 406, "Invalid agent"
        if bot_id not in self.agent_ids():
            return 404, f"Agent {bot_id} not found"
        return None

    def _merged(self, bot_id: str, row: dict[str, Any] | None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": row["id"] if row else "template",
            "botId": bot_id,
            "version": row["version"] if row else 0,
            "createdAt": row["createdAt"] if row else _TEMPLATE_TIME,
            "updatedAt": row["updatedAt"] if row else _TEMPLATE_TIME,
        }
        for name in SECTIONS:
            defaults = {s.get("key"): s.get("prompt") for s in self.template[name]}
            sections = row[name] if row else self.template[name]
            merged = []
            for section in sections:
                default = defaults.get(section.get("key"), section.get("prompt"))
                merged.append(
                    {
                        **section,
                        "defaultPrompt": default,
                        "custom": section.get("prompt") != default,
                    }
                )
            out[name] = merged
        return out

    def get(self, bot_id: str) -> tuple[int, Any]:
        refused = self._check(bot_id)
        if refused is not None:
            return refused
        rows = self.versions.get(bot_id)
        return 200, self._merged(bot_id, rows[-1] if rows else None)

    def history(self, bot_id: str) -> tuple[int, Any]:
        refused = self._check(bot_id)
        if refused is not None:
            return refused
        rows = self.versions.get(bot_id, [])
        return 200, [self._merged(bot_id, row) for row in reversed(rows)]

    def save(self, bot_id: str, body: Any) -> tuple[int, Any]:
        refused = self._check(bot_id)
        if refused is not None:
            return refused
        if not isinstance(body, dict):
            return 400, "Body must be a JSON object"
        problems = [
            f"{name} must be an array of objects"
            for name in SECTIONS
            if not isinstance(body.get(name), list)
            or not all(isinstance(s, dict) for s in body[name])
        ]
        if problems:
            return 400, problems
        rows = self.versions.setdefault(bot_id, [])
        now = _iso(datetime.now(timezone.utc))
        row: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "botId": bot_id,
            "version": len(rows) + 1,
            "createdAt": now,
            "updatedAt": now,
        }
        for name in SECTIONS:  # stored rows drop the merged reads' helper fields
            row[name] = [
                {k: v for k, v in s.items() if k not in _HELPERS} for s in copy.deepcopy(body[name])
            ]
        rows.append(row)
        return 201, row


def setup(fake: FakeFini, app: web.Application) -> None:
    agents = fake.agents

    def reply(status: int, body: Any) -> web.Response:
        if status >= 400:
            return fake.error(status, body)
        return json_response(body, status=status)

    async def get_prompt(request: web.Request) -> web.StreamResponse:
        return reply(*agents.get(request.match_info["id"]))

    async def history(request: web.Request) -> web.StreamResponse:
        return reply(*agents.history(request.match_info["id"]))

    async def save(request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return fake.error(400, "Body is not valid JSON")
        return reply(*agents.save(request.match_info["id"], body))

    base = "/v2/bots/{id}/hc-prompt"
    fake.route(app, "GET", f"{base}/public", "agents.prompt", "read", get_prompt)
    fake.route(app, "GET", f"{base}/history/public", "agents.prompt_history", "read", history)
    fake.route(app, "POST", base, "agents.update_prompt", "write", save)
