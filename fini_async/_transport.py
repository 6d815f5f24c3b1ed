"""HTTP transport: one aiohttp session per client, the connection pool, retries, error mapping.

The transport knows nothing of Fini's or Sharely's routes: callers give it a method, a path, an
encoded body and whether the request is safe to repeat. It returns the raw response (or an open
streaming response) and raises the typed errors of ``_exceptions``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Protocol

import aiohttp
import anyio
import yarl

from ._config import (
    DEFAULT_BACKOFF_INITIAL,
    DEFAULT_BACKOFF_MAX,
    DEFAULT_MAX_RETRY_AFTER,
    USER_AGENT,
    Timeout,
    TimeoutTypes,
    coerce_timeout,
)
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    ClientStateError,
    ValidationError,
    make_status_error,
    redirect_error,
)
from ._logging import logger, setup_from_env
from ._ratelimit import RateLimiter, TokenBucket
from ._retry import backoff_schedule, is_transient, parse_retry_after
from ._validate import base_url as check_base_url
from ._validate import headers as check_headers

__all__ = ["AttemptHook", "Auth", "Response", "StreamResponse", "Transport", "attempt_hook"]

_REQUEST_ID_HEADERS = (
    "x-request-id",
    "request-id",
    "x-amzn-requestid",
    "x-correlation-id",
    "x-trace-id",
    "cf-ray",
)
_URL_CACHE_MAX = 512
JSON_CONTENT_TYPE = "application/json"


def request_id_of(headers: Mapping[str, str]) -> str | None:
    for name in _REQUEST_ID_HEADERS:
        value = headers.get(name)
        if value:
            return value
    return None


class Auth(Protocol):
    """How a transport authenticates. Fini uses a static bearer key; Sharely exchanges its key for
    short-lived tokens."""

    def static_headers(self) -> Mapping[str, str] | None:
        """Headers that never change (None if the auth is dynamic). May raise ConfigurationError."""

    async def headers(self, transport: Transport) -> Mapping[str, str]:
        """Headers for one attempt (dynamic auth only)."""

    async def on_unauthorized(self, transport: Transport, sent: Mapping[str, str]) -> bool:
        """A 401 came back for ``sent``: refresh and return True to try once more."""


class AttemptHook(Protocol):
    """Paces and observes every attempt made in a context (see :data:`attempt_hook`)."""

    async def before_attempt(self) -> None:
        """Wait until this attempt may go out (a rate limit, a Retry-After pause)."""

    def after_attempt(self, status: int | None, retry_after: float | None) -> None:
        """An attempt ended with ``status`` (None: no response) and the server's Retry-After."""


#: Set in a task's context (a batch does, for its workers) to pace and observe each attempt of
#: each request made from that context, retries included. The transport reads it once per request.
attempt_hook: ContextVar[AttemptHook | None] = ContextVar("fini_async_attempt_hook", default=None)


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
    ``total`` and ``read`` (None: no limit)."""
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


class _RequestOptions:
    """One call's request, as given to ``request``/``stream``, and what the transport resolves
    from it once for all its attempts."""

    __slots__ = (
        "content",
        "content_factory",
        "content_type",
        "extra_headers",
        "headers",
        "idempotent",
        "max_retries",
        "method",
        "params",
        "path",
        "session",
        "stream",
        "surl",
        "timeout",
        "to",
        "url",
    )

    def __init__(
        self,
        method: str,
        path: str,
        *,
        content: Any,
        content_type: str | None,
        content_factory: Callable[[], Any] | None,
        params: Mapping[str, str] | None,
        extra_headers: Mapping[str, str] | None,
        timeout: TimeoutTypes,
        max_retries: int | None,
        idempotent: bool,
        stream: bool,
    ) -> None:
        self.method = method
        self.path = path
        self.content = content
        self.content_type = content_type
        self.content_factory = content_factory
        self.params = params
        self.extra_headers = extra_headers
        self.timeout = timeout
        self.max_retries = max_retries
        self.idempotent = idempotent
        self.stream = stream
        # Resolved once per call by the transport, shared by its attempts:
        self.session: aiohttp.ClientSession
        self.to: Timeout  # ``timeout`` with the client's default applied
        self.url: yarl.URL
        self.surl: str  # ``url`` as text, for errors and logs
        self.headers: Mapping[str, str]  # without the per-attempt auth


class _Failed(Exception):
    """Internal: one attempt failed with ``error``; ``delay`` is the server's Retry-After."""

    def __init__(self, error: APIError, delay: float | None = None) -> None:
        self.error = error
        self.delay = delay


