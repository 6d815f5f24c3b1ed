"""The transport's responses: a complete :class:`Response`, and an open :class:`StreamResponse`
with the socket operations a stream needs (reads, the read timer, draining, closing)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import aiohttp

from ._config import Timeout

__all__ = ["Response", "StreamResponse", "request_id_of"]

_REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-correlation-id",
    "x-trace-id",
    "cf-ray",
)


def request_id_of(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


class Response:
    """A complete response: status, headers and body bytes."""

    __slots__ = ("content", "headers", "status")

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes) -> None:
        self.status = status
        self.headers = headers
        self.content = content

    @property
    def request_id(self) -> str | None:
        return request_id_of(self.headers)


class _DrainTimeout(Exception):
    """Internal: the end of a body did not come within :meth:`StreamResponse.drain`'s time."""


class StreamResponse:
    """An open streaming response. Its owner must call :meth:`close` (or :meth:`release` once the
    body was read to the end). Closing early drops the connection, never returning it half-read.
    One garbage-collected without either (its stream was dropped un-closed) is closed then, so
    that its connection slot is not lost for the client's lifetime.

    The body is read with ``read_nowait()`` (what is buffered, maybe ``b""``), ``await readany()``
    (at least one byte, ``b""`` at the end) and ``is_eof()``; ``fail_reads(exc)`` makes the
    pending and next reads raise ``exc`` (an idle watchdog's way to stop a read)."""

    __slots__ = (
        "_closed",
        "_on_close",
        "fail_reads",
        "is_eof",
        "method",
        "raw",
        "read_nowait",
        "readany",
        "timeout",
        "url",
    )

    def __init__(
        self,
        raw: aiohttp.ClientResponse,
        on_close: Callable[[], None],
        method: str,
        url: str,
        timeout: Timeout,
    ) -> None:
        self.raw = raw
        self._on_close = on_close
        self._closed = False
        self.method = method
        self.url = url
        self.timeout = timeout
        # The body's reads, bound once here rather than methods that forward: a stream calls
        # them for every network read, and a forwarding call would be one more Python frame each.
        content = raw.content
        self.read_nowait: Callable[[], bytes] = content.read_nowait
        self.readany: Callable[[], Awaitable[bytes]] = content.readany
        self.is_eof: Callable[[], bool] = content.is_eof
        self.fail_reads: Callable[[BaseException], None] = content.set_exception

    async def read(self) -> bytes:
        """The whole body (a plain response where a stream was expected)."""
        return await self.raw.read()

    def stop_read_timer(self) -> None:
        """Stop aiohttp's per-socket read timer (``Timeout.read``, which it re-arms for every
        packet): from the first byte of the body on, the stream's own idle watchdog bounds the
        gaps instead."""
        connection = self.raw.connection
        if connection is not None and connection.protocol is not None:
            connection.protocol.read_timeout = None
            connection.protocol.start_timeout()  # with no timeout: drops the pending timer

    async def drain(self, seconds: float) -> bool:
        """Read the rest of the body, for at most ``seconds``: True if its end came (the
        connection may go back to the pool), False if it broke or the server kept it open."""
        if self.is_eof():
            return True
        handle = asyncio.get_running_loop().call_later(seconds, self.fail_reads, _DrainTimeout())
        try:
            while not self.is_eof() and await self.readany():
                pass
        except (_DrainTimeout, aiohttp.ClientError, OSError, asyncio.TimeoutError):
            return False
        finally:
            handle.cancel()
        return True

    @property
    def status(self) -> int:
        return self.raw.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self.raw.headers

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Drop the connection now (the server sees the disconnect)."""
        if not self._closed:
            self._closed = True
            self.raw.close()
            self._on_close()

    def release(self) -> None:
        """Return the connection to the pool if the body was fully read, else drop it."""
        if not self._closed:
            self._closed = True
            if self.is_eof():
                self.raw.release()
            else:
                self.raw.close()
            self._on_close()

    def __del__(self) -> None:
        # Synchronous work only (no coroutine can run here): drop the connection and give the
        # slot back. Nothing may escape a finalizer; a loop already closed has nothing to free.
        if not self._closed:
            self._closed = True
            try:
                self.raw.close()
            except Exception:
                pass
            try:
                self._on_close()
            except Exception:
                pass
