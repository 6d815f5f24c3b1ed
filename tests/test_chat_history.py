"""client.bots.history: the legacy chat history, paginated by the last conversation's id, with
both documented envelopes, over real HTTP against the emulator."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from fini_async import (
    BadRequestError,
    ChatConversation,
    ChatHistoryPage,
    FiniClient,
    ValidationError,
)
from fini_async.testing import FakeFini, assert_pool_idle

T0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z in epoch ms


def seed(fake: FakeFini, n: int) -> list[str]:
    """``n`` conversations, the first the oldest (a minute apart); their ids newest first."""
    chats = [
        fake.history.add_conversation(
            requests=[(f"Question {i}?", f"Answer {i}.")],
            created_at=T0 + i * 60_000,
            source="slack" if i % 2 else "widget",
        )
        for i in range(n)
    ]
    return [c.id for c in reversed(chats)]


async def test_pages_follow_the_last_conversation_id(fake: FakeFini, client: FiniClient) -> None:
    ids = seed(fake, 5)
    page = await client.bots.history(page_size=2)
    assert isinstance(page, ChatHistoryPage)
    assert [c.id for c in page] == ids[:2] and page.next_cursor == ids[1]
    second = await page.get_next_page()
    assert second is not None and [c.id for c in second] == ids[2:4]
    assert [c.id async for c in client.bots.history(page_size=2)] == ids
    assert fake.calls["bots.history"] == 2 + 3
    first = page.items[0]
    assert isinstance(first, ChatConversation) and first.source == "widget"
    assert first.created_at == datetime(2026, 1, 1, 0, 4, tzinfo=timezone.utc)
    assert first.bot_requests[0].question == "Question 4?"
    assert first.bot_requests[0].answer == "Answer 4."
    assert_pool_idle(client)


async def test_filters_reach_the_server(fake: FakeFini, client: FiniClient) -> None:
    ids = seed(fake, 4)
    rated = fake.history.add_conversation(
        requests=[("Refund?", "Yes.")],
        created_at=T0 - 60_000,
        feedback_type="thumbs_down",
        escalation=True,
        categories=["billing"],
        user_id="u-1",
    )
    slack = [c.id async for c in client.bots.history(source="slack")]
    assert slack == [ids[0], ids[2]]
    both = [c.id async for c in client.bots.history(source=["slack", "widget"])]  # repeated
    assert both == ids
    window = client.bots.history(
        start=T0 + 60_000, end=datetime(2026, 1, 1, 0, 2, tzinfo=timezone.utc)
    )
    assert [c.id async for c in window] == [ids[1], ids[2]]
    for kwargs in (
        {"feedback_type": "thumbs_down"},
        {"escalation": True},
        {"category": "billing"},
        {"user_id": "u-1"},
        {"question": "refund"},
    ):
        assert [c.id async for c in client.bots.history(**kwargs)] == [rated.id], kwargs  # type: ignore[arg-type]


async def test_arguments_are_checked_before_sending(fake: FakeFini, client: FiniClient) -> None:
    for kwargs in (
        {"page_size": 0},
        {"page_size": 101},
        {"start": datetime(2026, 1, 1)},  # naive
        {"start": 10, "end": 5},
        {"feedback_type": "meh"},
        {"escalation": "yes"},
        {"source": [""]},
        {"user_id": ""},
    ):
        with pytest.raises(ValidationError):
            client.bots.history(**kwargs)  # type: ignore[arg-type]
    assert fake.calls["bots.history"] == 0


async def test_the_older_envelope_is_one_page_of_one_request_each(
    fake: FakeFini, client: FiniClient
) -> None:
    await client.bots.ask_question("How do I upgrade to premium?")  # recorded by the emulator
    fake.history.legacy = True
    page = await client.bots.history()
    assert not page.has_more and len(page) == 1
    (chat,) = page
    assert chat.id is None and chat.bot_name == "Default"
    (request,) = chat.bot_requests
    assert request.question == "How do I upgrade to premium?" and request.answer
    assert [m.role for m in chat.message_history] == ["user", "assistant"]


async def test_ask_question_shows_in_the_history(fake: FakeFini, client: FiniClient) -> None:
    answer = await client.bots.ask_question("What is your refund policy?")
    (chat,) = (await client.bots.history()).items
    assert chat.bot_requests[0].answer == answer.answer
    assert chat.bot_requests[0].based_on  # the sources the answer used


async def test_a_refused_query_is_a_bad_request(fake: FakeFini, client: FiniClient) -> None:
    seed(fake, 3)
    fake.respond_next(
        "bots.history",
        {"conversations": [{"id": "c1", "createdAt": T0}], "hasMore": True},
    )
    page = await client.bots.history()
    with pytest.raises(BadRequestError):  # the emulator does not know cursor c1
        await page.get_next_page()
