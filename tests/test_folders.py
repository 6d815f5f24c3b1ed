"""client.folders against the emulator: the tree (whole and per agent), create, update, move,
delete and the folder-to-agent junctions, with their 404/406 answers."""

from __future__ import annotations

import pytest

from fini_async import (
    APIResponseValidationError,
    BadRequestError,
    FiniClient,
    Folder,
    FolderTree,
    InternalServerError,
    NotAcceptableError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from fini_async.testing import READ_KEY, FakeFini, assert_pool_idle


async def test_the_tree_nests_folders_and_their_articles(
    fake: FakeFini, client: FiniClient
) -> None:
    billing = await client.folders.create("Billing", description="Plans and invoices")
    refunds = await client.folders.create("Refunds", parent_folder_id=billing.id)
    assert billing.parent_folder_id is None and refunds.parent_folder_id == billing.id
    assert billing.description == "Plans and invoices" and billing.active is True
    assert billing.created_at is not None and billing.raw["id"] == billing.id

    tree = await client.folders.tree()
    assert isinstance(tree, FolderTree) and tree.id
    top = {node.title: node for node in tree.folders}
    assert set(top) == {"General", "Billing"}
    assert [c.id for c in top["Billing"].children] == [refunds.id]
    assert len(top["General"].articles) == 5  # the seeded articles sit in the default folder
    assert top["Billing"].children[0].raw["title"] == "Refunds"
    flat = await client.folders.list()
    assert [f.title for f in flat] == ["General", "Billing", "Refunds"]
    assert fake.calls["folders.tree"] == 2
    assert_pool_idle(client)


async def test_create_refuses_bad_input_and_unknown_parents(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(ValidationError):
        await client.folders.create("")
    assert fake.calls["folders.create"] == 0
    with pytest.raises(NotFoundError):
        await client.folders.create("Orphan", parent_folder_id="no-such-folder")
    fake.fail_next("folders.create", status=500)
    with pytest.raises(InternalServerError):
        await client.folders.create("Once")
    assert fake.calls["folders.create"] == 2  # a create is never repeated
    async with fake.client(READ_KEY) as ro:
        with pytest.raises(PermissionDeniedError):
            await ro.folders.create("Read only")
        assert (await ro.folders.tree()).folders  # the tree is a read


async def test_update_needs_all_three_fields_or_a_folder(
    fake: FakeFini, client: FiniClient
) -> None:
    folder = await client.folders.create("Billing", description="old")
    with pytest.raises(ValidationError) as info:
        await client.folders.update(folder.id, title="New")
    assert info.value.field == "description"
    assert fake.calls["folders.update"] == 0
    updated = await client.folders.update(folder, active=False)
    assert (updated.title, updated.description, updated.active) == ("Billing", "old", False)
    renamed = await client.folders.update(folder.id, title="Plans", description="", active=True)
    assert renamed.title == "Plans" and renamed.active is True
    with pytest.raises(NotFoundError) as nf:
        await client.folders.update("no-such-folder", title="x", description="", active=True)
    assert nf.value.status_code == 404


async def test_move_answers_406_for_a_cycle_and_404_for_unknown_ids(
    fake: FakeFini, client: FiniClient
) -> None:
    parent = await client.folders.create("Parent")
    child = await client.folders.create("Child", parent_folder_id=parent.id)
    other = await client.folders.create("Other")
    moved = await client.folders.move(child, other.id)
    assert moved.parent_folder_id == other.id
    with pytest.raises(NotAcceptableError) as info:
        await client.folders.move(other, child.id)  # into its own subtree
    assert info.value.status_code == 406
    with pytest.raises(NotFoundError):
        await client.folders.move(child, "no-such-folder")
    with pytest.raises(NotFoundError):
        await client.folders.move("no-such-folder", other.id)


async def test_delete_returns_the_folder_and_refuses_non_empty_ones(
    fake: FakeFini, client: FiniClient
) -> None:
    parent = await client.folders.create("Parent")
    child = await client.folders.create("Child", parent_folder_id=parent.id)
    with pytest.raises(NotAcceptableError):
        await client.folders.delete(parent)  # still holds Child (an emulator choice)
    deleted = await client.folders.delete(child.id)
    assert isinstance(deleted, Folder) and deleted.id == child.id
    await client.folders.delete(parent)
    assert {f.id for f in await client.folders.list()} == {fake.articles.default_folder_id}
    with pytest.raises(NotFoundError):
        await client.folders.delete(parent)
    assert fake.calls["folders.delete"] == 4


async def test_link_bot_scopes_the_tree_to_the_agent(fake: FakeFini, client: FiniClient) -> None:
    billing = await client.folders.create("Billing")
    account = await client.folders.create("Account")
    assert (await client.folders.tree(bot_id="bot_default")).folders == []  # empty is normal
    await client.folders.link_bot([billing.id, account.id], "bot_default")
    assert fake.articles.junctions == {(billing.id, "bot_default"), (account.id, "bot_default")}
    scoped = await client.folders.tree(bot_id="bot_default")
    assert {n.id for n in scoped.folders} == {billing.id, account.id}
    await client.folders.link_bot(account.id, "bot_default", action="REMOVE")
    assert [n.id for n in (await client.folders.tree(bot_id="bot_default")).folders] == [billing.id]
    assert fake.last_headers  # sanity: the emulator saw the calls


async def test_link_bot_is_all_or_nothing_and_checked_first(
    fake: FakeFini, client: FiniClient
) -> None:
    billing = await client.folders.create("Billing")
    with pytest.raises(ValidationError):
        await client.folders.link_bot([], "bot_default")
    with pytest.raises(ValidationError):
        await client.folders.link_bot(billing.id, "bot_default", action="DETACH")
    assert fake.calls["folders.junctions"] == 0
    with pytest.raises(BadRequestError):
        await client.folders.link_bot([billing.id, "no-such-folder"], "bot_default")
    assert fake.articles.junctions == set()  # the valid half was not applied either
    fake.respond_next("folders.junctions", {"status": False})
    with pytest.raises(APIResponseValidationError):
        await client.folders.link_bot(billing.id, "bot_default")
