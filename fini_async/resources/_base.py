"""The base of every resource group: typed verbs that send a request and decode its answer.

A resource knows its routes and its structs, never sockets: each method builds its body, then
makes one call such as ``await self._post(PATH, body=body, into=_answer, idempotent=False)``.
The verb encodes the body (the content type follows from it), sends it through the client's
transport and decodes the response with ``into``.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec

from .._exceptions import ValidationError
from .._models import encode

if TYPE_CHECKING:
    from .._config import TimeoutTypes
    from .._transport import Response, Transport

__all__ = ["Into", "Resource", "ignore_body", "raw_body"]

T = TypeVar("T")
ClientT = TypeVar("ClientT")

#: How a verb turns a response into its result: ``into(body, status)``. A ``Lenient`` decoder
#: is one, and so is any function of the body bytes and the status code.
Into = Callable[[bytes, int], T]

_JSON = "application/json"


def ignore_body(content: bytes, status: int) -> None:
    """``into`` for routes whose answer carries nothing the caller needs."""
    return None


def raw_body(content: bytes, status: int) -> bytes:
    """``into`` for routes that answer a file rather than JSON."""
    return content


def _encode_body(body: object) -> bytes:
    if isinstance(body, bytes):
        return body  # already JSON
    try:
        return encode(body)
    except (TypeError, msgspec.EncodeError, OverflowError) as exc:
        raise ValidationError(f"the request body is not JSON-serialisable: {exc}") from None


class Resource(Generic[ClientT]):
    """A group of routes of one client (``client.bots``, ``sharely.knowledge``, ...)."""

    __slots__ = ("_client", "_transport")

    def __init__(self, client: ClientT, transport: Transport) -> None:
        self._client = client
        self._transport = transport

    async def _send(
        self,
        method: str,
        path: str,
        *,
        body: object = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        content: Any = None,
        content_type: str | None = None,
        content_factory: Callable[[], Any] | None = None,
    ) -> Response:
        """Send one request. A JSON ``body`` (a struct, mapping, list or encoded bytes) sets the
        JSON content type; other payloads come as ``content``/``content_factory`` with their
        ``content_type`` (None lets aiohttp set it, as for multipart)."""
        if body is not None:
            content = _encode_body(body)
            content_type = _JSON
        return await self._transport.request(
            method,
            path,
            content=content,
            content_type=content_type,
            content_factory=content_factory,
            params=params,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            idempotent=idempotent,
        )

    async def _call(
        self,
        method: str,
        path: str,
        into: Into[T],
        idempotent: bool,
        body: object,
        params: Mapping[str, str] | None,
        timeout: TimeoutTypes,
        max_retries: int | None,
        extra_headers: Mapping[str, str] | None,
    ) -> T:
        """Send one request with a JSON ``body`` (or none) and decode the answer with ``into``."""
        resp = await self._transport.request(
            method,
            path,
            content=None if body is None else _encode_body(body),
            content_type=None if body is None else _JSON,
            params=params,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            idempotent=idempotent,
        )
        return into(resp.content, resp.status)

    # The verbs are plain methods that return _call's coroutine (awaited by the caller): one
    # coroutine per request fewer than ``async def`` forwarders, and explicit keywords rather
    # than ``**options`` so that no keyword dict is built and unpacked per call (both measured
    # by ``python -m benchmarks.instructions``).

    def _get(
        self,
        path: str,
        *,
        into: Into[T],
        body: object = None,
        params: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, T]:
        """GET ``path`` (a read: always safe to repeat)."""
        return self._call(
            "GET", path, into, True, body, params, timeout, max_retries, extra_headers
        )

    def _post(
        self,
        path: str,
        *,
        into: Into[T],
        idempotent: bool,
        body: object = None,
        params: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, T]:
        """POST; ``idempotent`` is said at every call site (a POST often creates)."""
        return self._call(
            "POST", path, into, idempotent, body, params, timeout, max_retries, extra_headers
        )

    def _put(
        self,
        path: str,
        *,
        into: Into[T],
        idempotent: bool = True,
        body: object = None,
        params: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, T]:
        """PUT (a full replacement: safe to repeat unless the route says otherwise)."""
        return self._call(
            "PUT", path, into, idempotent, body, params, timeout, max_retries, extra_headers
        )

    def _patch(
        self,
        path: str,
        *,
        into: Into[T],
        idempotent: bool = False,
        body: object = None,
        params: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, T]:
        """PATCH (not assumed safe to repeat)."""
        return self._call(
            "PATCH", path, into, idempotent, body, params, timeout, max_retries, extra_headers
        )

    def _delete(
        self,
        path: str,
        *,
        into: Into[T],
        idempotent: bool = False,
        body: object = None,
        params: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> Coroutine[Any, Any, T]:
        """DELETE (some routes take a JSON body). Not repeated by default: a repeat of a processed
        delete answers as for an unknown id."""
        return self._call(
            "DELETE", path, into, idempotent, body, params, timeout, max_retries, extra_headers
        )
