"""``RedisRateLimiter``: one request rate shared by any number of processes, kept in Redis.

Everything happens in one atomic Lua script per request (GCRA with reservations, on Redis's own
clock so that the workers' clocks do not matter): it applies the successes and the 429 this
worker saw since its last call (AIMD of the shared rate, the shared Retry-After pause), then
reserves the next send time. redis-py is imported on first use (the ``redis`` extra).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import uuid
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

import anyio

from ._exceptions import ConfigurationError, ValidationError
from ._ratelimit import (
    MAX_PAUSE,
    QUIET,
    RATE_DECREASE,
    RATE_GROWTH,
    RATE_GROWTH_QUIET,
    RateLimiterUnavailableError,
    TokenBucket,
    check_rate,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

__all__ = ["RedisRateLimiter"]

logger = logging.getLogger("fini_async")

#: A worker (one limiter object in one process) counts as active this long after its last call;
#: the local fallback's default rate is the shared rate divided by the active workers.
_WORKER_TTL_MS = 10_000
#: The limiter's keys expire after this long without use (a later run starts afresh).
_KEY_TTL_MS = 600_000

# KEYS: state hash, workers sorted set.
# ARGV: op ("acquire" | "report"), ceiling (req/s), burst, floor (req/s), successes since the
# last call, when the request answered 429 was reserved (ms, Redis clock; -1: no 429; news if
# at or after the last decrease: it was paced at the current rate), its Retry-After (s, 0: none),
# worker id, adaptive ("1"/"0").
# Returns: wait (ms) until the reserved send time (-1 for "report"), the reservation's time (ms),
# the shared rate, the active workers (all strings: Redis truncates Lua numbers to integers).
_SCRIPT = f"""
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local ceiling = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local floor = tonumber(ARGV[4])
local successes = tonumber(ARGV[5])
local sent = tonumber(ARGV[6])
local retry = tonumber(ARGV[7])
local adaptive = ARGV[9] == '1'
local s = redis.call('HMGET', KEYS[1], 'tat', 'rate', 'pause', 'dec', 'last429')
local tat = tonumber(s[1]) or 0
local rate = tonumber(s[2]) or ceiling
local pause = tonumber(s[3]) or 0
local dec = tonumber(s[4]) or -1
local last429 = tonumber(s[5]) or -1e15
if not adaptive or rate > ceiling then rate = ceiling end
if sent >= 0 then
  last429 = now
  if retry > 0 then pause = math.max(pause, now + math.min(retry, {MAX_PAUSE}) * 1000) end
  if adaptive and sent >= dec then
    rate = math.max(floor, rate * {RATE_DECREASE})
    dec = now
  end
elseif adaptive and successes > 0 and rate < ceiling then
  local growth = {RATE_GROWTH}
  if now - last429 > {QUIET * 1000} then growth = {RATE_GROWTH_QUIET} end
  rate = math.min(ceiling, rate + successes * growth * math.min(rate, 1))
end
local wait = -1
if ARGV[1] == 'acquire' then
  local interval = 1000 / rate
  local start = math.max(now, pause)
  local t0 = math.max(tat, start)
  wait = math.max(start, t0 - (burst - 1) * interval) - now
  tat = t0 + interval
end
redis.call('HSET', KEYS[1], 'tat', tat, 'rate', rate, 'pause', pause, 'dec', dec,
  'last429', last429)
