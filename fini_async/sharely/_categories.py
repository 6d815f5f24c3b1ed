"""``sharely.categories``: list the workspace's categories, the knowledge in one, and create one.

Note the routes' spelling: reads use the plural ``categories``, the create the singular
``category``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._validate import mapping, non_empty_str, optional_str, path_segment, uuid_str
from ._envelopes import listing, one
from ._models import Category, Knowledge
from ._routes import SharelyResource

__all__ = ["CategoriesResource"]


class CategoryBody(msgspec.Struct, rename="camel", omit_defaults=True):
    """The body of ``POST category``."""

    name: str
    description: str | UnsetType = UNSET
    parent_id: str | UnsetType = UNSET
    metadata: dict[str, Any] | UnsetType = UNSET


_categories = listing(Category, "categories")
_category = one(Category, "category")
_knowledge = listing(Knowledge, "knowledge")


class CategoriesResource(SharelyResource):
    """The workspace's knowledge categories."""

    __slots__ = ()

    async def list(
        self,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Category]:
        """Every category, each with its ``knowledge_count``."""
        return await self._get(
            self._path("/categories"),
            into=_categories,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def knowledge(
        self,
        category_id: str,
        *,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Knowledge]:
        """The knowledge items in a category (each with ``category_id`` set). On this route a
        text item's ``type`` is ``STRING`` (the knowledge list calls it ``TEXT``).
        :class:`NotFoundError` for an unknown category."""
        cid = path_segment(category_id, "category_id")
        return await self._get(
            self._path(f"/categories/{cid}/knowledge"),
            into=_knowledge,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        parent_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Category:
        """Create a category, under ``parent_id`` (a category's UUID) or at the top.

        ``name`` must be non-empty, ``parent_id`` a UUID and ``metadata`` JSON-serialisable
        (:class:`ValidationError` before sending). An unknown parent raises
        :class:`NotFoundError`, a name already used under the same parent
        :class:`ConflictError`. A create is never retried once the server may have processed
        it."""
        body = CategoryBody(name=non_empty_str(name, "name").strip())
        description = optional_str(description, "description")
        if description is not None:
            body.description = description
        if parent_id is not None:
            body.parent_id = uuid_str(parent_id, "parent_id")
        if metadata is not None:
            body.metadata = mapping(metadata, "metadata")
        return await self._post(
            self._path("/category"),
            into=_category,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )
