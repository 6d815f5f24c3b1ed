"""``sharely.taxonomies``: list and create taxonomies (named trees of categories).

The vendor documents more taxonomy routes (publish, clone, assign roles, ...) by name only,
without their paths; they are left out until those are known.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping

import msgspec
from msgspec import UNSET, UnsetType

from .._config import TimeoutTypes
from .._exceptions import ValidationError
from .._validate import non_empty_str, optional_str
from ._envelopes import listing, one
from ._models import Taxonomy
from ._routes import SharelyResource

__all__ = ["TaxonomiesResource"]


class TaxonomyBody(msgspec.Struct, omit_defaults=True):
    """The body of ``POST taxonomy``."""

    name: str
    description: str | UnsetType = UNSET


_taxonomies = listing(Taxonomy, "taxonomies", "taxonomy")
_taxonomy = one(Taxonomy, "taxonomy")


class TaxonomiesResource(SharelyResource):
    """The workspace's taxonomies."""

    __slots__ = ()

    async def list(
        self,
        *,
        role_id: str | None = None,
        language_id: str | None = None,
        include_roles: bool = False,
        include_languages: bool = False,
        include_categories: bool = False,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> builtins.list[Taxonomy]:
        """The taxonomies (a top-level array on the wire), filtered by ``role_id`` /
        ``language_id``; ``include_*`` ask for each taxonomy's roles, languages and category
        count. Bad arguments raise :class:`ValidationError` before sending."""
        params: dict[str, str] = {}
        for key, value, field in (
            ("roleId", role_id, "role_id"),
            ("languageId", language_id, "language_id"),
        ):
            if value is not None:
                params[key] = non_empty_str(value, field).strip()
        for key, flag, field in (
            ("includeRoles", include_roles, "include_roles"),
            ("includeLanguages", include_languages, "include_languages"),
            ("includeCategories", include_categories, "include_categories"),
        ):
            if not isinstance(flag, bool):
                raise ValidationError(f"{field} must be a bool", field=field)
            if flag:  # false is the default: sent only when asked for
                params[key] = "true"
        return await self._get(
            self._path("/taxonomy"),
            into=_taxonomies,
            params=params,
            timeout=timeout,
            extra_headers=extra_headers,
        )

    async def create(
        self,
        name: str,
        *,
        description: str | None = None,
        timeout: TimeoutTypes = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Taxonomy:
        """Create a taxonomy (201; unpublished: ``published`` is False). An empty ``name``
        raises :class:`ValidationError` before sending. Never retried once the server may have
        processed it."""
        body = TaxonomyBody(name=non_empty_str(name, "name").strip())
        description = optional_str(description, "description")
        if description is not None:
            body.description = description
        return await self._post(
            self._path("/taxonomy"),
            into=_taxonomy,
            body=body,
            idempotent=False,
            timeout=timeout,
            extra_headers=extra_headers,
        )
