"""client.articles against the emulator: list, by ids, get, create, update, draft, publish,
delete and move, with the documented quirks (dropped ids, 200 null for an unknown live article,
publish returning the original) and the state shared with knowledge generation."""

from __future__ import annotations

import aiohttp
import pytest

from fini_async import (
    APIConnectionError,
    Article,
    AuthenticationError,
    FiniClient,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from fini_async.testing import READ_KEY, WRITE_KEY, FakeFini, assert_pool_idle

CONTENT = {
    "title": "Changing your plan",
    "main_knowledge": "Open Settings, then Billing, and pick a plan. Changes apply at once.",
    "questions": ["How do I change my plan?"],
    "keywords": ["plan", "billing"],
}


async def new_article(fake: FakeFini, client: FiniClient, **extra: object) -> Article:
    kwargs = {**CONTENT, "parent_folder_id": fake.articles.default_folder_id, **extra}
    return await client.articles.create(**kwargs)  # type: ignore[arg-type]


# -- list, get_many, get -----------------------------------------------------------------------


async def test_list_live_draft_or_both(fake: FakeFini, client: FiniClient) -> None:
    draft = await new_article(fake, client, is_draft=True)
    both = await client.articles.list()
    live = await client.articles.list(type="live")
    drafts = await client.articles.list(type="draft")
    assert {a.id for a in both} == {a.id for a in live} | {a.id for a in drafts}
    assert [a.id for a in drafts] == [draft.id]
    assert all(a.is_draft is False for a in live) and len(live) == 5  # the seeded articles
    assert fake.calls["articles.list"] == 3
    assert_pool_idle(client)


async def test_list_refuses_an_unknown_type_before_sending(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.articles.list(type="published")
    assert info.value.field == "type"
    assert fake.calls["articles.list"] == 0


async def test_get_many_keeps_the_asked_order_and_drops_unknown_ids(
    fake: FakeFini, client: FiniClient
) -> None:
    first, second = (await client.articles.list(type="live"))[:2]
    got = await client.articles.get_many([second.id, "no-such-id", first.id, second.id])
    assert [a.id for a in got] == [second.id, first.id]
    assert got[0].title == second.title and got[0].main_knowledge
    assert got[0].raw["id"] == second.id  # the whole object is kept
    with pytest.raises(ValidationError):
        await client.articles.get_many([])
    with pytest.raises(ValidationError):
        await client.articles.get_many("one-id")  # a string is not a list of ids
    assert fake.calls["articles.ids"] == 1


async def test_get_raises_not_found_for_an_unknown_id(fake: FakeFini, client: FiniClient) -> None:
    live = (await client.articles.list(type="live"))[0]
    assert (await client.articles.get(live.id)).id == live.id
    with pytest.raises(NotFoundError) as info:
        await client.articles.get("no-such-id")
    assert info.value.status_code == 200  # what the API really answered: an empty list
    assert info.value.body == []
    assert "no-such-id" in str(info.value)


async def test_get_many_is_a_read_and_is_retried(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next("articles.ids", status=500)
    live = (await client.articles.list(type="live"))[0]
    assert [a.id for a in await client.articles.get_many([live.id])] == [live.id]
    assert fake.calls["articles.ids"] == 2


# -- create ------------------------------------------------------------------------------------


async def test_create_is_live_by_default_and_sends_the_documented_body(
    fake: FakeFini, client: FiniClient
) -> None:
    article = await new_article(fake, client, escalation=True, origin="manual")
    assert article.is_draft is False and article.version == 1
    assert article.questions == CONTENT["questions"] and article.keywords == ["plan", "billing"]
    assert article.escalation is True and article.agent_instruction == ""
    assert article.parent_folder_id == fake.articles.default_folder_id
    assert article.origin == "manual"
    assert article.id in {a.id for a in await client.articles.list(type="live")}
    answer = await client.bots.ask_question("How do I change my plan in billing settings?")
    assert "pick a plan" in answer.answer  # a live article answers questions


@pytest.mark.parametrize("field", ["questions", "keywords"])
async def test_create_refuses_empty_arrays_before_sending(
    fake: FakeFini, client: FiniClient, field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        await new_article(fake, client, **{field: []})
    assert info.value.field == field
    with pytest.raises(ValidationError):
        await new_article(fake, client, title=" ")
    assert fake.calls["articles.create"] == 0


async def test_the_emulator_answers_400_for_an_empty_array(fake: FakeFini) -> None:
    body = {
        "title": "t",
        "mainKnowledge": "m",
        "agentInstruction": "",
        "questions": [],
        "keywords": ["k"],
        "escalation": False,
        "parentFolderId": fake.articles.default_folder_id,
    }
    headers = {"Authorization": f"Bearer {WRITE_KEY}"}
    async with aiohttp.ClientSession() as session:
        url = f"{fake.url}/v2/hc-articles/public"
        async with session.post(url, json=body, headers=headers) as resp:
            assert resp.status == 400
            assert "questions should not be empty" in (await resp.json())["message"]


async def test_create_errors_are_typed_and_never_retried(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(NotFoundError):
        await new_article(fake, client, parent_folder_id="no-such-folder")
    fake.fail_next("articles.create", status=500)
    with pytest.raises(InternalServerError):
        await new_article(fake, client)
    assert fake.calls["articles.create"] == 2  # one each: a create the server may have made
    async with fake.client(READ_KEY) as ro:
        with pytest.raises(PermissionDeniedError):
            await new_article(fake, ro)
    async with fake.client("fini_wrong") as bad:
        with pytest.raises(AuthenticationError):
            await bad.articles.list()


# -- update ------------------------------------------------------------------------------------


async def test_update_replaces_the_content_and_bumps_the_version(
    fake: FakeFini, client: FiniClient
) -> None:
    article = await new_article(fake, client)
    updated = await client.articles.update(article, title="Switching plans", public=False)
    assert updated.id == article.id and updated.version == 2
    assert updated.title == "Switching plans" and updated.main_knowledge == article.main_knowledge
    assert updated.public is False
    again = await client.articles.update(
        article.id,
        title="Plans",
        main_knowledge="New text",
        questions=["q?"],
        keywords=["k"],
        escalation=False,
    )
    assert again.version == 3 and again.main_knowledge == "New text"


async def test_update_by_id_needs_the_whole_content(fake: FakeFini, client: FiniClient) -> None:
    article = await new_article(fake, client)
    with pytest.raises(ValidationError) as info:
        await client.articles.update(article.id, title="Only a title")
    assert info.value.field == "main_knowledge"
    with pytest.raises(ValidationError):
        await client.articles.update(article, keywords=[])
    assert fake.calls["articles.update"] == 0
    with pytest.raises(NotFoundError) as nf:
        await client.articles.update("no-such-id", **CONTENT)  # type: ignore[arg-type]
    assert nf.value.status_code == 404


# -- drafts and publishing ---------------------------------------------------------------------


async def test_fork_a_live_article_then_publish_updates_the_original(
    fake: FakeFini, client: FiniClient
) -> None:
    live = await new_article(fake, client)
    draft = await client.articles.create_draft(live, main_knowledge="Plans change at renewal.")
    assert draft.is_draft is True and draft.id != live.id
    assert draft.original_article_id == live.id and draft.original_article_version == 1
    assert draft.is_draft_published is False
    assert draft.id in {a.id for a in await client.articles.list(type="draft")}

    published = await client.articles.publish(draft)
    assert published.id == live.id  # the original remains, updated
    assert published.main_knowledge == "Plans change at renewal." and published.version == 2
    assert draft.id not in {a.id for a in await client.articles.list()}
    assert fake.calls["articles.publish"] == 1


async def test_create_draft_of_an_unknown_article_is_not_found(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.articles.create_draft("no-such-id", **CONTENT)  # type: ignore[arg-type]
    assert info.value.status_code == 200 and info.value.body is None  # the API's 200 null
    assert fake.calls["articles.draft"] == 1


async def test_publishing_a_new_draft_makes_a_new_live_article(
    fake: FakeFini, client: FiniClient
) -> None:
    draft = await new_article(fake, client, is_draft=True)
    live = await client.articles.publish(draft.id, **CONTENT)  # type: ignore[arg-type]
    assert live.id != draft.id and live.is_draft is False
    assert [a.id for a in await client.articles.get_many([draft.id, live.id])] == [live.id]
    with pytest.raises(NotFoundError):
        await client.articles.publish(draft.id, **CONTENT)  # type: ignore[arg-type]
    fake.fail_next("articles.publish", status=500)
    with pytest.raises(InternalServerError):
        await client.articles.publish(live, title="x")
    assert fake.calls["articles.publish"] == 3  # never repeated


async def test_generate_then_publish_the_draft(fake: FakeFini, client: FiniClient) -> None:
    fake.knowledge.pending_for = fake.knowledge.run_for = 0.01
    client.knowledge.configure_polling(interval_initial=0.01, interval_max=0.02)
    job = await client.knowledge.generate(
        "Gift cards never expire and can be used on any plan.", origin="generated"
    )
    await job.wait(timeout=5)
    assert job.last_status is not None and job.last_status.hc_article_id
    draft = await client.articles.get(job.last_status.hc_article_id)
    assert draft.is_draft is True and draft.questions and draft.keywords
    before = await client.bots.ask_question("Do gift cards expire?")
    assert "never expire" not in before.answer  # a draft does not answer yet

    live = await client.articles.publish(draft)
    assert live.is_draft is False
    assert live.id in {a.id for a in await client.articles.list(type="live")}
    after = await client.bots.ask_question("Do gift cards expire?")
    assert "never expire" in after.answer


# -- delete and move ---------------------------------------------------------------------------


async def test_delete_then_the_article_is_gone(fake: FakeFini, client: FiniClient) -> None:
    article = await new_article(fake, client)
    await client.articles.delete(article)
    with pytest.raises(NotFoundError):
        await client.articles.get(article.id)
    with pytest.raises(NotFoundError) as info:
        await client.articles.delete(article.id)
    assert info.value.status_code == 404
    with pytest.raises(ValidationError):
        await client.articles.delete("")


async def test_move_to_another_folder(fake: FakeFini, client: FiniClient) -> None:
    article = await new_article(fake, client)
    folder = await client.folders.create("Billing")
    moved = await client.articles.move(article, folder.id)
    assert moved.parent_folder_id == folder.id
    assert (await client.articles.get(article.id)).parent_folder_id == folder.id
    with pytest.raises(NotFoundError):
        await client.articles.move(article, "no-such-folder")
    with pytest.raises(NotFoundError):
        await client.articles.move("no-such-article", folder.id)
    with pytest.raises(ValidationError):
        await client.articles.move(article, "")


async def test_a_put_is_repeated_but_a_create_never_is(fake: FakeFini, client: FiniClient) -> None:
    article = await new_article(fake, client)
    fake.fail_next("articles.update", status=500)
    assert (await client.articles.update(article, title="Again")).title == "Again"
    assert fake.calls["articles.update"] == 2  # a full replacement is safe to repeat
    fake.drop_next("articles.create")  # the server read it: the client cannot know its fate
    with pytest.raises(APIConnectionError):
        await new_article(fake, client)
    assert fake.calls["articles.create"] == 2  # the first create and the dropped one, once
    fake.drop_next("articles.draft")
    with pytest.raises(APIConnectionError):
        await client.articles.create_draft(article)
    assert fake.calls["articles.draft"] == 1


async def test_a_generated_revision_publishes_onto_the_article_it_matched(
    fake: FakeFini, client: FiniClient
) -> None:
    fake.knowledge.pending_for = fake.knowledge.run_for = 0.01
    client.knowledge.configure_polling(interval_initial=0.01, interval_max=0.02)
    refunds = next(a for a in await client.articles.list(type="live") if a.title == "Refund policy")
    job = await client.knowledge.generate(
        "Refunds are available within 30 days of purchase for monthly plans.",
        restricted_ops=["UPDATE_ARTICLE"],
    )
    await job.wait(timeout=5)
    assert job.last_status is not None and job.last_status.hc_article_id
    revision = await client.articles.get(job.last_status.hc_article_id)
    assert revision.is_draft is True and revision.original_article_id == refunds.id
    live = await client.articles.publish(revision)
    assert live.id == refunds.id and "30 days" in live.main_knowledge and live.version == 2
    answer = await client.bots.ask_question("What is the refund policy for monthly plans?")
    assert "30 days" in answer.answer
