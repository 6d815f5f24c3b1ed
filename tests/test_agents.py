"""client.agents: the agent list and the prompt routes (merged reads, history, saving a new
version; 404 unknown agent, 406 another workspace's), over real HTTP against the emulator."""

from __future__ import annotations

import pytest

from fini_async import (
    APIConnectionError,
    Bot,
    FiniClient,
    NotAcceptableError,
    NotFoundError,
    PermissionDeniedError,
    Prompt,
    ValidationError,
)
from fini_async.testing import READ_KEY, FakeFini


async def test_agents_list_is_the_bots_list(fake: FakeFini, client: FiniClient) -> None:
    fake.agents.add_agent("bot_sales", "Sales")
    agents = await client.agents.list()
    assert all(isinstance(a, Bot) for a in agents)
    assert {a.id for a in agents} == {"bot_default", "bot_sales"}
    assert [b.id for b in await client.bots.list()] == [a.id for a in agents]  # still works


async def test_get_prompt_without_a_saved_version_is_the_template(
    fake: FakeFini, client: FiniClient
) -> None:
    prompt = await client.agents.get_prompt("bot_default")
    assert isinstance(prompt, Prompt) and prompt.bot_id == "bot_default"
    tone = prompt.hc_guideline_prompt[0]
    assert tone["key"] == "tone" and tone["custom"] is False
    assert tone["defaultPrompt"] == tone["prompt"]
    assert await client.agents.prompt_history("bot_default") == []  # template not listed


async def test_read_edit_save_round_trip(fake: FakeFini, client: FiniClient) -> None:
    prompt = await client.agents.get_prompt("bot_default")
    prompt.hc_guideline_prompt[0]["prompt"] = "Be formal."
    prompt.hc_guideline_prompt[0]["extra"] = {"kept": True}  # unknown keys survive
    saved = await client.agents.update_prompt("bot_default", prompt)
    assert saved.version == 1 and saved.bot_id == "bot_default"
    assert "defaultPrompt" not in saved.hc_guideline_prompt[0]  # a stored row, not merged
    assert fake.calls["agents.update_prompt"] == 1  # POST /v2/bots/{id}/hc-prompt, no /public
    merged = await client.agents.get_prompt("bot_default")
    tone = merged.hc_guideline_prompt[0]
    assert tone["prompt"] == "Be formal." and tone["custom"] is True
    assert tone["extra"] == {"kept": True}
    again = await client.agents.update_prompt(
        "bot_default", merged, hc_channel_prompt=[{"key": "chat", "prompt": "Two sentences."}]
    )
    assert again.version == 2 and again.hc_channel_prompt == [
        {"key": "chat", "prompt": "Two sentences."}
    ]
    history = await client.agents.prompt_history("bot_default")
    assert [p.version for p in history] == [2, 1]  # newest first
    assert history[1].hc_guideline_prompt[0]["prompt"] == "Be formal."
    assert history[0].created is not None


async def test_all_three_arrays_are_required_before_sending(
    fake: FakeFini, client: FiniClient
) -> None:
    for kwargs in (
        {},
        {"hc_planning_prompt": [], "hc_guideline_prompt": []},
        {"hc_planning_prompt": [], "hc_guideline_prompt": [], "hc_channel_prompt": ["x"]},
        {"hc_planning_prompt": {}, "hc_guideline_prompt": [], "hc_channel_prompt": []},
    ):
        with pytest.raises(ValidationError):
            await client.agents.update_prompt("bot_default", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await client.agents.update_prompt("bot_default", {"hcPlanningPrompt": []})  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await client.agents.get_prompt("")
    assert fake.calls["agents.update_prompt"] == fake.calls["agents.prompt"] == 0
    saved = await client.agents.update_prompt(
        "bot_default", hc_planning_prompt=[], hc_guideline_prompt=[], hc_channel_prompt=[]
    )
    assert saved.hc_planning_prompt == []


async def test_unknown_agent_is_404_and_another_workspaces_is_406(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(NotFoundError):
        await client.agents.get_prompt("bot_missing")
    with pytest.raises(NotFoundError):
        await client.agents.prompt_history("bot_missing")
    fake.agents.foreign.add("bot_theirs")
    for call in (
        client.agents.get_prompt("bot_theirs"),
        client.agents.prompt_history("bot_theirs"),
        client.agents.update_prompt(
            "bot_theirs", hc_planning_prompt=[], hc_guideline_prompt=[], hc_channel_prompt=[]
        ),
    ):
        with pytest.raises(NotAcceptableError) as info:  # 406 where other routes say 403
            await call
        assert info.value.status_code == 406


async def test_saving_is_not_repeated_and_needs_write(fake: FakeFini, client: FiniClient) -> None:
    fake.drop_next("agents.update_prompt")
    with pytest.raises(APIConnectionError):
        await client.agents.update_prompt(
            "bot_default", hc_planning_prompt=[], hc_guideline_prompt=[], hc_channel_prompt=[]
        )
    assert fake.calls["agents.update_prompt"] == 1  # it may have appended a version
    async with fake.client(READ_KEY) as reader:
        assert (await reader.agents.get_prompt("bot_default")).bot_id == "bot_default"
        with pytest.raises(PermissionDeniedError):
            await reader.agents.update_prompt(
                "bot_default", hc_planning_prompt=[], hc_guideline_prompt=[], hc_channel_prompt=[]
            )


async def test_a_bad_key_is_401_on_the_other_new_routes(fake: FakeFini) -> None:
    from fini_async import AuthenticationError

    async with fake.client("fini_wrong") as stranger:
        for call in (
            stranger.agents.list(),
            stranger.agents.get_prompt("bot_default"),
            stranger.agents.prompt_history("bot_default"),
            stranger.agents.update_prompt(
                "bot_default", hc_planning_prompt=[], hc_guideline_prompt=[], hc_channel_prompt=[]
            ),
            stranger.bots.history(),
            stranger.knowledge_items.list(),
            stranger.knowledge_items.create("q", "a"),
            stranger.knowledge_items.update("k1", question="q", answer="a"),
            stranger.knowledge.initialize_tree("bikes"),
            stranger.knowledge.persist_tree(b"folder,article_title\nA,B\n"),
        ):
            with pytest.raises(AuthenticationError):
                await call
