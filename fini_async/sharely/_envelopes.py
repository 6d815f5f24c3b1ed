"""Decoders for the envelopes Sharely's routes answer in.

The docs show the same kind of answer in several shapes: a list bare (``[...]``) or wrapped
(``{"roles": [...], "total": 3}``), an object bare or wrapped (``{"role": {...}}``), and success as
``{"success": true}``, a bare ``true`` or an empty body. Each helper here builds an ``into`` (see
:mod:`fini_async.resources._base`) that accepts every one of them, so a resource method stays one
verb call whichever shape the server picks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .._models import Lenient, parse_json
from ._models import Accepted

__all__ = ["accepted", "listing", "one"]

T = TypeVar("T")

#: Keys a wrapped list or object may sit under, after the route's own key.
_WRAPPERS = ("data", "items", "results")


def _unwrap_list(raw: Any, keys: tuple[str, ...]) -> list[Any]:
    if isinstance(raw, list):
        return raw
    if isinstance(raw, Mapping):
        for key in (*keys, *_WRAPPERS):
            value = raw.get(key)
            if isinstance(value, list):
                return value
            if isinstance(value, Mapping):  # {"data": {"roles": [...]}}
                inner = _unwrap_list(value, keys)
                if inner:
                    return inner
    return []


def listing(tp: type[T], *keys: str) -> Callable[[bytes, int], list[T]]:
    """``into`` for a list of ``tp``: bare, or under one of ``keys`` (then data/items/results).
    An empty body or ``null`` is an empty list."""
    decoder: Lenient[list[T]] = Lenient(list[tp])  # type: ignore[valid-type]

    def into(data: bytes, status: int) -> list[T]:
        raw = parse_json(data, status=status) if data.strip() else []
        return decoder.convert(_unwrap_list(raw, keys), data=data, status=status)

    return into


def one(tp: type[T], *keys: str) -> Callable[[bytes, int], T]:
    """``into`` for one ``tp``: bare, or under one of ``keys`` (then data/item) when the object
    has no ``id`` of its own."""
    decoder = Lenient(tp)

    def into(data: bytes, status: int) -> T:
        raw = parse_json(data, status=status) if data.strip() else {}
        if isinstance(raw, Mapping) and "id" not in raw:
            for key in (*keys, "data", "item"):
                inner = raw.get(key)
                if isinstance(inner, Mapping):
                    raw = inner
                    break
        return decoder.convert(raw, data=data, status=status)

    return into


_accepted = Lenient(Accepted)


def accepted(data: bytes, status: int) -> Accepted:
    """``into`` for a change's answer: empty (success), ``true``/``false``, or an object
    (``success`` assumed when the object does not say, as a 2xx answer means it)."""
    if not data.strip():
        return Accepted(success=True)
    raw = parse_json(data, status=status)
    if isinstance(raw, bool):
        return Accepted(success=raw)
    if not isinstance(raw, Mapping):
        return Accepted(success=True)
    result = _accepted.convert(raw, data=data, status=status)
    if result.success is None:
        result.success = True
    return result
