"""``sharely.workspace``, ``sharely.roles``, ``sharely.categories`` and ``sharely.taxonomies``
against FakeSharely: happy paths, the documented error statuses, the envelopes each route may
answer in, client-side checks (nothing sent) and which calls are retried."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fini_async import (
    APIConnectionError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    SharelyClient,
    ValidationError,
)
from fini_async.sharely import Category, CreatedRole, Role, Taxonomy, Workspace
from fini_async.testing import FakeSharely


async def _refused(
    sfake: FakeSharely, calls: list[tuple[Callable[[], Awaitable[Any]], str]]
) -> None:
    """Each call raises ValidationError on its field, and nothing reaches the server."""
    before = dict(sfake.calls)
    for call, field in calls:
        with pytest.raises(ValidationError) as refused:
            await call()
        assert refused.value.field == field, field
    assert dict(sfake.calls) == before


# -- workspace ---------------------------------------------------------------------------------


async def test_workspace_get_and_rbac_status(sfake: FakeSharely, sharely: SharelyClient) -> None:
    ws = await sharely.workspace.get()
    assert isinstance(ws, Workspace)
    assert (ws.id, ws.organization_id, ws.rbac_status, ws.rbac_active) == (
        sfake.workspace_id,
        sfake.organization_id,
        "INACTIVE",
        False,
    )
    assert ws.settings is not None and ws.settings.default_language == "en"

    on = await sharely.workspace.set_rbac_status("active")
    assert (on.id, on.rbac_status, on.rbac_active) == (sfake.workspace_id, "ACTIVE", True)
    off = await sharely.workspace.set_rbac_status(False)
    assert off.rbac_active is False and sfake.directory.rbac_status == "INACTIVE"

    # the Roles page documents the answer as {"rbacEnabled": true}: understood too
    sfake.directory.rbac_answer = "enabled"
    enabled = await sharely.workspace.set_rbac_status(True)
    assert (enabled.rbac_status, enabled.rbac_enabled, enabled.rbac_active) == (None, True, True)
    assert (await sharely.workspace.get()).rbac_status == "ACTIVE"

    await _refused(
        sfake,
        [
            (lambda: sharely.workspace.set_rbac_status("on"), "status"),
            (lambda: sharely.workspace.set_rbac_status(1), "status"),  # type: ignore[arg-type]
        ],
    )


async def test_workspace_errors(sfake: FakeSharely) -> None:
    async with sfake.client(workspace_id="another-workspace") as other:
        with pytest.raises(PermissionDeniedError) as denied:
            await other.workspace.get()
    assert denied.value.status_code == 403
    sfake.fail_next("sharely.workspace.get", 1, 404)
    async with sfake.client() as sharely:
        with pytest.raises(NotFoundError):
            await sharely.workspace.get()
        sfake.revoke_tokens()
        sfake.fail_next("sharely.token", 1, 401)
        with pytest.raises(AuthenticationError):
            await sharely.workspace.get()


async def test_workspace_background_jobs_is_the_jobs_route(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    job = sfake.add_job("ROLE_ASSIGNMENT", delay=0)
    jobs = await sharely.workspace.background_jobs([job.id])
    assert [(j.id, j.status) for j in jobs] == [(job.id, "COMPLETED")]
    assert sfake.calls["sharely.background_jobs"] == 1


# -- roles -------------------------------------------------------------------------------------


async def test_roles_create_list_get_update_delete(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    created = await sharely.roles.create(
        "Support agents", description="Tier 1", customer_role_id="acme/support agents"
    )
    assert isinstance(created, CreatedRole) and created.role is not None
    assert created.job_id and created.job_id.startswith("role_creation-")
    assert (await sharely.knowledge.wait(created.job_id, timeout=10)).status == "COMPLETED"
    role = created.role
    assert (role.name, role.description, role.customer_role_id) == (
        "Support agents",
        "Tier 1",
        "acme/support agents",
    )

    listed = await sharely.roles.list()
    assert [r.id for r in listed] == [role.id] and isinstance(listed[0], Role)
    assert await sharely.roles.get(role.id) == listed[0]
    # the customer role id goes percent-encoded: its "/" and space stay in one path segment
    assert (await sharely.roles.get_by_customer_role_id("acme/support agents")).id == role.id

    updated = await sharely.roles.update(role.id, name="Agents", description="")
    assert (updated.name, updated.description, updated.customer_role_id) == (
        "Agents",
        "",
        "acme/support agents",
    )
    deleted = await sharely.roles.delete(role.id)
    assert deleted.success is True and deleted.job_id
    assert await sharely.roles.list() == []
    with pytest.raises(NotFoundError):
        await sharely.roles.get(role.id)


async def test_roles_errors(sfake: FakeSharely, sharely: SharelyClient) -> None:
    first = await sharely.roles.create("A", customer_role_id="a")
    second = await sharely.roles.create("B", customer_role_id="b")
    assert first.role is not None and second.role is not None
    with pytest.raises(ConflictError):  # customer role ids are unique in the workspace
        await sharely.roles.create("C", customer_role_id="a")
    with pytest.raises(ConflictError):
        await sharely.roles.update(second.role.id, customer_role_id="a")
    for call in (
        lambda: sharely.roles.get("missing"),
        lambda: sharely.roles.get_by_customer_role_id("nobody"),
        lambda: sharely.roles.update("missing", name="x"),
        lambda: sharely.roles.delete("missing"),
    ):
        with pytest.raises(NotFoundError):
            await call()
    await _refused(
        sfake,
        [
            (lambda: sharely.roles.create(""), "name"),
            (lambda: sharely.roles.create("x" * 256), "name"),
            (lambda: sharely.roles.create("ok", description="d" * 1001), "description"),
            (lambda: sharely.roles.create("ok", customer_role_id="c" * 256), "customer_role_id"),
            (lambda: sharely.roles.update("r"), "name"),
            (lambda: sharely.roles.get(""), "role_id"),
            (lambda: sharely.roles.get_by_customer_role_id(" "), "customer_role_id"),
        ],
    )


async def test_role_create_is_not_retried_once_sent_but_reads_are(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    sfake.drop_next("sharely.roles.create")
    with pytest.raises(APIConnectionError):
        await sharely.roles.create("Agents")
    assert sfake.calls["sharely.roles.create"] == 1
    sfake.fail_next("sharely.roles.create", 1, 503, retry_after=0)  # surely not processed
    await sharely.roles.create("Agents")
    assert sfake.calls["sharely.roles.create"] == 3

    sfake.drop_next("sharely.roles.list")
    assert len(await sharely.roles.list()) == 1  # a read is retried after a dropped connection
    assert sfake.calls["sharely.roles.list"] == 2


@pytest.mark.parametrize(
    "body",
    [
        [{"id": "r1", "name": "A"}],
        {"roles": [{"id": "r1", "name": "A"}], "total": 1},
        {"data": [{"id": "r1", "name": "A"}]},
        {"data": {"roles": [{"id": "r1", "name": "A", "unknownKey": {"x": 1}}]}},
    ],
)
async def test_roles_list_accepts_bare_and_wrapped_lists(
    sfake: FakeSharely, sharely: SharelyClient, body: Any
) -> None:
    sfake.respond_next("sharely.roles.list", body)
    assert [(r.id, r.name) for r in await sharely.roles.list()] == [("r1", "A")]


async def test_role_get_accepts_a_wrapped_role(sfake: FakeSharely, sharely: SharelyClient) -> None:
    sfake.respond_next("sharely.roles.get", {"role": {"id": "r9", "name": "Wrapped"}})
    assert (await sharely.roles.get("r9")).name == "Wrapped"


# -- categories --------------------------------------------------------------------------------


async def test_categories_create_list_and_their_knowledge(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    parent = await sharely.categories.create("Billing", description="Money", metadata={"n": 1})
    assert isinstance(parent, Category)
    assert (parent.name, parent.description, parent.parent_id, parent.metadata) == (
        "Billing",
        "Money",
        None,
        {"n": 1},
    )
    assert parent.workspace_id == sfake.workspace_id
    child = await sharely.categories.create("Refunds", parent_id=parent.id)
    assert child.parent_id == parent.id

    text = await sharely.knowledge.create_text("Refunds take 30 days.", title="Refunds")
    sfake.directory.categorise(text.id, child.id)

    listed = {c.name: c for c in await sharely.categories.list()}
    assert (listed["Billing"].knowledge_count, listed["Refunds"].knowledge_count) == (0, 1)

    items = await sharely.categories.knowledge(child.id)
    assert [(k.id, k.type, k.category_id, k.content) for k in items] == [
        (text.id, "STRING", child.id, "Refunds take 30 days.")  # STRING on this route
    ]
    got = await sharely.knowledge.get(text.id)
    assert [(c.id, c.name) for c in got.categories] == [(child.id, "Refunds")]
    assert await sharely.categories.knowledge(parent.id) == []


async def test_categories_errors(sfake: FakeSharely, sharely: SharelyClient) -> None:
    await sharely.categories.create("Billing")
    with pytest.raises(ConflictError):
        await sharely.categories.create("Billing")
    with pytest.raises(NotFoundError):  # a parent that does not exist
        await sharely.categories.create("X", parent_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFoundError):
        await sharely.categories.knowledge("missing")
    sfake.fail_next("sharely.categories.create", 1, 400)
    with pytest.raises(BadRequestError):
        await sharely.categories.create("Y")
    await _refused(
        sfake,
        [
            (lambda: sharely.categories.create(" "), "name"),
            (lambda: sharely.categories.create("x", parent_id="not-a-uuid"), "parent_id"),
            (lambda: sharely.categories.create("x", metadata=[1]), "metadata"),  # type: ignore[arg-type]
            (lambda: sharely.categories.create("x", description=1), "description"),  # type: ignore[arg-type]
            (lambda: sharely.categories.knowledge(""), "category_id"),
        ],
    )


async def test_category_create_is_not_retried_once_sent(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    sfake.drop_next("sharely.categories.create")
    with pytest.raises(APIConnectionError):
        await sharely.categories.create("Billing")
    assert sfake.calls["sharely.categories.create"] == 1


# -- taxonomies --------------------------------------------------------------------------------


async def test_taxonomies_create_and_list_with_includes(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    created = await sharely.taxonomies.create("Products", description="What we sell")
    assert isinstance(created, Taxonomy)
    assert (created.name, created.published, created.workspace_id) == (
        "Products",
        False,
        sfake.workspace_id,
    )
    other = await sharely.taxonomies.create("Policies")
    role = sfake.directory.add_role("Agents")
    stored = sfake.directory.taxonomies[created.id]
    stored["roleIds"].append(role["id"])
    stored["languageIds"].append("es")
    stored["categoryIds"].extend(["c1", "c2"])

    plain = await sharely.taxonomies.list()
    assert [t.id for t in plain] == [created.id, other.id]
    assert (plain[0].roles, plain[0].languages, plain[0].category_count) == ([], [], None)

    full = await sharely.taxonomies.list(
        role_id=role["id"], include_roles=True, include_languages=True, include_categories=True
    )
    assert [t.id for t in full] == [created.id]
    assert [r.name for r in full[0].roles] == ["Agents"]
    assert [lang.language_id for lang in full[0].languages] == ["es"]
    assert full[0].category_count == 2
    assert [t.id for t in await sharely.taxonomies.list(language_id="es")] == [created.id]
    assert await sharely.taxonomies.list(language_id="pt") == []


async def test_taxonomies_errors(sfake: FakeSharely, sharely: SharelyClient) -> None:
    sfake.fail_next("sharely.taxonomies.create", 1, 400)
    with pytest.raises(BadRequestError):
        await sharely.taxonomies.create("X")
    sfake.drop_next("sharely.taxonomies.create")
    with pytest.raises(APIConnectionError):
        await sharely.taxonomies.create("X")
    assert sfake.calls["sharely.taxonomies.create"] == 2
    await _refused(
        sfake,
        [
            (lambda: sharely.taxonomies.create(""), "name"),
            (lambda: sharely.taxonomies.create("x", description=2), "description"),  # type: ignore[arg-type]
            (lambda: sharely.taxonomies.list(role_id=""), "role_id"),
            (lambda: sharely.taxonomies.list(include_roles=1), "include_roles"),  # type: ignore[arg-type]
        ],
    )


@pytest.mark.parametrize(
    "body", [[{"id": "t1", "name": "A"}], {"taxonomies": [{"id": "t1", "name": "A"}]}]
)
async def test_taxonomies_list_accepts_bare_and_wrapped(
    sfake: FakeSharely, sharely: SharelyClient, body: Any
) -> None:
    sfake.respond_next("sharely.taxonomies.list", body)
    assert [t.id for t in await sharely.taxonomies.list()] == ["t1"]
