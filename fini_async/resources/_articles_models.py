"""Help-center articles on the wire: the open ``Article`` object and the request bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from ._quirks import ListDecoder, OpenDecoder

__all__ = ["Article", "ArticleContent", "CreateArticleBody", "DraftBody", "UpdateArticleBody"]


class Article(msgspec.Struct, rename="camel", kw_only=True):
    """A help-center article (live or draft).

    The API documents only part of the object, so every field but ``id`` is optional and
    ``raw`` holds the whole decoded object, keys this SDK does not know included. ``is_draft``
    is True for a draft; a draft forked from a live article names it in ``original_article_id``
    (and its version in ``original_article_version``). ``version`` goes up on each update."""

    id: str
    title: str = ""
    main_knowledge: str = ""
    agent_instruction: str = ""
    questions: list[str] = []
    keywords: list[str] = []
    escalation: bool = False
    parent_folder_id: str | None = None
    is_draft: bool | None = None
    version: int | None = None
    active: bool | None = None
    public: bool | None = None
    origin: str | None = None
    original_article_id: str | None = None
    original_article_version: int | None = None
    is_draft_published: bool | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = {}


class ArticleContent(msgspec.Struct, rename="camel", omit_defaults=True):
    """The content fields every article write route requires (arrays non-empty)."""

    title: str
    main_knowledge: str
    agent_instruction: str
    questions: list[str]
    keywords: list[str]
    escalation: bool


class CreateArticleBody(ArticleContent):
    """The body of ``POST /v2/hc-articles/public``."""

    parent_folder_id: str
    is_draft: bool | UnsetType = UNSET
    origin: str | UnsetType = UNSET


class UpdateArticleBody(ArticleContent):
    """The body of ``PUT /v2/hc-articles/{id}/public`` (no folder, draft or origin changes)."""

    active: bool | UnsetType = UNSET
    public: bool | UnsetType = UNSET


class DraftBody(ArticleContent):
    """The body of the draft and publish routes."""

    active: bool | UnsetType = UNSET
    public: bool | UnsetType = UNSET
    origin: str | UnsetType = UNSET


class IdsBody(msgspec.Struct, rename="camel"):
    """The body of ``POST /v2/hc-articles/ids/public``."""

    article_ids: list[str]


class MoveBody(msgspec.Struct, rename="camel"):
    """The body of ``PUT /v2/hc-articles/{id}/move/public`` (and of the folder move)."""

    parent_folder_id: str


article = OpenDecoder(Article)
articles = ListDecoder(article)
