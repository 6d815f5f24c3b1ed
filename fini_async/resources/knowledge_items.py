"""``client.knowledge_items``: the legacy knowledge items (question/answer pairs): list, create
and update.

Wire facts (FINI-V2.md §11, the legacy doc tree): the list takes optional filters, is not
paginated and answers ``{knowledgeItems: [...]}`` where each item also carries ``botIds``, a
map of agent id to a state (``SUCCESS``). Create (POST) and update (PUT) take the whole item,
every field marked required; they answer the item without ``botIds``. There is no delete
route, and the docs name no error statuses.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._models import Lenient, iso_to_datetime
from .._validate import non_empty_str, one_of, optional_str, path_segment, str_list
from ._base import Resource

if TYPE_CHECKING:
    from .._client import FiniClient  # noqa: F401 (named in the base class Resource["FiniClient"])

__all__ = ["KNOWLEDGE_ITEM_STATUSES", "KnowledgeItem", "KnowledgeItemsResource"]

LIST_PATH = "/v2/knowledge-items/public"
ONE_PATH = "/v2/knowledge-items/{id}/public"

#: The documented item statuses (``LIVE`` items answer questions).
KNOWLEDGE_ITEM_STATUSES = ("LIVE", "IN_REVIEW", "DRAFT")


class KnowledgeItem(msgspec.Struct, rename="camel"):
    """A legacy knowledge item: a ``question`` (and ``similar_qs``), its ``answer``, an optional
    ``instruction`` for the agent, and labels. ``status`` is ``LIVE``, ``IN_REVIEW`` or
    ``DRAFT`` (an open set). ``bot_ids`` maps agent ids to a state such as ``SUCCESS``; only
    list items carry it. ``created``/``updated`` are the ISO timestamps as aware datetimes."""

    id: str
    question: str = ""
    answer: str = ""
    status: str | None = None
    instruction: str | None = None
    similar_qs: list[str] = []
    keywords: list[str] = []
    categories: list[str] = []
    subcategories: list[str] = []
    escalation: bool | None = None
    knowledge_number: int | None = None
    company_id: str | None = None
    user_id: str | None = None
    updated_by: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    bot_ids: dict[str, str] = {}

    @property
    def created(self) -> datetime | None:
        return iso_to_datetime(self.created_at)

    @property
    def updated(self) -> datetime | None:
        return iso_to_datetime(self.updated_at)


class _ItemBody(msgspec.Struct, rename="camel"):
    # every field is marked required by the docs: all are always sent
    bot_ids: list[str]
    status: str
    question: str
    answer: str
    instruction: str | None
    similar_qs: list[str]
    keywords: list[str]
    categories: list[str]
    subcategories: list[str]
    escalation: bool


class _ListResponse(msgspec.Struct, rename="camel"):
    knowledge_items: list[KnowledgeItem] = []


_item = Lenient(KnowledgeItem)
_list = Lenient(_ListResponse)
_items = Lenient(list[KnowledgeItem])


def _decode_list(content: bytes, status: int) -> list[KnowledgeItem]:
    """``{knowledgeItems: [...]}`` (documented); a bare array too."""
    if content.lstrip()[:1] == b"[":
        return _items.decode(content, status=status)
    return _list.decode(content, status=status).knowledge_items


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)
    return value


def _strings(value: Any, field: str) -> list[str]:
    return str_list([value] if isinstance(value, str) else value, field)


def _replacement_values(
    item: KnowledgeItem | str, changes: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The item's id and the whole item ``update`` sends: the given ``changes`` (UNSET = not
    given) over the item's own values, or over the API's empty defaults when only an id is
    given (the API replaces the whole item)."""
    if isinstance(item, KnowledgeItem):
        item_id = item.id
        base: dict[str, Any] = {
            "question": item.question,
            "answer": item.answer,
            "bot_ids": list(item.bot_ids),
            "status": item.status or "LIVE",
            "instruction": item.instruction,
            "similar_qs": item.similar_qs,
            "keywords": item.keywords,
            "categories": item.categories,
            "subcategories": item.subcategories,
            "escalation": bool(item.escalation),
        }
    elif isinstance(item, str):
        item_id = item
        base = {
            "bot_ids": [],
            "status": "LIVE",
            "instruction": None,
            "similar_qs": [],
            "keywords": [],
            "categories": [],
            "subcategories": [],
            "escalation": False,
        }
    else:
        raise ValidationError(
            f"item must be a KnowledgeItem or an id, got {type(item).__name__}", field="item"
        )
    return item_id, {**base, **{k: v for k, v in changes.items() if v is not UNSET}}


