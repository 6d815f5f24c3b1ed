"""aiohttp's connection texts become one plain sentence, with ``[METHOD URL]`` kept (issue 11)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest

from fini_async import APIConnectionError, FiniClient


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
async def not_http() -> AsyncIterator[str]:
    """A loopback TCP server that answers every request with something that is not HTTP."""
    writers: list[asyncio.StreamWriter] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(1000)
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\nnot http at all\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    for writer in writers:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_connection_refused_is_one_plain_sentence() -> None:
    port = closed_port()
    async with FiniClient("k", base_url=f"http://127.0.0.1:{port}", max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.bots.ask_question("q")
    err = info.value
    assert err.message == f"could not connect to 127.0.0.1:{port}: connection refused"
    assert "ssl:default" not in str(err)
    assert err.method == "POST"
    assert err.url == f"http://127.0.0.1:{port}/v2/bots/ask-question"
    assert str(err).endswith(f"[POST http://127.0.0.1:{port}/v2/bots/ask-question]")


async def test_a_peer_that_does_not_speak_http(not_http: str) -> None:
    async with FiniClient("k", base_url=not_http, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.bots.list()
        with pytest.raises(APIConnectionError) as stream_info:
            async with client.bots.stream_question("q") as stream:
                await stream.get_final_text()
    host_port = not_http.removeprefix("http://")
    for err in (info.value, stream_info.value):
        assert err.message == f"the server at {host_port} did not answer with HTTP"
        assert "400" not in str(err)
        assert f"{not_http}/v2/bots/" in str(err)
        assert err.method in ("GET", "POST")
