"""aiohttp's errors translated once into the typed errors of ``_exceptions`` (for requests and
for every stream read alike), the retry decision taken from the mapped error, and the proxy the
environment names."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import urllib.request
from collections.abc import Mapping
from types import TracebackType

import aiohttp
import yarl

from ._config import Timeout
from ._exceptions import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    make_status_error,
    redirect_error,
)
from ._response import request_id_of
from ._retry import is_transient, parse_retry_after

__all__ = ["StreamIdleTimeout", "env_proxy", "map_aiohttp_errors", "mapped_error"]


def env_proxy(url: yarl.URL) -> tuple[yarl.URL | None, dict[str, str] | None]:
    """The proxy the environment sets for ``url`` (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``,
    any case, unless ``NO_PROXY`` covers its host), with the credentials in the proxy's URL.

    Resolved once per client, for its base URL, rather than through aiohttp's ``trust_env``:
    that one looks the environment (and ``~/.netrc``) up again in a worker thread for every
    request, and a netrc entry for the API's host would clash with our Authorization header."""
    proxies = urllib.request.getproxies()
    proxy = proxies.get(url.scheme) or proxies.get("all")
    if not proxy or (url.host and urllib.request.proxy_bypass(url.host)):
        return None, None
    if "://" not in proxy:
        proxy = "http://" + proxy  # "host:port", as curl accepts it
    purl = yarl.URL(proxy)
    if purl.user is None:
        return purl, None
    # What aiohttp's (deprecated) proxy_auth would send.
    pair = f"{purl.user}:{purl.password or ''}".encode()
    headers = {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    return purl.with_user(None), headers


def _host_port(url: yarl.URL) -> str:
    host = url.host or ""
    return f"[{host}]:{url.port}" if ":" in host else f"{host}:{url.port}"


def _connect_failure(exc: aiohttp.ClientConnectorError) -> str:
    """aiohttp's "Cannot connect to host h:p ssl:default [...]" as one plain sentence."""
    host = exc.host
    where = f"[{host}]:{exc.port}" if ":" in host else f"{host}:{exc.port}"
    error = exc.os_error
    if isinstance(error, socket.gaierror):
        return f"could not resolve the host name {host!r} ({error.strerror or error})"
    code = error.errno
    if code and code > 0:  # "Connection refused" -> "connection refused"
        reason = os.strerror(code)
        reason = reason[:1].lower() + reason[1:]
    else:
        reason = error.strerror or str(error) or type(error).__name__
    return f"could not connect to {where}: {reason}"


def _headers_deadline(to: Timeout) -> tuple[float, str] | None:
    """How long a stream may take to send its headers, and which timeout that is: the smaller of
    ``total`` and ``read`` (None: no limit). The transport bounds the wait for a stream's headers
    itself: aiohttp's ``total`` would also cut the body, and its read timer restarts at every
    byte (a trickling server would never time out)."""
    total, read = to.total, to.read
    if total is not None and (read is None or total <= read):
        return total, "total"
    if read is not None:
        return read, "read"
    return None


class StreamIdleTimeout(Exception):
    """Internal: a stream's idle watchdog stopped its read (see ``StreamResponse.fail_reads``)."""


def _map_error(
    exc: BaseException, method: str, url: str, timeout: Timeout, stream: bool
) -> APIError | None:
    """The one translation of aiohttp's (and the socket's) errors into the typed errors of
    ``_exceptions`` (None: not one of them, such as a cancellation)."""
    if isinstance(exc, APIError):
        return exc
    if isinstance(exc, StreamIdleTimeout):
        return APITimeoutError(
            f"no data for {timeout.stream_idle}s (stream_idle timeout)",
            kind="stream_idle",
            method=method,
            url=url,
        )
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return APITimeoutError(
            f"could not connect within {timeout.connect}s", kind="connect", method=method, url=url
        )
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return APIConnectionError(f"TLS failed: {exc}", method=method, url=url)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return APIConnectionError(_connect_failure(exc), method=method, url=url)
    if isinstance(exc, aiohttp.ClientResponseError):
        # Raised while reading the status line and headers (a parse failure, reported by
        # aiohttp as a bogus "400"): whatever answered is not an HTTP server.
        return APIConnectionError(
            f"the server at {_host_port(yarl.URL(url))} did not answer with HTTP",
            method=method,
            url=url,
        )
    if isinstance(exc, (aiohttp.SocketTimeoutError, asyncio.TimeoutError, TimeoutError)):
        # aiohttp's read timer raises SocketTimeoutError; its total, a bare TimeoutError (a
        # stream's body has no total).
        socket = stream or isinstance(exc, aiohttp.SocketTimeoutError) or timeout.total is None
        kind = "read" if socket else "total"
        limit = timeout.read if socket else timeout.total
        return APITimeoutError(
            f"no response within the {kind} timeout ({limit}s)", kind=kind, method=method, url=url
        )
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        detail = str(exc) or type(exc).__name__
        return APIConnectionError(f"connection failed: {detail}", method=method, url=url)
    return None


class map_aiohttp_errors:
    """Around sending a request or reading a stream's body: aiohttp's errors leave it as the
    typed errors of ``_exceptions``, the original kept as ``__context__`` (the retry decision
    reads it, see ``_may_retry``). A slotted class rather than ``@contextmanager``: it is entered
    for every request, and a generator-based one costs several Python calls more each time."""

    __slots__ = ("method", "stream", "timeout", "url")

    def __init__(self, method: str, url: str, timeout: Timeout, *, stream: bool = False) -> None:
        self.method = method
        self.url = url
        self.timeout = timeout
        self.stream = stream

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, APIError):
            return
        mapped = _map_error(exc, self.method, self.url, self.timeout, self.stream)
        if mapped is not None:
            mapped.__suppress_context__ = True  # as ``raise ... from None``: str() stays plain
            raise mapped


