"""The one retry decision (``fini_async._retry``): the transport and the job poller agree on
what is transient, and the Retry-After cap is one number everywhere."""

from __future__ import annotations

import itertools

from fini_async import (
    APIConnectionError,
    APITimeoutError,
    FiniClient,
    _adaptive,
    _config,
    _poller,
    _ratelimit,
)
from fini_async._exceptions import make_status_error
from fini_async._retry import MAX_RETRY_AFTER, backoff_schedule, is_transient
from fini_async.testing import FakeFini


def _status(code: int) -> Exception:
    return make_status_error(
        code, b"{}", method="GET", url="http://127.0.0.1/x", headers={}, request_id=None
    )


def test_is_transient_by_status_and_idempotency() -> None:
    for code in (408, 425, 429, 500, 502, 503, 504):
        assert is_transient(_status(code))
    for code in (400, 401, 403, 404, 409, 422, 501):
        assert not is_transient(_status(code))
    # a request that creates something: only "not processed" answers
    assert [c for c in (408, 429, 500, 503) if is_transient(_status(c), idempotent=False)] == [
        429,
        503,
    ]
    dropped = APIConnectionError("connection failed: reset", method="POST", url="u")
    assert is_transient(dropped) and not is_transient(dropped, idempotent=False)
    for kind, unsafe_ok in (("connect", True), ("pool", True), ("read", False), ("total", False)):
        timeout = APITimeoutError("t", kind=kind, method="POST", url="u")
        assert is_transient(timeout)
        assert is_transient(timeout, idempotent=False) is unsafe_ok
    assert not is_transient(_status(404))
    assert not is_transient(ValueError("not an API error"))


def test_one_retry_after_cap_and_one_schedule() -> None:
    assert _config.DEFAULT_MAX_RETRY_AFTER == _ratelimit.MAX_PAUSE == MAX_RETRY_AFTER
    assert _poller.MAX_RETRY_AFTER is MAX_RETRY_AFTER
    assert _adaptive.MAX_RETRY_AFTER is MAX_RETRY_AFTER
    steps = list(itertools.islice(backoff_schedule(0.5, 8.0, lambda v: v), 6))
    assert steps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert all(0 <= d <= 8.0 for d in itertools.islice(backoff_schedule(0.5, 8.0), 20))


async def test_425_too_early_is_retried_like_the_poller_retries_it(fake: FakeFini) -> None:
    fake.fail_next("ask-question", 2, 425)
    async with fake.client(max_retries=2) as client:
        assert isinstance(client, FiniClient)
        answer = await client.bots.ask_question("What is Fini?")
    assert answer.answer and fake.calls["ask-question"] == 3
