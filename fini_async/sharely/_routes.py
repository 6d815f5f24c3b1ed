"""The base of Sharely's resource groups: where a workspace route lives.

Most routes sit under ``/v1/workspaces/{ws}``; a few (token exchange, search, user spaces) have
no ``/v1``. The workspace id is read when a request is made (it may come from the environment)
and percent-encoded whole.
"""

from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING

from .._exceptions import ValidationError
from .._validate import non_empty_str
from ..resources._base import Resource

if TYPE_CHECKING:
    from ._client import SharelyClient  # noqa: F401 (named in the base class, as a string)

__all__ = ["SharelyResource", "bounded_str"]


class SharelyResource(Resource["SharelyClient"]):
    """A group of Sharely routes (``sharely.roles``, ``sharely.categories``, ...)."""

    __slots__ = ()

    def _ws(self) -> str:
        return urllib.parse.quote(self._client.workspace_id, safe="")

    def _path(self, tail: str) -> str:
        """``/v1/workspaces/{ws}`` + ``tail``."""
        return f"/v1/workspaces/{self._ws()}{tail}"

    def _unversioned(self, tail: str) -> str:
        """``/workspaces/{ws}`` + ``tail``: the routes documented without ``/v1``."""
        return f"/workspaces/{self._ws()}{tail}"


def bounded_str(value: object, field: str, limit: int) -> str:
    """A non-empty string of at most ``limit`` characters (the documented maximum)."""
    text = non_empty_str(value, field)
    if len(text) > limit:
        raise ValidationError(
            f"{field} must be at most {limit} characters, got {len(text)}", field=field
        )
    return text
