"""``FakeFini``: an emulator of the Fini API that runs on loopback, in-process or standalone."""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import (
    _fini_agents,
    _fini_articles,
    _fini_bots,
    _fini_conversations,
    _fini_history,
    _fini_knowledge,
    _fini_knowledge_items,
    _fini_knowledge_tree,
    _fini_rules,
    _fini_sources,
    _fini_tags,
)
from ._fini_agents import FakeAgents
from ._fini_articles import FakeArticles
from ._fini_conversations import FakeConversation, FakeConversations
from ._fini_history import FakeHistory
from ._fini_knowledge import FakeKnowledge
from ._fini_knowledge_items import FakeKnowledgeItems
from ._fini_knowledge_tree import FakeKnowledgeTree
from ._fini_rules import FakeRules
from ._fini_sources import FakeSources
from ._fini_tags import FakeTags
from ._kb import Article, KnowledgeBase
from ._server import EmulatorServer, Handler, json_response, reason

if TYPE_CHECKING:
    from .._client import FiniClient

__all__ = ["READ_KEY", "WRITE_KEY", "FakeFini"]

#: The emulator's default workspace keys.
WRITE_KEY = "fini_test_key"
READ_KEY = "fini_test_readonly"


class FakeFini(EmulatorServer):
    """An emulator of the Fini API.

    ::

        async with FakeFini() as fake:
            async with fake.client() as client:
                answer = await client.bots.ask_question("How do I upgrade to premium?")

    It holds a knowledge base (``fake.kb``) that answers questions by real text matching (a
    follow-up such as "Is that prorated?" with an earlier question in its ``messageHistory`` is
    answered for both, starting ``Following up on "<earlier question>": ``), two
    workspace keys (``WRITE_KEY`` with read and write scopes, ``READ_KEY`` with read only), counts
    calls per route (``fake.calls["ask-question"]``) and injects faults (``fail_next``,
    ``drop_next``, ``add_latency``, ``cut_stream_after``, ``stall_stream_after``,
    ``error_in_stream_after``, ``malformed_line_after``). ``rate_limit=200`` admits 200 calls
    in any second and answers the rest 429 with Retry-After (``set_rate_limit`` changes it;
    ``fake.rate_limited`` counts the refusals).

    Streams: ``stream_format`` is ``"sse"`` (blank line after each event), ``"sse-crlf"``,
    ``"lines"`` (``data:`` lines with no blank lines) or ``"ndjson"``; ``stream_done`` ends with
    ``data: [DONE]``; ``chunk_delay`` waits between chunks. A request may override them with the
    headers ``x-fake-stream-format`` and ``x-fake-chunk-delay``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        articles: list[Article] | None = None,
        keys: dict[str, set[str]] | None = None,
        stream_format: str = "sse",
        stream_done: bool = True,
        chunk_delay: float = 0.0,
        rate_limit: int | None = None,
    ) -> None:
        self.kb = KnowledgeBase(articles)
        self.keys: dict[str, set[str]] = (
            dict(keys) if keys is not None else {WRITE_KEY: {"read", "write"}, READ_KEY: {"read"}}
        )
        self.route_scopes: dict[str, str] = {}
        self.stream_format = stream_format
        self.stream_done = stream_done
        self.chunk_delay = chunk_delay
        #: Streams open now, finished, and abandoned by their client before the end.
        self.streams_open = 0
        self.streams_completed = 0
        self.stream_disconnects = 0
        self.state: dict[str, Any] = collections.defaultdict(dict)
        #: The knowledge-job side: jobs, their timelines, forced statuses, failures.
        self.knowledge = FakeKnowledge(self)
        #: The conversation side: stored conversations, list bounds, bulk-delete refusals.
        self.conversations = FakeConversations(self)
        #: The help-center side: article metadata, folders, folder-to-agent junctions.
        self.articles = FakeArticles(self)
        #: Rules, and tags with their groups (a Fini-managed group is seeded).
        self.rules = FakeRules(self)
        self.tags = FakeTags(self)
        #: The sources side: source records, page texts, providers, fetch timelines.
        self.sources = FakeSources(self)
        #: Agent prompts, chat history, knowledge items and the knowledge tree.
        self.agents = FakeAgents(self)
        self.history = FakeHistory(self)
        self.knowledge_items = FakeKnowledgeItems(self)
        self.knowledge_tree = FakeKnowledgeTree(self)
        super().__init__(host=host, port=port)
        if rate_limit is not None:
            self.set_rate_limit(rate_limit)

    def build_app(self) -> web.Application:
        app = super().build_app()
        _fini_bots.setup(self, app)
        _fini_knowledge.setup(self, app)
        _fini_conversations.setup(self, app)
        _fini_articles.setup(self, app)
        _fini_rules.setup(self, app)
        _fini_tags.setup(self, app)
        _fini_sources.setup(self, app)
        _fini_agents.setup(self, app)
        _fini_history.setup(self, app)
        _fini_knowledge_items.setup(self, app)
        _fini_knowledge_tree.setup(self, app)
        return app

    def route(
        self, app: web.Application, method: str, path: str, name: str, scope: str, handler: Handler
    ) -> None:
        """Register a handler under a route name that counting and faults use."""
        app.router.add_route(method, path, handler, name=name)
        self.route_scopes[name] = scope

    def client(self, api_key: str = WRITE_KEY, **kwargs: Any) -> FiniClient:
        """A FiniClient pointed at this emulator (fast retries unless told otherwise). It never
        goes through a proxy the environment names: the emulator is on this machine."""
        from .._client import FiniClient

        kwargs.setdefault("trust_env", False)
        client = FiniClient(api_key=api_key, base_url=self.url, **kwargs)
        transport = client._transport
        if "backoff_initial" not in kwargs:
            transport.backoff_initial = 0.01
            transport.backoff_max = 0.05
        return client

    # -- seeding (the conversation side's helpers, here for convenience) ----------------------

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
        """Store a conversation: see :meth:`FakeConversations.add_conversation`."""
        return self.conversations.add_conversation(
            created_at=created_at,
            id=id,
            bot_id=bot_id,
            source=source,
            channel=channel,
            status=status,
            events=events,
            user_attributes=user_attributes,
            external_id=external_id,
            resolved=resolved,
            metadata=metadata,
        )

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
        """Store ``n`` conversations: see :meth:`FakeConversations.seed_conversations`."""
        return self.conversations.seed_conversations(
            n,
            span_days=span_days,
            end=end,
            seed=seed,
            sources=sources,
            channels=channels,
            bot_ids=bot_ids,
        )

    def error(self, status: int, message: str | list[str]) -> web.Response:
        return json_response(
            {"statusCode": status, "message": message, "error": reason(status)}, status=status
        )

    async def check_auth(self, request: web.Request, route: str) -> web.StreamResponse | None:
        scope = self.route_scopes.get(route)
        if scope is None:
            return None
        header = request.headers.get("Authorization", "")
        key = header[7:].strip() if header.startswith("Bearer ") else ""
        scopes = self.keys.get(key)
        if scopes is None:
            return self.error(401, "Invalid or missing API key")
        if scope not in scopes:
            return self.error(403, f"This API key does not have the '{scope}' scope")
        return None
