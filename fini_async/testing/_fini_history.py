"""Emulated chat history (``GET /v2/bots/requests/public``).

Every ask-question the emulator answers is recorded as a conversation with one request (source
``api``); seed more through ``fake.history``::

    fake.history.add_conversation(source="slack", requests=[("How do I pay?", "By card.")],
                                  feedback_type="thumbs_up", created_at=1_767_000_000_000)
    fake.history.legacy = True      # answer the older envelope: a top-level array of requests

The list is newest first and pages by ``cursor`` (a conversation id, ``direction=next`` meaning
older), answering ``{conversations, hasMore}`` with no cursor, like the route's newer page.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeChat", "FakeHistory"]

FEEDBACK_TYPES = ("thumbs_up", "thumbs_down", "no_feedback")


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass
class FakeChat:
    """One emulated chat-history conversation."""

    id: str
    created_at: int
    source: str = "api"
    channel: str | None = None
    external_id: str | None = None
    user_id: str | None = None
    escalation: bool = False
    has_links: bool = False
    feedback_type: str | None = None
    categories: list[str] = field(default_factory=list)
    bot_name: str = "Default"
    requests: list[dict[str, Any]] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "externalId": self.external_id,
            "source": self.source,
            "channel": self.channel,
            "escalation": self.escalation,
            "hasLinks": self.has_links,
            "feedbackType": self.feedback_type,
            "expectingUserFollowup": False,
            "url": None,
            "categories": self.categories,
            "createdAt": self.created_at,
            "updatedAt": max([self.created_at, *(r["createdAt"] for r in self.requests)]),
            "botRequests": self.requests,
        }

    def to_legacy(self) -> list[dict[str, Any]]:
        return [
            {
                "botName": self.bot_name,
                "createdAt": r["createdAt"],
                "source": self.source,
                "question": r["question"],
                "answer": r["answer"],
                "categories": r["categories"],
                "basedOn": r["basedOn"],
                "messageHistory": [
                    {"role": "user", "content": r["question"]},
                    {"role": "assistant", "content": r["answer"]},
                ],
            }
            for r in self.requests
        ]


class FakeHistory:
    """The chat-history side of ``FakeFini`` (reachable as ``fake.history``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        self.chats: dict[str, FakeChat] = {}
        #: Answer the route's older envelope (a top-level array of requests, no paging).
        self.legacy = False

    def add_conversation(
        self,
        *,
        requests: Iterable[tuple[str, str]] = (("What is Fini?", "A support AI."),),
        source: str = "api",
        created_at: int | None = None,
        feedback_type: str | None = None,
        escalation: bool = False,
        has_links: bool = False,
        categories: Iterable[str] = (),
        user_id: str | None = None,
        external_id: str | None = None,
        based_on: list[dict[str, Any]] | None = None,
    ) -> FakeChat:
        """Store a conversation of ``(question, answer)`` requests."""
        when = _now_ms() if created_at is None else created_at
        cats = list(categories)
        chat = FakeChat(
            id=str(uuid.uuid4()),
            created_at=when,
            source=source,
            external_id=external_id,
            user_id=user_id,
            escalation=escalation,
            has_links=has_links,
            feedback_type=feedback_type,
            categories=cats,
            requests=[
                {
                    "question": q,
                    "answer": a,
                    "categories": cats,
                    "escalation": escalation,
                    "reasoning": None,
                    "feedbackType": feedback_type,
                    "expectingUserFollowup": False,
                    "createdAt": when + i,
                    "basedOn": based_on or [],
                }
                for i, (q, a) in enumerate(requests)
            ],
        )
        self.chats[chat.id] = chat
        return chat

    def record(self, question: str, answer: str, categories: list[str], based_on: Any) -> None:
        """An ask-question the emulator answered."""
        self.add_conversation(
            requests=[(question, answer)],
            categories=categories,
            based_on=[{**b, "id": b.get("source_id")} for b in based_on if isinstance(b, dict)],
        )

    def list_page(self, query: Any) -> tuple[int, Any]:
        try:
            limit = int(query.get("limit", "50"))
            start = int(query["startEpoch"]) if "startEpoch" in query else None
            end = int(query["endEpoch"]) if "endEpoch" in query else None
        except ValueError:
            return 400, ["limit, startEpoch and endEpoch must be integers"]
        if not 1 <= limit <= 100:
            return 400, ["limit must be between 1 and 100"]
        feedback = query.get("feedbackType")
        if feedback is not None and feedback not in FEEDBACK_TYPES:
            return 400, [f"feedbackType must be one of {', '.join(FEEDBACK_TYPES)}"]
        flags: dict[str, bool] = {}
        for name in ("escalation", "hasLinks"):
            if name in query:
                if query[name] not in ("true", "false"):
                    return 400, [f"{name} must be a boolean value"]
                flags[name] = query[name] == "true"
        sources = [s for s in query.getall("source", []) if s != "all"]
        question = query.get("question", "").lower()
        chats = sorted(self.chats.values(), key=lambda c: (c.created_at, c.id), reverse=True)
        selected = [
            c
            for c in chats
            if (start is None or c.created_at >= start)
            and (end is None or c.created_at <= end)
            and (not sources or c.source in sources)
            and ("category" not in query or query["category"] in c.categories)
            and (feedback is None or (c.feedback_type or "no_feedback") == feedback)
            and flags.get("escalation", c.escalation) == c.escalation
            and flags.get("hasLinks", c.has_links) == c.has_links
            and ("userId" not in query or c.user_id == query["userId"])
            and ("ticketId" not in query or c.external_id == query["ticketId"])
            and (not question or any(question in r["question"].lower() for r in c.requests))
        ]
        if self.legacy:
            return 200, [r for c in selected for r in c.to_legacy()]
        cursor = query.get("cursor")
        if cursor is not None:
            ids = [c.id for c in selected]
            if cursor not in ids:
                return 400, ["cursor is not a conversation of this listing"]
            at = ids.index(cursor)
            if query.get("direction", "next") == "next":  # next is older
                selected = selected[at + 1 :]
            else:
                selected = selected[max(0, at - limit) : at]
        page = selected[:limit]
        return 200, {
            "conversations": [c.to_wire() for c in page],
            "hasMore": len(selected) > limit,
        }


def setup(fake: FakeFini, app: web.Application) -> None:
    async def history(request: web.Request) -> web.StreamResponse:
        status, body = fake.history.list_page(request.query)
        if status >= 400:
            return fake.error(status, body)
        return json_response(body, status=status)

    fake.route(app, "GET", "/v2/bots/requests/public", "bots.history", "read", history)