redis.call('PEXPIRE', KEYS[1], {_KEY_TTL_MS})
redis.call('ZADD', KEYS[2], now, ARGV[8])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - {_WORKER_TTL_MS})
redis.call('PEXPIRE', KEYS[2], {_KEY_TTL_MS})
local workers = redis.call('ZCARD', KEYS[2])
return {{tostring(wait), tostring(now), tostring(rate), tostring(workers)}}
"""

_ON_UNAVAILABLE = ("raise", "local")


def redact_url(url: str) -> str:
    """``url`` without its password (for reprs, logs and errors)."""
    import yarl

    try:
        parsed = yarl.URL(url)
    except (TypeError, ValueError):
        return "<unparseable url>"
    if parsed.password is None and parsed.user is None:
        return url
    return str(parsed.with_user(None).with_password(None)).replace("://", "://***@", 1)


class RedisRateLimiter:
    """A :class:`RateLimiter` whose budget lives in Redis: every process (and every client and
    batch in it) using the same ``url`` and ``key`` shares ``rate`` requests per second.

    ::

        limiter = RedisRateLimiter("redis://10.0.0.5:6379/0", "fini:prod", rate=50)
        async with FiniClient(rate_limit=limiter) as client: ...
        # or, per batch: client.bots.ask_many(questions, rate_limit=limiter)

    Requests are spaced evenly (``burst`` requests may go at once after a quiet spell; the
    default 1 never exceeds a sliding window of ``rate`` per second). With ``adaptive`` (the
    default) a 429 seen by any worker pauses all of them for its Retry-After and lowers the
    shared rate, once per round trip, which then grows back to ``rate`` as calls succeed (AIMD
    across the cluster). One atomic Lua script per request; Redis's clock, not the workers'.

    Redis unreachable: with ``on_unavailable="raise"`` (the default) :meth:`acquire` raises
    :class:`RateLimiterUnavailableError` and the request is not sent (in a batch, that item's
    result carries the error; nothing is sent twice or lost). With ``on_unavailable="local"``
    the worker falls back to a local adaptive :class:`TokenBucket` at ``local_rate`` (default:
    its share of the last shared rate, divided among the workers active then), logs a warning,
    and tries Redis again every ``retry_interval`` seconds.

    The object can be pickled (to ship it to Ray actors, say): only its settings travel, each
    process connects on first use. The URL's password never appears in its repr or errors.
    Needs the ``redis`` extra (``pip install 'fini-async[redis]'``).

    Raises:
        ValidationError: for a bad ``rate``, ``burst``, ``key`` or ``on_unavailable``.
        ConfigurationError: if redis-py is not installed.
    """

    def __init__(
        self,
        url: str,
        key: str,
        rate: float,
        *,
        burst: float = 1.0,
        adaptive: bool = True,
        on_unavailable: str = "raise",
        local_rate: float | None = None,
        timeout: float = 1.0,
        retry_interval: float = 2.0,
    ) -> None:
        value = check_rate(rate, "rate")
        assert value is not None
        burst_value = check_rate(burst, "burst")
        assert burst_value is not None
        if burst_value < 1:
            raise ValidationError("burst must be at least 1", field="burst")
        if not isinstance(url, str) or not url:
            raise ValidationError("url must be a redis:// URL", field="url")
        if not isinstance(key, str) or not key:
            raise ValidationError("key must be a non-empty string", field="key")
        if on_unavailable not in _ON_UNAVAILABLE:
            raise ValidationError(
                f"on_unavailable must be 'raise' or 'local', got {on_unavailable!r}",
                field="on_unavailable",
            )
        self._local_rate = check_rate(local_rate, "local_rate")
        check_rate(timeout, "timeout")
        check_rate(retry_interval, "retry_interval")
        _import_redis()  # fail here, not at the first request, without the extra
        self._url = url
        self.key = key
        self.ceiling = value
        self.burst = burst_value
        self._adaptive = bool(adaptive)
        self.on_unavailable = on_unavailable
        self.timeout = float(timeout)
        self.retry_interval = float(retry_interval)
        self._init_state()

    def _init_state(self) -> None:
        self._rate = self.ceiling
        self._workers = 1
        self._worker_id = uuid.uuid4().hex
        self._redis: Redis | None = None
        self._script: AsyncScript | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._successes = 0
        self._report: tuple[float, float] | None = None  # (admitted at, retry after)
        self._paused_until = 0.0  # monotonic: the pause this worker knows of
        self._fallback: TokenBucket | None = None
        self._retry_at = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        #: When the request admitted last in a task was reserved (ms, Redis clock).
        self._admitted: ContextVar[float] = ContextVar(
            f"fini_async_redis_limiter_{id(self)}", default=math.inf
        )

    # pickling: the settings only; each process connects on first use

    def __getstate__(self) -> dict[str, Any]:
        return {
            "url": self._url,
            "key": self.key,
            "ceiling": self.ceiling,
            "burst": self.burst,
            "adaptive": self._adaptive,
            "on_unavailable": self.on_unavailable,
            "local_rate": self._local_rate,
            "timeout": self.timeout,
            "retry_interval": self.retry_interval,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._url = state["url"]
        self.key = state["key"]
        self.ceiling = state["ceiling"]
        self.burst = state["burst"]
        self._adaptive = state["adaptive"]
        self.on_unavailable = state["on_unavailable"]
        self._local_rate = state["local_rate"]
        self.timeout = state["timeout"]
        self.retry_interval = state["retry_interval"]
        self._init_state()

    def __repr__(self) -> str:
        return (
            f"RedisRateLimiter(url={redact_url(self._url)!r}, key={self.key!r}, "
            f"rate={self.ceiling:g}, burst={self.burst:g})"
        )

    @property
    def url(self) -> str:
        """The Redis URL without its password."""
        return redact_url(self._url)

    @property
    def rate(self) -> float:
        """The shared rate as last seen in Redis (the local one while falling back)."""
        return self._fallback.rate if self._fallback is not None else self._rate

    @property
    def adaptive(self) -> bool:
        return self._adaptive

    @property
    def workers(self) -> int:
        """Workers that used this budget in the last 10 s, as last seen in Redis."""
        return self._workers

    @property
    def using_fallback(self) -> bool:
        """True while Redis is unreachable and ``on_unavailable="local"`` paces locally."""
        return self._fallback is not None

    # -- RateLimiter ---------------------------------------------------------------------------

    async def acquire(self) -> None:
        """Reserve the next send time in Redis and wait for it."""
        while True:  # a pause this worker heard of: no need to ask Redis before it ends
            pause = self._paused_until - time.monotonic()
            if pause <= 0:
                break
            await anyio.sleep(pause)
        fallback = self._fallback
        if fallback is not None and time.monotonic() < self._retry_at:
            await fallback.acquire()
            return
        try:
            reply = await self._call("acquire")
        except RateLimiterUnavailableError:
            if self.on_unavailable == "raise":
                raise
            await self._fall_back().acquire()
            return
        if self._fallback is not None:
            self._fallback = None
            logger.warning("rate limiter %s: Redis is back, sharing the budget again", self.key)
        wait_ms = float(reply[0])
        self._admitted.set(float(reply[1]))
        if wait_ms > 0:
            await anyio.sleep(wait_ms / 1000.0)
            # Reserved before a pause this worker heard of since (others' pauses it cannot
            # know of without asking again; the server's next 429 tells).
            while True:
                pause = self._paused_until - time.monotonic()
                if pause <= 0:
                    break
                await anyio.sleep(pause)

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Tell Redis now (in the background): the pause and the lower rate apply to all."""
        if not self._adaptive and not retry_after:
            return
        if retry_after:
            until = time.monotonic() + min(retry_after, MAX_PAUSE)
            self._paused_until = max(self._paused_until, until)
        if self._fallback is not None:
            self._fallback.on_rate_limited(retry_after)
        sent = self._admitted.get()
        previous = self._report
        if previous is not None:
            sent, retry_after = max(sent, previous[0]), max(retry_after or 0.0, previous[1])
        self._report = (sent, retry_after or 0.0)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # sent with the next acquire
        task = loop.create_task(self._send_report())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def on_success(self) -> None:
        """Counted, and sent with this worker's next call."""
        if self._fallback is not None:
            self._fallback.on_success()
        elif self._adaptive:
            self._successes += 1

    # -- Redis ---------------------------------------------------------------------------------

    async def _send_report(self) -> None:
        if self._report is None:
            return
        try:
            await self._call("report")
        except RateLimiterUnavailableError:
            pass  # acquire deals with it (raise or fall back); the pause is known locally
        except Exception:  # a background report must never go unobserved
            logger.debug("rate limiter %s: report failed", self.key, exc_info=True)

    async def _call(self, op: str) -> list[Any]:
        script = self._bind()
        successes, self._successes = self._successes, 0
        report, self._report = self._report, None
        sent, retry = report if report is not None else (-1.0, 0.0)
        if sent == math.inf:
            sent = 1e18  # admitted elsewhere (not through this limiter): news
        state_key = self.key
        args = [
            op,
            repr(self.ceiling),
            repr(self.burst),
            repr(min(1.0, self.ceiling)),
            str(successes),
            repr(sent),
            repr(retry),
            self._worker_id,
            "1" if self._adaptive else "0",
        ]
        errors = _redis_errors()
        try:
            reply: list[Any] = await script(keys=[state_key, state_key + ":workers"], args=args)
        except errors as exc:
            self._retry_at = time.monotonic() + self.retry_interval
            raise RateLimiterUnavailableError(
                f"rate limiter {self.key!r}: Redis at {redact_url(self._url)} is unreachable "
                f"({type(exc).__name__}); the request was not sent"
            ) from None
        self._rate = float(reply[2])
        self._workers = max(1, int(reply[3]))
        return reply

    def _bind(self) -> AsyncScript:
        """The script on a client of the running loop (a client is bound to one loop)."""
        loop = asyncio.get_running_loop()
        if self._script is None or self._loop is not loop:
            redis_asyncio, retry_cls, no_backoff = _import_redis()
            self._redis = redis_asyncio.Redis.from_url(
                self._url,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
                # One quick reconnect (a pooled connection broken by a Redis restart), no more:
                # an unreachable Redis must be reported within about ``timeout``.
                retry=retry_cls(no_backoff(), 1),
            )
            self._script = self._redis.register_script(_SCRIPT)
            self._loop = loop
        return self._script

    def _fall_back(self) -> TokenBucket:
        if self._fallback is None:
            rate = self._local_rate or max(min(1.0, self.ceiling), self._rate / self._workers)
            self._fallback = TokenBucket(rate, burst=1.0, adaptive=self._adaptive)
            logger.warning(
                "rate limiter %s: Redis at %s is unreachable, pacing locally at %g requests/s",
                self.key,
                redact_url(self._url),
                rate,
            )
        return self._fallback

    async def aclose(self) -> None:
        """Close the connections to Redis (the limiter reconnects if used again)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        client, self._redis, self._script, self._loop = self._redis, None, None, None
        if client is not None:
            close = getattr(client, "aclose", None) or client.close
            await close()

    async def __aenter__(self) -> RedisRateLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


def _import_redis() -> tuple[Any, Any, Any]:
    try:
        import redis.asyncio as redis_asyncio
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError:
        raise ConfigurationError(
            "RedisRateLimiter needs redis-py: pip install 'fini-async[redis]'"
        ) from None
    return redis_asyncio, Retry, NoBackoff


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
