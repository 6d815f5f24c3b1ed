"""client.conversations against the emulator over loopback: generate answer, the list paginator
(pages, cursors, 90-day windows, filters), get, delete and bulk delete."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest

from fini_async import (
    APIConnectionError,
    APIResponseValidationError,
    BadRequestError,
    BulkDeleteError,
    Conversation,
    ConversationPage,
    Event,
    FiniClient,
    InternalServerError,
    NotAcceptableError,
    PermissionDeniedError,
    ValidationError,
)
from fini_async.resources.conversations import MAX_WINDOW, plan_windows
from fini_async.testing import (
    READ_KEY,
    FakeConversations,
    FakeFini,
    conversations_of,
    pool_stats,
)

DAY_MS = 86_400_000
ROUTES = (
    "conversations.generate_answer",
    "conversations.list",
    "conversations.get",
    "conversations.delete",
    "conversations.delete_many",
)


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def emu(fake: FakeFini) -> FakeConversations:
    return conversations_of(fake)


def no_calls(fake: FakeFini) -> bool:
    return all(fake.calls[r] == 0 for r in ROUTES)


def borrowed(client: FiniClient) -> int:
    return pool_stats(client).in_use


def live_tasks() -> set[asyncio.Task[Any]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


# -- generate answer -------------------------------------------------------------------------


async def test_generate_answer_starts_a_conversation_with_a_kb_reply(
    fake: FakeFini, client: FiniClient
) -> None:
    events = await client.conversations.generate_answer(
        "How do I upgrade to premium?",
        bot_id="bot_default",
        metadata={"user_attributes": {"plan": "free", "tier": {"n": 1}}, "channel": "email"},
    )
    assert [e.role for e in events] == ["user", "finibot"]
    assert all(isinstance(e, Event) for e in events)
    user, reply = events
    assert user.message == "How do I upgrade to premium?"
    expected, _ = fake.kb.answer("How do I upgrade to premium?")
    assert reply.text == expected and "Premium plan" in expected
    assert reply.used_articles and reply.used_articles[0].title == "Upgrading to premium"
    assert user.created_at is not None and user.created_at.tzinfo is not None
    assert abs(user.created_at.timestamp() - time.time()) < 60
    assert user.csat_rating is None

    [stored] = emu(fake).conversations.values()
    assert stored.bot_id == "bot_default"
    conv = await client.conversations.get(stored.id)
    assert [e.id for e in conv.events] == [e.id for e in events]
    assert conv.user_attributes == {"plan": "free", "tier": {"n": 1}}  # open, nested mapping
    assert conv.channel == "email"
    assert fake.calls["conversations.generate_answer"] == 1


async def test_generate_answer_continues_and_other_roles_get_no_reply(
    fake: FakeFini, client: FiniClient
) -> None:
    first = await client.conversations.generate_answer("What is Fini?", bot_id="bot_default")
    [conv] = emu(fake).conversations.values()
    more = await client.conversations.generate_answer(
        "Refund policy?", interaction_id=conv.id, role="user"
    )
    assert [e.role for e in more] == ["user", "finibot"]
    for role in ("agent", "finibot", "otherbot"):
        stored = await client.conversations.generate_answer(
            f"a note by {role}", interaction_id=conv.id, role=role
        )
        assert [(e.role, e.message) for e in stored] == [(role, f"a note by {role}")]
    got = await client.conversations.get(conv.id)
    assert len(got.events) == len(first) + len(more) + 3
    assert len(emu(fake).conversations) == 1  # continued, not a new conversation


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (("hi",), {}, "bot_id"),
        (("",), {"bot_id": "bot_default"}, "content"),
        (("   ",), {"bot_id": "bot_default"}, "content"),
        ((None,), {"bot_id": "bot_default"}, "content"),
        (("hi",), {"bot_id": "bot_default", "role": "assistant"}, "role"),
        (("hi",), {"bot_id": "bot_default", "role": "USER"}, "role"),
        (("hi",), {"bot_id": ""}, "bot_id"),
        (("hi",), {"interaction_id": 42}, "interaction_id"),
        (("hi",), {"bot_id": "bot_default", "metadata": ["not", "a", "mapping"]}, "metadata"),
        (("hi",), {"bot_id": "bot_default", "metadata": {"x": object()}}, "metadata"),
    ],
)
async def test_generate_answer_validation_before_any_request(
    fake: FakeFini, client: FiniClient, args: tuple[Any, ...], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.conversations.generate_answer(*args, **kwargs)
    assert info.value.field == field
    assert no_calls(fake)


async def test_generate_answer_is_never_retried_once_the_server_may_have_stored_it(
    fake: FakeFini, client: FiniClient
) -> None:
    route = "conversations.generate_answer"
    with pytest.raises(InternalServerError):
        await client.conversations.generate_answer("hi", interaction_id=str(uuid.uuid4()))
    assert fake.calls[route] == 1  # unknown id -> 500 (documented), not retried

    fake.fail_next(route, 1, 500)
    with pytest.raises(InternalServerError):
        await client.conversations.generate_answer("hi", bot_id="bot_default")
    assert fake.calls[route] == 2

    fake.drop_next(route)
    with pytest.raises(APIConnectionError):
        await client.conversations.generate_answer("hi", bot_id="bot_default")
    assert fake.calls[route] == 3
    assert emu(fake).conversations == {}  # nothing was stored by the failed calls

    fake.fail_next(route, 1, 503)  # 503: surely not processed, so retried
    events = await client.conversations.generate_answer("hi", bot_id="bot_default")
    assert fake.calls[route] == 5 and len(events) == 2
    assert len(emu(fake).conversations) == 1

    with pytest.raises(InternalServerError):
        await client.conversations.generate_answer("hi", bot_id="no_such_bot")


async def test_generate_answer_needs_the_write_scope(fake: FakeFini) -> None:
    async with fake.client(READ_KEY) as ro:
        with pytest.raises(PermissionDeniedError):
            await ro.conversations.generate_answer("hi", bot_id="bot_default")
        assert isinstance(await ro.conversations.list(), ConversationPage)  # read is fine


async def test_generate_answer_tolerates_a_wrapped_or_single_event(
    fake: FakeFini, client: FiniClient
) -> None:
    route = "conversations.generate_answer"
    event = {"id": "e1", "createdAt": 1_700_000_000_000, "role": "user", "message": "x"}
    fake.respond_next(route, {"events": [event]})
    assert [e.id for e in await client.conversations.generate_answer("x", bot_id="b")] == ["e1"]
    fake.respond_next(route, event)
    [single] = await client.conversations.generate_answer("x", bot_id="b")
    assert single.created_at == datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc)


# -- the list paginator ----------------------------------------------------------------------


async def test_await_gives_one_page_with_cursors_and_next_page(
    fake: FakeFini, client: FiniClient
) -> None:
    seeded = fake.seed_conversations(25, span_days=5)  # type: ignore[attr-defined]
    listing = client.conversations.list(page_size=10)
    page = await listing
    assert isinstance(page, ConversationPage)
    assert [c.id for c in page.items] == [c.id for c in seeded[:10]]
    assert page.has_more and page.next_cursor == seeded[9].id and page.prev_cursor is None
    assert all(isinstance(c, Conversation) for c in page)
    second = await page.get_next_page()
    assert second is not None and [c.id for c in second] == [c.id for c in seeded[10:20]]
    assert second.prev_cursor == seeded[10].id
    third = await second.get_next_page()
    assert third is not None and len(third) == 5
    assert not third.has_more and third.next_cursor is None
    assert await third.get_next_page() is None
    assert fake.calls["conversations.list"] == 3
    # the API's direction never reaches the caller; the client sends "next" to go older
    queries = [q for q, _ in emu(fake).list_log]
    assert "direction" not in queries[0] and "cursor" not in queries[0]
    assert queries[1]["direction"] == "next" and queries[1]["cursor"] == seeded[9].id


async def test_no_bounds_means_the_servers_default_week(fake: FakeFini, client: FiniClient) -> None:
    seeded = fake.seed_conversations(28, span_days=14)  # type: ignore[attr-defined]
    cutoff = now_ms() - 7 * DAY_MS
    got = [c.id async for c in client.conversations.list(page_size=5)]
    surely_in = [c.id for c in seeded if c.created_at >= cutoff + 60_000]
    maybe_in = [c.id for c in seeded if c.created_at >= cutoff - 60_000]
    assert got[: len(surely_in)] == surely_in and got == maybe_in[: len(got)]
    assert 10 <= len(got) <= 16
    assert all("since" not in q and "until" not in q for q, _ in emu(fake).list_log)
    assert client.conversations.list().windows() is None


async def test_iterates_1000_conversations_over_200_days_once_each_in_order(
    fake: FakeFini, client: FiniClient
) -> None:
    seeded = fake.seed_conversations(1000, span_days=200, seed=7)  # type: ignore[attr-defined]
    expected = [c.id for c in seeded]
    assert len(set(expected)) == 1000
    since = datetime.now(timezone.utc) - timedelta(days=201)
    listing = client.conversations.list(since=since, page_size=50)
    windows = listing.windows()
    assert windows is not None and len(windows) == 3
    assert all(hi - lo <= MAX_WINDOW for lo, hi in windows)

    got = [c.id async for c in listing]
    assert got == expected  # each exactly once, newest first
    created = [c.created_at for c in seeded]
    assert created == sorted(created, reverse=True)

    log = emu(fake).list_log
    assert len(log) >= 1000 // 50
    spans = {(int(q["since"]), int(q["until"])) for q, _ in log}
    assert len(spans) == 3 and all(hi - lo <= 90 * DAY_MS for lo, hi in spans)
    assert all(q["limit"] == "50" for q, _ in log)

    # pages() sees the same conversations, and awaiting again starts a new walk
    pages = [page async for page in client.conversations.list(since=since).pages()]
    assert [c.id for p in pages for c in p] == expected
    assert all(p.items for p in pages)
    assert pages[-1].has_more is False and all(p.has_more for p in pages[:-1])
    first = await listing
    assert [c.id for c in first] == expected[:50]


@pytest.mark.parametrize("bounds", ["[]", "[)", "(]", "()"])
async def test_window_edges_lose_and_repeat_nothing(
    fake: FakeFini, client: FiniClient, bounds: str
) -> None:
    emulator = emu(fake)
    emulator.bounds = bounds
    until = now_ms()
    since = until - 200 * DAY_MS
    plan = plan_windows(since, until, now=until)
    assert plan is not None and len(plan) == 3
    ids = []
    for lo, _hi in plan[:-1]:  # conversations on and around every inner edge, some tied
        for created in (lo - 2, lo - 1, lo, lo, lo + 1, lo + 2, lo + 2, lo + 3):
            ids.append(emulator.add_conversation(created_at=created).id)
    for day in range(1, 200, 9):
        ids.append(emulator.add_conversation(created_at=until - day * DAY_MS - 5).id)
    expected = [c.id for c in emulator.ordered()]
    assert sorted(expected) == sorted(ids)

    got = [c.id async for c in client.conversations.list(since=since, until=until, page_size=3)]
    assert got == expected


async def test_epoch_ms_and_datetimes_are_the_same_range(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.seed_conversations(60, span_days=100)  # type: ignore[attr-defined]
    end = datetime.now(timezone.utc)
    start = end - timedelta(days=95)
    by_dt = [c.id async for c in client.conversations.list(since=start, until=end)]
    start_ms = int(start.timestamp() * 1000)
    by_ms = [
        c.id async for c in client.conversations.list(since=start_ms, until=end.timestamp() * 1000)
    ]
    assert by_dt == by_ms and 50 <= len(by_dt) <= 60
    # until alone: the 7 days before it
    week = [c.id async for c in client.conversations.list(until=end)]
    assert 1 <= len(week) <= 6
    assert emu(fake).list_log[-1][0]["since"] == str(
        int(emu(fake).list_log[-1][0]["until"]) - 7 * DAY_MS
    )


async def test_filters_and_the_conversations_key(fake: FakeFini, client: FiniClient) -> None:
    seeded = fake.seed_conversations(  # type: ignore[attr-defined]
        40,
        span_days=3,
        sources=("api", "widget", "slack", "zendesk"),
        channels=("chat", "email"),
        bot_ids=("bot_a", "bot_b"),
    )
    emu(fake).list_key = "conversations"

    async def ids(**kw: Any) -> list[str]:
        return [c.id async for c in client.conversations.list(page_size=7, **kw)]

    assert await ids(agent_id="bot_a") == [c.id for c in seeded if c.bot_id == "bot_a"]
    assert await ids(source=["widget", "slack"]) == [
        c.id for c in seeded if c.source in ("widget", "slack")
    ]
    assert emu(fake).list_log[-1][0]["source"] == "widget,slack"
    assert await ids(source="api", channel="chat") == [
        c.id for c in seeded if c.source == "api" and c.channel == "chat"
    ]
    got = await ids(source="zendesk")
    assert got and all(emu(fake).conversations[i].source == "zendesk" for i in got)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"since": 2_000, "until": 1_000}, "since"),
        ({"since": 1_000, "until": 1_000}, "since"),
        (
            {
                "since": datetime(2026, 1, 2, tzinfo=timezone.utc),
                "until": datetime(2026, 1, 1, tzinfo=timezone.utc),
            },
            "since",
        ),
        ({"since": datetime(2026, 1, 1)}, "since"),  # naive
        ({"until": datetime(2026, 1, 1)}, "until"),
        ({"since": "yesterday"}, "since"),
        ({"since": True}, "since"),
        ({"since": -5}, "since"),
        ({"since": now_ms() + DAY_MS}, "since"),  # after "now", the implied until
        ({"page_size": 0}, "page_size"),
        ({"page_size": 101}, "page_size"),
        ({"page_size": True}, "page_size"),
        ({"source": 5}, "source"),
        ({"source": [""]}, "source"),
        ({"agent_id": ""}, "agent_id"),
        ({"channel": 3}, "channel"),
    ],
)
async def test_list_validation_before_any_request(
    fake: FakeFini, client: FiniClient, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        client.conversations.list(**kwargs)
    assert info.value.field == field
    assert no_calls(fake)


async def test_emulator_enforces_the_window_rules_with_400(
    fake: FakeFini, client: FiniClient
) -> None:
    transport = client._transport
    path = "/v2/hc-interactions/public"
    now = now_ms()
    with pytest.raises(BadRequestError) as info:
        await transport.request(
            "GET", path, params={"since": str(now - 91 * DAY_MS), "until": str(now)}
        )
    assert "90 days" in info.value.message
    with pytest.raises(BadRequestError) as info:
        await transport.request("GET", path, params={"since": str(now), "until": str(now - 1)})
    assert "since must be before until" in info.value.message
    with pytest.raises(BadRequestError):
        await transport.request("GET", path, params={"limit": "101"})
    with pytest.raises(BadRequestError):
        await transport.request("GET", path, params={"source": "carrier-pigeon"})
    with pytest.raises(BadRequestError):
        await transport.request("GET", path, params={"direction": "sideways"})
    ok = await transport.request(
        "GET", path, params={"since": str(now - 90 * DAY_MS), "until": str(now)}
    )
    assert ok.status == 200


async def test_list_tolerates_response_variants(fake: FakeFini, client: FiniClient) -> None:
    route = "conversations.list"
    conv = {"id": "c1", "createdAt": 1_700_000_000_000, "csatRating": None}
    # a bare list: one page
    fake.respond_next(route, [conv])
    page = await client.conversations.list()
    assert [c.id for c in page] == ["c1"] and not page.has_more
    # hasMore without a cursor: the last id is the cursor
    fake.respond_next(route, {"interactions": [conv], "hasMore": True})
    fake.respond_next(route, {"conversations": [{**conv, "id": "c2"}], "nextCursor": None})
    assert [c.id async for c in client.conversations.list()] == ["c1", "c2"]
    assert emu(fake).list_log == []  # both answered by the injected bodies
    # no hasMore: follow nextCursor until it is null
    fake.respond_next(route, {"interactions": [conv], "nextCursor": "c1"})
    fake.respond_next(route, {"interactions": [{**conv, "id": "c3"}], "nextCursor": None})
    assert [c.id async for c in client.conversations.list()] == ["c1", "c3"]
    # a server that hands back the cursor it was given would loop forever: refused
    fake.respond_next(route, {"interactions": [conv], "hasMore": True, "nextCursor": "c1"})
    fake.respond_next(route, {"interactions": [conv], "hasMore": True, "nextCursor": "c1"})
    with pytest.raises(APIResponseValidationError):
        _ = [c async for c in client.conversations.list()]


async def test_list_errors_are_typed_and_retried_as_reads(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.seed_conversations(3, span_days=1)  # type: ignore[attr-defined]
    fake.fail_next("conversations.list", 2, 502)
    assert len(await client.conversations.list()) == 3  # a read: retried
    fake.fail_next("conversations.list", 3, 500)
    with pytest.raises(InternalServerError):
        await client.conversations.list()


async def test_deleting_while_iterating_keeps_the_walk_going(
    fake: FakeFini, client: FiniClient
) -> None:
    seeded = fake.seed_conversations(30, span_days=2)  # type: ignore[attr-defined]
    seen = []
    async for conv in client.conversations.list(page_size=4):
        seen.append(conv.id)
        await client.conversations.delete(conv.id)
    assert seen == [c.id for c in seeded]
    assert emu(fake).conversations == {}


async def test_breaking_out_early_leaves_no_task_and_no_connection(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.seed_conversations(100, span_days=150)  # type: ignore[attr-defined]
    since = datetime.now(timezone.utc) - timedelta(days=160)
    await client.conversations.list(page_size=5)  # open the pooled connection first
    await asyncio.sleep(0.05)
    baseline = live_tasks()
    async for _ in client.conversations.list(since=since, page_size=5):
        break
    iterator = client.conversations.list(since=since, page_size=5).__aiter__()
    assert isinstance(await iterator.__anext__(), Conversation)
    del iterator  # abandoned half way, never closed
    gc.collect()
    for _ in range(5):
        await asyncio.sleep(0.01)
    assert borrowed(client) == 0
    assert live_tasks() - baseline == set()  # no prefetch, no generator left to finalize
    first = await client.conversations.list(since=since, page_size=5).to_list(limit=7)
    assert len(first) == 7
    assert fake.calls["conversations.list"] == 5  # to_list fetched only the two pages it needed


async def test_cancelled_iteration_gives_its_connection_back(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.seed_conversations(20, span_days=1)  # type: ignore[attr-defined]
    fake.add_latency("conversations.list", 5.0)
    before = live_tasks()
    seen = []
    with anyio.move_on_after(0.3) as scope:
        async for conv in client.conversations.list(page_size=5):
            seen.append(conv)
    assert scope.cancelled_caught and seen == []
    assert borrowed(client) == 0
    await asyncio.sleep(0.05)
    assert not [t for t in live_tasks() - before if "ItemIterator" in repr(t.get_coro())]
    fake.clear_faults()
    assert len([c async for c in client.conversations.list(page_size=5)]) == 20


# -- get, delete, bulk delete ----------------------------------------------------------------


async def test_get_decodes_every_documented_field(fake: FakeFini, client: FiniClient) -> None:
    created = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=timezone.utc)
    rated = {
        "id": "e-rated",
        "createdAt": 1_772_600_767_890,
        "role": "user",
        "type": "message",
        "message": "thanks",
        "externalId": "zd-1",
        "externalCreatedAt": 1_772_600_700_000,
        "csatRating": 0,
        "feedback": {"text": "meh"},
        "approved": True,
        "resolved": False,
        "attachments": [{"url": "https://x/y.png"}],
        "tags": ["billing"],
        "usedArticles": [{"id": "a1", "title": "T", "documentUrl": "https://d"}],
    }
    unrated = {**rated, "id": "e-unrated", "csatRating": None, "someNewField": 1}
    conv = emu(fake).add_conversation(
        created_at=created,
        source="zendesk",
        channel="email",
        status="waiting on customer",
        events=[rated, unrated],
        user_attributes={"email": "a@b.c", "orders": [1, 2], "vip": True},
        external_id="ext-9",
        resolved=None,
        metadata={"anything": {"nested": [1]}},
    )
    conv.used_subfolders.append({"id": "f1", "title": "Billing"})
    got = await client.conversations.get(conv.id)
    assert got.id == conv.id
    assert got.created_at == created and got.created_at.tzinfo is not None
    assert got.created_at_ms == conv.created_at
    assert (got.source, got.channel, got.status) == ("zendesk", "email", "waiting on customer")
    assert got.external_id == "ext-9" and got.resolved is None and got.has_feedback is False
    assert got.user_attributes == {"email": "a@b.c", "orders": [1, 2], "vip": True}
    assert got.metadata == {"anything": {"nested": [1]}}
    assert got.used_subfolders[0].title == "Billing"
    first, second = got.events
    assert first.csat_rating == 0 and first.csat_rating is not None
    assert second.csat_rating is None
    assert first.external_created_at == datetime(2026, 3, 4, 5, 5, tzinfo=timezone.utc)
    assert first.feedback == {"text": "meh"} and first.approved is True and first.resolved is False
    assert first.tags == ["billing"] and first.attachments == [{"url": "https://x/y.png"}]
    assert first.used_articles[0].document_url == "https://d"


async def test_get_unknown_id_is_a_500_retried_at_most_once(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(InternalServerError):
        await client.conversations.get(str(uuid.uuid4()))
    assert fake.calls["conversations.get"] == 2
    with pytest.raises(InternalServerError):
        await client.conversations.get("not-even-a-uuid", max_retries=5)
    assert fake.calls["conversations.get"] == 4
    with pytest.raises(InternalServerError):
        await client.conversations.get("x", max_retries=0)
    assert fake.calls["conversations.get"] == 5
    assert "500" in (client.conversations.get.__doc__ or "")
    with pytest.raises(ValidationError):
        await client.conversations.get("")
    # a transient 500 on a real id: the one retry gets it
    conv = emu(fake).add_conversation(events=[("user", "hi")])
    fake.fail_next("conversations.get", 1, 500)
    assert (await client.conversations.get(conv.id)).id == conv.id


async def test_get_tolerates_a_wrapped_conversation(fake: FakeFini, client: FiniClient) -> None:
    fake.respond_next("conversations.get", {"interaction": {"id": "w1", "createdAt": 0}})
    got = await client.conversations.get("w1")
    assert got.id == "w1" and got.created_at == datetime(1970, 1, 1, tzinfo=timezone.utc)


async def test_delete_one(fake: FakeFini, client: FiniClient) -> None:
    conv = emu(fake).add_conversation()
    await client.conversations.delete(conv.id)
    assert conv.id not in emu(fake).conversations
    with pytest.raises(InternalServerError):
        await client.conversations.delete(conv.id)  # unknown now: 500, never retried
    assert fake.calls["conversations.delete"] == 2
    fake.fail_next("conversations.delete", 1, 502)
    other = emu(fake).add_conversation()
    with pytest.raises(InternalServerError):
        await client.conversations.delete(other.id)
    assert fake.calls["conversations.delete"] == 3
    async with fake.client(READ_KEY) as ro:
        with pytest.raises(PermissionDeniedError):
            await ro.conversations.delete(other.id)
    with pytest.raises(ValidationError):
        await client.conversations.delete("")


async def test_delete_many_dedupes_and_sends_calls_of_at_most_50(
    fake: FakeFini, client: FiniClient
) -> None:
    emulator = emu(fake)
    convs = [emulator.add_conversation() for _ in range(120)]
    keep = emulator.add_conversation()
    ids: list[Any] = [c.id for c in convs]
    ids += [c.id.upper() for c in convs[:30]]  # the same UUIDs again, spelled differently
    ids += [uuid.UUID(c.id) for c in convs[:5]]
    assert await client.conversations.delete_many(ids) == 120
    assert fake.calls["conversations.delete_many"] == 3  # 50 + 50 + 20
    assert list(emulator.conversations) == [keep.id]
    assert await client.conversations.delete_many([]) == 0
    assert fake.calls["conversations.delete_many"] == 3


@pytest.mark.parametrize(
    "ids",
    [
        "4b0e0a5e-1b7e-4f0a-8f5e-1a2b3c4d5e6f",  # a string, not a list
        ["not-a-uuid"],
        [str(uuid.uuid4()), 42],
        [str(uuid.uuid4()), ""],
        None,
    ],
)
async def test_delete_many_checks_uuids_before_any_request(
    fake: FakeFini, client: FiniClient, ids: Any
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.conversations.delete_many(ids)
    assert info.value.field == "ids"
    assert no_calls(fake)


async def test_delete_many_406_names_the_affected_call_after_making_the_others(
    fake: FakeFini, client: FiniClient
) -> None:
    emulator = emu(fake)
    convs = [emulator.add_conversation() for _ in range(130)]
    ids = [c.id for c in convs]
    ghost = str(uuid.uuid4())  # unknown: inaccessible
    ids.insert(60, ghost)  # lands in the second call (ids 51..100)
    emulator.inaccessible.add(convs[120].id)  # and one in the third call
    with pytest.raises(BulkDeleteError) as info:
        await client.conversations.delete_many(ids)
    err = info.value
    assert isinstance(err, NotAcceptableError) and err.status_code == 406
    assert fake.calls["conversations.delete_many"] == 3  # every call was made
    assert err.total_calls == 3 and err.call_numbers == [2, 3]
    assert err.failed_calls == [ids[50:100], ids[100:]]
    assert ghost in err.failed_ids and convs[120].id in err.failed_ids
    assert "call 2" in str(err) and "call 3" in str(err)
    assert all(e.status_code == 406 for e in err.errors)
    # not atomic: every accessible id is gone, the inaccessible one stays
    assert list(emulator.conversations) == [convs[120].id]


async def test_delete_many_stops_at_other_errors_and_never_retries(
    fake: FakeFini, client: FiniClient
) -> None:
    emulator = emu(fake)
    ids = [emulator.add_conversation().id for _ in range(120)]
    fake.fail_next("conversations.delete_many", 1, 500)
    with pytest.raises(InternalServerError) as info:
        await client.conversations.delete_many(ids)
    assert not isinstance(info.value, NotAcceptableError)
    assert fake.calls["conversations.delete_many"] == 1
    assert len(emulator.conversations) == 120


async def test_emulator_bulk_delete_rules(fake: FakeFini, client: FiniClient) -> None:
    transport = client._transport
    path = "/v2/hc-interactions/public"
    one = str(uuid.uuid4())
    for body in (
        b'{"ids": []}',
        b'{"ids": ["nope"]}',
        json.dumps({"ids": [one, one]}).encode(),
    ):
        with pytest.raises(BadRequestError):
            await transport.request("DELETE", path, content=body, idempotent=False)
    too_many = [str(uuid.uuid4()) for _ in range(51)]
    with pytest.raises(BadRequestError):
        body = json.dumps({"ids": too_many}).encode()
        await transport.request("DELETE", path, content=body, idempotent=False)
