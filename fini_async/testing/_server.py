"""The emulator's plumbing: an aiohttp.web server on loopback, call counting, fault injection.

Nothing here knows a Fini or Sharely route; ``FakeFini`` and ``FakeSharely`` build on it.
"""

from __future__ import annotations

import asyncio
import collections
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

__all__ = ["EmulatorServer", "Fault", "json_response"]


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        body=json.dumps(data, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
        headers=headers,
    )


@dataclass
class Fault:
    """One injected failure for the next call of a route.

    ``status`` answers with that status (and ``body``, ``retry_after``, ``headers``);
    ``drop=True`` closes the connection without any response instead."""

    status: int = 500
    body: Any = None
    retry_after: float | str | None = None
    retry_after_ms: float | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0


@dataclass
class StreamFault:
    """A fault for the next stream: cut the connection, stall, inject an error object or a
    malformed line after ``after`` events."""

    after: int = 0
    cut: bool = False
    stall: float = 0.0
    error_status: int | None = None
    error_message: str = "stream failed"
    malformed: bool = False


ServerT = TypeVar("ServerT", bound="EmulatorServer")


class EmulatorServer:
    """Runs an aiohttp application on ``host`` (127.0.0.1) and an ephemeral port.

    ``async with FakeFini() as fake:`` starts it; ``fake.url`` is its base URL. ``calls`` counts
    requests per route name (every attempt, failed or not)."""

    #: How long ``stop()`` lets requests still being handled finish before cancelling them.
    shutdown_timeout = 0.5

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.calls: collections.Counter[str] = collections.Counter()
        self._faults: dict[str, collections.deque[Fault]] = collections.defaultdict(
            collections.deque
        )
        self._stream_faults: collections.deque[StreamFault] = collections.deque()
        self.latency: dict[str, float] = {}
        #: The headers of the last request seen on each route.
        self.last_headers: dict[str, dict[str, str]] = {}
        #: Calls answered 429 by the rate limit, per route.
        self.rate_limited: collections.Counter[str] = collections.Counter()
        self._rate_limit: int | None = None
        self._rate_window = 1.0
        self._admitted: collections.deque[float] = collections.deque()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self.app = self.build_app()

    # -- to be extended ------------------------------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**3)
        return app

    async def check_auth(self, request: web.Request, route: str) -> web.StreamResponse | None:
        """Return an error response to refuse the request, or None to let it through."""
        return None

    def error_body(self, status: int, message: str) -> Any:
        return {"statusCode": status, "message": message, "error": _REASONS.get(status, "Error")}

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._site is None:
            raise RuntimeError("the emulator is not running; use 'async with' or await start()")
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=self.shutdown_timeout
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        await self._site.start()
        server = self._site._server
        if self.port == 0 and server is not None:
            sockets = getattr(server, "sockets", None) or []
            if sockets:
                self.port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        self._site = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self: ServerT) -> ServerT:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    # -- fault injection -----------------------------------------------------------------------

    def fail_next(
        self,
        route: str,
        times: int = 1,
        status: int = 500,
        *,
        body: Any = None,
        retry_after: float | str | None = None,
        retry_after_ms: float | None = None,
        headers: dict[str, str] | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` calls of ``route`` with ``status`` (and Retry-After)."""
        for _ in range(times):
            self._faults[route].append(
                Fault(
                    status=status,
                    body=body,
                    retry_after=retry_after,
                    retry_after_ms=retry_after_ms,
                    headers=dict(headers or {}),
                    delay=delay,
                )
            )

    def respond_next(
        self,
        route: str,
        body: Any,
        *,
        status: int = 200,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``route`` with this exact body (any JSON value, or
        bytes/str sent as is): for testing how a client copes with unusual responses."""
        self.fail_next(route, times, status, body=body, headers=headers)

    def drop_next(self, route: str, times: int = 1, *, delay: float = 0.0) -> None:
        """Close the connection of the next ``times`` calls of ``route`` without answering
        (after reading the request: the client cannot know whether it was processed)."""
        for _ in range(times):
            self._faults[route].append(Fault(drop=True, delay=delay))

    def add_latency(self, route: str, seconds: float) -> None:
        """Delay every call of ``route`` by ``seconds`` before it is handled."""
        self.latency[route] = seconds

    def clear_faults(self) -> None:
        self._faults.clear()
        self._stream_faults.clear()
        self.latency.clear()

    def cut_stream_after(self, events: int, times: int = 1) -> None:
        """The next ``times`` streams close their connection after ``events`` events."""
        for _ in range(times):
            self._stream_faults.append(StreamFault(after=events, cut=True))

    def stall_stream_after(self, events: int, seconds: float) -> None:
        """The next stream goes silent for ``seconds`` after ``events`` events."""
        self._stream_faults.append(StreamFault(after=events, stall=seconds))

    def error_in_stream_after(
        self, events: int, status: int = 500, message: str = "stream failed"
    ) -> None:
        """The next stream sends an error object after ``events`` events, then ends."""
        self._stream_faults.append(
            StreamFault(after=events, error_status=status, error_message=message)
        )

    def malformed_line_after(self, events: int) -> None:
        """The next stream sends a line that is not JSON after ``events`` events."""
        self._stream_faults.append(StreamFault(after=events, malformed=True))

    def set_rate_limit(self, requests: int | None, *, per: float = 1.0) -> None:
        """Admit at most ``requests`` calls (all routes together) in any ``per`` seconds, like an
        API gateway's sliding window; others get 429 with ``Retry-After`` (whole seconds, as the
        RFC says) and ``retry-after-ms`` (exact), counted in :attr:`rate_limited`. None lifts it.
        """
        if requests is not None and (requests < 1 or per <= 0):
            raise ValueError("rate limit needs requests >= 1 and per > 0")
        self._rate_limit = requests
        self._rate_window = per
        self._admitted.clear()

    def _over_rate_limit(self) -> float | None:
        """None to admit this call, else the seconds until one would be admitted."""
        limit = self._rate_limit
        if limit is None:
            return None
        now = asyncio.get_running_loop().time()
        admitted = self._admitted
        horizon = now - self._rate_window
        while admitted and admitted[0] <= horizon:
            admitted.popleft()
        if len(admitted) < limit:
            admitted.append(now)
            return None
        return admitted[0] - horizon

    def take_stream_fault(self) -> StreamFault | None:
        return self._stream_faults.popleft() if self._stream_faults else None

    # -- middleware ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        route = request.match_info.route.name or request.path
        self.calls[route] += 1
        self.last_headers[route] = dict(request.headers)
        wait = self._over_rate_limit() if self._rate_limit is not None else None
        if wait is not None:
            self.rate_limited[route] += 1
            message = f"rate limit of {self._rate_limit} requests per {self._rate_window:g}s"
            body = self.error_body(429, message + " exceeded")
            headers = {
                "Retry-After": str(max(1, math.ceil(wait))),
                "retry-after-ms": str(max(1, math.ceil(wait * 1000))),
            }
            return json_response(body, status=429, headers=headers)
        delay = self.latency.get(route)
        if delay:
            await asyncio.sleep(delay)
        queue = self._faults.get(route)
        if queue:
            fault = queue.popleft()
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.drop:
                await request.read()
                if request.transport is not None:
                    request.transport.close()
                raise ConnectionResetError("fault: connection dropped")
            headers = dict(fault.headers)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            if fault.retry_after_ms is not None:
                headers["retry-after-ms"] = str(fault.retry_after_ms)
            body = fault.body
            if body is None:
                body = self.error_body(fault.status, f"injected failure ({fault.status})")
            if isinstance(body, (bytes, str)):
                if not any(k.lower() == "content-type" for k in headers):
                    headers["Content-Type"] = "text/html"
                return web.Response(
                    body=body.encode() if isinstance(body, str) else body,
                    status=fault.status,
                    headers=headers,
                )
            return json_response(body, status=fault.status, headers=headers)
        refused = await self.check_auth(request, route)
        if refused is not None:
            return refused
        return await handler(request)


_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    406: "Not Acceptable",
    409: "Conflict",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def reason(status: int) -> str:
    return _REASONS.get(status, "Error")
