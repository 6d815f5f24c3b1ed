"""The stream decoder's batch path (``fast=``) must give exactly what decoding line by line gives,
for every framing and every kind of malformed input, wherever the chunks are cut."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest

from fini_async import AnswerDelta, AnswerMetadata, UnknownEvent
from fini_async._sse import EventDecoder, NamedEvent
from fini_async._streaming import _delta_decoder, _event_decoder, decode_payload

META = b'{"based_on": [{"answer": "A", "score": 0.5, "source_id": "s1", "source_type": "url"}]}'

#: Lines a server (or a broken proxy) might send; bodies are random sequences of them.
LINES: list[bytes] = [
    b'data: {"content": "a"}',
    b'data: {"content":"b"}',
    b'data: {"content": "c"}  ',
    b'data: {"content": "\\u00e9\\n"}',
    b'data: {"content": "d"} {"content": "e"}',  # two values on one line
    b'data: {"content": "f"},{"content": "g"}',
    b'data: {"content":',  # a value spanning lines
    b'data:  "spans"}',
    b'"spans"}',
    b'{"content": "bare"}',
    b"data: " + META,
    b'data: {"content": "t", "answer_uuid": "u"}',
    b'data: {"foo": 1}',
    b'data: {"content": {"nested": 1}}',
    b'data: {"statusCode": 500, "error": "boom"}',
    b"data: {broken",
    b'data: {"content": "x}',
    b'data:{"content": "nospace"}',
    b"data: [DONE]",
    b"data: hello",
    b"data:",
    b"event: message",
    b"event: error",
    b"event: custom",
    b"id: 7",
    b"retry: 100",
    b": ping",
    b"   ",
    b"",
    b"",
    b"",
]
PLAIN = b'data: {"content": "p"}\n\n'


def describe(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in values:
        name = None
        if isinstance(item, NamedEvent):
            name, item = item.name, item.value
        parts = item if isinstance(item, tuple) else (item,)
        for part in parts:
            if isinstance(part, AnswerDelta):
                out.append((name, "delta", part.text))
            elif isinstance(part, AnswerMetadata):
                out.append((name, "meta", part.raw))
            elif isinstance(part, UnknownEvent):
                out.append((name, "unknown", part.raw))
            else:
                out.append((name, type(part).__name__, getattr(part, "status", None)))
    return out


def run(chunks: list[bytes], fast: bool) -> tuple[list[Any], bool, str | None]:
    # What AnswerStream uses, against decoding line by line with the plain decode function.
    dec = _event_decoder() if fast else EventDecoder(decode_payload)
    out: list[Any] = []
    for chunk in chunks:
        out.extend(dec.feed(chunk))
    out.extend(dec.flush())
    return describe(out), dec.done, dec.last_event_id


def random_body(rng: random.Random) -> bytes:
    parts: list[bytes] = []
    for _ in range(rng.randint(1, 40)):
        if rng.random() < 0.5:
            parts.append(PLAIN * rng.randint(1, 5))
        else:
            parts.append(rng.choice(LINES) + b"\n")
    return b"".join(parts)


def cuts(body: bytes, rng: random.Random) -> list[bytes]:
    points = sorted(rng.sample(range(len(body) + 1), k=min(rng.randint(0, 6), len(body))))
    bounds = [0, *points, len(body)]
    return [body[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("seed", range(40))
def test_batches_equal_line_by_line_on_random_bodies(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(50):
        body = random_body(rng)
        expected = run([body], fast=False)
        assert run([body], fast=True) == expected, body
        chunks = cuts(body, rng)
        assert run(chunks, fast=True) == run(chunks, fast=False), chunks


@pytest.mark.parametrize("line", LINES)
def test_each_odd_line_inside_a_run_of_plain_events(line: bytes) -> None:
    for before, after in [(0, 3), (3, 0), (3, 3), (1, 1)]:
        body = PLAIN * before + line + b"\n" + PLAIN * after + line + b"\n\n" + PLAIN
        for i in range(0, len(body) + 1, 3):
            chunks = [body[:i], body[i:]]
            assert run(chunks, fast=True) == run(chunks, fast=False), (line, i)


def test_every_pair_of_odd_lines_inside_a_run() -> None:
    for first, second in itertools.product(LINES, repeat=2):
        body = PLAIN * 2 + first + b"\n" + second + b"\n\n" + PLAIN * 2
        assert run([body], fast=True) == run([body], fast=False), (first, second)
        cut = len(PLAIN) + 5
        chunks = [body[:cut], body[cut:]]
        assert run(chunks, fast=True) == run(chunks, fast=False), (first, second)


class CountingDecoder:
    """``_delta_decoder`` counting its calls."""

    def __init__(self) -> None:
        self.calls = {"decode": 0, "decode_lines": 0}

    def decode(self, data: bytes) -> Any:
        self.calls["decode"] += 1
        return _delta_decoder.decode(data)

    def decode_lines(self, data: bytes) -> list[Any]:
        self.calls["decode_lines"] += 1
        return _delta_decoder.decode_lines(data)


def test_plain_run_is_decoded_in_batches() -> None:
    body = b"data: " + META + b"\n\n" + PLAIN * 1000 + b"data: [DONE]\n\n" + PLAIN
    fast = CountingDecoder()
    dec = EventDecoder(decode_payload, fast=fast)  # type: ignore[arg-type]
    out = describe(dec.feed(body[:7777]) + dec.feed(body[7777:]) + dec.flush())
    assert dec.done
    assert out[0][1] == "meta"
    assert out[1:] == [(None, "delta", "p")] * 1000
    # One batch per chunk after the metadata; single decodes only at the edges of the chunks.
    assert fast.calls["decode_lines"] == 2
    assert fast.calls["decode"] <= 6


def test_blank_line_arriving_in_the_next_chunk() -> None:
    body = PLAIN * 10
    for i in range(len(body) + 1):
        if body[i - 1 : i] == b"\n":
            assert run([body[:i], body[i:]], fast=True) == run([body], fast=False)
