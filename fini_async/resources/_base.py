from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._transport import Transport


class Resource:
    """A group of routes. It encodes requests and decodes responses; the transport sends them."""

    __slots__ = ("_client", "_transport")

    def __init__(self, client: object, transport: Transport) -> None:
        self._client = client
        self._transport = transport