def mapped_error(
    exc: BaseException, method: str, url: str, timeout: Timeout, *, stream: bool = False
) -> APIError | None:
    """``exc`` as :class:`map_aiohttp_errors` maps it, for a caller that caught it already
    (None: not an error the map knows, such as a cancellation: let it propagate)."""
    mapped = _map_error(exc, method, url, timeout, stream)
    if mapped is not None and mapped is not exc:
        mapped.__context__ = exc
        mapped.__suppress_context__ = True
    return mapped


def _may_retry(err: APIError, idempotent: bool) -> bool:
    """Whether a failed attempt may be made again: :func:`_retry.is_transient`, refined by the
    aiohttp error behind it: a TLS failure never heals by itself, and a connection that could not
    be made sent nothing (any request may go again)."""
    cause = err.__context__
    if isinstance(cause, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return False
    if isinstance(cause, aiohttp.ClientConnectorError):
        return True
    return is_transient(err, idempotent=idempotent)


def _status_failure(
    status: int, raw: bytes, headers: Mapping[str, str], method: str, url: str
) -> tuple[APIError, float | None]:
    """The typed error of a non-success status, and the Retry-After it carries."""
    if status < 400:
        return redirect_error(
            status, raw, method=method, url=url, headers=headers, request_id=request_id_of(headers)
        ), None
    retry_after = parse_retry_after(headers)
    err = make_status_error(
        status,
        raw,
        method=method,
        url=url,
        headers=headers,
        request_id=request_id_of(headers),
        retry_after=retry_after,
    )
    return err, retry_after


def exchange_error(
    exc: BaseException, deadline: tuple[float, str] | None, method: str, url: str, to: Timeout
) -> APIError | None:
    """The typed error of a failed exchange: the stream's header deadline (``deadline``, still
    set while the headers were awaited) if that is what ran out, else :func:`mapped_error`."""
    if (
        deadline is not None
        and isinstance(exc, TimeoutError)
        and not isinstance(exc, aiohttp.SocketTimeoutError)
    ):
        return APITimeoutError(
            f"no response headers within the {deadline[1]} timeout ({deadline[0]}s)",
            kind=deadline[1],
            method=method,
            url=url,
        )
    return mapped_error(exc, method, url, to)


def _dropped_unanswered(err: APIError) -> bool:
    """The server closed the connection before answering (a kept-alive one it had timed out)."""
    return isinstance(err.__context__, aiohttp.ServerDisconnectedError)
