"""The streaming split: payload decoding derived from ``AnswerMetadata``'s fields
(``_stream_decode``), a pure accumulator (``_accumulate``), framing that does not import the stream
(``_framing``, re-exported by ``relay``) and the stream's lifecycle as one named state."""

from __future__ import annotations

import ast
from pathlib import Path

import msgspec

import fini_async
from fini_async import (
    Answer,
    AnswerDelta,
    AnswerMetadata,
    FiniClient,
    Message,
    Source,
    _framing,
    relay,
)
from fini_async._accumulate import AnswerAccumulator
from fini_async._stream_decode import META_FIELDS, _Chunk, decode_payload, metadata_of_answer
from fini_async.testing import FakeFini


def test_chunk_reads_every_metadata_field() -> None:
    names = {f.name for f in msgspec.structs.fields(AnswerMetadata)} - {"raw"}
    assert set(META_FIELDS) == names
    assert names <= {f.name for f in msgspec.structs.fields(_Chunk)}
    # each metadata field alone makes a metadata event (the has-metadata check is the same list)
    for name in META_FIELDS:
        value = [] if name in ("categories", "messages") else "x"
        if name == "based_on":
            value = [{"source_id": "t"}]
        elif name == "success":
            value = 1
        elif name == "function_call":
            value = {"name": "f"}
        item = decode_payload(msgspec.json.encode({name: value}))
        assert type(item) is AnswerMetadata, name
        assert getattr(item, name) == msgspec.convert(
            value, msgspec.structs.fields(AnswerMetadata)[META_FIELDS.index(name)].type
        )
    assert decode_payload(b'{"content": "hi"}') == AnswerDelta("hi")
    both = decode_payload(b'{"delta": "hi", "language": "en"}')
    assert isinstance(both, tuple) and both[1] == AnswerDelta("hi")


def test_accumulator_merges_and_builds_without_sockets() -> None:
    acc = AnswerAccumulator()
    acc.add(AnswerMetadata(based_on=[Source(source_id="a")], answer_uuid="u1", language="en"))
    acc.add_text("Hello, ")
    acc.add(AnswerMetadata(based_on=[], answer_uuid="u2", categories=["billing"]))
    acc.add_text("world")
    assert acc.text == "Hello, world" and acc.based_on == [Source(source_id="a")]
    history = [Message(role="user", content="hi"), Message(role="assistant", content="hey")]
    answer = acc.build(history, "and now?")
    assert answer == Answer(
        answer="Hello, world",
        answer_uuid="u2",
        based_on=[Source(source_id="a")],
        categories=["billing"],
        messages=[
            *history,
            Message(role="user", content="and now?"),
            Message(role="assistant", content="Hello, world"),
        ],
        success=1,
        language="en",
    )
    # no text pieces: the metadata's answer is the text; the server's messages are kept
    only_meta = AnswerAccumulator()
    only_meta.add(AnswerMetadata(answer="whole", success=0, messages=[Message("user", "q")]))
    built = only_meta.build([], "q")
    assert built.answer == "whole" and built.success == 0 and len(built.messages) == 1


def test_plain_answer_becomes_metadata_and_text() -> None:
    body = b'{"answer": "Hi", "answer_uuid": "u", "based_on": [], "extra": 1}'
    meta, text = metadata_of_answer(body, 200)
    assert text == "Hi" and meta.answer is None and meta.answer_uuid == "u"
    assert meta.raw["extra"] == 1 and meta.messages is None


def test_framing_does_not_import_the_stream_and_relay_reexports_it() -> None:
    tree = ast.parse(Path(_framing.__file__).read_text())
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    }
    assert "_streaming" not in imported and "relay" not in imported
    for name in ("sse", "ndjson", "text_chunks", "SSE_MEDIA_TYPE", "EventSource"):
        assert getattr(relay, name) is getattr(_framing, name)


async def test_lifecycle_states(fake: FakeFini, client: FiniClient) -> None:
    stream = client.bots.stream_question("What is Fini?")
    assert stream._state.value == "unopened" and not stream.closed
    async with stream:
        assert stream._state.value == "open"
        await stream.get_final_answer()
        assert stream._state.value == "done" and stream.closed
    assert stream._state.value == "done"  # closing a finished stream keeps its answer
    early = client.bots.stream_question("What is Fini?")
    async with early:
        async for _ in early:
            break
    assert early._state.value == "closed" and early.closed
    fake.fail_next("ask-question", 5, 500)
    failed = client.bots.stream_question("What is Fini?", max_retries=0)
    try:
        async with failed:
            await failed.get_final_answer()
    except fini_async.InternalServerError:
        pass
    assert failed._state.value in ("unopened", "failed")
