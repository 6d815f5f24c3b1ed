"""Emulated conversations: Generate Answer, the paginated list, get, delete and bulk delete.

Configure and seed it through ``fake.conversations`` (also ``fake.add_conversation`` and
``fake.seed_conversations``)::

    fake.seed_conversations(1000, span_days=200)        # spread over the last 200 days
    conv = fake.add_conversation(created_at=some_datetime, source="widget", channel="chat",
                                 events=[("user", "hi"), ("finibot", "hello")])
    fake.conversations.bounds = "[)"      # since inclusive, until exclusive (default "[]")
    fake.conversations.list_key = "conversations"   # the list's key (default "interactions")
    fake.conversations.inaccessible.add(conv.id)    # exists, but bulk delete answers 406 for it

Like the real API: the list is newest first, pages by ``cursor`` (a conversation id) where
``direction=next`` means *older*, refuses windows over 90 days and ``since >= until`` with 400,
and defaults to the last 7 days. ``get``/``delete`` of an unknown id answer 500 (documented), as
does Generate Answer with an unknown ``interactionId``/``botId``. Bulk delete takes 1..50 unique
UUIDs and, when some are inaccessible, deletes the others and answers 406.
"""

from __future__ import annotations

import bisect
import json
import random
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._fini_conversation_list import DAY_MS, ListQuery, page_bounds, parse_list_query
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["FakeConversation", "FakeConversations", "conversations_of"]

ROLES = ("user", "agent", "finibot", "otherbot")
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
MAX_BULK = 50

_SEED_QUESTIONS = (
    "How do I upgrade to premium?",
    "How can I reset my password?",
    "What is your refund policy?",
    "Can I cancel my annual plan?",
    "What is Fini?",
    "Do you ship to Mars?",
)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def _to_ms(value: datetime | int | float | None, default: int) -> int:
    if value is None:
        return default
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return (value - _EPOCH) // timedelta(milliseconds=1)
    return int(value)


@dataclass
class FakeConversation:
    """One emulated conversation (``created_at`` in epoch ms)."""

    id: str
    created_at: int
    bot_id: str = "bot_default"
    source: str = "api"
    channel: str = "chat"
    status: str = "open"
    external_id: str | None = None
    url: str | None = None
    subject_preview: str | None = None
    has_feedback: bool = False
    resolved: bool | None = None
    user_attributes: dict[str, Any] = field(default_factory=dict)
    used_articles: list[dict[str, Any]] = field(default_factory=list)
    used_subfolders: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[int, str]:
        """The list's sort key (newest first = descending)."""
        return (self.created_at, self.id)

    def to_wire(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "createdAt": self.created_at,
            "botId": self.bot_id,
            "source": self.source,
            "channel": self.channel,
            "status": self.status,
            "externalId": self.external_id,
            "url": self.url,
            "subjectPreview": self.subject_preview,
            "hasFeedback": self.has_feedback,
            "resolved": self.resolved,
            "userAttributes": self.user_attributes,
            "usedArticles": self.used_articles,
            "usedSubfolders": self.used_subfolders,
            "events": self.events,
            "metadata": self.metadata,
        }


def make_event(
    role: str,
    message: str,
    *,
    created_at: int | None = None,
    used_articles: list[dict[str, Any]] | None = None,
    csat_rating: int | None = None,
    external_id: str | None = None,
) -> dict[str, Any]:
    """A public event object as the API returns it."""
    return {
        "id": str(uuid.uuid4()),
        "createdAt": _now_ms() if created_at is None else created_at,
        "role": role,
        "type": "message",
        "message": message,
        "externalId": external_id,
        "externalCreatedAt": None,
        "csatRating": csat_rating,
        "feedback": None,
        "approved": None,
        "resolved": None,
        "attachments": [],
        "tags": [],
        "usedArticles": used_articles or [],
    }


