"""Client-side checks of ``client.sources`` arguments: each raises a clear
:class:`~fini_async.ValidationError` before any request is sent."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from .._exceptions import ValidationError
from .._validate import http_url, non_empty_str, uuid_str
from ._sources_models import ProviderResource, RegisterItem

__all__ = ["bool_arg", "ids_arg", "register_item", "source_values", "urls_arg"]


def bool_arg(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationError(f"{field} must be True or False, got {value!r}", field=field)
    return value


def _list_of(values: Any, field: str) -> list[Any]:
    if isinstance(values, (bytes, Mapping)) or not isinstance(values, Iterable):
        raise ValidationError(f"{field} must be a list", field=field)
    return list(values)


def ids_arg(values: Any, field: str) -> list[str]:
    """Non-empty, de-duplicated source ids (UUIDs), in order."""
    items = [values] if isinstance(values, str) else _list_of(values, field)
    ids = list(dict.fromkeys(uuid_str(v, field) for v in items))
    if not ids:
        raise ValidationError(f"{field} must not be empty", field=field)
    return ids


def urls_arg(values: Any, field: str) -> list[str]:
    return list(dict.fromkeys(http_url(v, field) for v in _list_of(values, field)))


def _looks_like_url(value: str) -> bool:
    scheme = urllib.parse.urlsplit(value.strip()).scheme
    return scheme in ("http", "https")


def source_values(values: Any, source: str, field: str) -> list[str]:
    """URLs for ``web``, source ids (not URLs) for the other types."""
    if isinstance(values, str):
        raise ValidationError(f"{field} must be a list, not one string", field=field)
    if source == "web":
        return urls_arg(values, field)
    out = []
    for value in _list_of(values, field):
        text = non_empty_str(value, field).strip()
        if _looks_like_url(text):
            raise ValidationError(
                f"{field}: for source={source!r} give source ids (see import_), not URLs; "
                f"got {text!r}",
                field=field,
            )
        out.append(text)
    return list(dict.fromkeys(out))


_REGISTER_FIELDS = (
    ("original_url", "originalUrl"),
    ("title", "title"),
    ("external_id", "externalId"),
    ("mime_type", "mimeType"),
)


def register_item(item: Any, index: int) -> RegisterItem:
    field = f"resources[{index}]"
    if isinstance(item, ProviderResource):
        values: dict[str, Any] = {
            "original_url": item.original_url,
            "title": item.title,
            "external_id": item.external_id,
            "mime_type": item.mime_type,
            "object": item.object,
        }
    elif isinstance(item, Mapping):
        values = {snake: item.get(snake, item.get(camel)) for snake, camel in _REGISTER_FIELDS} | {
            "object": item.get("object")
        }
    else:
        raise ValidationError(
            f"{field} must be a ProviderResource or a mapping, got {type(item).__name__}",
            field="resources",
        )
    checked = {
        snake: non_empty_str(values[snake], f"{field}.{snake}") for snake, _ in _REGISTER_FIELDS
    }
    out = RegisterItem(**checked)
    if values["object"] is not None:
        out.object = non_empty_str(values["object"], f"{field}.object")
    return out
