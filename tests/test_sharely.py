"""SharelyClient: configuration, the token exchange (lazy, cached, single-flight, refreshed before
``exp``, once more on 401), secrets, errors, and the knowledge routes, against FakeSharely."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
import traceback

import pytest

import fini_async
from fini_async import (
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    SharelyClient,
    UnprocessableEntityError,
    ValidationError,
)
from fini_async.sharely import KnowledgePage, jwt_expiry
from fini_async.sharely._auth import MIN_TOKEN_LIFETIME, token_lifetime
from fini_async.testing import FakeSharely

WS_ROUTES = (
    "sharely.knowledge.create",
    "sharely.knowledge.link",
    "sharely.knowledge.file",
    "sharely.knowledge.metadata",
    "sharely.knowledge.get",
    "sharely.knowledge.list",
    "sharely.knowledge.delete",
)


def _other_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


def _is_server_task(task: asyncio.Task[object]) -> bool:
    """The emulator's request handlers (aiohttp.web) finish on their own after a disconnect."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "aiohttp/web_" in code.co_filename


def _client_tasks(before: set[asyncio.Task[object]]) -> set[asyncio.Task[object]]:
    """Tasks started since ``before`` that are still alive, minus the emulator's handlers."""
    return {t for t in _other_tasks() - before if not _is_server_task(t)}


# -- configuration ---------------------------------------------------------------------------


def test_default_base_url_and_no_io_in_constructor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHARELY_BASE_URL", raising=False)
    client = SharelyClient("k", workspace_id="w", organization_id="o")
    assert client.base_url == "https://api.sharely.ai"
    assert client._transport._session is None


async def test_env_fallbacks(sfake: FakeSharely, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHARELY_API_KEY", sfake.api_key)
    monkeypatch.setenv("SHARELY_WORKSPACE_ID", sfake.workspace_id)
    monkeypatch.setenv("SHARELY_ORGANIZATION_ID", sfake.organization_id)
    monkeypatch.setenv("SHARELY_BASE_URL", sfake.url)
    async with SharelyClient() as client:
        assert client.base_url == sfake.url
        created = await client.knowledge.create_text("from the environment")
    assert sfake.items[created.id].content == "from the environment"


@pytest.mark.parametrize(
    "missing", ["SHARELY_API_KEY", "SHARELY_WORKSPACE_ID", "SHARELY_ORGANIZATION_ID"]
)
async def test_missing_configuration_fails_at_first_request_without_sending(
    sfake: FakeSharely, monkeypatch: pytest.MonkeyPatch, missing: str
) -> None:
    env = {
        "SHARELY_API_KEY": sfake.api_key,
        "SHARELY_WORKSPACE_ID": sfake.workspace_id,
        "SHARELY_ORGANIZATION_ID": sfake.organization_id,
    }
    for name, value in env.items():
        if name == missing:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    async with SharelyClient(base_url=sfake.url) as client:
        with pytest.raises(ConfigurationError) as info:
            await client.knowledge.create_text("x")
    assert missing in str(info.value)
    assert sum(sfake.calls.values()) == 0


def test_both_role_ids_is_a_validation_error() -> None:
    with pytest.raises(ValidationError) as info:
        SharelyClient("k", role_id="r", customer_role_id="c")
    assert info.value.field == "customer_role_id"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"token_lifetime": 0},
        {"token_lifetime": -5},
        {"token_refresh_margin": -1},
        {"token_lifetime": "long"},
        {"role_id": 5},
    ],
)
def test_bad_token_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SharelyClient("k", **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "sent"),
    [
        ({}, {}),
        (
            {"role_id": "9b2f6a3e-1d4c-4e8a-b7f2-3c5d6e7f8a9b"},
            {"roleId": "9b2f6a3e-1d4c-4e8a-b7f2-3c5d6e7f8a9b"},
        ),
        ({"customer_role_id": "premium"}, {"customerRoleId": "premium"}),
    ],
)
async def test_role_ids_go_into_the_exchange(
    sfake: FakeSharely, kwargs: dict[str, str], sent: dict[str, str]
) -> None:
    async with sfake.client(**kwargs) as client:
        await client.knowledge.list(limit=1)
    assert sfake.token_requests == [sent]


