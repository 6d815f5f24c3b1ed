"""A server that trickles its answer a byte at a time cannot hold a call past its timeouts
(issue 11): ``total`` (and ``read``, as a deadline) bound a stream's time to headers, and a
``total`` that expires during a plain body is reported as ``kind="total"``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from fini_async import APITimeoutError, FiniClient, Timeout

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]

SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
JSON_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\r\n"


async def _read_request(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))


async def _trickle(writer: asyncio.StreamWriter, data: bytes, gap: float = 0.02) -> None:
    for i in range(len(data)):
        writer.write(data[i : i + 1])
        await writer.drain()
        await asyncio.sleep(gap)


async def trickle_headers(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    await _trickle(writer, SSE_HEAD + b"X-Pad: " + b"a" * 10_000 + b"\r\n\r\n")


async def trickle_body(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await _read_request(reader)
    writer.write(JSON_HEAD)
    await _trickle(writer, b'{"answer": "' + b"a" * 380 + b'"}    ')


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Coroutine[Any, Any, str]]]:
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []

    async def start(handler: Handler) -> str:
        async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            try:
                await handler(reader, writer)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass

        server = await asyncio.start_server(run, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()


def client(url: str, timeout: Timeout | float) -> FiniClient:
    return FiniClient("k", base_url=url, timeout=timeout, max_retries=0)


@pytest.mark.parametrize(
    ("timeout", "kind"),
    [(0.5, "total"), (Timeout(read=0.5), "read"), (Timeout(total=0.5, read=30.0), "total")],
)
async def test_trickled_stream_headers_time_out(
    serve: Callable[[Handler], Coroutine[Any, Any, str]], timeout: Timeout | float, kind: str
) -> None:
    url = await serve(trickle_headers)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with client(url, timeout) as c:
        with pytest.raises(APITimeoutError) as info:
            async with c.bots.stream_question("q") as stream:
                await stream.get_final_text()
    assert info.value.kind == kind
    assert "0.5" in str(info.value)
    # A hang guard only (the trickle lasts 200 s): the deadline, not the trickle, ended it.
    assert loop.time() - started < 30


async def test_total_timeout_during_a_plain_body_says_total(
    serve: Callable[[Handler], Coroutine[Any, Any, str]],
) -> None:
    url = await serve(trickle_body)
    async with client(url, Timeout(total=0.5, read=30.0)) as c:
        with pytest.raises(APITimeoutError) as info:
            await c.bots.ask_question("q")
    assert info.value.kind == "total"
    assert "total" in str(info.value)
