"""``sharely.knowledge``'s remaining routes against FakeSharely: ``delete(children=True)`` (and its
older name ``cascade=``), reserved fields, the list filters (``TEXT`` on the list vs ``STRING`` on
create; category and role filters), and the roles of an item (RBAC)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fini_async import (
    BadRequestError,
    ConflictError,
    NotFoundError,
    SharelyClient,
    ValidationError,
)
from fini_async.sharely import Accepted, Role, UpdatedMetadata
from fini_async.testing import FakeSharely

# -- delete ------------------------------------------------------------------------------------


async def test_delete_children_returns_the_workflow_of_the_cascade(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    site = sfake.add_knowledge("URL", title="site", url="https://example.com")
    page = sfake.add_knowledge("URL", title="page", url="https://example.com/a", parent_id=site.id)
    sfake.add_knowledge("URL", title="sub", url="https://example.com/a/b", parent_id=page.id)

    with pytest.raises(ConflictError) as refused:  # a parent cannot go alone
        await sharely.knowledge.delete(site.id)
    assert refused.value.status_code == 409 and site.id in sfake.items

    deleted = await sharely.knowledge.delete(site.id, children=True)
    assert deleted.workflow_id and deleted.workflow_id == deleted.job_id
    assert deleted.knowledge_id == site.id
    job = await sharely.knowledge.wait(deleted.workflow_id, timeout=10)
    assert job.status == "COMPLETED"
    assert sfake.items == {}


async def test_cascade_is_kept_as_the_older_name_of_children(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    parent = sfake.add_knowledge("URL", title="p", url="https://example.com")
    sfake.add_knowledge("URL", title="c", url="https://example.com/c", parent_id=parent.id)
    deleted = await sharely.knowledge.delete(parent.id, cascade=True)
    assert deleted.workflow_id
    await sharely.knowledge.wait(deleted.workflow_id, timeout=10)
    assert sfake.items == {}

    leaf = sfake.add_knowledge(title="leaf")
    plain = await sharely.knowledge.delete(leaf.id, cascade=False, children=False)
    assert plain.success is True and plain.workflow_id is None and leaf.id not in sfake.items


async def test_delete_checks_its_flags_before_sending(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    with pytest.raises(ValidationError) as disagree:
        await sharely.knowledge.delete("k", children=True, cascade=False)
    assert disagree.value.field == "cascade"
    with pytest.raises(ValidationError) as bad:
        await sharely.knowledge.delete("k", children="yes")  # type: ignore[arg-type]
    assert bad.value.field == "children"
    with pytest.raises(NotFoundError):
        await sharely.knowledge.delete("missing", children=True)
    assert sfake.calls["sharely.knowledge.delete"] == 1


# -- reserved fields -------------------------------------------------------------------------


async def test_update_reserved_fields_sets_title_and_language(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    created = await sharely.knowledge.create_text("Refunds take 30 days.", title="old")
    result = await sharely.knowledge.update_reserved_fields(
        created.id, title="Refund policy", language="es", type="STRING"
    )
    assert result == UpdatedMetadata(knowledge_id=created.id)
    got = await sharely.knowledge.get(created.id)
    assert (got.title, got.language) == ("Refund policy", "es")


async def test_update_reserved_fields_learns_the_type_and_maps_text_to_string(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    # the get route calls a text item TEXT; the update routes only know STRING
    item = sfake.add_knowledge("STRING", title="t", content="c")
    assert (await sharely.knowledge.get(item.id)).type == "TEXT"
    await sharely.knowledge.update_reserved_fields(item.id, title="new")
    assert sfake.items[item.id].title == "new"
    await sharely.knowledge.update_reserved_fields(item.id, title="newer", type="TEXT")
    assert sfake.items[item.id].title == "newer"
    # update_metadata reads the type the same way
    await sharely.knowledge.update_metadata(item.id, {"team": "support"})
    assert sfake.items[item.id].metadata == {"team": "support"}


async def test_update_reserved_fields_errors(sfake: FakeSharely, sharely: SharelyClient) -> None:
    link = sfake.add_knowledge("LINK", title="l", url="https://example.com")
    with pytest.raises(BadRequestError):  # not the item's type: the server refuses
        await sharely.knowledge.update_reserved_fields(link.id, title="x", type="FILE")
    with pytest.raises(NotFoundError):
        await sharely.knowledge.update_reserved_fields("missing", title="x", type="URL")
    site = sfake.add_knowledge("WEBSITE", title="w", url="https://example.com")
    sent = sfake.calls["sharely.knowledge.reserved"]
    with pytest.raises(ValidationError) as website:  # not an updatable type
        await sharely.knowledge.update_reserved_fields(site.id, title="x")
    assert website.value.field == "type"
    for kwargs, field in (
        ({"title": ""}, "title"),
        ({"title": "x", "language": ""}, "language"),
        ({"title": "x", "language": 3}, "language"),
        ({"title": "x", "type": "WEBSITE"}, "type"),
        ({"title": 5}, "title"),
    ):
        with pytest.raises(ValidationError) as bad:
            await sharely.knowledge.update_reserved_fields(link.id, **kwargs)
        assert bad.value.field == field
    assert sfake.calls["sharely.knowledge.reserved"] == sent


# -- list filters ------------------------------------------------------------------------------


async def test_list_sends_string_as_text_the_name_the_list_route_uses(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    text = sfake.add_knowledge("STRING", title="text", content="hello")
    sfake.add_knowledge("LINK", title="link", url="https://example.com")
    for name in ("STRING", "string", "TEXT", "text"):
        page = await sharely.knowledge.list(type=name)
        assert [(k.id, k.type) for k in page.items] == [(text.id, "TEXT")]
    with pytest.raises(BadRequestError):  # the list route knows FILE, LINK and TEXT
        await sharely.knowledge.list(type="WEBSITE")


async def test_list_filters_by_category_role_and_language(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    d = sfake.directory
    d.rbac_status = "ACTIVE"
    billing = d.add_category("Billing")
    agents = d.add_role("Agents")
    a = sfake.add_knowledge(title="a", language="en")
    b = sfake.add_knowledge(title="b", language="es")
    sfake.add_knowledge(title="c", language="en")
    d.categorise(a.id, billing["id"])
    d.categorise(b.id, billing["id"])
    done = await sharely.knowledge.assign_roles(b.id, [agents["id"]])
    assert done.job_id
    await sharely.knowledge.wait(done.job_id, timeout=10)

    in_billing = await sharely.knowledge.list(category_id=billing["id"]).to_list()
    assert [k.id for k in in_billing] == [a.id, b.id]
    for_agents = await sharely.knowledge.list(role_id=agents["id"]).to_list()
    assert [k.id for k in for_agents] == [b.id]
    both = await sharely.knowledge.list(category_id=billing["id"], language="en").to_list()
    assert [k.id for k in both] == [a.id]
    with pytest.raises(ValidationError):
        sharely.knowledge.list(limit=1001)


# -- roles of an item ---------------------------------------------------------------------------


async def test_assign_roles_shows_in_get_and_list_roles_after_the_job(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    await sharely.workspace.set_rbac_status(True)
    agents = await sharely.roles.create("Agents", customer_role_id="agents")
    admins = await sharely.roles.create("Admins")
    assert agents.role is not None and admins.role is not None
    item = await sharely.knowledge.create_text("Escalate refunds over $500.", title="Escalation")

    assigned = await sharely.knowledge.assign_roles(item.id, [agents.role.id, admins.role.id])
    assert isinstance(assigned, Accepted) and assigned.success is True and assigned.job_id
    await sharely.knowledge.wait(assigned.job_id, timeout=10)

    roles = await sharely.knowledge.list_roles(item.id)
    assert all(isinstance(r, Role) for r in roles)
    assert [r.name for r in roles] == ["Agents", "Admins"]
    assert roles[0].metadata == {"uniqueCustomerRoleId": f"{sfake.workspace_id}.agents"}
    got = await sharely.knowledge.get(item.id)
    assert [r.id for r in got.roles] == [agents.role.id, admins.role.id]

    removed = await sharely.knowledge.unassign_roles(item.id, [admins.role.id])
    assert removed.job_id
    await sharely.knowledge.wait(removed.job_id, timeout=10)
    assert [r.name for r in await sharely.knowledge.list_roles(item.id)] == ["Agents"]

    # deleting a role unassigns it everywhere
    await sharely.roles.delete(agents.role.id)
    assert await sharely.knowledge.list_roles(item.id) == []
    assert (await sharely.knowledge.get(item.id)).roles == []


async def test_knowledge_roles_errors(sfake: FakeSharely, sharely: SharelyClient) -> None:
    item = sfake.add_knowledge(title="t", content="c")
    role = sfake.directory.add_role("Agents")
    with pytest.raises(BadRequestError) as off:  # RBAC must be on
        await sharely.knowledge.assign_roles(item.id, [role["id"]])
    assert "RBAC" in off.value.message
    sfake.directory.rbac_status = "ACTIVE"
    with pytest.raises(NotFoundError):
        await sharely.knowledge.assign_roles(item.id, ["no-such-role"])
    with pytest.raises(NotFoundError):
        await sharely.knowledge.unassign_roles("missing", [role["id"]])
    with pytest.raises(NotFoundError):
        await sharely.knowledge.list_roles("missing")

    calls = dict(sfake.calls)
    bad: list[tuple[Callable[[], Awaitable[Any]], str]] = [
        (lambda: sharely.knowledge.assign_roles(item.id, []), "role_ids"),
        (lambda: sharely.knowledge.assign_roles(item.id, "r1"), "role_ids"),
        (lambda: sharely.knowledge.unassign_roles(item.id, [""]), "role_ids"),
        (lambda: sharely.knowledge.list_roles(""), "knowledge_id"),
    ]
    for call, field in bad:
        with pytest.raises(ValidationError) as refused:
            await call()
        assert refused.value.field == field
    assert dict(sfake.calls) == calls


async def test_role_assignment_is_retried_as_a_set_change(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    sfake.directory.rbac_status = "ACTIVE"
    item = sfake.add_knowledge(title="t")
    role = sfake.directory.add_role("Agents")
    sfake.drop_next("sharely.knowledge.assign")
    done = await sharely.knowledge.assign_roles(item.id, [role["id"]])
    assert sfake.calls["sharely.knowledge.assign"] == 2
    assert done.job_id
    await sharely.knowledge.wait(done.job_id, timeout=10)
    assert sfake.directory.item_roles[item.id] == [role["id"]]


@pytest.mark.parametrize("body", [True, {"success": True}, b"", {"workflowId": "wf-1"}])
async def test_role_changes_accept_every_success_shape(
    sfake: FakeSharely, sharely: SharelyClient, body: Any
) -> None:
    sfake.directory.rbac_status = "ACTIVE"
    item = sfake.add_knowledge(title="t")
    role = sfake.directory.add_role("Agents")
    sfake.respond_next("sharely.knowledge.assign", body)
    result = await sharely.knowledge.assign_roles(item.id, [role["id"]])
    assert result.success is True
    assert result.job_id == (body.get("workflowId") if isinstance(body, dict) else None)
