"""The transport/stream seam: one ``map_aiohttp_errors`` for requests and stream reads (a body
that breaks is reported in the same words as a request that breaks), socket operations as
``StreamResponse`` methods (``_streaming`` never reaches into aiohttp's response), and a slotted
request-options record."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import fini_async
from fini_async import APIConnectionError, FiniClient, StreamError, Timeout
from fini_async._request import _RequestOptions

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def _cut_after_one_event(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    if length:
        await reader.readexactly(int(length.group(1)))
    writer.write(HEAD + _chunk(b'data: {"content": "Hello"}\n\n'))
    await writer.drain()
    await asyncio.sleep(0.05)
    writer.close()  # no last chunk: the body breaks mid-stream


async def test_a_broken_body_is_mapped_like_a_broken_request() -> None:
    server = await asyncio.start_server(_cut_after_one_event, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with FiniClient(
            api_key="k",
            base_url=f"http://127.0.0.1:{port}",
            trust_env=False,
            timeout=Timeout(stream_idle=5),
        ) as client:
            stream = client.bots.stream_question("hi", max_retries=0)
            with pytest.raises(StreamError) as info:
                async with stream:
                    async for _ in stream:
                        pass
    finally:
        server.close()
        await server.wait_closed()
    cause = info.value.__cause__
    assert isinstance(cause, APIConnectionError)
    # the transport's sentence for a failed connection, not a second wording of the stream's own
    assert cause.message.startswith("connection failed: ")
    assert info.value.text == "Hello"
    assert str(info.value).startswith("the stream broke after it started: connection failed: ")


def test_streaming_does_not_reach_into_aiohttp() -> None:
    source = Path(fini_async.__file__).with_name("_streaming.py").read_text()
    for internal in ("resp.raw", ".content.", "connection.protocol", "set_exception"):
        assert internal not in source, internal


def test_request_options_are_a_slotted_record() -> None:
    opts = _RequestOptions(
        "GET",
        "/x",
        content=None,
        content_type=None,
        content_factory=None,
        params=None,
        extra_headers=None,
        timeout=None,
        max_retries=None,
        idempotent=True,
        stream=False,
    )
    assert not hasattr(opts, "__dict__") and opts.method == "GET"


def test_the_map_as_a_context_manager_and_as_a_function_agree() -> None:
    import aiohttp

    from fini_async._http_errors import map_aiohttp_errors, mapped_error

    to = Timeout(connect=3)
    for raw in (
        aiohttp.ClientConnectionError("reset"),
        aiohttp.ConnectionTimeoutError(),
        OSError("down"),
    ):
        with (
            pytest.raises(APIConnectionError) as info,
            map_aiohttp_errors("GET", "http://127.0.0.1:1/x", to),
        ):
            raise raw
        same = mapped_error(raw, "GET", "http://127.0.0.1:1/x", to)
        assert same is not None and type(same) is type(info.value)
        assert same.message == info.value.message and info.value.__context__ is raw
    assert mapped_error(KeyError("x"), "GET", "u", to) is None
