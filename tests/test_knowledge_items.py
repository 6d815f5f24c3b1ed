"""client.knowledge_items: list (filters), create and update (a whole-item PUT), over real HTTP
against the emulator."""

from __future__ import annotations

import pytest

from fini_async import (
    APIConnectionError,
    BadRequestError,
    FiniClient,
    KnowledgeItem,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from fini_async.testing import READ_KEY, FakeFini


async def test_create_list_and_answer_from_it(fake: FakeFini, client: FiniClient) -> None:
    item = await client.knowledge_items.create(
        "Do you ship to Mars?",
        "Only on Tuesdays, by rocket.",
        bot_ids=["bot_default"],
        keywords=["shipping"],
        categories=["logistics"],
    )
    assert isinstance(item, KnowledgeItem) and item.status == "LIVE"
    assert item.knowledge_number == 1 and item.bot_ids == {}  # answers carry no botIds
    assert item.created is not None and item.instruction is None
    (listed,) = await client.knowledge_items.list()
    assert listed.id == item.id and listed.bot_ids == {"bot_default": "SUCCESS"}
    answer = await client.bots.ask_question("Do you ship to Mars?")
    assert "rocket" in answer.answer  # a LIVE item answers at once


async def test_every_field_is_sent_on_create(fake: FakeFini, client: FiniClient) -> None:
    await client.knowledge_items.create("Q?", "A.")
    item = fake.knowledge_items.items[next(iter(fake.knowledge_items.items))]
    for key in ("botIds", "similarQs", "keywords", "categories", "subcategories"):
        assert item[key] == []
    assert item["instruction"] is None and item["escalation"] is False


async def test_list_filters(fake: FakeFini, client: FiniClient) -> None:
    live = await client.knowledge_items.create("Refunds?", "Within 30 days.", keywords=["refund"])
    draft = await client.knowledge_items.create(
        "Invoices?", "Monthly.", status="DRAFT", categories=["billing"], escalation=True
    )
    assert [i.id for i in await client.knowledge_items.list(status="DRAFT")] == [draft.id]
    assert [i.id for i in await client.knowledge_items.list(keyword="refund")] == [live.id]
    assert [i.id for i in await client.knowledge_items.list(category="billing")] == [draft.id]
    assert [i.id for i in await client.knowledge_items.list(escalation=True)] == [draft.id]
    assert [i.id for i in await client.knowledge_items.list(question="refund")] == [live.id]
    with pytest.raises(ValidationError):
        await client.knowledge_items.list(status="PUBLISHED")


async def test_update_keeps_the_fields_not_given(fake: FakeFini, client: FiniClient) -> None:
    await client.knowledge_items.create(
        "Refunds?", "Within 30 days.", keywords=["refund"], bot_ids=["bot_default"]
    )
    (item,) = await client.knowledge_items.list()
    updated = await client.knowledge_items.update(item, answer="Within 60 days.")
    assert updated.answer == "Within 60 days." and updated.keywords == ["refund"]
    (again,) = await client.knowledge_items.list()
    assert again.bot_ids == {"bot_default": "SUCCESS"} and again.question == "Refunds?"
    by_id = await client.knowledge_items.update(item.id, question="Refunds?", answer="Never.")
    assert by_id.keywords == [] and by_id.status == "LIVE"  # a whole-item replacement
    fake.fail_next("knowledge_items.update", status=502)  # a PUT: safe to repeat
    assert (await client.knowledge_items.update(by_id, status="DRAFT")).status == "DRAFT"
    assert fake.calls["knowledge_items.update"] == 4


async def test_update_errors(fake: FakeFini, client: FiniClient) -> None:
    with pytest.raises(ValidationError):  # by id, question and answer are required
        await client.knowledge_items.update("some-id", answer="x")
    with pytest.raises(ValidationError):
        await client.knowledge_items.update("", question="q", answer="a")
    assert fake.calls["knowledge_items.update"] == 0
    with pytest.raises(NotFoundError):
        await client.knowledge_items.update("no-such-item", question="q", answer="a")


async def test_create_is_checked_and_never_repeated(fake: FakeFini, client: FiniClient) -> None:
    for args, kwargs in (
        (("", "a"), {}),
        (("q", "a"), {"status": "LIVE!"}),
        (("q", "a"), {"keywords": [1]}),
        (("q", "a"), {"escalation": "no"}),
    ):
        with pytest.raises(ValidationError):
            await client.knowledge_items.create(*args, **kwargs)  # type: ignore[arg-type]
    assert fake.calls["knowledge_items.create"] == 0
    fake.drop_next("knowledge_items.create")
    with pytest.raises(APIConnectionError):
        await client.knowledge_items.create("q", "a")
    assert fake.calls["knowledge_items.create"] == 1
    fake.respond_next(
        "knowledge_items.create",
        {"statusCode": 400, "message": ["answer too long"], "error": "Bad Request"},
        status=400,
    )
    with pytest.raises(BadRequestError):
        await client.knowledge_items.create("q", "a")
    async with fake.client(READ_KEY) as reader:
        with pytest.raises(PermissionDeniedError):
            await reader.knowledge_items.create("q", "a")
