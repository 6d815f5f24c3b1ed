"""The ``fini_async`` logger. ``FINI_LOG=debug`` (or info, warning) turns it on without code."""

from __future__ import annotations

import logging
import os
import time

logger = logging.getLogger("fini_async")

_configured = False


def setup_from_env() -> None:
    """Honour ``FINI_LOG`` once per process: attach a stderr handler at that level."""
    global _configured
    if _configured:
        return
    _configured = True
    level_name = os.environ.get("FINI_LOG", "").strip().upper()
    if not level_name:
        return
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        return
    if not any(getattr(h, "_fini_env", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        handler._fini_env = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)


def log_attempt(method: str, path: str, outcome: object, attempt: int, started: float) -> None:
    """One attempt's DEBUG line: its outcome (a status or an error's name) and its time since
    ``started`` (a ``time.perf_counter()`` reading)."""
    logger.debug(
        "%s %s -> %s attempt=%d elapsed=%.1fms",
        method,
        path,
        outcome,
        attempt,
        (time.perf_counter() - started) * 1000,
    )
