"""Connect, pool, read and stream-idle timeouts."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from fini_async import (
    APITimeoutError,
    FiniClient,
    StreamError,
    Timeout,
    ValidationError,
)
from fini_async.testing import FakeFini

ROUTE = "ask-question"


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A listening socket whose accept queue is full: new connections hang in SYN_SENT."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(8):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for s in fillers:
            s.close()
        server.close()


async def test_connect_timeout(blackhole: str) -> None:
    async with FiniClient(api_key="fini_x", base_url=blackhole, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            await client.bots.ask_question("hi?", timeout=Timeout(connect=0.3))
    assert info.value.kind == "connect"
    assert time.monotonic() - started < 5


async def test_read_timeout(fake: FakeFini, client: FiniClient) -> None:
    fake.add_latency(ROUTE, 1.0)
    with pytest.raises(APITimeoutError) as info:
        await client.bots.ask_question("hi?", timeout=Timeout(read=0.2), max_retries=0)
    assert info.value.kind == "read"
    assert isinstance(info.value, APITimeoutError)


async def test_read_timeout_is_retried_for_safe_requests(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.fail_next(ROUTE, 1, 500, delay=1.0)  # the first attempt hangs, the second is fine
    answer = await client.bots.ask_question("What is Fini?", timeout=Timeout(read=0.3))
    assert answer.answer
    assert fake.calls[ROUTE] == 2


async def test_bare_number_timeout(fake: FakeFini, client: FiniClient) -> None:
    fake.add_latency(ROUTE, 1.0)
    with pytest.raises(APITimeoutError):
        await client.bots.ask_question("hi?", timeout=0.2, max_retries=0)


async def test_pool_timeout_is_distinct_from_read(fake: FakeFini) -> None:
    async with fake.client(max_connections=1) as client:
        fake.chunk_delay = 0.2
        async with client.bots.stream_question("How do I reset my password?") as stream:
            await stream.__anext__()  # the only connection is now busy with this stream
            started = time.monotonic()
            with pytest.raises(APITimeoutError) as info:
                await client.bots.ask_question(
                    "hi?", timeout=Timeout(pool=0.2, read=30), max_retries=0
                )
            assert info.value.kind == "pool"
            assert time.monotonic() - started < 3
        # Once the stream is closed the connection is free again.
        fake.chunk_delay = 0
        assert (await client.bots.ask_question("What is Fini?")).answer


async def test_stream_idle_timeout_after_start(fake: FakeFini, client: FiniClient) -> None:
    fake.stall_stream_after(3, 2.0)
    texts = []
    with pytest.raises(StreamError) as info:
        async with client.bots.stream_question(
            "How do I reset my password?", timeout=Timeout(stream_idle=0.3, read=30)
        ) as stream:
            async for text in stream.text_stream:
                texts.append(text)
    err = info.value
    assert err.text == "".join(texts) and len(texts) == 2  # metadata + 2 deltas came first
    assert isinstance(err.__cause__, APITimeoutError) and err.__cause__.kind == "stream_idle"


async def test_timeout_values_are_checked() -> None:
    with pytest.raises(ValidationError):
        Timeout(read=-1)
    with pytest.raises(ValidationError):
        FiniClient(api_key="k", timeout=0)
    client = FiniClient(api_key="k", base_url="http://127.0.0.1:9")
    async with client:
        with pytest.raises(ValidationError):
            await client.bots.ask_question("hi?", timeout="soon")  # type: ignore[arg-type]
