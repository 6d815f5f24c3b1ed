"""The stream decoder stays linear and bounded whatever the server sends (issue 11).

Work is measured as the bytes handed to ``decode`` (deterministic), never as wall-clock time."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

import fini_async._sse
from fini_async import AnswerDelta, FiniClient, StreamError
from fini_async._sse import MAX_EVENT_SIZE, EventDecoder
from fini_async._streaming import decode_payload
from fini_async.testing import FakeFini

SSE = {"Content-Type": "text/event-stream"}


class Counting:
    """A ``decode`` that counts the bytes it was given."""

    def __init__(self) -> None:
        self.bytes = 0
        self.calls = 0

    def __call__(self, data: bytes) -> Any:
        self.calls += 1
        self.bytes += len(data)
        return decode_payload(data)


def feed_all(dec: EventDecoder[Any], body: bytes, size: int = 4096) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(body), size):
        out += dec.feed(body[i : i + size])
    out += dec.flush()
    return out


@pytest.mark.parametrize(
    "body",
    [
        # Non-JSON data lines and no blank line: each used to be joined with all the ones before.
        b"".join(b"data: not json line %d\n" % i for i in range(100_000)),
        # The same after a bracket that opens a value which never becomes JSON.
        b"data: [\n" + b"data: ,1\n" * 100_000,
        b"data: {\n" + b"data: still not json 7\n" * 100_000,
    ],
    ids=["plain-junk", "open-bracket-junk", "open-brace-junk"],
)
def test_many_non_json_lines_cost_linear_work(body: bytes) -> None:
    decode = Counting()
    out = feed_all(EventDecoder(decode), body + b'data: {"content": "end"}\n')
    assert [e.text for e in out if isinstance(e, AnswerDelta)] == ["end"]
    # Every line is decoded alone once, plus a few joined checks: a small multiple of the input.
    assert decode.bytes < 3 * len(body)


def test_multi_line_value_still_decoded_once_its_brackets_close() -> None:
    decode = Counting()
    lines = b"".join(b'data: "item %d [x]",\n' % i for i in range(2000))
    end = b'data: "last"]}\ndata: {"content": "y"}\n'
    body = b'data: {"content": "x", "note": [\n' + lines + end
    out = feed_all(EventDecoder(decode), body)
    assert [e.text for e in out] == ["x", "y"]
    assert decode.bytes < 6 * len(body)


def test_event_past_the_size_bound_raises_stream_error() -> None:
    dec = EventDecoder(decode_payload, max_event_size=10_000)
    body = b"data: [\n" + b"data: 1,\n" * 5000  # valid JSON so far, never closed
    with pytest.raises(StreamError, match="max_event_size"):
        feed_all(dec, body)


def test_line_past_the_size_bound_raises_stream_error() -> None:
    dec = EventDecoder(decode_payload, max_event_size=10_000)
    with pytest.raises(StreamError, match="max_event_size"):
        feed_all(dec, b"data: " + b"x" * 20_000, size=1000)


def test_default_bound() -> None:
    assert EventDecoder(decode_payload)._max == MAX_EVENT_SIZE <= 256 * 1024 * 1024


async def test_stream_with_oversized_event_fails_with_stream_error(
    fake: FakeFini, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The bound of the decoders created from now on (the default is too big for a quick test).
    monkeypatch.setattr(fini_async._sse, "MAX_EVENT_SIZE", 1024 * 1024)
    line = b"data: " + b"1" * 1000 + b",\n"  # a JSON array that never closes
    body = b'data: {"content": "a"}\n\ndata: [\n' + line * 1100
    fake.respond_next("ask-question", body, headers=SSE)
    async with fake.client(max_retries=0) as client:
        stream = client.bots.stream_question("q")
        async with stream:
            with pytest.raises(StreamError, match="max_event_size") as info:
                async for _ in stream:
                    pass
        assert info.value.text == "a"
        assert stream.closed


async def test_stream_of_junk_lines_ends_normally(client: FiniClient, fake: FakeFini) -> None:
    body = b"".join(b"data: junk %d\n" % i for i in range(50_000)) + b'data: {"content": "ok"}\n'
    fake.respond_next("ask-question", body, headers=SSE)
    async with client.bots.stream_question("q") as stream:
        assert [t async for t in stream.text_stream] == ["ok"]


def test_decode_payload_still_refuses_junk() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_payload(b"junk")
