"""client.tags and client.tags.groups against the emulator: the group-id/tag-id path, unknown ids
answering 500 or 200 null (raised as NotFoundError), read-only Fini-managed groups, repeated
query parameters, and the shapes of delete answers."""

from __future__ import annotations

import aiohttp
import pytest

from fini_async import (
    FiniClient,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    Tag,
    TagGroup,
    ValidationError,
)
from fini_async.testing import READ_KEY, WRITE_KEY, FakeFini, assert_pool_idle


async def test_groups_list_create_get_update_delete(fake: FakeFini, client: FiniClient) -> None:
    group = await client.tags.groups.create(
        "Product area", description="Which product", prompt="Pick the product", multiselect=True
    )
    assert isinstance(group, TagGroup) and not group.is_managed and group.mandatory is False
    assert group.company_id == fake.tags.company_id and group.multiselect is True
    listed = await client.tags.groups.list()
    assert [g.id for g in listed][:1] == [group.id]  # newest first
    managed = [g for g in listed if g.is_managed]
    assert [g.title for g in managed] == ["Sentiment"] and managed[0].mandatory
    assert (await client.tags.groups.get(group)).title == "Product area"
    updated = await client.tags.groups.update(group.id, title="Area", is_output_tag_group=True)
    assert updated.title == "Area" and updated.is_output_tag_group and updated.multiselect
    with pytest.raises(ValidationError):
        await client.tags.groups.update(group.id)  # nothing to change
    await client.tags.groups.delete(group)
    assert group.id not in {g.id for g in await client.tags.groups.list()}
    assert_pool_idle(client)


async def test_unknown_groups_answer_500_and_raise_not_found(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.tags.groups.get("no-such-group")
    assert info.value.status_code == 500 and "no-such-group" in str(info.value)
    assert isinstance(info.value.__cause__, InternalServerError)
    assert fake.calls["tags.groups.get"] == 2  # retried once at most: it means "no such id"
    with pytest.raises(NotFoundError):
        await client.tags.groups.update("no-such-group", title="x")
    with pytest.raises(NotFoundError):
        await client.tags.groups.delete("no-such-group")
    with pytest.raises(NotFoundError):
        await client.tags.list("no-such-group")
    with pytest.raises(NotFoundError):
        await client.tags.create("no-such-group", "Tag")
    assert fake.calls["tags.create"] == 1  # a create is never repeated


async def test_fini_managed_groups_are_read_only(fake: FakeFini, client: FiniClient) -> None:
    managed = await client.tags.groups.get(fake.tags.managed_group_id)
    assert managed.is_managed
    names = {t.tag_name for t in await client.tags.list(managed)}
    assert names == {"Positive", "Neutral", "Negative"}
    with pytest.raises(NotFoundError) as info:
        await client.tags.groups.update(managed, title="Mood")
    assert info.value.status_code == 500
    with pytest.raises(NotFoundError):
        await client.tags.create(managed, "Angry")


async def test_tags_in_a_group_use_group_ids_then_tag_ids(
    fake: FakeFini, client: FiniClient
) -> None:
    group = await client.tags.groups.create("Product area")
    billing = await client.tags.create(group, "Billing", tag_description="Invoices and plans")
    login = await client.tags.create(group.id, "Login")
    assert isinstance(billing, Tag) and billing.tag_group_id == group.id
    assert [t.id for t in await client.tags.list(group)] == [login.id, billing.id]  # newest first
    renamed = await client.tags.update(billing, tag_name="Payments")  # a TAG id on the same path
    assert renamed.id == billing.id and renamed.tag_description == "Invoices and plans"
    assert (await client.tags.get(billing.id)).tag_name == "Payments"
    with pytest.raises(ValidationError):
        await client.tags.update(billing)
    await client.tags.delete(login)
    assert [t.id for t in await client.tags.list(group)] == [billing.id]
    with pytest.raises(NotFoundError) as info:
        await client.tags.update(login.id, tag_name="x")
    assert info.value.status_code == 500
    with pytest.raises(NotFoundError):
        await client.tags.delete(login.id)
    await client.tags.groups.delete(group)
    with pytest.raises(NotFoundError):
        await client.tags.get(billing.id)  # the group's tags went with it (emulator choice)


async def test_get_tag_of_an_unknown_id_answers_200_null(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.tags.get("no-such-tag")
    assert info.value.status_code == 200 and info.value.body is None
    assert fake.calls["tags.get"] == 1


async def test_list_in_groups_sends_repeated_parameters(fake: FakeFini, client: FiniClient) -> None:
    a = await client.tags.groups.create("A")
    b = await client.tags.groups.create("B")
    first = await client.tags.create(a, "one")
    second = await client.tags.create(b, "two")
    tags = await client.tags.list_in_groups([a, b.id, a.id])
    assert [t.id for t in tags] == [second.id, first.id]  # flat, newest first
    assert [t.id for t in await client.tags.list_in_groups(b.id)] == [second.id]
    with pytest.raises(ValidationError):
        await client.tags.list_in_groups([])
    with pytest.raises(ValidationError):
        await client.tags.list_in_groups([f"{a.id},{b.id}"])  # the API refuses CSV
    assert fake.calls["tags.across"] == 2


async def test_delete_accepts_true_success_or_an_object(fake: FakeFini, client: FiniClient) -> None:
    group = await client.tags.groups.create("G")
    for body in (True, {"success": True}, {"id": group.id}):
        fake.respond_next("tags.groups.delete", body)
        await client.tags.groups.delete(group)
    assert fake.calls["tags.groups.delete"] == 3


async def test_writes_need_the_write_scope(fake: FakeFini, client: FiniClient) -> None:
    async with fake.client(READ_KEY) as ro:
        assert await ro.tags.groups.list()
        with pytest.raises(PermissionDeniedError):
            await ro.tags.groups.create("G")
        with pytest.raises(PermissionDeniedError):
            await ro.tags.update("any-tag", tag_name="x")  # a 403 is not turned into not found


async def test_the_emulator_refuses_comma_separated_group_ids(fake: FakeFini) -> None:
    group = fake.tags.add_group("A")
    headers = {"Authorization": f"Bearer {WRITE_KEY}"}
    url = f"{fake.url}/v2/tag-groups/tags/public"
    async with aiohttp.ClientSession() as session:
        async with session.get(
            url, params=[("tagGroupIds", f"{group.id},other")], headers=headers
        ) as resp:
            assert resp.status == 400
        async with session.get(url, headers=headers) as resp:
            assert resp.status == 400  # at least one id
        async with session.get(url, params=[("tagGroupIds", group.id)], headers=headers) as resp:
            assert resp.status == 200 and await resp.json() == []
