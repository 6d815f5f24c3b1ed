"""``sharely.knowledge.search`` / ``search_title`` and ``sharely.spaces`` against FakeSharely: real
text matching over created items, the no-``/v1`` routes and their extra ``x-api-key``, role
filtering, limits, user spaces (idempotent activation, the token kept out of reprs) and RAG."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fini_async import (
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    SharelyClient,
    ValidationError,
)
from fini_async.sharely import RagAnswer, RagChunk, SearchResult, Space, UserSpace
from fini_async.testing import FakeSharely

USER = "5f0c6a0e-9d1b-4a47-8b7e-3c2d1e0f9a8b"


async def _refused(
    sfake: FakeSharely, calls: list[tuple[Callable[[], Awaitable[Any]], str]]
) -> None:
    before = dict(sfake.calls)
    for call, field in calls:
        with pytest.raises(ValidationError) as refused:
            await call()
        assert refused.value.field == field, field
    assert dict(sfake.calls) == before


async def _corpus(sharely: SharelyClient) -> dict[str, str]:
    texts = {
        "refunds": ("Refund policy", "Refunds are paid within 30 days of the return."),
        "shipping": ("Shipping times", "Orders ship within 2 days; express in 1 day."),
        "returns": ("Returns", "Return an item within 30 days for a refund or an exchange."),
    }
    out = {}
    for key, (title, content) in texts.items():
        out[key] = (await sharely.knowledge.create_text(content, title=title)).id
    return out


async def test_search_matches_the_text_of_created_items_best_first(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    ids = await _corpus(sharely)
    hits = await sharely.knowledge.search("refund within 30 days")
    assert all(isinstance(h, SearchResult) for h in hits)
    assert [h.id for h in hits] == [ids["refunds"], ids["returns"], ids["shipping"]]
    assert hits[0].score is not None and hits[0].score >= hits[-1].score  # type: ignore[operator]
    assert (hits[0].title, hits[0].type) == ("Refund policy", "STRING")
    assert hits[0].content == "Refunds are paid within 30 days of the return."
    assert await sharely.knowledge.search("warranty") == []
    assert [h.id for h in await sharely.knowledge.search("days", limit=1)] == [ids["refunds"]]

    # the route has no /v1 and wants the API key besides the token
    sent = sfake.last_headers["sharely.search"]
    assert sent["x-api-key"] == sfake.api_key
    assert (
        sent["Authorization"].startswith("Bearer ") and sfake.api_key not in sent["Authorization"]
    )


async def test_search_title_is_a_partial_match(sfake: FakeSharely, sharely: SharelyClient) -> None:
    ids = await _corpus(sharely)
    hits = await sharely.knowledge.search_title("ship")
    assert [h.id for h in hits] == [ids["shipping"]]
    assert [h.id for h in await sharely.knowledge.search_title("RE")] == [
        ids["refunds"],
        ids["returns"],
    ]
    assert sfake.last_headers["sharely.search_title"]["x-api-key"] == sfake.api_key


async def test_search_by_roles_sees_only_their_items(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    ids = await _corpus(sharely)
    await sharely.workspace.set_rbac_status(True)
    created = await sharely.roles.create("Agents")
    assert created.role is not None
    assigned = await sharely.knowledge.assign_roles(ids["returns"], [created.role.id])
    assert assigned.job_id
    await sharely.knowledge.wait(assigned.job_id, timeout=10)
    hits = await sharely.knowledge.search("refund within 30 days", role_ids=[created.role.id])
    assert [h.id for h in hits] == [ids["returns"]]
    audience = await sharely.knowledge.search("refund", audience_id=USER)
    assert {h.id for h in audience} == {ids["refunds"], ids["returns"]}


async def test_search_errors(sfake: FakeSharely, sharely: SharelyClient) -> None:
    await _refused(
        sfake,
        [
            (lambda: sharely.knowledge.search(""), "query"),
            (lambda: sharely.knowledge.search("q", limit=0), "limit"),
            (lambda: sharely.knowledge.search("q", limit=51), "limit"),
            (lambda: sharely.knowledge.search("q", audience_id="x"), "audience_id"),
            (lambda: sharely.knowledge.search("q", role_ids="r"), "role_ids"),
            (lambda: sharely.knowledge.search_title(" "), "title"),
        ],
    )
    # without the x-api-key header the server answers 401 (the header is what the SDK adds)
    with pytest.raises(AuthenticationError):
        await sharely.knowledge.search("q", extra_headers={"x-api-key": "sk-sharely-wrong"})
    sfake.fail_next("sharely.search", 1, 400)
    with pytest.raises(BadRequestError):
        await sharely.knowledge.search("q")


@pytest.mark.parametrize(
    "body", [{"results": [{"id": "k1", "title": "T", "extra": 1}]}, [{"id": "k1", "title": "T"}]]
)
async def test_search_accepts_wrapped_and_bare_results(
    sfake: FakeSharely, sharely: SharelyClient, body: Any
) -> None:
    sfake.respond_next("sharely.search", body)
    assert [(h.id, h.title) for h in await sharely.knowledge.search("q")] == [("k1", "T")]


async def test_search_is_retried_like_a_read(sfake: FakeSharely, sharely: SharelyClient) -> None:
    sfake.drop_next("sharely.search")
    assert await sharely.knowledge.search("anything") == []
    assert sfake.calls["sharely.search"] == 2


# -- spaces ------------------------------------------------------------------------------------


async def test_activate_is_idempotent_and_hides_the_token(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    first = await sharely.spaces.activate(customer_id_string="customer-42")
    assert isinstance(first, UserSpace) and first.is_new is True and first.token
    again = await sharely.spaces.activate(customer_id_string="customer-42")
    assert (again.space_id, again.is_new) == (first.space_id, False)
    assert first.token not in repr(first) and "hidden" in repr(first)
    assert first.workspace_id == sfake.workspace_id

    by_user = await sharely.spaces.activate(user_id=USER, customer_role_id="agents")
    assert (by_user.user_id, by_user.is_new) == (USER, True)
    space = await sharely.spaces.get(by_user.space_id)
    assert isinstance(space, Space) and (space.id, space.user_id) == (by_user.space_id, USER)

    # a dropped connection is retried: activation is idempotent
    sfake.drop_next("sharely.spaces.activate")
    third = await sharely.spaces.activate(user_id=USER)
    assert (third.space_id, third.is_new) == (by_user.space_id, False)
    assert sfake.calls["sharely.spaces.activate"] == 5


async def test_spaces_errors(sfake: FakeSharely, sharely: SharelyClient) -> None:
    with pytest.raises(NotFoundError):
        await sharely.spaces.get("missing")
    with pytest.raises(NotFoundError):
        await sharely.spaces.rag("missing", "question")
    sfake.fail_next("sharely.spaces.activate", 1, 400)
    with pytest.raises(BadRequestError):
        await sharely.spaces.activate(user_id=USER)
    await _refused(
        sfake,
        [
            (lambda: sharely.spaces.activate(), "user_id"),
            (lambda: sharely.spaces.activate(user_id=USER, customer_id_string="c"), "user_id"),
            (lambda: sharely.spaces.activate(user_id="not-a-uuid"), "user_id"),
            (lambda: sharely.spaces.activate(customer_id_string=""), "customer_id_string"),
            (
                lambda: sharely.spaces.activate(user_id=USER, role_id=USER, customer_role_id="r"),
                "customer_role_id",
            ),
            (lambda: sharely.spaces.activate(user_id=USER, role_id="x"), "role_id"),
            (lambda: sharely.spaces.get(""), "space_id"),
            (lambda: sharely.spaces.rag("s", ""), "text"),
            (lambda: sharely.spaces.rag("s", "q", top_k=11), "top_k"),
            (lambda: sharely.spaces.rag("s", "q", top_k=0), "top_k"),
            (lambda: sharely.spaces.rag("s", "q", language_id=5), "language_id"),  # type: ignore[arg-type]
        ],
    )


async def test_rag_returns_passages_with_their_sources(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    ids = await _corpus(sharely)
    link = await sharely.knowledge.create_url("https://example.com/refunds", title="refund faq")
    space = await sharely.spaces.activate(customer_id_string="c-1")
    answer = await sharely.spaces.rag(space.space_id, "refund", top_k=3, language_id="en")
    assert isinstance(answer, RagAnswer) and answer.space_knowledge_results == []
    sources = {c.source: c for c in answer.knowledge_results}
    assert "https://example.com/refunds" in sources
    file_like = [c for c in answer.knowledge_results if c.knowledge_id]
    assert {c.knowledge_id for c in file_like} == {ids["refunds"], ids["returns"]}
    assert sources["https://example.com/refunds"].knowledge_id is None
    assert link.id not in {c.knowledge_id for c in answer.knowledge_results}
    top = await sharely.spaces.rag(space.space_id, "refund", top_k=1)
    assert len(top.knowledge_results) == 1


def test_rag_chunk_source_parsing() -> None:
    assert RagChunk(text="t", source="3:Guide: part 1:k-9").knowledge_id == "k-9"
    assert RagChunk(text="t", source="https://a.example/x:y:z").knowledge_id is None
    assert RagChunk(text="t", source=None).knowledge_id is None
