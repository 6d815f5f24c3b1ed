"""Retries: which failures are retried, for which requests, and how long the client waits."""

from __future__ import annotations

import email.utils
import time

import pytest

from fini_async import (
    APIConnectionError,
    APIStatusError,
    FiniClient,
    InternalServerError,
    RateLimitError,
    ValidationError,
)
from fini_async._models import encode
from fini_async._retry import backoff_schedule, parse_retry_after
from fini_async.resources.bots import ASK_PATH, build_body
from fini_async.testing import FakeFini

ROUTE = "ask-question"


async def create_like(client: FiniClient, **kw: object) -> None:
    """Send ask-question marked as a request that creates something (not safe to repeat)."""
    await client._transport.request(
        "POST",
        ASK_PATH,
        content=encode(build_body("What is Fini?")),
        idempotent=False,
        **kw,  # type: ignore[arg-type]
    )


async def test_429_with_retry_after_then_success(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next(ROUTE, 2, 429, retry_after="0.2")
    started = time.monotonic()
    answer = await client.bots.ask_question("What is Fini?")
    assert "Fini" in answer.answer
    assert fake.calls[ROUTE] == 3
    assert time.monotonic() - started >= 0.38  # waited as told, twice


async def test_retry_after_ms_is_honoured(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next(ROUTE, 1, 503, retry_after_ms=150)
    started = time.monotonic()
    await client.bots.ask_question("What is Fini?")
    assert fake.calls[ROUTE] == 2
    assert time.monotonic() - started >= 0.14


async def test_retry_after_above_cap_raises_at_once(fake: FakeFini) -> None:
    async with fake.client(max_retry_after=5) as client:
        fake.fail_next(ROUTE, 1, 429, retry_after="120")
        started = time.monotonic()
        with pytest.raises(RateLimitError) as info:
            await client.bots.ask_question("What is Fini?")
    assert info.value.retry_after == 120
    assert fake.calls[ROUTE] == 1
    assert time.monotonic() - started < 2


async def test_retries_exhausted_raises_last_error(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next(ROUTE, 10, 500)
    with pytest.raises(InternalServerError):
        await client.bots.ask_question("What is Fini?")
    assert fake.calls[ROUTE] == 3  # max_retries=2 by default


async def test_max_retries_per_call_and_per_client(fake: FakeFini) -> None:
    async with fake.client(max_retries=4) as client:
        fake.fail_next(ROUTE, 10, 503)
        with pytest.raises(InternalServerError):
            await client.bots.ask_question("What is Fini?")
        assert fake.calls[ROUTE] == 5
        fake.clear_faults()
        fake.fail_next(ROUTE, 10, 503)
        with pytest.raises(InternalServerError):
            await client.bots.ask_question("What is Fini?", max_retries=0)
        assert fake.calls[ROUTE] == 6
        with pytest.raises(ValidationError):
            await client.bots.ask_question("What is Fini?", max_retries=-1)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_client_errors_are_not_retried(
    fake: FakeFini, client: FiniClient, status: int
) -> None:
    fake.fail_next(ROUTE, 3, status)
    with pytest.raises(APIStatusError):
        await client.bots.ask_question("What is Fini?")
    assert fake.calls[ROUTE] == 1


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_safe_requests_retry_transient_statuses(
    fake: FakeFini, client: FiniClient, status: int
) -> None:
    fake.fail_next(ROUTE, 1, status)
    await client.bots.ask_question("What is Fini?")
    assert fake.calls[ROUTE] == 2


@pytest.mark.parametrize("status", [500, 502, 504, 408])
async def test_creating_request_not_retried_when_server_may_have_processed_it(
    fake: FakeFini, client: FiniClient, status: int
) -> None:
    fake.fail_next(ROUTE, 1, status)
    with pytest.raises(APIStatusError):
        await create_like(client)
    assert fake.calls[ROUTE] == 1


@pytest.mark.parametrize("status", [429, 503])
async def test_creating_request_retried_when_surely_not_processed(
    fake: FakeFini, client: FiniClient, status: int
) -> None:
    fake.fail_next(ROUTE, 1, status)
    await create_like(client)
    assert fake.calls[ROUTE] == 2


async def test_dropped_connection_retried_only_when_safe(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.drop_next(ROUTE)
    answer = await client.bots.ask_question("What is Fini?")
    assert answer.answer and fake.calls[ROUTE] == 2
    fake.drop_next(ROUTE)
    with pytest.raises(APIConnectionError):
        await create_like(client)
    assert fake.calls[ROUTE] == 3


async def test_connect_failure_retried_even_for_creating_requests() -> None:
    # Nothing listens on this port: the request surely never reached a server.
    fake = FakeFini()
    await fake.start()
    url = fake.url
    await fake.stop()
    client = FiniClient(api_key="fini_x", base_url=url, max_retries=2)
    client._transport.backoff_initial = 0.01
    async with client:
        started = time.monotonic()
        with pytest.raises(APIConnectionError) as info:
            await create_like(client)
    assert "could not connect" in str(info.value)
    assert time.monotonic() - started < 5


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "1.5"}) == 1.5
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "-4"}) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    value = parse_retry_after({"retry-after": date})
    assert value is not None and 25 <= value <= 31


def test_backoff_schedule_is_capped_full_jitter() -> None:
    delays = backoff_schedule(0.5, 4.0)
    values = [next(delays) for _ in range(12)]
    assert all(0 <= v <= 4.0 for v in values)
    assert max(values[4:]) > 0.5  # grows beyond the first step


async def test_a_dropped_connection_is_resent_once_at_once_for_a_safe_request(
    fake: FakeFini, client: FiniClient
) -> None:
    """aiohttp's own resend of a kept-alive connection closed unanswered is off (it ignored our
    idempotent=False); the transport does it instead, for safe requests only: once, not counted
    as a retry (so even with max_retries=0)."""
    fake.drop_next("ask-question")
    answer = await client.bots.ask_question("How do I upgrade?", max_retries=0)
    assert answer.answer
    assert fake.calls["ask-question"] == 2
    fake.drop_next("ask-question", times=2)
    with pytest.raises(APIConnectionError):
        await client.bots.ask_question("How do I upgrade?", max_retries=0)
