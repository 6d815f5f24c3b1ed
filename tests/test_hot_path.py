"""The hot paths' shape, pinned: which of the package's coroutines one request awaits, and that a
buffered piece of text reaches ``text_stream``'s caller through the generator's own step alone.

Counted with ``sys.setprofile`` (calls, not time: the same on every run and machine). Each
coroutine on a request's path costs a frame, and a step at every resume; each call per chunk is
paid 100,000 times in the ``bigstream`` benchmark. A change that makes one of these tests fail
should come with ``python -m benchmarks.instructions`` before and after, and the pinned shape
updated here only if the counts stay within 2%.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import fini_async
from fini_async import FiniClient
from fini_async.testing import FakeFini

_PACKAGE = os.path.dirname(fini_async.__file__)
_EMULATOR = os.path.join(_PACKAGE, "testing")


class _Calls:
    """The package's Python calls seen by a profile function (the emulator's excluded)."""

    def __init__(self) -> None:
        self.events: list[str] = []  # a name per call event (a coroutine's resume counts too)
        self._frames: list[FrameType] = []  # kept alive, so that no id is reused
        self._seen: set[int] = set()
        self.coroutines: list[str] = []  # each coroutine the package created, in order

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        code = frame.f_code
        path = code.co_filename
        if not path.startswith(_PACKAGE) or path.startswith(_EMULATOR):
            return
        self.events.append(code.co_name)
        if code.co_flags & inspect.CO_COROUTINE and id(frame) not in self._seen:
            self._seen.add(id(frame))
            self._frames.append(frame)
            self.coroutines.append(code.co_name)

    def count(self, name: str) -> int:
        return self.events.count(name)


@contextmanager
def _profiled() -> Iterator[_Calls]:
    calls = _Calls()
    logger = logging.getLogger("fini_async")
    level = logger.level
    logger.setLevel(logging.INFO)  # DEBUG logging takes the observed path, on purpose
    sys.setprofile(calls)
    try:
        yield calls
    finally:
        sys.setprofile(None)
        logger.setLevel(level)


async def test_a_plain_request_awaits_five_coroutines(client: FiniClient) -> None:
    await client.bots.ask_question("How do I reset my password?")  # session, pool, caches
    with _profiled() as calls:
        answer = await client.bots.ask_question("How do I reset my password?")
    assert answer.answer
    # The verbs (_post, ...) return _call's coroutine, and an attempt nothing paces or observes
    # goes straight to _exchange: no forwarding coroutine in between.
    assert calls.coroutines == [
        "ask_question",
        "_call",
        "request",
        "_send_with_retries",
        "_exchange",
    ]


async def test_a_rate_limit_or_debug_logging_takes_the_observed_attempt(fake: FakeFini) -> None:
    async with fake.client(rate_limit=1000.0) as limited:
        await limited.bots.ask_question("How do I reset my password?")
        with _profiled() as calls:
            await limited.bots.ask_question("How do I reset my password?")
    assert "_send_once" in calls.coroutines
    assert calls.coroutines.index("_send_once") < calls.coroutines.index("_exchange")

    async with fake.client() as plain:
        await plain.bots.ask_question("How do I reset my password?")
        logger = logging.getLogger("fini_async")
        with _profiled() as calls:
            logger.setLevel(logging.DEBUG)
            await plain.bots.ask_question("How do I reset my password?")
    assert "_send_once" in calls.coroutines


async def test_a_buffered_text_piece_costs_one_generator_step(
    fake: FakeFini, client: FiniClient
) -> None:
    words = [f"zq{i:03d}" for i in range(120)]
    fake.kb.add("Quokka", " ".join(words))
    async with client.bots.stream_question("Quokka?") as stream:
        await asyncio.sleep(0.2)  # the whole body arrives in aiohttp's buffer meanwhile
        texts = stream.text_stream
        with _profiled() as calls:
            received = [t async for t in texts]
    assert "".join(received).split() == words
    fills = calls.count("_fill")
    assert fills <= 3, f"the body should have been buffered, read in {fills} network reads"
    steps = calls.count("_texts")
    # One step per piece, plus one per network read (a refill) and the last one.
    assert steps <= len(received) + fills + 1
    # Everything else the package runs is per network read (feeding the decoder, decoding the
    # batch, counting what was delivered, closing): it must not grow with the pieces.
    others = len(calls.events) - steps
    assert others <= 25 * fills + 25, sorted(set(calls.events))