# -- the token exchange ----------------------------------------------------------------------


def _jwt(claims: dict[str, object]) -> str:
    def enc(d: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    return f"{enc({'alg': 'HS256'})}.{enc(claims)}.sig"


def test_jwt_expiry_is_read_without_verifying() -> None:
    assert jwt_expiry(_jwt({"exp": 1700000000})) == 1700000000.0
    assert jwt_expiry(_jwt({"exp": 1700000000.5, "sub": "x"})) == 1700000000.5
    assert jwt_expiry(_jwt({"sub": "x"})) is None
    assert jwt_expiry(_jwt({"exp": "soon"})) is None
    assert jwt_expiry("not-a-jwt") is None
    assert jwt_expiry("a.%%%.c") is None
    assert jwt_expiry("") is None


def test_token_lifetime_by_our_clock_or_the_servers() -> None:
    now = 1_800_000_000.0
    assert token_lifetime(_jwt({"exp": now + 100, "iat": now}), now, 300) == 100
    assert token_lifetime(_jwt({"sub": "x"}), now, 300) == 300  # no exp: the default
    # our clock runs an hour ahead of the server's: exp looks past, iat gives the real lifetime
    skewed = _jwt({"iat": now - 3600, "exp": now - 3600 + 120})
    assert token_lifetime(skewed, now, 300) == 120
    # nothing usable: never below the floor, so requests do not each exchange
    assert token_lifetime(_jwt({"exp": now - 5}), now, 300) == MIN_TOKEN_LIFETIME


async def test_a_server_clock_an_hour_behind_does_not_cause_an_exchange_per_call() -> None:
    async with FakeSharely(clock_skew=-3600, token_lifetime=1800) as fake:
        async with fake.client() as client:
            await asyncio.gather(*(client.knowledge.list(limit=1) for _ in range(30)))
            for _ in range(10):
                await client.knowledge.list(limit=1)
        assert fake.calls["sharely.token"] == 1
        assert not fake.auth_failures


async def test_token_is_exchanged_lazily_once_and_reused(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    assert sfake.calls["sharely.token"] == 0
    for _ in range(5):
        await sharely.knowledge.list(limit=1)
    assert sfake.calls["sharely.token"] == 1
    assert sfake.calls["sharely.knowledge.list"] == 5


async def test_200_concurrent_first_calls_cause_exactly_one_exchange(sfake: FakeSharely) -> None:
    sfake.add_latency("sharely.token", 0.2)  # keep the exchange in flight while all 200 arrive
    async with sfake.client() as client:
        items = [sfake.add_knowledge(title=f"item {i}") for i in range(5)]
        results = await asyncio.gather(*(client.knowledge.get(items[i % 5].id) for i in range(200)))
    assert sfake.calls["sharely.token"] == 1
    assert sfake.calls["sharely.knowledge.get"] == 200
    assert {r.id for r in results} == {i.id for i in items}
    assert not sfake.auth_failures


async def test_token_is_refreshed_before_exp_without_any_401() -> None:
    async with FakeSharely(token_lifetime=1.2) as fake:
        async with fake.client() as client:
            await client.knowledge.list(limit=1)
            assert fake.calls["sharely.token"] == 1
            # the margin is min(60 s, lifetime / 4): 0.3 s before exp the token is replaced
            await asyncio.sleep(1.0)
            await client.knowledge.list(limit=1)
            assert fake.calls["sharely.token"] == 2
        assert not fake.auth_failures


async def test_token_expiring_in_the_middle_of_a_batch() -> None:
    """A batch that outlives several tokens: every request succeeds, tokens are renewed ahead of
    ``exp`` (no 401), and each renewal is a single exchange despite the concurrency."""
    async with FakeSharely(token_lifetime=0.8) as fake:
        async with fake.client() as client:
            item = fake.add_knowledge(title="batch")
            ok = 0
            started = time.monotonic()
            while time.monotonic() - started < 2.0:
                results = await asyncio.gather(*(client.knowledge.get(item.id) for _ in range(20)))
                ok += len(results)
                await asyncio.sleep(0.05)
        assert ok >= 100
        assert fake.calls["sharely.knowledge.get"] == ok
        exchanges = fake.calls["sharely.token"]
        assert 3 <= exchanges <= 2.0 / (0.8 * 0.75) + 2  # one per token lifetime, not per call
        assert not fake.auth_failures


async def test_token_revoked_mid_batch_is_exchanged_once_more(sfake: FakeSharely) -> None:
    """The server drops the token before its ``exp``: the 401s of a concurrent batch lead to one
    new exchange and every request succeeds."""
    item = sfake.add_knowledge(title="x")
    async with sfake.client() as client:
        await client.knowledge.get(item.id)
        sfake.revoke_tokens()
        results = await asyncio.gather(*(client.knowledge.get(item.id) for _ in range(50)))
    assert len(results) == 50
    assert sfake.calls["sharely.token"] == 2
    assert sfake.auth_failures["unknown"] >= 1


async def test_no_exp_means_a_short_default_lifetime() -> None:
    async with FakeSharely(token_exp=False) as fake:
        async with fake.client() as client:
            await client.knowledge.list(limit=1)
            auth = client._auth
            remaining = auth._refresh_at - time.monotonic()
            assert 200 < remaining <= 300  # 300 s default lifetime, minus its margin
        async with fake.client(token_lifetime=0.4) as client:
            await client.knowledge.list(limit=1)
            await client.knowledge.list(limit=1)
            assert fake.calls["sharely.token"] == 2
            await asyncio.sleep(0.45)
            await client.knowledge.list(limit=1)
            assert fake.calls["sharely.token"] == 3


async def test_a_second_401_gives_up_with_authentication_error(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    item = sfake.add_knowledge(title="x")
    sfake.fail_next("sharely.knowledge.get", 2, 401)
    with pytest.raises(AuthenticationError) as info:
        await sharely.knowledge.get(item.id)
    assert info.value.status_code == 401
    assert sfake.calls["sharely.knowledge.get"] == 2
    assert sfake.calls["sharely.token"] == 2  # the first, and exactly one more after the 401


async def test_a_bad_api_key_is_not_retried(sfake: FakeSharely) -> None:
    async with sfake.client(api_key="sk-sharely-wrong") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.knowledge.list(limit=1)
    assert "Invalid or missing API key" in str(info.value)
    assert sfake.calls["sharely.token"] == 1
    assert sfake.calls["sharely.knowledge.list"] == 0


async def test_organization_header_is_sent_and_checked(sfake: FakeSharely) -> None:
    async with sfake.client(organization_id="another-org") as client:
        with pytest.raises(PermissionDeniedError):
            await client.knowledge.list(limit=1)
    assert sfake.auth_failures["organization"] == 1


async def test_exchange_503_with_retry_after_is_retried(sfake: FakeSharely) -> None:
    sfake.fail_next("sharely.token", 1, 503, retry_after=0.2)
    async with sfake.client() as client:
        started = time.monotonic()
        await client.knowledge.list(limit=1)
    assert time.monotonic() - started >= 0.15
    assert sfake.calls["sharely.token"] == 2


async def test_cancelling_the_caller_that_exchanges_leaves_nothing_behind(
    sfake: FakeSharely,
) -> None:
    sfake.add_latency("sharely.token", 0.3)
    before = _other_tasks()
    async with sfake.client() as client:

        async def first_page() -> KnowledgePage:
            return await client.knowledge.list(limit=1)

        leader = asyncio.create_task(first_page())
        await asyncio.sleep(0.05)
        follower = asyncio.create_task(first_page())
        await asyncio.sleep(0.05)
        leader.cancel()
        with pytest.raises(asyncio.CancelledError):
            await leader
        page = await follower  # the follower takes over the exchange
        assert page.total == 0
        sfake.clear_faults()
        await client.knowledge.list(limit=1)
    await asyncio.sleep(0)
    assert not _client_tasks(before)
    assert sfake.calls["sharely.knowledge.list"] == 2


async def test_secrets_never_in_repr_logs_or_errors(
    sfake: FakeSharely, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="fini_async")
    secret = sfake.api_key
    texts: list[str] = []
    item = sfake.add_knowledge(title="x")
    async with sfake.client(max_retries=1) as client:
        texts += [repr(client), str(client), repr(client._auth), repr(client._transport)]
        texts += [repr(vars(client)), repr(client.knowledge)]
        await client.knowledge.get(item.id)
        tokens = list(sfake.tokens)
        assert tokens
        sfake.fail_next("sharely.knowledge.get", 2, 500)
        with pytest.raises(InternalServerError) as err:
            await client.knowledge.get(item.id)
        texts += [str(err.value), repr(err.value), repr(vars(err.value))]
        texts += traceback.format_exception(err.value)
        sfake.fail_next("sharely.knowledge.get", 2, 401)
        with pytest.raises(AuthenticationError) as auth:
            await client.knowledge.get(item.id)
        texts += [str(auth.value), repr(auth.value), *traceback.format_exception(auth.value)]
        tokens += list(sfake.tokens)
        # a token exchange whose body is not what we expect must not echo it
        sfake.fail_next("sharely.token", 1, 200, body={"tok": tokens[0]})
        client._auth.invalidate()
        with pytest.raises(fini_async.APIResponseValidationError) as bad:
            await client.knowledge.get(item.id)
        texts += [str(bad.value), repr(bad.value), repr(vars(bad.value))]
        texts += traceback.format_exception(bad.value)
    texts.append(caplog.text)
    assert "generate-access-key-token -> 200" in caplog.text
    for text in texts:
        assert secret not in text
        for token in tokens:
            assert token not in text
            assert token.split(".")[1] not in text


# -- errors ----------------------------------------------------------------------------------


async def test_sharely_error_body_maps_to_the_hierarchy(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    with pytest.raises(NotFoundError) as info:
        await sharely.knowledge.get("3f1d2c4b-0000-4000-8000-000000000000")
    assert "Knowledge not found" in str(info.value)
    assert info.value.body["error"] == "Not Found"
    assert info.value.body["details"] == {}
    sfake.fail_next(
        "sharely.knowledge.get",
        1,
        400,
        body={"error": "Bad Request", "message": "Invalid id", "details": {"field": "id"}},
    )
    with pytest.raises(BadRequestError) as bad:
        await sharely.knowledge.get("whatever")
    assert str(bad.value).startswith("400: ")
    assert "Invalid id" in bad.value.message
    assert bad.value.body["details"] == {"field": "id"}


async def test_422_raises_unprocessable_and_a_create_is_not_retried(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    with pytest.raises(UnprocessableEntityError) as info:
        await sharely.knowledge.create_url("https://down.invalid/page")
    assert "Unable to fetch" in info.value.message
    assert sfake.calls["sharely.knowledge.create"] == 1
    sfake.fail_next("sharely.knowledge.create", 1, 500)
    with pytest.raises(InternalServerError):
        await sharely.knowledge.create_text("x")
    assert sfake.calls["sharely.knowledge.create"] == 2  # a 500 may have created it: no retry
    assert not sfake.items


async def test_503_with_retry_after_is_honoured_even_for_a_create(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    sfake.fail_next("sharely.knowledge.create", 1, 503, retry_after=0.3)
    started = time.monotonic()
    created = await sharely.knowledge.create_text("after the wait")
    assert time.monotonic() - started >= 0.25
    assert sfake.calls["sharely.knowledge.create"] == 2
    assert sfake.items[created.id].content == "after the wait"


async def test_responses_answer_with_api_version(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    resp = await sharely._transport.request(
        "GET", f"/v1/workspaces/{sfake.workspace_id}/knowledge", content_type=None
    )
    assert resp.headers["X-API-Version"] == "v1"


# -- create ----------------------------------------------------------------------------------


async def test_create_text_url_and_link(sfake: FakeSharely, sharely: SharelyClient) -> None:
    text = await sharely.knowledge.create_text(
        "Refunds within 30 days.", title="Refunds", metadata={"dept": "support", "version": 2}
    )
    assert text.id and text.knowledge_id == text.id
    stored = sfake.items[text.id]
    assert (stored.type, stored.title, stored.content) == (
        "STRING",
        "Refunds",
        "Refunds within 30 days.",
    )
    assert stored.metadata == {"dept": "support", "version": 2}

    url = await sharely.knowledge.create_url("https://example.com/a", title="A")
    assert (sfake.items[url.id].type, sfake.items[url.id].url) == ("URL", "https://example.com/a")

    link = await sharely.knowledge.create_link("https://example.com/b", metadata={"k": 1.5})
    assert sfake.items[link.id].type == "LINK"
    assert sfake.items[link.id].metadata == {"k": 1.5}
    assert sfake.calls["sharely.knowledge.link"] == 1
    assert sfake.calls["sharely.knowledge.create"] == 2


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda k: k.create_text(""), "content"),
        (lambda k: k.create_text("   "), "content"),
        (lambda k: k.create_text(5), "content"),
        (lambda k: k.create_text("x", title=""), "title"),
        (lambda k: k.create_text("x", metadata={"a": True}), "metadata"),
        (lambda k: k.create_text("x", metadata={"a": None}), "metadata"),
        (lambda k: k.create_text("x", metadata={"a": [1]}), "metadata"),
        (lambda k: k.create_text("x", metadata={"a": {"b": 1}}), "metadata"),
        (lambda k: k.create_text("x", metadata={"a": float("nan")}), "metadata"),
        (lambda k: k.create_text("x", metadata={1: "a"}), "metadata"),
        (lambda k: k.create_text("x", metadata=["a"]), "metadata"),
        (lambda k: k.create_url("example.com"), "url"),
        (lambda k: k.create_url("ftp://example.com/x"), "url"),
        (lambda k: k.create_link(""), "url"),
        (lambda k: k.get(""), "knowledge_id"),
        (lambda k: k.delete(" "), "knowledge_id"),
        (lambda k: k.delete("x", cascade="yes"), "cascade"),
        (lambda k: k.update_metadata("x", {"a": True}, type="STRING"), "metadata"),
        (lambda k: k.update_metadata("x", {"title": "t"}, type="STRING"), "metadata"),
        (lambda k: k.update_metadata("x", {}, type="STRING"), "metadata"),
        (lambda k: k.update_metadata("x", {"a": 1}, type=""), "type"),
        (lambda k: k.update_metadata("x", remove_keys="a", type="STRING"), "remove_keys"),
    ],
)
async def test_bad_arguments_raise_before_any_request(
    sfake: FakeSharely, sharely: SharelyClient, call: object, field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await call(sharely.knowledge)  # type: ignore[operator]
    assert info.value.field == field
    assert sum(sfake.calls.values()) == 0  # not even the token exchange


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": 0},
        {"limit": 1001},
        {"limit": True},
        {"offset": -1},
        {"max_items": 0},
        {"type": ""},
    ],
)
async def test_bad_list_arguments_raise_at_once(
    sharely: SharelyClient, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ValidationError):
        sharely.knowledge.list(**kwargs)  # type: ignore[arg-type]


# -- read --------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["plain", "wrapped"])
async def test_get_accepts_the_item_plain_or_wrapped(shape: str) -> None:
    async with FakeSharely(get_shape=shape) as fake:
        item = fake.add_knowledge("URL", title="Docs", url="https://example.com", metadata={"a": 1})
        async with fake.client() as client:
            got = await client.knowledge.get(item.id)
    assert (got.id, got.type, got.title, got.url, got.metadata) == (
        item.id,
        "URL",
        "Docs",
        "https://example.com",
        {"a": 1},
    )
    assert got.created is not None and got.created.tzinfo is not None


async def test_list_is_an_awaitable_and_async_iterable_offset_paginator(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    ids = [sfake.add_knowledge(title=f"t{i}").id for i in range(25)]
    sfake.add_knowledge("LINK", title="link", url="https://example.com")

    page = await sharely.knowledge.list(limit=10, type="string")
    assert [k.id for k in page.items] == ids[:10]
    assert (page.total, page.offset, page.has_more, page.next_offset) == (25, 0, True, 10)
    assert sfake.calls["sharely.knowledge.list"] == 1

    every = [k.id async for k in sharely.knowledge.list(limit=10, type="STRING")]
    assert every == ids
    assert sfake.calls["sharely.knowledge.list"] == 1 + 3

    some = await sharely.knowledge.list(limit=10, offset=5, max_items=12, type="STRING").to_list()
    assert [k.id for k in some] == ids[5:17]

    pages = [p async for p in sharely.knowledge.list(limit=25, type="STRING").pages()]
    assert len(pages) == 1 and not pages[0].has_more

    links = await sharely.knowledge.list(type="LINK")
    assert [k.title for k in links.items] == ["link"]


async def test_list_without_total_stops_at_a_short_page(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    for i in range(7):
        sfake.add_knowledge(title=f"t{i}")
    pages = iter(
        [
            {"knowledge": [{"id": f"a{i}"} for i in range(3)]},
            {"data": [{"id": f"b{i}"} for i in range(3)]},
            [{"id": "c0"}],
        ]
    )
    for body in pages:
        sfake.fail_next("sharely.knowledge.list", 1, 200, body=body)
    got = [k.id async for k in sharely.knowledge.list(limit=3)]
    assert got == ["a0", "a1", "a2", "b0", "b1", "b2", "c0"]
    assert sfake.calls["sharely.knowledge.list"] == 3


# -- change ----------------------------------------------------------------------------------


async def test_delete_plain_children_conflict_and_cascade_job(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    single = sfake.add_knowledge(title="single")
    result = await sharely.knowledge.delete(single.id)
    assert result.success is True and result.job_id is None
    assert single.id not in sfake.items

    parent = sfake.add_knowledge("WEBSITE", title="site")
    children = [sfake.add_knowledge("WEBSITE", parent_id=parent.id) for _ in range(3)]
    with pytest.raises(ConflictError):
        await sharely.knowledge.delete(parent.id)
    assert parent.id in sfake.items

    cascade = await sharely.knowledge.delete(parent.id, cascade=True)
    assert cascade.job_id
    job = await sharely.knowledge.wait(cascade.job_id, timeout=10)
    assert job.status == "COMPLETED"
    assert parent.id not in sfake.items
    assert not any(c.id in sfake.items for c in children)

    with pytest.raises(NotFoundError):
        await sharely.knowledge.delete(parent.id)


async def test_update_metadata(sfake: FakeSharely, sharely: SharelyClient) -> None:
    item = sfake.add_knowledge("URL", url="https://example.com", metadata={"old": "x", "keep": 1})
    result = await sharely.knowledge.update_metadata(
        item.id, {"dept": "eng", "priority": 5}, type="url"
    )
    assert result.knowledge_id == item.id
    assert item.metadata == {"old": "x", "keep": 1, "dept": "eng", "priority": 5}
    assert sfake.calls["sharely.knowledge.get"] == 0

    # without type=, the item is read first to learn its type
    await sharely.knowledge.update_metadata(item.id, {"v": 2.5}, remove_keys=["old"])
    assert sfake.calls["sharely.knowledge.get"] == 1
    assert item.metadata == {"keep": 1, "dept": "eng", "priority": 5, "v": 2.5}

    with pytest.raises(BadRequestError):  # the server refuses a type that does not match
        await sharely.knowledge.update_metadata(item.id, {"a": "b"}, type="FILE")


@pytest.mark.parametrize(
    "wrap",
    [
        lambda t: {"accessToken": t},
        lambda t: {"access_token": t},
        lambda t: {"data": {"token": t}},
        lambda t: json.dumps(t),  # a bare JSON string
    ],
)
async def test_token_answer_variants_are_tolerated(sfake: FakeSharely, wrap: object) -> None:
    token = _jwt({"exp": time.time() + 3600})
    sfake.tokens[token] = None  # the emulator will accept it
    sfake.fail_next("sharely.token", 1, 200, body=wrap(token))  # type: ignore[operator]
    async with sfake.client() as client:
        await client.knowledge.list(limit=1)
    assert sfake.calls["sharely.token"] == 1
    assert sfake.calls["sharely.knowledge.list"] == 1
