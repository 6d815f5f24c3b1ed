"""The stream decoder: every framing variant, split at every byte offset."""

from __future__ import annotations

import itertools
import random
from typing import Any

import msgspec
import pytest

from fini_async import AnswerDelta, AnswerMetadata, UnknownEvent
from fini_async._sse import EventDecoder, NamedEvent, decode_any
from fini_async._streaming import decode_payload

META = '{"based_on": [{"answer": "A", "score": 0.5, "source_id": "s1", "source_type": "url"}]}'

# name -> (body, expected decoded values)
CASES: dict[str, tuple[bytes, list[Any]]] = {
    "sse-lf": (
        f'data: {META}\n\ndata: {{"content": "Hé"}}\n\ndata: {{"content": "llo"}}\n\n'.encode(),
        ["meta", "Hé", "llo"],
    ),
    "sse-crlf": (
        f'data: {META}\r\n\r\ndata: {{"content": "€uro"}}\r\n\r\n'.encode(),
        ["meta", "€uro"],
    ),
    "sse-cr": (
        f'data: {META}\r\rdata: {{"content": "a"}}\r\rdata: {{"content": "b"}}\r\r'.encode(),
        ["meta", "a", "b"],
    ),
    "bom-and-comments": (
        b"\xef\xbb\xbf: hello\n\n:heartbeat\n\nevent: message\nid: 7\nretry: 3000\n"
        b'data: {"content": "x"}\n\n: ping\n\ndata: {"content": "y"}\n\n',
        ["x", "y"],
    ),
    "multi-line-data": (
        b'data: {"content":\ndata:  "two lines"}\n\ndata: {"content": "next"}\n\n',
        ["two lines", "next"],
    ),
    "data-lines-without-blank-lines": (
        f'data: {META}\ndata: {{"content": "a"}}\ndata: {{"content": "b"}}\n'.encode(),
        ["meta", "a", "b"],
    ),
    "ndjson": (
        f'{META}\n{{"content": "a"}}\n{{"content": "b"}}\n'.encode(),
        ["meta", "a", "b"],
    ),
    "done-sentinel": (
        b'data: {"content": "a"}\n\ndata: [DONE]\n\ndata: {"content": "after"}\n\n',
        ["a"],
    ),
    "not-json-lines-skipped": (
        b'data: hello there\n\ndata: {"content": "a"}\n\n'
        b'data: {broken\n\ndata: {"content": "b"}\n\n',
        ["a", "b"],
    ),
    "junk-then-json-without-blank-lines": (
        b'data: not json\ndata: {"content": "a"}\ndata: {"content": "b"}\n',
        ["a", "b"],
    ),
    "no-trailing-newline": (
        b'data: {"content": "a"}\n\ndata: {"content": "end"}',
        ["a", "end"],
    ),
    "unknown-object": (
        b'data: {"foo": 1}\n\ndata: {"content": "a"}\n\n',
        [{"foo": 1}, "a"],
    ),
    "emoji-4-byte": (
        'data: {"content": "🙂👍"}\n\n'.encode(),
        ["🙂👍"],
    ),
}


def simplify(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in values:
        if isinstance(item, NamedEvent):
            item = item.value
        parts = item if isinstance(item, tuple) else (item,)
        for part in parts:
            if isinstance(part, AnswerDelta):
                out.append(part.text)
            elif isinstance(part, AnswerMetadata):
                out.append("meta")
            elif isinstance(part, UnknownEvent):
                out.append(part.raw)
            else:
                out.append(part)
    return out


def run(chunks: list[bytes]) -> list[Any]:
    dec = EventDecoder(decode_payload)
    out = []
    for chunk in chunks:
        out.extend(dec.feed(chunk))
    out.extend(dec.flush())
    return simplify(out)


@pytest.mark.parametrize("name", sorted(CASES))
def test_whole_body(name: str) -> None:
    body, expected = CASES[name]
    assert run([body]) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_split_at_every_offset(name: str) -> None:
    body, expected = CASES[name]
    for i in range(len(body) + 1):
        assert run([body[:i], body[i:]]) == expected, f"split at {i}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_byte_by_byte_and_random_splits(name: str) -> None:
    body, expected = CASES[name]
    assert run([body[i : i + 1] for i in range(len(body))]) == expected
    rng = random.Random(name)
    for _ in range(50):
        cuts = sorted(rng.sample(range(len(body) + 1), k=min(5, len(body))))
        bounds = [0, *cuts, len(body)]
        chunks = [body[a:b] for a, b in itertools.pairwise(bounds)]
        assert run(chunks) == expected, cuts


def test_event_names_and_ids_are_reported() -> None:
    dec = EventDecoder(decode_any)
    out = dec.feed(b'event: error\nid: 42\ndata: {"statusCode": 500}\n\ndata: {"a": 1}\n\n')
    assert out == [NamedEvent("error", {"statusCode": 500}), {"a": 1}]
    assert dec.last_event_id == "42"


def test_retry_field_and_empty_chunks() -> None:
    dec = EventDecoder(decode_any)
    assert dec.feed(b"") == []
    assert dec.feed(b"retry: 1500\n\n") == []
    assert dec.retry_ms == 1500


def test_long_line_in_tiny_chunks_is_assembled_once() -> None:
    text = "x" * 50_000
    body = msgspec.json.encode({"content": text})
    dec = EventDecoder(decode_payload)
    out = []
    for i in range(0, len(body), 7):
        out.extend(dec.feed((b"data: " if i == 0 else b"") + body[i : i + 7]))
    out.extend(dec.feed(b"\n\n"))
    assert [v.text for v in out] == [text]  # type: ignore[union-attr]


def test_payload_with_content_and_metadata_yields_both() -> None:
    item = decode_payload(b'{"content": "hi", "answer_uuid": "u1"}')
    assert isinstance(item, tuple)
    meta, delta = item
    assert isinstance(meta, AnswerMetadata) and meta.answer_uuid == "u1"
    assert delta == AnswerDelta("hi")


def test_non_json_raises_decode_error() -> None:
    with pytest.raises(msgspec.DecodeError):
        decode_payload(b"{not json")
