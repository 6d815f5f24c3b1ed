"""Sample sources for the embedded emulator (``--emulator``, ``fini-async emulator``, the demo),
so that ``sources list`` and ``knowledge sync`` have something to show: three ingested web
pages, the first two of which changed on the "site" since they were fetched."""

from __future__ import annotations

from ..testing import FakeFini

__all__ = ["SAMPLE_SOURCES", "seed_sources"]

#: (url, the text ingested, the text on the site now: None when unchanged)
SAMPLE_SOURCES = (
    (
        "https://help.example.com/shipping/mars",
        "Shipping to Mars: we do not ship to Mars yet.",
        "Shipping to Mars: we ship to Mars every second Tuesday. Delivery takes seven months "
        "and the parcel travels in a pressurised crate.",
    ),
    (
        "https://help.example.com/billing/refunds",
        "Refunds: refunds take 10 business days.",
        "Refunds: refunds take 5 business days and go back to the card used to pay.",
    ),
    (
        "https://help.example.com/account/password",
        "Passwords: reset yours from Settings > Security.",
        None,
    ),
)


def seed_sources(
    fake: FakeFini, samples: tuple[tuple[str, str, str | None], ...] = SAMPLE_SOURCES
) -> list[str]:
    """Store ``samples`` in ``fake`` as ingested sources and return their ids, in order."""
    ids = []
    for url, ingested, now in samples:
        ids.append(fake.sources.add_source(url, text=ingested).id)
        if now is not None:
            fake.sources.pages[url] = now
    return ids