class FakeConversations:
    """The conversation side of ``FakeFini`` (reachable as ``fake.conversations``)."""

    def __init__(self, fake: FakeFini) -> None:
        self.fake = fake
        self.conversations: dict[str, FakeConversation] = {}
        #: Sort keys of deleted conversations, so that a cursor on one still works.
        self.tombstones: dict[str, tuple[int, str]] = {}
        #: Ids that exist but this workspace's key may not touch (bulk delete answers 406).
        self.inaccessible: set[str] = set()
        #: Whether ``since`` / ``until`` are inclusive: "[]", "[)", "(]" or "()".
        self.bounds = "[]"
        #: The list response's key: "interactions" (documented) or "conversations".
        self.list_key = "interactions"
        #: ``(query dict, number of items returned)`` for each list call that reached the handler.
        self.list_log: list[tuple[dict[str, str], int]] = []
        self._order: list[tuple[int, str]] | None = None  # ascending keys

    # -- seeding -------------------------------------------------------------------------------

    def add_conversation(
        self,
        *,
        created_at: datetime | int | float | None = None,
        id: str | None = None,
        bot_id: str = "bot_default",
        source: str = "api",
        channel: str = "chat",
        status: str = "open",
        events: Iterable[tuple[str, str] | dict[str, Any]] | None = None,
        user_attributes: dict[str, Any] | None = None,
        external_id: str | None = None,
        resolved: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> FakeConversation:
        """Store a conversation (``created_at``: a datetime or epoch ms; default now). ``events``
        are ``(role, message)`` pairs or full event dicts."""
        created = _to_ms(created_at, _now_ms())
        conv = FakeConversation(
            id=id or str(uuid.uuid4()),
            created_at=created,
            bot_id=bot_id,
            source=source,
            channel=channel,
            status=status,
            external_id=external_id,
            resolved=resolved,
            user_attributes=dict(user_attributes or {}),
            metadata=dict(metadata or {}),
        )
        for offset, item in enumerate(events or ()):
            if isinstance(item, dict):
                conv.events.append(item)
            else:
                role, message = item
                conv.events.append(make_event(role, message, created_at=created + offset))
        first_user = next((e for e in conv.events if e.get("role") == "user"), None)
        if first_user is not None:
            conv.subject_preview = str(first_user.get("message") or "")[:100]
        self.put(conv)
        return conv

    def seed_conversations(
        self,
        n: int,
        *,
        span_days: float = 30,
        end: datetime | int | float | None = None,
        seed: int = 0,
        sources: Sequence[str] = ("api", "widget", "slack", "zendesk"),
        channels: Sequence[str] = ("chat", "email"),
        bot_ids: Sequence[str] = ("bot_default",),
    ) -> list[FakeConversation]:
        """Store ``n`` conversations spread evenly (with a little jitter, deterministic for a
        ``seed``) over the ``span_days`` before ``end`` (default now), each with a user question
        and Fini's answer from the knowledge base. Returns them newest first. Some share a
        creation millisecond, as real traffic does."""
        if n <= 0:
            return []
        rng = random.Random(seed)
        end_ms = _to_ms(end, _now_ms()) - 1
        span = int(span_days * DAY_MS)
        step = span / n
        out: list[FakeConversation] = []
        for i in range(n):
            created = end_ms - int(i * step + rng.random() * step * 0.5)
            if i % 97 == 1 and out:
                created = out[-1].created_at  # a tie: same millisecond as the previous one
            question = rng.choice(_SEED_QUESTIONS)
            answer, _ = self.fake.kb.answer(question)
            out.append(
                self.add_conversation(
                    created_at=created,
                    bot_id=bot_ids[i % len(bot_ids)],
                    source=sources[i % len(sources)],
                    channel=channels[i % len(channels)],
                    events=[("user", question), ("finibot", answer)],
                    user_attributes={"seq": i},
                )
            )
        out.sort(key=lambda c: c.key, reverse=True)
        return out

    def put(self, conv: FakeConversation) -> None:
        self.conversations[conv.id] = conv
        self.tombstones.pop(conv.id, None)
        self._order = None

    def remove(self, conv_id: str) -> bool:
        conv = self.conversations.pop(conv_id, None)
        if conv is None:
            return False
        self.tombstones[conv_id] = conv.key
        self._order = None
        return True

    def ordered(self) -> list[FakeConversation]:
        """Every conversation, newest first (the list's order)."""
        return [self.conversations[k[1]] for k in reversed(self._keys())]

    def _keys(self) -> list[tuple[int, str]]:
        if self._order is None:
            self._order = sorted(c.key for c in self.conversations.values())
        return self._order

    # -- list ----------------------------------------------------------------------------------

    def _in_bounds(self, created: int, since: int, until: int) -> bool:
        lo_ok = created >= since if self.bounds[0] == "[" else created > since
        hi_ok = created <= until if self.bounds[1] == "]" else created < until
        return lo_ok and hi_ok

    def list_page(self, query: dict[str, str], sources: list[str]) -> tuple[int, Any]:
        """The status and body of a list call."""
        parsed = parse_list_query(query, sources, now=_now_ms())
        if not isinstance(parsed, ListQuery):
            return parsed  # the 400 the API answers
        matches = self._matching(parsed)
        start, end = 0, len(matches)
        if parsed.cursor:
            if parsed.cursor in self.conversations:
                ckey = self.conversations[parsed.cursor].key
            elif parsed.cursor in self.tombstones:
                ckey = self.tombstones[parsed.cursor]
            else:
                return 400, "Invalid cursor"
            start, end = page_bounds([c.key for c in matches], ckey, parsed)
        page = matches[start : min(end, start + parsed.limit)]
        has_more = start + len(page) < len(matches)
        body = {
            self.list_key: [c.to_wire() for c in page],
            "hasMore": has_more,
            "nextCursor": page[-1].id if has_more and page else None,
            "prevCursor": page[0].id if page and start > 0 else None,
        }
        self.list_log.append((dict(query), len(page)))
        return 200, body

    def _matching(self, q: ListQuery) -> list[FakeConversation]:
        """The conversations in the window that pass the filters, newest first."""
        keys = self._keys()
        # keys in the window, newest first (bisect on the ascending keys, then filter)
        lo = bisect.bisect_left(keys, (q.since, ""))
        hi = bisect.bisect_right(keys, (q.until, "\uffff"))
        matches: list[FakeConversation] = []
        for key in reversed(keys[lo:hi]):
            conv = self.conversations[key[1]]
            if not self._in_bounds(conv.created_at, q.since, q.until):
                continue
            if q.agent is not None and conv.bot_id != q.agent:
                continue
            if q.sources and conv.source not in q.sources:
                continue
            if q.channel is not None and conv.channel != q.channel:
                continue
            matches.append(conv)
        return matches

    # -- generate answer -----------------------------------------------------------------------

    def known_bots(self) -> set[str]:
        bots = self.fake.state["bots"]
        return set(bots) if bots else {"bot_default"}

    def generate(self, body: Any) -> tuple[int, Any]:
        if not isinstance(body, dict):
            return 400, "Body must be a JSON object"
        problems = []
        content = body.get("content")
        if not isinstance(content, str) or not content.strip():
            problems.append("content should not be empty")
        role = body.get("role", "user")
        if role not in ROLES:
            problems.append(f"role must be one of the following values: {', '.join(ROLES)}")
        interaction_id = body.get("interactionId")
        bot_id = body.get("botId")
        if interaction_id is None and bot_id is None:
            problems.append("interactionId or botId is required")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            problems.append("metadata must be an object")
        if problems or not isinstance(content, str):
            return 400, problems
        now = _now_ms()
        if interaction_id is not None:
            conv = self.conversations.get(str(interaction_id))
            if conv is None:
                return 500, "Internal server error"
        else:
            if bot_id not in self.known_bots():
                return 500, "Internal server error"
            conv = FakeConversation(
                id=str(uuid.uuid4()), created_at=now, bot_id=str(bot_id), source="api"
            )
            if role == "user":
                conv.subject_preview = content[:100]
            self.put(conv)
        if metadata:
            attrs = metadata.get("user_attributes")
            if isinstance(attrs, dict):
                conv.user_attributes.update(attrs)
            chan = metadata.get("channel")
            if isinstance(chan, str):
                conv.channel = chan
            conv.metadata.update(
                {k: v for k, v in metadata.items() if k not in ("user_attributes", "channel")}
            )
        created = [make_event(role, content, created_at=now)]
        if role == "user":
            text, based_on = self.fake.kb.answer(content)
            used = [self._article_ref(b) for b in based_on]
            created.append(make_event("finibot", text, created_at=now + 1, used_articles=used))
            for ref in used:
                if ref not in conv.used_articles:
                    conv.used_articles.append(ref)
        conv.events.extend(created)
        return 200, created

    def _article_ref(self, based_on: dict[str, Any]) -> dict[str, Any]:
        source_id = based_on.get("source_id")
        for article in self.fake.kb.articles.values():
            if source_id in (article.source_id, article.id):
                url = article.source_id if article.source_type == "url" else None
                return {"id": article.id, "title": article.title, "documentUrl": url}
        return {"id": str(source_id), "title": None, "documentUrl": None}

    # -- delete --------------------------------------------------------------------------------

    def delete_many(self, body: Any) -> tuple[int, Any]:
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_BULK:
            return 400, [f"ids must contain between 1 and {MAX_BULK} elements"]
        for value in ids:
            try:
                if not isinstance(value, str) or str(uuid.UUID(value)) != value.lower():
                    raise ValueError
            except ValueError:
                return 400, ["each value in ids must be a UUID"]
        if len(set(ids)) != len(ids):
            return 400, ["All ids's elements must be unique"]
        refused = [i for i in ids if i not in self.conversations or i in self.inaccessible]
        for conv_id in ids:
            if conv_id not in refused:
                self.remove(conv_id)
        if refused:
            return 406, f"{len(refused)} of {len(ids)} conversations are not accessible"
        return 200, True


def conversations_of(fake: FakeFini) -> FakeConversations:
    """The conversation emulator of ``fake`` (the same object as ``fake.conversations``)."""
    return fake.conversations


async def _json(request: web.Request) -> tuple[Any, bool]:
    raw = await request.read()
    try:
        return json.loads(raw or b"null"), True
    except ValueError:
        return None, False


def setup(fake: FakeFini, app: web.Application) -> None:
    emulator = fake.conversations

    def reply(status: int, body: Any) -> web.Response:
        if status >= 400:
            return fake.error(status, body)
        return json_response(body, status=status)

    async def generate_answer(request: web.Request) -> web.StreamResponse:
        body, ok = await _json(request)
        if not ok:
            return fake.error(400, "Body is not valid JSON")
        return reply(*emulator.generate(body))

    async def list_conversations(request: web.Request) -> web.StreamResponse:
        query = {k: v for k, v in request.query.items() if k != "source"}
        sources = [
            part.strip()
            for value in request.query.getall("source", [])
            for part in value.split(",")
            if part.strip()
        ]
        if sources:
            query["source"] = ",".join(sources)
        return reply(*emulator.list_page(query, sources))

    async def get_conversation(request: web.Request) -> web.StreamResponse:
        conv = emulator.conversations.get(request.match_info["id"])
        if conv is None:
            return fake.error(500, "Internal server error")
        return json_response(conv.to_wire())

    async def delete_conversation(request: web.Request) -> web.StreamResponse:
        conv_id = request.match_info["id"]
        if conv_id in emulator.inaccessible or not emulator.remove(conv_id):
            return fake.error(500, "Internal server error")
        return json_response(True)

    async def delete_many(request: web.Request) -> web.StreamResponse:
        body, ok = await _json(request)
        if not ok:
            return fake.error(400, "Body is not valid JSON")
        return reply(*emulator.delete_many(body))

    base = "/v2/hc-interactions"
    fake.route(
        app,
        "POST",
        f"{base}/events/public",
        "conversations.generate_answer",
        "write",
        generate_answer,
    )
    fake.route(app, "GET", f"{base}/public", "conversations.list", "read", list_conversations)
    fake.route(app, "DELETE", f"{base}/public", "conversations.delete_many", "write", delete_many)
    fake.route(app, "GET", f"{base}/{{id}}/public", "conversations.get", "read", get_conversation)
    fake.route(
        app, "DELETE", f"{base}/{{id}}/public", "conversations.delete", "write", delete_conversation
    )
