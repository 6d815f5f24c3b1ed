"""Decoders and error mappings for the answers Fini gives in more than one shape.

Several routes say "not found" in ways other than a 404: ``200`` with a ``null`` body (get one
tag, fork an unknown live article into a draft), an empty list (articles by ids) or a ``500``
(get/update a tag group, the tags of a group). The resources that know a route means "no such
id" turn those into :class:`NotFoundError` here, keeping the real status, body and request id.
Success answers vary too: an object, a top-level array, ``{"success": true}``, ``{"status":
true}`` or a bare ``true``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from .._exceptions import APIResponseValidationError, InternalServerError, NotFoundError
from .._models import Lenient

if TYPE_CHECKING:
    from .._transport import Response

__all__ = ["ListDecoder", "OpenDecoder", "not_found", "not_found_on_500", "ok_flag"]

T = TypeVar("T")

#: Keys under which a list route might wrap its array (tolerated; the documented shape is a
#: top-level array).
_WRAPPER_KEYS = ("data", "items", "results", "articles", "rules", "tags", "tagGroups", "folders")


def _json(content: bytes, status: int) -> Any:
    try:
        return msgspec.json.decode(content) if content.strip() else None
    except msgspec.DecodeError as exc:
        raise APIResponseValidationError(
            f"the response is not valid JSON: {exc}", body=content, status_code=status
        ) from None


class OpenDecoder(Lenient[T]):
    """Decode one object of an open shape into ``T`` and keep the whole decoded object in its
    ``raw`` attribute (keys this SDK does not know included). ``null`` decodes to None: the
    caller decides whether that means "not found"."""

    __slots__ = ()

    def one(self, raw: Any, content: bytes, status: int) -> T:
        item = self.convert(raw, data=content, status=status)
        if isinstance(raw, Mapping) and hasattr(item, "raw"):
            item.raw = dict(raw)
        return item

    def maybe(self, content: bytes, status: int = 200) -> T | None:
        raw = _json(content, status)
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            raise APIResponseValidationError(
                "the response is not a JSON object", body=content, status_code=status
            )
        return self.one(raw, content, status)

    def __call__(self, data: bytes, status: int = 200) -> T:
        item = self.maybe(data, status)
        if item is None:
            raise APIResponseValidationError(
                "the response is null where an object was expected", body=data, status_code=status
            )
        return item


class ListDecoder(Generic[T]):
    """Decode a list route's answer: a top-level array (the documented shape) or an object
    holding the array under ``data``, ``items`` or the resource's name. ``null`` is an empty
    list. Each item goes through ``item`` (an :class:`OpenDecoder`)."""

    __slots__ = ("_item",)

    def __init__(self, item: OpenDecoder[T]) -> None:
        self._item = item

    def __call__(self, content: bytes, status: int = 200) -> list[T]:
        raw = _json(content, status)
        if isinstance(raw, Mapping):
            raw = next((raw[k] for k in _WRAPPER_KEYS if isinstance(raw.get(k), list)), None)
            if raw is None:
                raise APIResponseValidationError(
                    "the response holds no list", body=content, status_code=status
                )
        if raw is None:
            return []
        if not isinstance(raw, list):
            raise APIResponseValidationError(
                "the response is not a JSON array", body=content, status_code=status
            )
        return [self._item.one(x, content, status) for x in raw if isinstance(x, Mapping)]


def ok_flag(content: bytes, status: int) -> bool:
    """``into`` for routes that answer ``{"success": true}``, ``{"status": true}``, a bare
    ``true`` or an object (a deleted record): False only when the body says ``false``."""
    raw = _json(content, status)
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, Mapping):
        for key in ("success", "status"):
            if isinstance(raw.get(key), bool):
                return bool(raw[key])
    return True


def not_found(resp: Response, message: str, *, method: str, url: str) -> NotFoundError:
    """A :class:`NotFoundError` for a 2xx answer that means "no such id" (``null``, an empty
    list). It carries the real status, the decoded body and the request id."""
    try:
        body: Any = msgspec.json.decode(resp.content) if resp.content.strip() else None
    except msgspec.DecodeError:
        body = resp.content.decode("utf-8", "replace")
    return NotFoundError(
        message,
        status_code=resp.status,
        body=body,
        request_id=resp.request_id,
        method=method,
        url=url,
        headers=resp.headers,
    )


async def not_found_on_500(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Await ``call()``; a 500 from it becomes :class:`NotFoundError` (status 500 kept), for the
    routes documented to answer 500 for an unknown id. The message says the 500 may also be a
    real server failure: the API does not tell the two apart."""
    try:
        return await call()
    except InternalServerError as exc:
        if exc.status_code != 500:
            raise
        raise NotFoundError(
            f"{what} not found (the API answers 500 for an unknown id; a server failure "
            f"looks the same): {exc.message}",
            status_code=exc.status_code,
            body=exc.body,
            request_id=exc.request_id,
            method=exc.method,
            url=exc.url,
            headers=exc.headers,
        ) from exc
