"""Argument checks shared by the resources. Each raises ValidationError before any request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from ._exceptions import ValidationError


def non_empty_str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}", field=field)
    if not value.strip():
        raise ValidationError(f"{field} must not be empty", field=field)
    return value


def optional_str(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}", field=field)
    return value


def one_of(value: Any, allowed: Iterable[str], field: str) -> str:
    options = tuple(allowed)
    if value not in options:
        raise ValidationError(
            f"{field} must be one of {', '.join(repr(o) for o in options)}; got {value!r}",
            field=field,
        )
    return str(value)


def number_in(value: Any, low: float, high: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{field} must be a number, got {value!r}", field=field)
    if not low <= value <= high:
        raise ValidationError(f"{field} must be between {low} and {high}, got {value}", field=field)
    return float(value)


def str_list(value: Any, field: str, *, allow_empty: bool = True) -> list[str]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(f"{field} must be a list of strings", field=field)
    items = list(value)
    for item in items:
        if not isinstance(item, str) or not item:
            raise ValidationError(
                f"{field} must hold non-empty strings only, got {item!r}", field=field
            )
    if not allow_empty and not items:
        raise ValidationError(f"{field} must not be empty", field=field)
    return items


def mapping(value: Any, field: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be a mapping, got {type(value).__name__}", field=field)
    for key in value:
        if not isinstance(key, str):
            raise ValidationError(f"{field} keys must be strings, got {key!r}", field=field)
    return dict(value)


def scalar_mapping(value: Any, field: str) -> dict[str, str | int | float | bool]:
    out = mapping(value, field)
    for key, item in out.items():
        if not isinstance(item, (str, int, float, bool)):
            raise ValidationError(
                f"{field}[{key!r}] must be a string, number or boolean, got {type(item).__name__}",
                field=field,
            )
    return out


def uuid_str(value: Any, field: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a UUID string, got {value!r}", field=field)
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(f"{field} must be a UUID, got {value!r}", field=field) from None
