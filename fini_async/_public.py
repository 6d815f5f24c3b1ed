"""Public classes shown under their public import path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

__all__ = ["public_module"]


def public_module(namespace: dict[str, Any], names: Iterable[str], module: str) -> None:
    """Set ``__module__`` of the classes among ``names`` to ``module``, so reprs and tracebacks
    show ``fini_async.RateLimitError``, not ``fini_async._exceptions.RateLimitError`` (as httpx
    and anyio do). Only classes defined inside ``module``'s package are touched.

    msgspec resolves a struct's annotations once, in the module its ``__module__`` names, and
    caches them on the class: each struct is resolved before it is renamed (most already were,
    by the decoders built at import)."""
    classes = [
        value
        for value in (namespace.get(name) for name in names)
        if isinstance(value, type) and value.__module__.startswith(module + ".")
    ]
    for cls in classes:
        if isinstance(cls, type(msgspec.Struct)):
            msgspec.json.Decoder(cls)
    for cls in classes:
        cls.__module__ = module
