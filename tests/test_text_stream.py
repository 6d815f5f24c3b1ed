"""``stream.text_stream`` over real HTTP: breaking out leaves no task or generator to finalise,
it shares its position with the event iterator, and text_so_far follows it item by item."""

from __future__ import annotations

import asyncio
import gc

from fini_async import AnswerDelta, AnswerMetadata, FiniClient
from fini_async.testing import FakeFini, assert_pool_idle

Q = "How do I reset my password?"


def _client_tasks() -> set[asyncio.Task[object]]:
    """Pending tasks, but not the emulator's request handlers."""
    return {
        t
        for t in asyncio.all_tasks()
        if not t.done() and not t.get_coro().__qualname__.startswith("RequestHandler.")  # type: ignore[union-attr]
    }


async def test_breaking_out_closes_the_generator_at_once_without_a_task(
    fake: FakeFini, client: FiniClient
) -> None:
    baseline = _client_tasks()
    for _ in range(20):
        async with client.bots.stream_question(Q) as stream:
            async for _ in stream.text_stream:
                break
            # The generator, suspended at a yield, was dropped: it is closed there and then. Had
            # it been bound to the loop's async-generator hooks, the loop's finaliser would have
            # scheduled a task to close it, pending right after this one step.
            await asyncio.sleep(0)
            assert _client_tasks() <= baseline
        assert stream.closed
    gc.collect()
    await asyncio.sleep(0)
    assert _client_tasks() <= baseline
    assert_pool_idle(client)


async def test_text_stream_and_events_share_one_position(client: FiniClient) -> None:
    plain = await client.bots.ask_question(Q)
    async with client.bots.stream_question(Q) as stream:
        texts = stream.text_stream
        first = await texts.__anext__()
        event = await stream.__anext__()  # the next item, not the first again
        assert isinstance(event, AnswerDelta)
        rest = [t async for t in texts]
        assert isinstance(stream.based_on, list) and stream.based_on
        final = await stream.get_final_answer()
    assert first + event.text + "".join(rest) == plain.answer == final.answer


async def test_text_so_far_follows_each_piece(client: FiniClient) -> None:
    async with client.bots.stream_question(Q) as stream:
        seen = ""
        async for text in stream.text_stream:
            seen += text
            assert stream.text_so_far == seen
        assert (await stream.get_final_answer()).answer == seen


async def test_unused_and_empty_text_streams(fake: FakeFini, client: FiniClient) -> None:
    async with client.bots.stream_question(Q) as stream:
        stream.text_stream  # noqa: B018 (made and dropped unused: nothing to warn about)
        events = [e async for e in stream]
        assert isinstance(events[0], AnswerMetadata)
        assert [t async for t in stream.text_stream] == []  # already read to the end


async def test_events_count_and_text_so_far_follow_each_event(client: FiniClient) -> None:
    async with client.bots.stream_question(Q) as stream:
        seen = ""
        count = 0
        async for event in stream:
            count += 1
            if isinstance(event, AnswerDelta):
                seen += event.text
            assert stream.text_so_far == seen
            assert f"events={count}>" in repr(stream)
        final = await stream.get_final_answer()
    assert final.answer == seen and count > 5
