"""Streamed answers over real HTTP: formats, accumulation, errors, retries, and leaks."""

from __future__ import annotations

import asyncio

import pytest

from fini_async import (
    AnswerDelta,
    AnswerMetadata,
    FiniClient,
    InternalServerError,
    Message,
    StreamError,
    UnknownEvent,
)
from fini_async.testing import FakeFini, assert_pool_idle, pool_stats

Q = "How do I reset my password?"
ROUTE = "ask-question"


def in_use(client: FiniClient) -> int:
    """Connections of the client's pool that are checked out right now."""
    return pool_stats(client).in_use


async def test_events_are_typed_and_final_answer_matches_plain(client: FiniClient) -> None:
    plain = await client.bots.ask_question(Q)
    history = [Message(role="system", content="Be brief.")]
    async with client.bots.stream_question(Q, message_history=history) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_answer()
    assert isinstance(events[0], AnswerMetadata)
    assert events[0].based_on == plain.based_on
    deltas = [e for e in events[1:] if isinstance(e, AnswerDelta)]
    assert len(deltas) > 5 and len(deltas) == len(events) - 1
    assert final.answer == plain.answer == "".join(d.text for d in deltas)
    assert final.based_on == plain.based_on
    assert [m.role for m in final.messages] == ["system", "user", "assistant"]
    assert final.messages[1].content == Q and final.messages[2].content == plain.answer
    assert final.answer_uuid == events[0].answer_uuid


@pytest.mark.parametrize("fmt", ["sse", "sse-crlf", "lines", "ndjson", "json"])
async def test_every_wire_format(fake: FakeFini, client: FiniClient, fmt: str) -> None:
    plain = await client.bots.ask_question(Q)
    async with client.bots.stream_question(
        Q, extra_headers={"x-fake-stream-format": fmt}
    ) as stream:
        texts = [t async for t in stream.text_stream]
        final = await stream.get_final_answer()
    assert "".join(texts) == plain.answer == final.answer
    assert final.based_on == plain.based_on
    if fmt != "json":
        assert len(texts) > 5


async def test_without_done_sentinel(fake: FakeFini, client: FiniClient) -> None:
    fake.stream_done = False
    async with client.bots.stream_question(Q) as stream:
        assert (await stream.get_final_answer()).answer.startswith("To reset your password")


async def test_get_final_answer_after_partial_iteration(client: FiniClient) -> None:
    async with client.bots.stream_question(Q) as stream:
        first = [await stream.__anext__() for _ in range(3)]
        answer = await stream.get_final_answer()
    assert isinstance(first[0], AnswerMetadata)
    assert answer.answer.startswith("To reset your password")
    assert stream.text_so_far == answer.answer


async def test_malformed_line_is_skipped(fake: FakeFini, client: FiniClient) -> None:
    fake.malformed_line_after(2)
    async with client.bots.stream_question(Q) as stream:
        answer = await stream.get_final_answer()
    assert answer.answer.startswith("To reset your password")


