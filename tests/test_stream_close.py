"""Closing an AnswerStream from another task while a reader waits in it (what a relay's
disconnect watcher does): the reader's loop ends at once (``StopAsyncIteration``, so
``get_final_answer`` raises ``StreamError``), nothing is requested again, and no connection or
task is left behind. Over real loopback HTTP against the emulator."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from fini_async import AnswerStream, FiniClient, StreamError
from fini_async.testing import FakeFini, assert_pool_idle

Q = "How do I reset my password?"
ROUTE = "ask-question"
#: How long the emulator holds the answer back: the reader must end well before that.
HOLD = 3.0


def _pending_tasks() -> set[asyncio.Task[object]]:
    """The client's side: tasks still running, but not the emulator's request handlers."""
    return {
        t
        for t in asyncio.all_tasks()
        if t is not asyncio.current_task()
        and not t.done()
        and not t.get_coro().__qualname__.startswith("RequestHandler.")  # type: ignore[union-attr]
    }


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never held")


def _setup(
    fake: FakeFini, where: str, via: str
) -> tuple[Callable[[AnswerStream, list[object]], bool], int]:
    """Hold the answer back at ``where``; return when to close, and the items read by then."""
    if where == "before the response":
        fake.add_latency(ROUTE, HOLD)
        return (lambda stream, events: fake.calls[ROUTE] == 1), 0
    if where == "before the first event":
        fake.stall_stream_after(0, HOLD)
        return (lambda stream, events: stream.response is not None), 0
    fake.stall_stream_after(3, HOLD)  # the metadata event and two pieces of text
    expected = 3 if via == "events" else 2
    return (lambda stream, events: len(events) == expected), expected


@pytest.mark.parametrize("where", ["before the response", "before the first event", "mid-stream"])
@pytest.mark.parametrize("via", ["events", "text_stream"])
async def test_close_from_another_task_ends_the_reader_without_a_retry(
    fake: FakeFini, client: FiniClient, where: str, via: str
) -> None:
    ready, expected = _setup(fake, where, via)
    before = _pending_tasks()
    stream = client.bots.stream_question(Q)
    events: list[object] = []

    async def reader() -> None:
        # The loop ends normally: no exception escapes once another task closed the stream.
        source = stream if via == "events" else stream.text_stream
        async for event in source:
            events.append(event)

    task = asyncio.create_task(reader())
    await _until(lambda: ready(stream, events))
    assert not task.done()  # blocked inside __anext__, waiting for the emulator
    await stream.aclose()
    await asyncio.wait_for(task, HOLD * 10)  # re-raises whatever the reader raised
    # Ended while the emulator was still holding the answer back: promptly, not after the stall.
    assert fake.streams_completed == 0
    if where == "before the response":
        assert fake.streams_open == 0 and fake.stream_disconnects == 0
    assert len(events) == expected
    assert stream.closed
    assert fake.calls[ROUTE] == 1  # never re-requested after the user closed it
    assert_pool_idle(client)
    assert _pending_tasks() <= before
    with pytest.raises(StreamError):
        await stream.get_final_answer()


async def test_close_before_reading_and_twice_is_harmless(
    fake: FakeFini, client: FiniClient
) -> None:
    stream = client.bots.stream_question(Q)
    await stream.aclose()
    stream.close()
    assert [e async for e in stream] == []
    assert fake.calls[ROUTE] == 0
    with pytest.raises(StreamError):
        await stream.get_final_answer()


async def test_cancelling_the_reader_while_it_opens_leaves_nothing(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.add_latency(ROUTE, HOLD)
    before = _pending_tasks()

    async def reader() -> None:
        async with client.bots.stream_question(Q) as stream:
            async for _ in stream:
                pass

    task = asyncio.create_task(reader())
    await _until(lambda: fake.calls[ROUTE] == 1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_pool_idle(client)
    assert _pending_tasks() <= before
    assert fake.calls[ROUTE] == 1
