"""Loopback HTTP server for the benchmarks, run in its own process.

Serves canned Fini (``POST /v2/bots/ask-question``) and OpenAI (``POST /v1/chat/completions``)
responses. All response bytes are precomputed so that per-request server cost stays small;
streams are written in batches of ``x-bench-batch`` chunks (default 64) per ``write()``.

The number of stream chunks comes from the ``x-bench-chunks`` header or the ``chunks`` query
parameter (default 200).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

DEFAULT_CHUNKS = 200
DEFAULT_BATCH = 64
TOKEN = "tok "

ANSWER_TEXT = (
    "To upgrade your Fini plan, open the dashboard, go to Settings > Billing and pick the plan "
    "that fits your team. The change applies immediately and the price difference is prorated "
    "for the rest of the billing cycle. Enterprise customers can also contact their account "
    "manager, who can enable custom limits, SSO and a dedicated support channel for you."
)
QUESTION = "How do I upgrade?"

BASED_ON: list[dict[str, Any]] = [
    {
        "answer": "Fini is a support AI that answers customer questions from your knowledge base.",
        "score": 0.726,
        "source_id": "https://usefini.com",
        "source_type": "url",
    }
]

FINI_ANSWER: bytes = msgspec.json.encode(
    {
        "answer": ANSWER_TEXT,
        "answer_uuid": "f4ead1e0-576b-489f-bc59-7b1c6c43ee27",
        "based_on": BASED_ON,
        "categories": ["Fini intro"],
        "messages": [
            {"role": "user", "content": QUESTION},
            {"role": "assistant", "content": ANSWER_TEXT},
        ],
        "success": 1,
    }
)
FINI_STREAM_HEAD: bytes = b"data: " + msgspec.json.encode({"based_on": BASED_ON}) + b"\n\n"
FINI_STREAM_CHUNK: bytes = b"data: " + msgspec.json.encode({"content": TOKEN}) + b"\n\n"

_OAI_ID = "chatcmpl-bench0000000000000000000000"
_OAI_CREATED = 1763800000
OPENAI_ANSWER: bytes = msgspec.json.encode(
    {
        "id": _OAI_ID,
        "object": "chat.completion",
        "created": _OAI_CREATED,
        "model": "bench",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ANSWER_TEXT, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 70, "total_tokens": 82},
        "system_fingerprint": "fp_bench",
    }
)


def _oai_chunk(delta: dict[str, Any], finish_reason: str | None) -> bytes:
    body = {
        "id": _OAI_ID,
        "object": "chat.completion.chunk",
        "created": _OAI_CREATED,
        "model": "bench",
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    return b"data: " + msgspec.json.encode(body) + b"\n\n"


OPENAI_STREAM_HEAD: bytes = _oai_chunk({"role": "assistant", "content": ""}, None)
OPENAI_STREAM_CHUNK: bytes = _oai_chunk({"content": TOKEN}, None)
OPENAI_STREAM_TAIL: bytes = _oai_chunk({}, "stop")
DONE: bytes = b"data: [DONE]\n\n"

_JSON_HEADERS = {"Content-Type": "application/json"}
_SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


class _BenchRequest(msgspec.Struct):
    stream: bool = False


_decode_request = msgspec.json.Decoder(_BenchRequest).decode
_batches: dict[tuple[bytes, int], bytes] = {}


def _int_param(request: web.BaseRequest, name: str, default: int) -> int:
    raw = request.headers.get(f"x-bench-{name}") or request.query.get(name)
    return int(raw) if raw else default


async def _stream(
    request: web.BaseRequest, head: bytes, chunk: bytes, tail: bytes
) -> web.StreamResponse:
    n = _int_param(request, "chunks", DEFAULT_CHUNKS)
    batch = max(1, _int_param(request, "batch", DEFAULT_BATCH))
    resp = web.StreamResponse(headers=_SSE_HEADERS)
    await resp.prepare(request)
    await resp.write(head)
    full = _batches.get((chunk, batch))
    if full is None:
        full = _batches[(chunk, batch)] = chunk * batch
    for _ in range(n // batch):
        await resp.write(full)
    rest = n % batch
    await resp.write(chunk * rest + tail + DONE)
    await resp.write_eof()
    return resp


def _handler(
    answer: bytes, head: bytes, chunk: bytes, tail: bytes
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            stream = _decode_request(body).stream if body else False
        except msgspec.DecodeError:
            return web.Response(status=400, body=b'{"error":"invalid json"}', headers=_JSON_HEADERS)
        if not stream:
            return web.Response(body=answer, headers=_JSON_HEADERS)
        return await _stream(request, head, chunk, tail)

    return handle


def build_app() -> web.Application:
    """The aiohttp application. Extension point: add routes for later workloads here."""
    app = web.Application()
    app.router.add_post(
        "/v2/bots/ask-question",
        _handler(FINI_ANSWER, FINI_STREAM_HEAD, FINI_STREAM_CHUNK, b""),
    )
    app.router.add_post(
        "/v1/chat/completions",
        _handler(OPENAI_ANSWER, OPENAI_STREAM_HEAD, OPENAI_STREAM_CHUNK, OPENAI_STREAM_TAIL),
    )
    from benchmarks._server_jobs import add_routes  # batch workloads (imports this module)

    add_routes(app)
    return app


async def _serve(sock: socket.socket, ready: Callable[[], None]) -> None:
    runner = web.AppRunner(build_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, backlog=1024)
    await site.start()
    ready()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def _bind() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _run(coro: Awaitable[None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coro)  # type: ignore[arg-type]
    else:
        uvloop.run(coro)  # type: ignore[arg-type]


def serve(conn: multiprocessing.connection.Connection) -> None:
    """Process target: bind an ephemeral port, report it through ``conn``, serve forever."""
    sock = _bind()
    port: int = sock.getsockname()[1]
    _run(_serve(sock, lambda: conn.send(port)))


class ServerProcess:
    """Context manager running :func:`serve` in a separate (spawned) process."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=serve, args=(child,), daemon=True, name="bench-server")
        self.port = 0

    @property
    def pid(self) -> int:
        assert self._proc.pid is not None
        return self._proc.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self._proc.start()
        if not self._parent.poll(30):
            self._proc.kill()
            raise RuntimeError("benchmark server did not start within 30 s")
        self.port = int(self._parent.recv())
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()


def process_cpu_seconds(pid: int) -> float | None:
    """utime+stime of ``pid`` from /proc (Linux); ``None`` elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


if __name__ == "__main__":
    with ServerProcess() as srv:
        print(f"serving on {srv.base_url} (pid {srv.pid}); Ctrl-C to stop", file=sys.stderr)
        try:
            srv._proc.join()
        except KeyboardInterrupt:
            pass