async def test_error_object_in_stream_raises_status_error(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.error_in_stream_after(4, status=503, message="model overloaded")
    texts = []
    with pytest.raises(InternalServerError) as info:
        async with client.bots.stream_question(Q) as stream:
            async for text in stream.text_stream:
                texts.append(text)
    assert info.value.status_code == 503
    assert info.value.message == "model overloaded"
    assert len(texts) == 3
    assert info.value.text == "".join(texts)  # type: ignore[attr-defined]


async def test_cut_after_start_raises_stream_error_with_text(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.cut_stream_after(5)
    texts = []
    with pytest.raises(StreamError) as info:
        async with client.bots.stream_question(Q) as stream:
            async for text in stream.text_stream:
                texts.append(text)
    assert info.value.text == "".join(texts) and len(texts) == 4
    assert fake.calls[ROUTE] == 1  # never retried once events reached the caller


async def test_cut_before_first_event_is_retried(fake: FakeFini, client: FiniClient) -> None:
    fake.cut_stream_after(0)
    async with client.bots.stream_question(Q) as stream:
        answer = await stream.get_final_answer()
    assert answer.answer.startswith("To reset your password")
    assert fake.calls[ROUTE] == 2


async def test_open_is_retried_on_429(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next(ROUTE, 1, 429, retry_after="0")
    async with client.bots.stream_question(Q) as stream:
        assert (await stream.get_final_answer()).answer
    assert fake.calls[ROUTE] == 2


async def test_unknown_events_are_passed_through(fake: FakeFini, client: FiniClient) -> None:
    body = (
        b'data: {"based_on": []}\n\nevent: progress\ndata: {"stage": "thinking"}\n\n'
        b'data: {"content": "Hi"}\n\ndata: [DONE]\n\n'
    )
    fake.respond_next(ROUTE, body, headers={"Content-Type": "text/event-stream"})
    async with client.bots.stream_question(Q) as stream:
        events = [e async for e in stream]
    assert events[1] == UnknownEvent(raw={"stage": "thinking"}, event="progress")
    assert events[2] == AnswerDelta("Hi")


async def test_stream_is_closed_on_break_exception_and_exit(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.chunk_delay = 0.05
    async with client.bots.stream_question(Q) as stream:
        async for _ in stream:
            break
    assert stream.closed and in_use(client) == 0

    with pytest.raises(RuntimeError, match="caller failed"):
        async with client.bots.stream_question(Q) as stream:
            async for _ in stream.text_stream:
                raise RuntimeError("caller failed")
    assert stream.closed and in_use(client) == 0
    for _ in range(100):
        if fake.streams_open == 0:
            break
        await asyncio.sleep(0.02)
    assert fake.streams_open == 0
    assert fake.stream_disconnects == 2


async def test_cancellation_closes_the_response(fake: FakeFini, client: FiniClient) -> None:
    fake.chunk_delay = 0.2
    got_first = asyncio.Event()

    async def consume() -> None:
        async with client.bots.stream_question(Q) as stream:
            async for _ in stream:
                got_first.set()

    baseline = len(asyncio.all_tasks())
    task = asyncio.create_task(consume())
    await asyncio.wait_for(got_first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert in_use(client) == 0
    for _ in range(100):
        if fake.streams_open == 0:
            break
        await asyncio.sleep(0.02)
    assert fake.streams_open == 0 and fake.stream_disconnects == 1
    assert len(asyncio.all_tasks()) <= baseline


async def test_abandoning_1000_streams_leaves_no_connection_in_use(fake: FakeFini) -> None:
    fake.chunk_delay = 0.05
    async with fake.client(max_connections=50) as client:
        sem = asyncio.Semaphore(50)

        async def abandon(i: int) -> None:
            async with sem:
                if i % 3 == 0:
                    async with client.bots.stream_question(Q) as stream:
                        await stream.__anext__()
                elif i % 3 == 1:
                    stream = client.bots.stream_question(Q)
                    async with stream:
                        async for _ in stream.text_stream:
                            break
                else:
                    task = asyncio.create_task(_read_forever(client))
                    await asyncio.sleep(0.01)
                    task.cancel()
                    with pytest.raises(asyncio.CancelledError):
                        await task

        await asyncio.gather(*(abandon(i) for i in range(1000)))
        # Every abandoned response closed its socket instead of returning it to the pool.
        assert_pool_idle(client)
        # The client still works afterwards.
        fake.chunk_delay = 0
        assert (await client.bots.ask_question("What is Fini?")).answer
    for _ in range(200):
        if fake.streams_open == 0:
            break
        await asyncio.sleep(0.02)
    assert fake.streams_open == 0


async def _read_forever(client: FiniClient) -> None:
    async with client.bots.stream_question(Q) as stream:
        async for _ in stream:
            pass


async def test_stream_without_async_with(client: FiniClient) -> None:
    stream = client.bots.stream_question(Q)
    texts = [t async for t in stream.text_stream]
    assert "".join(texts).startswith("To reset your password")
    assert stream.closed and in_use(client) == 0
