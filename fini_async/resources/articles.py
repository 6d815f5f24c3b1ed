"""``client.articles``: help-center articles, live and draft.

Wire facts (see FINI-V2.md §4): there is no "get one" route, so :meth:`get` asks the by-ids
route for one id, which drops unknown ids silently. Every write route requires the whole
content (``title``, ``main_knowledge``, ``agent_instruction``, non-empty ``questions`` and
``keywords``, ``escalation``); the methods take an :class:`Article` (say, the draft a knowledge
job created) to fill what is not given. Forking an unknown live article answers 200 ``null``,
which :meth:`create_draft` raises as :class:`NotFoundError`. Publishing returns the live
article that remains: the updated original, or a new article with a new id.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._validate import non_empty_str, one_of, optional_str, path_segment, str_list
from ._articles_models import (
    Article,
    ArticleContent,
    CreateArticleBody,
    DraftBody,
    IdsBody,
    MoveBody,
    UpdateArticleBody,
)
from ._articles_models import article as _article
from ._articles_models import articles as _articles
from ._base import Resource, ignore_body
from ._quirks import not_found

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = ["ARTICLE_TYPES", "ArticlesResource"]

LIST_PATH = "/v2/hc-articles/public"
IDS_PATH = "/v2/hc-articles/ids/public"
ONE_PATH = "/v2/hc-articles/{id}/public"
DRAFT_PATH = "/v2/hc-articles/{id}/draft/public"
PUBLISH_PATH = "/v2/hc-articles/{id}/publish/public"
MOVE_PATH = "/v2/hc-articles/{id}/move/public"

#: The values of ``list(type=...)``; None lists both.
ARTICLE_TYPES = ("live", "draft")


class ArticlesResource(Resource["FiniClient"]):
    """The workspace's help-center articles (``client.articles``)."""

    __slots__ = ()

    async def list(
        self,
        *,
        type: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Article]:
        """The live articles (``type="live"``), the drafts (``"draft"``) or both (None, the
        default). :class:`ValidationError` for another ``type``, before any request."""
        params = None if type is None else {"type": one_of(type, ARTICLE_TYPES, "type")}
        return await self._get(
            LIST_PATH,
            into=_articles,
            params=params,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def get_many(
        self,
        ids: Iterable[str],
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Article]:
        """The articles with these ids, in the order asked (duplicates once).

        Documented quirk: ids the workspace does not have are **silently dropped** (no 404), so
        the result may be shorter than ``ids``; compare ids to find the missing ones. A read:
        retried like any GET. :class:`ValidationError` for an empty list or a bad id."""
        wanted = list(dict.fromkeys(str_list(ids, "ids", allow_empty=False)))
        found = await self._post(
            IDS_PATH,
            into=_articles,
            body=IdsBody(article_ids=wanted),
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )
        order = {id: i for i, id in enumerate(wanted)}
        return sorted(found, key=lambda a: order.get(a.id, len(order)))

    async def get(
        self,
        id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Article:
        """One article (live or draft), through the by-ids route (there is no get-one route).

        Raises :class:`NotFoundError` when the id is unknown: the API answers 200 with an
        empty list, so the error's ``status_code`` is that 200."""
        wanted = non_empty_str(id, "id")
        resp = await self._send(
            "POST",
            IDS_PATH,
            body=IdsBody(article_ids=[wanted]),
            idempotent=True,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )
        for item in _articles(resp.content, resp.status):
            if item.id == wanted:
                return item
        raise not_found(
            resp,
            f"no article with id {wanted!r} (the API drops unknown ids)",
            method="POST",
            url=self._transport.base_url + IDS_PATH,
        )

    async def create(
        self,
        *,
        title: str,
        main_knowledge: str,
        questions: Iterable[str],
        keywords: Iterable[str],
        parent_folder_id: str,
        agent_instruction: str = "",
        escalation: bool = False,
        is_draft: bool = False,
        origin: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Article:
        """Create an article in folder ``parent_folder_id``: live unless ``is_draft=True``
        (the API's default is live here, while knowledge generation defaults to drafts).

        :class:`ValidationError` before any request for an empty ``title``/``main_knowledge``,
        empty ``questions`` or ``keywords`` (the API answers 400 for those). Never retried once
        the server may have created it."""
        content = _content(
            None,
            title=title,
            main_knowledge=main_knowledge,
            agent_instruction=agent_instruction,
            questions=questions,
            keywords=keywords,
            escalation=escalation,
        )
        body = CreateArticleBody(
            **_fields(content), parent_folder_id=non_empty_str(parent_folder_id, "parent_folder_id")
        )
        if _bool(is_draft, "is_draft"):
            body.is_draft = True
        if origin is not None:
            body.origin = non_empty_str(origin, "origin")
        return await self._post(
            LIST_PATH,
            into=_article,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def update(
        self,
        id: str | Article,
        *,
        title: str | None = None,
        main_knowledge: str | None = None,
        agent_instruction: str | None = None,
        questions: Iterable[str] | None = None,
        keywords: Iterable[str] | None = None,
        escalation: bool | None = None,
        active: bool | None = None,
        public: bool | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Article:
        """Replace an article's content; returns it with its ``version`` bumped.

        ``id`` is an article id (then every content field is required: the route replaces
        them all) or an :class:`Article` whose content fills the fields not given. The folder
        cannot change here (use :meth:`move`). :class:`NotFoundError` (404) for an unknown
        id. A full replacement: repeated on a transient failure like any PUT."""
        path_id, content = _target(
            id,
            title=title,
            main_knowledge=main_knowledge,
            agent_instruction=agent_instruction,
            questions=questions,
            keywords=keywords,
            escalation=escalation,
        )
        body = UpdateArticleBody(**_fields(content))
        _flags(body, active=active, public=public)
        return await self._put(
            ONE_PATH.format(id=path_id),
            into=_article,
            body=body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def create_draft(
        self,
        id: str | Article,
        *,
        title: str | None = None,
        main_knowledge: str | None = None,
        agent_instruction: str | None = None,
        questions: Iterable[str] | None = None,
        keywords: Iterable[str] | None = None,
        escalation: bool | None = None,
        active: bool | None = None,
        public: bool | None = None,
        origin: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Article:
        """Fork a **live** article into a draft with this content (``id``: an id or an
        :class:`Article`, as for :meth:`update`); the draft names it in
        ``original_article_id``. Publish the draft to replace the live article's content.

        Documented quirk: an unknown live id answers 200 with ``null``; that raises
        :class:`NotFoundError` (``status_code`` 200). Never retried once sent."""
        path_id, content = _target(
            id,
            title=title,
            main_knowledge=main_knowledge,
            agent_instruction=agent_instruction,
            questions=questions,
            keywords=keywords,
            escalation=escalation,
        )
        body = DraftBody(**_fields(content))
        _flags(body, active=active, public=public, origin=origin)
        path = DRAFT_PATH.format(id=path_id)
        resp = await self._send(
            "POST", path, body=body, idempotent=False, timeout=timeout, extra_headers=extra_headers
        )
        draft = _article.maybe(resp.content, resp.status)
        if draft is None:
            raise not_found(
                resp,
                f"no live article with id {path_id!r} (the API answered null)",
                method="POST",
                url=self._transport.base_url + path,
            )
        return draft

    async def publish(
        self,
        id: str | Article,
        *,
        title: str | None = None,
        main_knowledge: str | None = None,
        agent_instruction: str | None = None,
        questions: Iterable[str] | None = None,
        keywords: Iterable[str] | None = None,
        escalation: bool | None = None,
        active: bool | None = None,
        public: bool | None = None,
        origin: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Article:
        """Publish a draft with this content (``id``: the draft's id or the draft as an
        :class:`Article`, as for :meth:`update`: pass the draft a knowledge job created, ``await
        client.articles.get(job.last_status.hc_article_id)``, and only what to change).

        Returns the live article that remains: the **updated original** when the draft was
        forked from one, else a **new** live article: its id may differ from the draft's.
        :class:`NotFoundError` for an unknown draft. Never retried once sent."""
        path_id, content = _target(
            id,
            title=title,
            main_knowledge=main_knowledge,
            agent_instruction=agent_instruction,
            questions=questions,
            keywords=keywords,
            escalation=escalation,
        )
        body = DraftBody(**_fields(content))
        _flags(body, active=active, public=public, origin=origin)
        return await self._post(
            PUBLISH_PATH.format(id=path_id),
            into=_article,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def delete(
        self,
        id: str | Article,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        """Delete an article. :class:`NotFoundError` for an unknown id. Not retried once the
        server may have processed it (a repeat would answer as for an unknown id)."""
        await self._delete(
            ONE_PATH.format(id=_id_of(id)),
            into=ignore_body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def move(
        self,
        id: str | Article,
        folder_id: str,
        *,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Article:
        """Move an article into folder ``folder_id``; returns the moved article.
        :class:`NotFoundError` when the article or the folder is unknown,
        :class:`NotAcceptableError` (406) when the API refuses the move."""
        return await self._put(
            MOVE_PATH.format(id=_id_of(id)),
            into=_article,
            body=MoveBody(parent_folder_id=non_empty_str(folder_id, "folder_id")),
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )


def _id_of(value: Any, field: str = "id") -> str:
    if isinstance(value, Article):
        value = value.id
    return path_segment(value, field)


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)
    return value


def _fields(content: ArticleContent) -> dict[str, Any]:
    return {f: getattr(content, f) for f in ArticleContent.__struct_fields__}


def _content(
    base: Article | None,
    *,
    title: str | None,
    main_knowledge: str | None,
    agent_instruction: str | None,
    questions: Iterable[str] | None,
    keywords: Iterable[str] | None,
    escalation: bool | None,
) -> ArticleContent:
    """The full content of a write: each field given, else ``base``'s, checked before sending."""
    if base is not None:
        title = base.title if title is None else title
        main_knowledge = base.main_knowledge if main_knowledge is None else main_knowledge
        if agent_instruction is None:
            agent_instruction = base.agent_instruction
        questions = base.questions if questions is None else questions
        keywords = base.keywords if keywords is None else keywords
        escalation = base.escalation if escalation is None else escalation
    missing = [
        name
        for name, value in (
            ("title", title),
            ("main_knowledge", main_knowledge),
            ("questions", questions),
            ("keywords", keywords),
        )
        if value is None
    ]
    if missing:
        raise ValidationError(
            f"{', '.join(missing)} required: the route replaces the whole content (pass an "
            "Article to fill the fields not given)",
            field=missing[0],
        )
    return ArticleContent(
        title=non_empty_str(title, "title"),
        main_knowledge=non_empty_str(main_knowledge, "main_knowledge"),
        agent_instruction=optional_str(agent_instruction, "agent_instruction") or "",
        questions=str_list(questions, "questions", allow_empty=False),
        keywords=str_list(keywords, "keywords", allow_empty=False),
        escalation=_bool(False if escalation is None else escalation, "escalation"),
    )


def _target(
    target: Any,
    *,
    title: str | None,
    main_knowledge: str | None,
    agent_instruction: str | None,
    questions: Iterable[str] | None,
    keywords: Iterable[str] | None,
    escalation: bool | None,
) -> tuple[str, ArticleContent]:
    base = target if isinstance(target, Article) else None
    path_id = _id_of(target, "id")
    content = _content(
        base,
        title=title,
        main_knowledge=main_knowledge,
        agent_instruction=agent_instruction,
        questions=questions,
        keywords=keywords,
        escalation=escalation,
    )
    return path_id, content


def _flags(
    body: UpdateArticleBody | DraftBody,
    *,
    active: bool | None,
    public: bool | None,
    origin: str | None = None,
) -> None:
    if active is not None:
        body.active = _bool(active, "active")
    if public is not None:
        body.public = _bool(public, "public")
    if origin is not None and isinstance(body, DraftBody):
        body.origin = non_empty_str(origin, "origin")
