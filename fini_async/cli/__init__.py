"""The ``fini-async`` command (``python -m fini_async``), on click with rich progress bars.

Install it with ``pip install "fini-async[cli]"``. Nothing here is imported by the core package,
and this module imports click and rich only when :func:`main` runs, so ``import fini_async.cli``
works without them."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

_EXTRA_HINT = 'fini-async: the command needs click and rich: pip install "fini-async[cli]"'


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (exits the process)."""
    try:
        from ._app import cli
    except ModuleNotFoundError as exc:
        top = (exc.name or "").partition(".")[0]
        if top not in ("click", "rich"):
            raise
        print(_EXTRA_HINT, file=sys.stderr)
        sys.exit(1)
    cli.main(args=list(argv) if argv is not None else None, prog_name="fini-async")
