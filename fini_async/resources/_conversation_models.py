"""The wire side of ``client.conversations``: the public structs a conversation decodes into
(:class:`Conversation`, :class:`Event`, :class:`UsedArticle`, :class:`UsedFolder`), the request
bodies, and the decoders that accept the shapes the server is known to answer with.

Kept apart from the resource so that the pages (``_conversation_pages.py``) and the resource
(``conversations.py``) share one definition; ``conversations.py`` re-exports the public names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from .._models import Lenient, ms_to_datetime, parse_json

__all__ = ["Conversation", "Event", "UsedArticle", "UsedFolder"]

EVENTS_PATH = "/v2/hc-interactions/events/public"
LIST_PATH = "/v2/hc-interactions/public"
ONE_PATH = "/v2/hc-interactions/{id}/public"


# -- wire structs ----------------------------------------------------------------------------


class UsedArticle(msgspec.Struct, rename="camel"):
    """A knowledge-base article an answer used."""

    id: str | None = None
    title: str | None = None
    document_url: str | None = None


class UsedFolder(msgspec.Struct, rename="camel"):
    """A knowledge-base folder an answer used."""

    id: str | None = None
    title: str | None = None


class Event(msgspec.Struct, rename="camel"):
    """One event of a conversation (a message by the user, an agent, Fini's bot or another bot).

    ``role`` and ``type`` are open sets (``user``/``agent``/``finibot``/``otherbot``,
    ``message``). ``csat_rating`` is None when absent; 0 is a rating. ``created_at`` (and
    ``external_created_at``) are aware UTC datetimes computed from the wire's epoch ms, kept in
    ``created_at_ms``. ``metadata`` is an open mapping."""

    id: str
    created_at_ms: int | float | str | None = msgspec.field(default=None, name="createdAt")
    role: str | None = None
    type: str | None = None
    message: str | None = None
    external_id: str | None = None
    external_created_at_ms: int | float | str | None = msgspec.field(
        default=None, name="externalCreatedAt"
    )
    csat_rating: int | float | None = None
    feedback: Any = None
    approved: bool | None = None
    resolved: bool | None = None
    attachments: list[Any] = []
    tags: list[Any] = []
    used_articles: list[UsedArticle] = []
    metadata: dict[str, Any] | None = None

    @property
    def created_at(self) -> datetime | None:
        """When the event was created, as an aware UTC datetime."""
        return ms_to_datetime(self.created_at_ms)

    @property
    def external_created_at(self) -> datetime | None:
        """When the event was created in the external system, as an aware UTC datetime."""
        return ms_to_datetime(self.external_created_at_ms)

    @property
    def text(self) -> str:
        """The message text ('' when there is none)."""
        return self.message or ""


class Conversation(msgspec.Struct, rename="camel"):
    """A conversation (an "interaction" on the wire).

    ``source``, ``channel`` and ``status`` are open sets. ``resolved`` is True, False or None
    (unknown). ``user_attributes`` and ``metadata`` are open mappings. ``created_at`` is an aware
    UTC datetime computed from the wire's epoch ms, kept in ``created_at_ms``."""

    id: str
    created_at_ms: int | float | str | None = msgspec.field(default=None, name="createdAt")
    source: str | None = None
    channel: str | None = None
    status: str | None = None
    external_id: str | None = None
    url: str | None = None
    subject_preview: str | None = None
    has_feedback: bool | None = None
    resolved: bool | None = None
    user_attributes: dict[str, Any] | None = None
    used_articles: list[UsedArticle] = []
    used_subfolders: list[UsedFolder] = []
    events: list[Event] = []
    metadata: dict[str, Any] | None = None

    @property
    def created_at(self) -> datetime | None:
        """When the conversation was created, as an aware UTC datetime."""
        return ms_to_datetime(self.created_at_ms)


class _EventBody(msgspec.Struct, rename="camel", omit_defaults=True):
    content: str
    role: str = "user"
    interaction_id: str | UnsetType = UNSET
    bot_id: str | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET


class _DeleteBody(msgspec.Struct):
    ids: list[str]


class _ListResponse(msgspec.Struct, rename="camel"):
    interactions: list[Conversation] | None = None
    conversations: list[Conversation] | None = None
    data: list[Conversation] | None = None
    items: list[Conversation] | None = None
    has_more: bool | None = None
    next_cursor: str | None = None
    prev_cursor: str | None = None

    def conversation_list(self) -> list[Conversation]:
        for key in (self.interactions, self.conversations, self.data, self.items):
            if key is not None:
                return key
        return []


class _EventsWrapper(msgspec.Struct):
    events: list[Event] | None = None
    data: list[Event] | None = None


_events = Lenient(list[Event])
_events_wrapped = Lenient(_EventsWrapper)
_event = Lenient(Event)
_list = Lenient(_ListResponse)
_conversation = Lenient(Conversation)
_list_fast = msgspec.json.Decoder(_ListResponse)
_WRAPPER_KEYS = ("interaction", "conversation", "data")


def _decode_events(content: bytes, status: int) -> list[Event]:
    """A top-level array of events (documented); also ``{"events": [...]}``, ``{"data": [...]}``
    or a single event object."""
    head = content.lstrip()[:1]
    if head != b"{":
        return _events.decode(content, status=status)
    raw = parse_json(content, status=status)
    if isinstance(raw, dict) and ("events" in raw or "data" in raw):
        wrapped = _events_wrapped.convert(raw, data=content, status=status)
        return wrapped.events or wrapped.data or []
    return [_event.convert(raw, data=content, status=status)]


def _decode_list(content: bytes, status: int) -> _ListResponse:
    try:
        return _list_fast.decode(content)
    except (msgspec.ValidationError, msgspec.DecodeError, RecursionError):
        pass
    raw = parse_json(content, status=status)
    if isinstance(raw, list):  # a bare list: one page, nothing after it
        raw = {"conversations": raw, "hasMore": False}
    return _list.convert(raw, data=content, status=status)


def _decode_conversation(content: bytes, status: int) -> Conversation:
    raw = parse_json(content, status=status) if content.lstrip()[:1] == b"{" else None
    if isinstance(raw, dict) and "id" not in raw:
        for key in _WRAPPER_KEYS:
            inner = raw.get(key)
            if isinstance(inner, dict):
                return _conversation.convert(inner, data=content, status=status)
    return _conversation.decode(content, status=status)
