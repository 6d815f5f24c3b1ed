"""Deeply nested JSON from the server never escapes as RecursionError (issue 11): an error body
keeps its raw text, an answer body is an APIResponseValidationError, a stream line is skipped."""

from __future__ import annotations

import pytest

from fini_async import (
    APIResponseValidationError,
    BadRequestError,
    FiniClient,
    InternalServerError,
)
from fini_async._exceptions import parse_error_body
from fini_async.testing import FakeFini, FakeSharely

JSON = {"Content-Type": "application/json"}
# Deep enough for Python code walking it (1000 levels) and for msgspec itself (100000 levels).
DEEP_LISTS = [b"[" * n + b'"x"' + b"]" * n for n in (1000, 100_000)]
DEEP_OBJECTS = [b'{"message":' * n + b'"x"' + b"}" * n for n in (1000, 100_000)]
DEEP_OTHER = [b'{"a":' * 100_000 + b"1" + b"}" * 100_000]
DEEP = DEEP_LISTS + DEEP_OBJECTS + DEEP_OTHER


@pytest.mark.parametrize("raw", DEEP)
def test_parse_error_body_is_bounded(raw: bytes) -> None:
    message, body = parse_error_body(raw, 500)
    assert isinstance(message, str) and message
    assert body is not None


@pytest.mark.parametrize("raw", DEEP)
async def test_error_body_nested_deeply(client: FiniClient, fake: FakeFini, raw: bytes) -> None:
    fake.fail_next("ask-question", status=400, body=raw, headers=JSON)
    with pytest.raises(BadRequestError) as info:
        await client.bots.ask_question("q")
    err = info.value
    assert err.status_code == 400
    assert err.body is not None  # the decoded body, or its raw text when it is too deep
    assert "RecursionError" not in str(err)


async def test_error_body_too_deep_to_decode_keeps_the_raw_text(fake: FakeFini) -> None:
    raw = DEEP_LISTS[1]
    fake.fail_next("ask-question", status=500, body=raw, headers=JSON)
    async with fake.client(max_retries=0) as client:
        with pytest.raises(InternalServerError) as info:
            await client.bots.ask_question("q")
    assert info.value.body == raw.decode()


@pytest.mark.parametrize("raw", [DEEP_LISTS[1], DEEP_OBJECTS[1], DEEP_OTHER[0]])
async def test_answer_body_nested_deeply(client: FiniClient, fake: FakeFini, raw: bytes) -> None:
    fake.respond_next("ask-question", raw, headers=JSON)
    with pytest.raises(APIResponseValidationError) as info:
        await client.bots.ask_question("q")
    assert info.value.body == raw


async def test_answer_with_a_deep_unknown_field(client: FiniClient, fake: FakeFini) -> None:
    raw = b'{"answer": "hi", "extra": ' + DEEP_LISTS[1] + b"}"
    fake.respond_next("ask-question", raw, headers=JSON)
    try:
        answer = await client.bots.ask_question("q")
    except APIResponseValidationError:
        return  # refusing it is fine too: only a RecursionError is not
    assert answer.answer == "hi"


async def test_conversation_list_nested_deeply(client: FiniClient, fake: FakeFini) -> None:
    fake.respond_next("conversations.list", DEEP_OBJECTS[1], headers=JSON)
    with pytest.raises(APIResponseValidationError):
        await client.conversations.list()


@pytest.mark.parametrize("line", [DEEP_LISTS[1], DEEP_OBJECTS[1], DEEP_OTHER[0]])
async def test_stream_line_nested_deeply_is_skipped(
    client: FiniClient, fake: FakeFini, line: bytes
) -> None:
    body = b'data: {"content": "a"}\n\ndata: ' + line + b'\n\ndata: {"content": "b"}\n\n'
    fake.respond_next("ask-question", body, headers={"Content-Type": "text/event-stream"})
    async with client.bots.stream_question("q") as stream:
        assert [t async for t in stream.text_stream] == ["a", "b"]


async def test_sharely_token_answer_nested_deeply() -> None:
    async with FakeSharely() as fake:
        fake.respond_next("sharely.token", DEEP_OBJECTS[1], headers=JSON)
        async with fake.client(max_retries=0) as client:
            with pytest.raises(APIResponseValidationError):
                await client.knowledge.list()
