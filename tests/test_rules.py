"""client.rules against the emulator: the list's explicit defaults, get, create, update, delete,
and the draft life cycle (generate, refine, publish, duplicate) with its quirks."""

from __future__ import annotations

import pytest
from aiohttp import web

from fini_async import (
    BadRequestError,
    FiniClient,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    Rule,
    ValidationError,
)
from fini_async.testing import READ_KEY, FakeFini, assert_pool_idle


async def test_list_sends_its_surprising_defaults_explicitly(
    fake: FakeFini, client: FiniClient
) -> None:
    intent = fake.rules.add("Refunds", "Refund requests")
    business = fake.rules.add("Hours", "Opening hours", type="business")
    draft = fake.rules.add("Draft", "Not yet", is_draft=True)
    listed = await client.rules.list()
    assert [r.id for r in listed] == [intent.id]  # published intent rules only
    assert listed[0].flow_config is None and "flowConfig" not in listed[0].raw  # a summary
    assert [r.id for r in await client.rules.list(type="business")] == [business.id]
    assert [r.id for r in await client.rules.list(is_draft=True)] == [draft.id]
    assert await client.rules.list(source="widget") == []
    assert_pool_idle(client)


async def test_list_query_carries_both_defaults() -> None:
    # a small loopback server that records the query: the emulator applies the same defaults,
    # so only the wire shows that they are sent
    seen: list[dict[str, str]] = []

    async def rules(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        return web.json_response([{"id": "r1", "name": "Refunds", "botIds": ["b1"]}])

    app = web.Application()
    app.router.add_get("/v2/hc-rules/public", rules)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        async with FiniClient(api_key="k", base_url=f"http://127.0.0.1:{port}") as client:
            listed = await client.rules.list()
            await client.rules.list(type="business", is_draft=True, source="widget")
    finally:
        await runner.cleanup()
    assert seen == [
        {"type": "intent", "isDraft": "false"},
        {"type": "business", "isDraft": "true", "source": "widget"},
    ]
    assert listed[0].bot_ids == ["b1"] and listed[0].raw["name"] == "Refunds"


async def test_list_refuses_unknown_values_before_sending(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(ValidationError):
        await client.rules.list(type="all")
    with pytest.raises(ValidationError):
        await client.rules.list(is_draft="yes")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await client.rules.list(source="email")
    assert fake.calls["rules.list"] == 0


async def test_create_get_update_delete(fake: FakeFini, client: FiniClient) -> None:
    flow = {"type": "root", "children": [{"type": "reply", "text": "We refund in 14 days."}]}
    rule = await client.rules.create(
        "Refunds",
        "When the customer asks for a refund",
        flow_config=flow,
        bot_ids=["bot_default"],
        source="widget",
        trigger_type="on_escalation",
    )
    assert isinstance(rule, Rule) and rule.is_draft is False and rule.type == "intent"
    assert rule.bot_ids == ["bot_default"] and rule.flow_config == flow
    got = await client.rules.get(rule.id)
    assert got.name == "Refunds" and got.trigger_type == "on_escalation"
    updated = await client.rules.update(rule, description="Refund or money back")
    assert updated.description == "Refund or money back" and updated.name == "Refunds"
    with pytest.raises(ValidationError):
        await client.rules.update(rule)  # nothing to change
    await client.rules.delete(rule)
    for call in (client.rules.get, client.rules.delete):
        with pytest.raises(NotFoundError) as info:
            await call(rule.id)
        assert info.value.status_code == 404
    with pytest.raises(NotFoundError):
        await client.rules.update(rule.id, name="x")


async def test_create_errors(fake: FakeFini, client: FiniClient) -> None:
    with pytest.raises(BadRequestError):
        await client.rules.create("Refunds", "desc", bot_ids=["no-such-agent"])
    with pytest.raises(ValidationError):
        await client.rules.create("Refunds", "desc", type="other")
    with pytest.raises(ValidationError):
        await client.rules.create("", "desc")
    fake.fail_next("rules.create", status=500)
    with pytest.raises(InternalServerError):
        await client.rules.create("Refunds", "desc")
    assert fake.calls["rules.create"] == 2  # the 400 and the 500: a create is never repeated
    async with fake.client(READ_KEY) as ro:
        with pytest.raises(PermissionDeniedError):
            await ro.rules.create("Refunds", "desc")


async def test_draft_refine_publish(fake: FakeFini, client: FiniClient) -> None:
    draft = await client.rules.create_draft("Offer a refund when an order arrives damaged.")
    assert draft.is_draft is True and draft.bot_ids == []
    refined = await client.rules.refine(draft, "Ask for a photo first.")
    assert refined.id == draft.id and "photo" in refined.description
    assert refined.bot_ids == []
    with pytest.raises(ValidationError):
        await client.rules.publish(draft, [])  # at least one agent
    with pytest.raises(ValidationError):
        await client.rules.publish(draft, "bot_default")  # a list, not a string
    assert fake.calls["rules.publish"] == 0
    with pytest.raises(BadRequestError):
        await client.rules.publish(draft, ["no-such-agent"])
    published = await client.rules.publish(draft, ["bot_default"])
    assert published.is_draft is False and published.bot_ids == ["bot_default"]
    assert draft.id in {r.id for r in await client.rules.list()}
    with pytest.raises(NotFoundError):
        await client.rules.refine(draft, "more")  # no longer a draft
    with pytest.raises(NotFoundError):
        await client.rules.publish(draft, ["bot_default"])
    with pytest.raises(NotFoundError):
        await client.rules.refine("no-such-rule", "more")


async def test_duplicate_intent_gives_a_draft_business_a_published_copy(
    fake: FakeFini, client: FiniClient
) -> None:
    intent = await client.rules.create("Refunds", "desc", bot_ids=["bot_default"])
    business = await client.rules.create("Hours", "desc", type="business")
    copy = await client.rules.duplicate(intent, name="Refunds v2")
    assert copy.is_draft is True and copy.name == "Refunds v2" and copy.id != intent.id
    assert copy.bot_ids == [{"botId": "bot_default", "ruleId": copy.id}]  # not expanded
    with pytest.raises(BadRequestError):
        await client.rules.refine(copy, "more")  # a copy has no instructions to refine
    other = await client.rules.duplicate(business.id, description="Opening hours")
    assert other.is_draft is False and other.description == "Opening hours"
    templated = fake.rules.add("From a template", "desc", default_rule_id="tpl-1")
    with pytest.raises(BadRequestError):
        await client.rules.duplicate(templated.id)
    with pytest.raises(NotFoundError):
        await client.rules.duplicate("no-such-rule")
    fake.fail_next("rules.duplicate", status=500)
    with pytest.raises(InternalServerError):
        await client.rules.duplicate(intent)
    assert fake.calls["rules.duplicate"] == 5  # never repeated
