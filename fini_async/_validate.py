"""Argument checks shared by the resources. Each raises ValidationError before any request."""

from __future__ import annotations

import math
import re
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import yarl

from ._exceptions import ValidationError

# What may not appear in a header value (it would end the header: request splitting).
_HEADER_BREAK = re.compile(r"[\r\n\0]")
# A header name is an RFC 9110 token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
#: How deeply a JSON value given by the caller (metadata, function specs) may nest.
MAX_JSON_DEPTH = 64


def unicode_text(value: str, field: str) -> str:
    """``value`` if it can be sent as UTF-8: a lone surrogate (``"\\ud800"``, as left by a bad
    decode) cannot."""
    if not value.isascii():  # O(1) for a str: the common case costs nothing
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValidationError(
                f"{field} holds a lone surrogate ({value[exc.start]!a} at index {exc.start}), "
                "which cannot be sent as UTF-8",
                field=field,
            ) from None
    return value


def non_empty_str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}", field=field)
    if not value.strip():
        raise ValidationError(f"{field} must not be empty", field=field)
    return unicode_text(value, field)


def header_value(value: Any, field: str) -> str:
    """A header value (an API key, an id sent as a header): a string without CR, LF or NUL.
    The value is never echoed: it may be a secret."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}", field=field)
    if _HEADER_BREAK.search(value):
        raise ValidationError(f"{field} must not contain CR, LF or NUL characters", field=field)
    return unicode_text(value, field)


def headers(value: Any, field: str) -> dict[str, str]:
    """Extra or default headers: a mapping of valid header names to :func:`header_value`."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be a mapping, got {type(value).__name__}", field=field)
    out: dict[str, str] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValidationError(f"{field}: {name!r} is not a valid header name", field=field)
        out[name] = header_value(item, f"{field}[{name!r}]")
    return out


def base_url(value: Any, field: str = "base_url") -> str:
    """An absolute http(s) URL without credentials, query or fragment, normalised without its
    trailing slash. Credentials and queries are never echoed (they may hold secrets)."""
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string, got {type(value).__name__}", field=field)
    if not value.strip():
        raise ValidationError(
            f"{field} must not be empty (pass None, or leave it out, for the default)",
            field=field,
        )
    text = value.strip()
    if _SPACE_OR_CONTROL.search(text):
        raise ValidationError(f"{field} must not contain spaces or control characters", field=field)
    try:
        url = yarl.URL(text)
        url.port  # noqa: B018 (parses the port: yarl raises for a bad one)
    except ValueError as exc:
        raise ValidationError(f"{field} is not a valid URL: {exc}", field=field) from None
    if url.user is not None or url.password is not None or "@" in url.raw_authority:
        raise ValidationError(
            f"{field} must not contain credentials (user:password@); pass the API key as api_key",
            field=field,
        )
    if "?" in text or "#" in text:
        raise ValidationError(
            f"{field} must not have a query (?...) or a fragment (#...)", field=field
        )
    if url.scheme not in ("http", "https") or not url.host:
        raise ValidationError(f"{field} must be an absolute http(s) URL, got {text!r}", field=field)
    if not url.port:
        raise ValidationError(f"{field} has an invalid port (0)", field=field)
    return str(url).rstrip("/")


def json_value(value: Any, field: str, depth: int = 0) -> None:
    """Refuse what JSON cannot carry in a value the caller built: NaN and infinities (they would
    be sent as null), non-string keys, nesting deeper than :data:`MAX_JSON_DEPTH`."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(
                f"{field} must hold finite numbers only, got {value}", field=field
            )
    elif isinstance(value, (str, int, bool)) or value is None:
        return
    elif depth >= MAX_JSON_DEPTH:
        raise ValidationError(f"{field} is nested too deeply", field=field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(f"{field} keys must be strings, got {key!r}", field=field)
            json_value(item, field, depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            json_value(item, field, depth + 1)


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
    json_value(value, field)
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


# -- added for Sharely (kept at the end: the checks above are shared by every resource) --------


def http_url(value: Any, field: str = "url") -> str:
    """An absolute http(s) URL (surrounding whitespace removed)."""
    text = non_empty_str(value, field).strip()
    parsed = urllib.parse.urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError(f"{field} must be an absolute http(s) URL, got {text!r}", field=field)
    return text


def positive_seconds(value: Any, field: str = "timeout") -> float | None:
    """A positive number of seconds (NaN refused), or None (no limit)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValidationError(
            f"{field} must be a positive number of seconds or None, got {value!r}", field=field
        )
    return float(value)


def path_segment(value: Any, field: str) -> str:
    """An id to put in a URL path: a non-empty string (or a UUID), stripped and percent-encoded
    whole, so that ``/``, ``?`` or ``..`` in it can never reach another route."""
    if isinstance(value, uuid.UUID):
        value = str(value)
    return urllib.parse.quote(non_empty_str(value, field).strip(), safe="")


def str_or_number_mapping(value: Any, field: str) -> dict[str, str | int | float]:
    """A mapping of non-empty string keys to strings or finite numbers (no booleans, nulls,
    lists or objects): what metadata routes store."""
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be a mapping, got {type(value).__name__}", field=field)
    out: dict[str, str | int | float] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValidationError(
                f"{field} keys must be non-empty strings, got {key!r}", field=field
            )
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise ValidationError(
                f"{field}[{key!r}] must be a string or a number, got {type(item).__name__}",
                field=field,
            )
        if isinstance(item, float) and not math.isfinite(item):
            raise ValidationError(f"{field}[{key!r}] must be a finite number", field=field)
        out[key] = item
    return out


def int_in(value: Any, low: int, high: int | None, field: str) -> int:
    """An integer (not a bool) with ``low <= value`` (and ``<= high`` when given)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ValidationError(f"{field} must be an integer {bounds}, got {value!r}", field=field)
    return value
