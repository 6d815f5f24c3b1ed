"""Which timeout bounds the gaps inside a stream's body, over real loopback HTTP: ``stream_idle``
once the stream started (``read`` is for the response headers), and ``read`` still when there is
no ``stream_idle``."""

from __future__ import annotations

import pytest

from fini_async import APITimeoutError, FiniClient, StreamError, Timeout
from fini_async.testing import FakeFini

Q = "How do I reset my password?"


async def test_body_gaps_longer_than_read_are_fine_within_stream_idle(
    fake: FakeFini, client: FiniClient
) -> None:
    plain = await client.bots.ask_question(Q)
    fake.stall_stream_after(2, 0.6)
    async with client.bots.stream_question(
        Q, timeout=Timeout(read=0.2, stream_idle=5), max_retries=0
    ) as stream:
        texts = [t async for t in stream.text_stream]
    assert "".join(texts) == plain.answer


async def test_without_stream_idle_read_still_bounds_the_body(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.stall_stream_after(2, 3.0)
    with pytest.raises(StreamError) as info:
        async with client.bots.stream_question(
            Q, timeout=Timeout(read=0.3, stream_idle=None), max_retries=0
        ) as stream:
            async for _ in stream.text_stream:
                pass
    assert isinstance(info.value.__cause__, APITimeoutError)
    assert info.value.__cause__.kind == "read"
