"""``python -m fini_async``: the ``fini-async`` command (``pip install "fini-async[cli]"``)."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    main()
