"""HTTP transport: one aiohttp session per client, the connection pool, retries, error mapping.

The transport knows nothing of Fini's or Sharely's routes: callers give it a method, a path, an
encoded body and whether the request is safe to repeat. It returns the raw response (or an open
streaming response) and raises the typed errors of ``_exceptions``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

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
    APIStatusError,
    APITimeoutError,
    ClientStateError,
    ValidationError,
)

# Moved out of this module; re-exported so every import path keeps working.
from ._hooks import AttemptHook, Auth, attempt_hook
from ._http_errors import (
    _dropped_unanswered,
    _headers_deadline,
    _may_retry,
    _status_failure,
    env_proxy,
    exchange_error,
)
from ._logging import log_attempt, logger, setup_from_env
from ._ratelimit import RateLimiter, TokenBucket
from ._request import _Failed, _RequestOptions
from ._response import Response, StreamResponse
from ._retry import backoff_schedule
from ._validate import base_url as check_base_url
from ._validate import headers as check_headers

__all__ = ["AttemptHook", "Auth", "Response", "StreamResponse", "Transport", "attempt_hook"]

_URL_CACHE_MAX = 512
JSON_CONTENT_TYPE = "application/json"


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
            # aiohttp would resend a DELETE or PUT by itself, once, when a kept-alive connection
            # drops unanswered, even for a request marked not safe to repeat (a delete the
            # server may have done). Retrying is decided here (see _send_with_retries).
            if hasattr(session, "_retry_connection"):
                session._retry_connection = False
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
        """Wait for a free connection (``_exchange`` tried without waiting first); a pool timeout
        fails the attempt (:class:`_Failed`)."""
        limiter = self._limiter
        assert limiter is not None
        try:
            if timeout.pool is None:
                await limiter.acquire_on_behalf_of(token)
            else:
                with anyio.fail_after(timeout.pool):
                    await limiter.acquire_on_behalf_of(token)
        except TimeoutError:
            error = APITimeoutError(
                f"no free connection within {timeout.pool}s "
                f"(all {self.max_connections} connections in use)",
                kind="pool",
                method=method,
                url=url,
            )
            raise _Failed(error) from None

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
        resent = False
        while True:
            attempt += 1
            try:
                if dynamic:
                    return await self._send_handling_auth(opts, attempt)
                # A static key needs no auth step: one coroutine less per request.
                return await self._attempt(opts, opts.headers, attempt)
            except _Failed as failed:
                err = failed.error
                if not resent and opts.idempotent and _dropped_unanswered(err):
                    # What aiohttp does for HTTP-idempotent methods (RFC 9112 9.3.1), here for
                    # the requests we know are safe: one immediate resend, not counted.
                    resent = True
                    attempt -= 1
                    continue
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
            return await self._attempt(opts, headers, attempt)
        except _Failed as failed:
            err = failed.error
            if not (
                isinstance(err, APIStatusError)
                and err.status_code == 401
                and await self.auth.on_unauthorized(self, headers)
            ):
                raise
        headers = {**opts.headers, **(await self.auth.headers(self))}
        return await self._attempt(opts, headers, attempt)

    def _attempt(
        self, opts: _RequestOptions, headers: Mapping[str, str], attempt: int
    ) -> Coroutine[Any, Any, Response | StreamResponse]:
        """One attempt's coroutine: the bare :meth:`_exchange` when nothing paces or observes
        attempts (no rate limiter, no attempt hook, DEBUG logging off), else the exchange inside
        :meth:`_send_once`. Chosen synchronously, so that the common case awaits one coroutine
        less per request (the per-request instruction count is a guarded hot path)."""
        if (
            self.rate_limiter is None
            and attempt_hook.get() is None
            and not logger.isEnabledFor(logging.DEBUG)
        ):
            return self._exchange(opts, headers)
        return self._send_once(opts, headers, attempt)

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
                log_attempt(opts.method, opts.path, status or type(err).__name__, attempt, started)
            raise
        if bucket is not None:
            bucket.on_success()
        if hook is not None:
            hook.after_attempt(result.status, None)
        if log:
            log_attempt(opts.method, opts.path, result.status, attempt, started)
        return result

    async def _exchange(
        self, opts: _RequestOptions, headers: Mapping[str, str]
    ) -> Response | StreamResponse:
        """Send once through a pooled connection and read the answer (or hand a stream over)."""
        to, method, surl, token = opts.to, opts.method, opts.surl, object()
        limiter = self._limiter
        assert limiter is not None  # bound by _bind before any send (no typing.cast: a call)
        try:
            limiter.acquire_on_behalf_of_nowait(token)  # a free connection: no coroutine
        except anyio.WouldBlock:
            await self._acquire(token, to, method, surl)
        factory = opts.content_factory
        handed_over = False
        resp: aiohttp.ClientResponse | None = None
        deadline: tuple[float, str] | None = None
        try:
            pending = opts.session.request(
                method,
                opts.url,
                data=opts.content if factory is None else factory(),
                params=opts.params,
                headers=headers,
                timeout=self._aiohttp_timeout(to, opts.stream),
                proxy=self._proxy,
                proxy_headers=self._proxy_headers,
                allow_redirects=False,  # a redirect would carry credentials and body elsewhere
            )
            if opts.stream and (deadline := _headers_deadline(to)) is not None:
                # See _headers_deadline: a bare cancel scope on the loop's clock (anyio's on
                # asyncio), not anyio.fail_after (two generator context managers per stream).
                with anyio.CancelScope(deadline=asyncio.get_running_loop().time() + deadline[0]):
                    resp = await pending
                if resp is None:  # the scope's deadline cancelled the wait
                    raise TimeoutError  # mapped below, naming the timeout in ``deadline``
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
            # Mapped on the way out (a ``with`` would cost calls on every request).
            err = exchange_error(exc, deadline, method, surl, to)
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
