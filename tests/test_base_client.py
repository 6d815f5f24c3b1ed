"""The shared client shell (``fini_async._base``): both clients derive from one ``_BaseClient``
(``max_retries``, ``rate_limit``, ``closed``, ``aclose``, a repr without secrets), and
``SharelyClient`` takes ``rate_limit=`` as ``FiniClient`` does."""

from __future__ import annotations

import pytest

from fini_async import FiniClient, SharelyClient, TokenBucket, ValidationError
from fini_async._base import AsyncCloseable, _BaseClient
from fini_async.testing import FakeSharely


class _Counting(TokenBucket):
    """A real token bucket that also counts the attempts it admitted."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.acquired = 0

    async def acquire(self) -> None:
        self.acquired += 1
        await super().acquire()


def test_both_clients_share_the_base() -> None:
    fini = FiniClient(api_key="sk-secret", max_retries=3)
    sharely = SharelyClient(api_key="sh-secret", workspace_id="w", organization_id="o")
    for client in (fini, sharely):
        assert isinstance(client, _BaseClient) and isinstance(client, AsyncCloseable)
        assert "secret" not in repr(client) and client.base_url in repr(client)
        assert not client.closed
    assert repr(fini).startswith("FiniClient(") and repr(sharely).startswith("SharelyClient(")
    assert fini.max_retries == 3


def test_sharely_rate_limit_is_validated_like_finis() -> None:
    assert SharelyClient(api_key="k", rate_limit=25).rate_limit == 25
    assert SharelyClient(api_key="k").rate_limit is None
    for bad in (0, -1, "fast", True):
        with pytest.raises(ValidationError) as info:
            SharelyClient(api_key="k", rate_limit=bad)  # type: ignore[arg-type]
        assert info.value.field == "rate_limit"


async def test_sharely_rate_limit_paces_every_request(sfake: FakeSharely) -> None:
    limiter = _Counting(1000)
    async with sfake.client(rate_limit=limiter) as sharely:
        assert sharely.rate_limit == 1000
        await sharely.knowledge.create_text("one")
        await sharely.knowledge.create_text("two")
    # every request the client sends: the token exchange and the two creates
    assert limiter.acquired == 3
    assert sharely.closed


async def test_async_closeable_closes_on_exit_and_on_error() -> None:
    class Thing(AsyncCloseable):
        __slots__ = ("closes",)

        def __init__(self) -> None:
            self.closes = 0

        async def aclose(self) -> None:
            self.closes += 1

    async with Thing() as thing:
        assert isinstance(thing, Thing)
    assert thing.closes == 1
    with pytest.raises(KeyError):
        async with thing:
            raise KeyError("x")
    assert thing.closes == 2
