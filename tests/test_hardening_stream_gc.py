"""A stream dropped without ``async with``/``aclose()`` gives its connection slot back once it is
garbage-collected (issue 11): before, ``max_connections`` such streams left every later call
waiting for a free connection until ``APITimeoutError(pool)``."""

from __future__ import annotations

import gc
import weakref

from fini_async import FiniClient, Timeout
from fini_async._streaming import AnswerStream
from fini_async.testing import FakeFini

MAX = 2


async def _abandon(client: FiniClient, *, read: bool) -> weakref.ref[AnswerStream]:
    """Open a stream (and read two events, the second after a pause of the server's, so that the
    idle watchdog was armed), then drop it without closing it."""
    # The emulator pauses between the tokens it streams: the second read has to wait.
    stream = client.bots.stream_question("q", extra_headers={"x-fake-chunk-delay": "0.05"})
    await stream.__aenter__()
    if read:
        await stream.__anext__()
        await stream.__anext__()
        assert stream._watchdog is not None  # armed by the read that waited
    return weakref.ref(stream)


async def test_dropped_streams_free_their_connection_slots(fake: FakeFini) -> None:
    timeout = Timeout(pool=2.0, stream_idle=30.0)
    async with fake.client(max_connections=MAX, timeout=timeout, max_retries=0) as client:
        for read in (False, True):
            refs = []
            for _ in range(MAX):
                refs.append(await _abandon(client, read=read))
            gc.collect()
            assert all(ref() is None for ref in refs)  # nothing (no watchdog) keeps them alive
            # A normal call gets a connection at once (timeout.pool would fail it otherwise).
            answer = await client.bots.ask_question("still working?")
            assert answer.answer


async def test_a_dropped_stream_reading_nothing_more_is_collected(fake: FakeFini) -> None:
    async with fake.client(max_connections=1, timeout=Timeout(pool=2.0)) as client:
        ref = await _abandon(client, read=True)
        gc.collect()
        assert ref() is None
        async with client.bots.stream_question("again") as stream:
            assert await stream.get_final_text()