def _replacement_body(values: dict[str, Any], *, new_status: bool) -> _ItemBody:
    """Check the whole item ``update`` sends and build its body; raises ValidationError."""
    for required in ("question", "answer"):
        if required not in values:
            raise ValidationError(
                f"{required} is required when updating by id (the API replaces the whole "
                "item): pass it, or pass the KnowledgeItem",
                field=required,
            )
    return _ItemBody(
        bot_ids=_strings(values["bot_ids"], "bot_ids"),
        # an item's own status passes as it is (an open set); a new one must be documented
        status=one_of(values["status"], KNOWLEDGE_ITEM_STATUSES, "status")
        if new_status
        else non_empty_str(values["status"], "status"),
        question=non_empty_str(values["question"], "question"),
        answer=non_empty_str(values["answer"], "answer"),
        instruction=optional_str(values["instruction"], "instruction"),
        similar_qs=_strings(values["similar_qs"], "similar_qs"),
        keywords=_strings(values["keywords"], "keywords"),
        categories=_strings(values["categories"], "categories"),
        subcategories=_strings(values["subcategories"], "subcategories"),
        escalation=_bool(values["escalation"], "escalation"),
    )


class KnowledgeItemsResource(Resource["FiniClient"]):
    """Legacy knowledge items: list, create, update (the API has no delete)."""

    __slots__ = ()

    async def list(
        self,
        *,
        status: str | None = None,
        question: str | None = None,
        answer: str | None = None,
        keyword: str | None = None,
        category: str | None = None,
        subcategory: str | None = None,
        escalation: bool | None = None,
        instruction: str | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[KnowledgeItem]:
        """Every knowledge item matching the filters (all optional; the API does not paginate
        this list). :class:`ValidationError` for a bad filter, before any request."""
        params: dict[str, str] = {}
        if status is not None:
            params["status"] = one_of(status, KNOWLEDGE_ITEM_STATUSES, "status")
        for name, value in (
            ("question", question),
            ("answer", answer),
            ("keyword", keyword),
            ("category", category),
            ("subcategory", subcategory),
            ("instruction", instruction),
        ):
            if value is not None:
                params[name] = non_empty_str(value, name)
        if escalation is not None:
            params["escalation"] = "true" if _bool(escalation, "escalation") else "false"
        return await self._get(
            LIST_PATH,
            into=_decode_list,
            params=params,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def create(
        self,
        question: str,
        answer: str,
        *,
        bot_ids: Iterable[str] = (),
        status: str = "LIVE",
        instruction: str | None = None,
        similar_qs: Iterable[str] = (),
        keywords: Iterable[str] = (),
        categories: Iterable[str] = (),
        subcategories: Iterable[str] = (),
        escalation: bool = False,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> KnowledgeItem:
        """Create a knowledge item and return it. ``status`` defaults to ``LIVE`` (it answers
        at once; pass ``DRAFT`` to review first). Every field is sent (the API marks them all
        required), the lists empty and ``instruction`` null unless given.

        :class:`ValidationError`, before any request, for an empty question or answer, an
        unknown status or a list holding a non-string. A create: retried only when the server
        surely did not process it (connect failure, 429, 503)."""
        body = _ItemBody(
            bot_ids=_strings(bot_ids, "bot_ids"),
            status=one_of(status, KNOWLEDGE_ITEM_STATUSES, "status"),
            question=non_empty_str(question, "question"),
            answer=non_empty_str(answer, "answer"),
            instruction=optional_str(instruction, "instruction"),
            similar_qs=_strings(similar_qs, "similar_qs"),
            keywords=_strings(keywords, "keywords"),
            categories=_strings(categories, "categories"),
            subcategories=_strings(subcategories, "subcategories"),
            escalation=_bool(escalation, "escalation"),
        )
        return await self._post(
            LIST_PATH,
            into=_item,
            body=body,
            idempotent=False,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )

    async def update(
        self,
        item: KnowledgeItem | str,
        *,
        question: str | UnsetType = UNSET,
        answer: str | UnsetType = UNSET,
        bot_ids: Iterable[str] | UnsetType = UNSET,
        status: str | UnsetType = UNSET,
        instruction: str | UnsetType | None = UNSET,
        similar_qs: Iterable[str] | UnsetType = UNSET,
        keywords: Iterable[str] | UnsetType = UNSET,
        categories: Iterable[str] | UnsetType = UNSET,
        subcategories: Iterable[str] | UnsetType = UNSET,
        escalation: bool | UnsetType = UNSET,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> KnowledgeItem:
        """Replace a knowledge item (a PUT of the whole item) and return it.

        Pass the :class:`KnowledgeItem` (from :meth:`list`) to change only the fields given
        here: the others are sent as they were (its agents from ``bot_ids``' keys). Given an id
        instead, ``question`` and ``answer`` are required and the fields not given are sent
        empty (no agents, ``LIVE``, no lists, no instruction, no escalation), as the API
        replaces the whole item. :class:`ValidationError` before any request for that and for
        bad values. A full replacement is safe to repeat, so it is retried like a read."""
        item_id, values = _replacement_values(
            item,
            {
                "question": question,
                "answer": answer,
                "bot_ids": bot_ids,
                "status": status,
                "instruction": instruction,
                "similar_qs": similar_qs,
                "keywords": keywords,
                "categories": categories,
                "subcategories": subcategories,
                "escalation": escalation,
            },
        )
        path = ONE_PATH.format(id=path_segment(item_id, "item"))
        body = _replacement_body(values, new_status=status is not UNSET)
        return await self._put(
            path,
            into=_item,
            body=body,
            timeout=timeout,
            max_retries=max_retries,
            extra_headers=extra_headers,
        )