class Transport:
    """Sends requests for one client. Create it anywhere; it opens its session lazily inside the
    running loop on first use and is bound to that loop from then on."""

    def __init__(
        self,
        *,
        base_url: str,
        auth: Auth,
        timeout: Timeout,
        max_retries: int,
        max_connections: int,
        default_headers: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        backoff_initial: float = DEFAULT_BACKOFF_INITIAL,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        user_agent: str = USER_AGENT,
        rate_limit: float | RateLimiter | None = None,
        trust_env: bool = True,
    ) -> None:
        if max_retries < 0:
            raise ValidationError("max_retries must be >= 0", field="max_retries")
        if max_connections < 1:
            raise ValidationError("max_connections must be >= 1", field="max_connections")
        self.base_url = check_base_url(base_url)
        self.auth = auth
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_connections = max_connections
        self.max_retry_after = max_retry_after
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._default_headers: dict[str, str] = {"User-Agent": user_agent, "Accept": "*/*"}
        if default_headers is not None:
            self._default_headers.update(check_headers(default_headers, "default_headers"))
        self._user_session = session
        #: Whether the session this transport creates uses the proxy of HTTP(S)_PROXY/NO_PROXY.
        self.trust_env = trust_env
        self._proxy: yarl.URL | None = None
        self._proxy_headers: dict[str, str] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self._headers_cache: dict[str | None, dict[str, str]] | None = None
        self._urls: dict[str, tuple[yarl.URL, str]] = {}
        self._closed = False
        self._dynamic_auth = False
        self._aiohttp_timeouts: dict[tuple[Timeout, bool], aiohttp.ClientTimeout] = {}
        self._default_timeout: tuple[Timeout, aiohttp.ClientTimeout, aiohttp.ClientTimeout] = (
            timeout,
            timeout.to_aiohttp(),
            timeout.to_aiohttp(stream=True),
        )
        #: Paces every attempt of every request of this transport (shared by all callers), and
        #: hears how each ended (an adaptive one pauses and adapts on 429s).
        self.rate_limiter: RateLimiter | None = (
            TokenBucket(rate_limit) if isinstance(rate_limit, (int, float)) else rate_limit
        )
        setup_from_env()

    def __repr__(self) -> str:
        return f"Transport(base_url={self.base_url!r})"

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def _bind(self) -> aiohttp.ClientSession:
        """The session for this call, created on first use inside the running loop."""
        loop = asyncio.get_running_loop()
        session = self._session
        if session is not None and loop is self._loop:
            return session
        if self._closed:
            raise ClientStateError("this client is closed; create a new one")
        if self._loop is not None and loop is not self._loop:
            raise ClientStateError(
                "this client is bound to another event loop (the one that first used it); "
                "create one client per event loop"
            )
        if self._user_session is not None:
            session = self._user_session
            if session.closed:
                raise ClientStateError("the aiohttp session given to this client is closed")
        else:
            connector = aiohttp.TCPConnector(
                limit=self.max_connections, limit_per_host=0, ttl_dns_cache=300
            )
            # No skip_auto_headers: every request carries our User-Agent, so aiohttp never adds
            # its own, and a session with skip_auto_headers sorts and copies them per request.
            session = aiohttp.ClientSession(connector=connector, auto_decompress=True)
            if self.trust_env:
                self._use_proxy(*env_proxy(yarl.URL(self.base_url)))
        self._limiter = anyio.CapacityLimiter(self.max_connections)
        self._loop = loop
        self._session = session
        return session

    def _use_proxy(self, proxy: yarl.URL | None, headers: dict[str, str] | None) -> None:
        self._proxy = proxy
        if headers and not self.base_url.startswith("https:"):
            # Plain HTTP goes to the proxy as is: its credentials ride on each request (aiohttp
            # sends proxy_headers only on the CONNECT of a tunnel, that is, for HTTPS).
            self._default_headers.update(headers)
            self._headers_cache = None
        else:
            self._proxy_headers = headers

    async def aclose(self) -> None:
        """Close the session this client created (a caller's own session is left open)."""
        if self._closed:
            return
        self._closed = True
        session, self._session = self._session, None
        if session is not None and self._user_session is None:
            await session.close()

    # -- helpers -------------------------------------------------------------------------------

    def _url(self, path: str) -> tuple[yarl.URL, str]:
        """The URL of ``path`` and its string (for errors and logs), both built once."""
        url = self._urls.get(path)
        if url is None:
            parsed = yarl.URL(self.base_url + path)
            url = (parsed, str(parsed))
            if len(self._urls) < _URL_CACHE_MAX:
                self._urls[path] = url
        return url

    def _base_headers(self, content_type: str | None) -> dict[str, str]:
        cache = self._headers_cache
        if cache is None:
            static = self.auth.static_headers()
            self._dynamic_auth = static is None
            common = dict(self._default_headers)
            if static:
                common.update(static)
            cache = {None: common, JSON_CONTENT_TYPE: {**common, "Content-Type": JSON_CONTENT_TYPE}}
            self._headers_cache = cache
        headers = cache.get(content_type)
        if headers is None:
            headers = {**cache[None], "Content-Type": content_type} if content_type else cache[None]
        return headers

    def _aiohttp_timeout(self, timeout: Timeout, stream: bool) -> aiohttp.ClientTimeout:
        default = self._default_timeout
        if timeout is default[0]:  # the client's own: no hashing of a dataclass
            return default[2] if stream else default[1]
        key = (timeout, stream)
        value = self._aiohttp_timeouts.get(key)
        if value is None:
            value = timeout.to_aiohttp(stream=stream)
            if len(self._aiohttp_timeouts) < 64:
                self._aiohttp_timeouts[key] = value
        return value

    async def _acquire(self, token: object, timeout: Timeout, method: str, url: str) -> None:
        """Wait for a free connection (``_attempt`` tried without waiting first)."""
        limiter = self._limiter
        assert limiter is not None
        try:
            if timeout.pool is None:
                await limiter.acquire_on_behalf_of(token)
            else:
                with anyio.fail_after(timeout.pool):
                    await limiter.acquire_on_behalf_of(token)
        except TimeoutError:
            raise APITimeoutError(
                f"no free connection within {timeout.pool}s "
                f"(all {self.max_connections} connections in use)",
                kind="pool",
                method=method,
                url=url,
            ) from None

    def _release(self, token: object) -> None:
        limiter = self._limiter
        if limiter is not None:
            limiter.release_on_behalf_of(token)

    # -- requests ------------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        content: Any = None,
        content_type: str | None = JSON_CONTENT_TYPE,
        content_factory: Callable[[], Any] | None = None,
        params: Mapping[str, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        idempotent: bool = True,
    ) -> Response:
        """Send a request and read the whole response. Raises the typed error for a status >= 400.

        ``idempotent=False`` marks a request that creates or queues something: it is retried only
        when the server surely did not process it (connect failure, pool timeout, 429, 503).
        ``content_factory`` rebuilds a one-shot body (a file upload) for each attempt."""
        opts = _RequestOptions(
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
            stream=False,
        )
        result = await self._send_with_retries(opts)
        assert isinstance(result, Response)
        return result

    async def stream(
        self,
        method: str,
        path: str,
        *,
        content: Any = None,
        content_type: str | None = JSON_CONTENT_TYPE,
        params: Mapping[str, str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        timeout: TimeoutTypes = None,
        max_retries: int | None = None,
        idempotent: bool = True,
    ) -> StreamResponse:
        """Send a request and return the open response once its status is a success."""
        opts = _RequestOptions(
            method,
            path,
            content=content,
            content_type=content_type,
            content_factory=None,
            params=params,
            extra_headers=extra_headers,
            timeout=timeout,
            max_retries=max_retries,
            idempotent=idempotent,
            stream=True,
        )
        result = await self._send_with_retries(opts)
        assert isinstance(result, StreamResponse)
        return result

    async def _send_with_retries(self, opts: _RequestOptions) -> Response | StreamResponse:
        """Attempts of one call, until one succeeds, one fails for good, or retries run out;
        waiting the server's Retry-After, else the backoff schedule, in between."""
        opts.session = self._bind()
        opts.to = coerce_timeout(opts.timeout, self.timeout)
        retries = self.max_retries if opts.max_retries is None else opts.max_retries
        if retries < 0:
            raise ValidationError("max_retries must be >= 0", field="max_retries")
        opts.url, opts.surl = self._url(opts.path)
        headers = self._base_headers(opts.content_type)
        if opts.extra_headers:
            headers = {**headers, **check_headers(opts.extra_headers, "extra_headers")}
        opts.headers = headers
        dynamic = self._dynamic_auth  # known once _base_headers asked the auth
        delays = None
        attempt = 0
        while True:
            attempt += 1
            try:
                if dynamic:
                    return await self._send_handling_auth(opts, attempt)
                # A static key needs no auth step: one coroutine less per request.
                return await self._send_once(opts, opts.headers, attempt)
            except _Failed as failed:
                err = failed.error
                if attempt > retries or not _may_retry(err, opts.idempotent):
                    raise err from None
                delay = failed.delay
                if delay is not None and delay > self.max_retry_after:
                    raise err from None  # too long to wait inside a call: tell the caller at once
                if delay is None:
                    if delays is None:
                        delays = backoff_schedule(self.backoff_initial, self.backoff_max)
                    delay = next(delays)
                await asyncio.sleep(delay)

    async def _send_handling_auth(
        self, opts: _RequestOptions, attempt: int
    ) -> Response | StreamResponse:
        """One attempt with a dynamic auth's headers; a 401 makes the auth refresh and the
        attempt go once more (not counted as a retry)."""
        headers = {**opts.headers, **(await self.auth.headers(self))}
        try:
            return await self._send_once(opts, headers, attempt)
        except _Failed as failed:
            err = failed.error
            if not (
                isinstance(err, APIStatusError)
                and err.status_code == 401
                and await self.auth.on_unauthorized(self, headers)
            ):
                raise
        headers = {**opts.headers, **(await self.auth.headers(self))}
        return await self._send_once(opts, headers, attempt)

    async def _send_once(
        self, opts: _RequestOptions, headers: Mapping[str, str], attempt: int
    ) -> Response | StreamResponse:
        """One attempt: paced by the rate limiter and the context's attempt hook, which hear how
        it ended; logged at DEBUG."""
        bucket = self.rate_limiter
        hook = attempt_hook.get()
        if bucket is not None:
            await bucket.acquire()
        if hook is not None:
            await hook.before_attempt()
        log = logger.isEnabledFor(logging.DEBUG)
        started = time.perf_counter() if log else 0.0
        try:
            result = await self._exchange(opts, headers)
        except _Failed as failed:
            err = failed.error
            status = err.status_code if isinstance(err, APIStatusError) else None
            retry_after = getattr(err, "retry_after", None)
            if bucket is not None and status == 429:
                bucket.on_rate_limited(retry_after)
            if hook is not None:
                hook.after_attempt(status, retry_after)
            if log:
                self._log(opts, status or type(err).__name__, attempt, started)
            raise
        if bucket is not None:
            bucket.on_success()
        if hook is not None:
            hook.after_attempt(result.status, None)
        if log:
            self._log(opts, result.status, attempt, started)
        return result

    @staticmethod
    def _log(opts: _RequestOptions, outcome: object, attempt: int, started: float) -> None:
        logger.debug(
            "%s %s -> %s attempt=%d elapsed=%.1fms",
            opts.method,
            opts.path,
            outcome,
            attempt,
            (time.perf_counter() - started) * 1000,
        )

    async def _exchange(
        self, opts: _RequestOptions, headers: Mapping[str, str]
    ) -> Response | StreamResponse:
        """Send once through a pooled connection and read the answer (or hand a stream over)."""
        to, method, surl = opts.to, opts.method, opts.surl
        token = object()
        limiter = self._limiter
        assert limiter is not None
        try:
            limiter.acquire_on_behalf_of_nowait(token)  # a free connection: no coroutine
        except anyio.WouldBlock:
            try:
                await self._acquire(token, to, method, surl)
            except APITimeoutError as exc:
                raise _Failed(exc) from None
        body = opts.content_factory() if opts.content_factory is not None else opts.content
        handed_over = False
        resp: aiohttp.ClientResponse | None = None
        deadline: tuple[float, str] | None = None
        try:
            pending = opts.session.request(
                method,
                opts.url,
                data=body,
                params=opts.params,
                headers=headers,
                timeout=self._aiohttp_timeout(to, opts.stream),
                proxy=self._proxy,
                proxy_headers=self._proxy_headers,
                # Never followed: a redirect would carry the credentials (Sharely's x-api-key,
                # a bearer token, custom auth headers) and a POST body to wherever it points.
                allow_redirects=False,
            )
            if opts.stream and (deadline := _headers_deadline(to)) is not None:
                # aiohttp's total would also cut the body, and its read timer restarts at every
                # byte: bound the time to the headers here (a trickling server included).
                with anyio.fail_after(deadline[0]):
                    resp = await pending
                deadline = None
            else:
                resp = await pending
            status = resp.status
            if status < 300:
                if opts.stream:
                    handed_over = True
                    return StreamResponse(resp, lambda: self._release(token), method, surl, to)
                return Response(status, resp.headers, await resp.read())
            raw = await resp.read()
            raise _Failed(*_status_failure(status, raw, resp.headers, method, surl))
        except _Failed:
            raise
        except Exception as exc:
            # Mapped here, on the way out, by the map that stream reads use too: a ``with`` around
            # the exchange would cost a context manager's calls on every request.
            if (
                deadline is not None
                and isinstance(exc, TimeoutError)
                and not isinstance(exc, aiohttp.SocketTimeoutError)
            ):
                err: APIError | None = APITimeoutError(
                    f"no response headers within the {deadline[1]} timeout ({deadline[0]}s)",
                    kind=deadline[1],
                    method=method,
                    url=surl,
                )
            else:
                err = mapped_error(exc, method, surl, to)
            if err is None:
                raise
            raise _Failed(err) from None
        finally:
            if not handed_over:
                if resp is not None:
                    if resp.content.is_eof():
                        resp.release()
                    else:
                        resp.close()  # never hand a half-read connection back to the pool
                self._release(token)


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
