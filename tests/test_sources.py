"""client.sources: list (inverted direction, last-id cursor), get, add, crawl, refresh, delete,
provider discovery and import, and waiting for refreshes, over real HTTP against the emulator."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from fini_async import (
    AddedSources,
    APIConnectionError,
    BadRequestError,
    DeletedSources,
    FiniClient,
    InternalServerError,
    JobFailedError,
    NotFoundError,
    PermissionDeniedError,
    ProviderResource,
    SourceDocument,
    SourcePage,
    ValidationError,
)
from fini_async.testing import READ_KEY, FakeFini, assert_pool_idle
from fini_async.testing._fini_sources import FakeSource, FakeSources

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)


@pytest.fixture
def src(fake: FakeFini, client: FiniClient) -> FakeSources:
    client.sources.configure_polling(interval_initial=0.02, interval_max=0.05)
    fake.sources.pending_for = 0.02
    fake.sources.run_for = 0.03
    fake.knowledge.pending_for = 0.02
    fake.knowledge.run_for = 0.03
    return fake.sources


def seed(src: FakeSources, n: int, **kw: object) -> list[FakeSource]:
    """``n`` sources, the first the oldest (one minute apart)."""
    return [
        src.add_source(
            f"https://docs.example.com/page-{i}",
            text=f"Page {i} text.",
            updated_at=T0 + timedelta(minutes=i),
            **kw,  # type: ignore[arg-type]
        )
        for i in range(n)
    ]


# -- list ----------------------------------------------------------------------------------------


async def test_list_pages_newest_first_with_the_last_id_as_cursor(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 5)
    newest_first = [d.id for d in reversed(docs)]
    page = await client.sources.list(page_size=2)
    assert isinstance(page, SourcePage)
    assert [d.id for d in page] == newest_first[:2]
    assert page.has_more and page.next_cursor == newest_first[1]  # no nextCursor: the last id
    second = await page.get_next_page()
    assert second is not None and [d.id for d in second] == newest_first[2:4]
    assert [d.id async for d in client.sources.list(page_size=2)] == newest_first
    assert fake.calls["sources.list"] == 2 + 3
    assert fake.last_headers["sources.list"]  # the walk's requests reached the route
    listed = await client.sources.list(page_size=10)
    assert not listed.has_more and listed.next_cursor is None
    first = listed.items[0]
    assert isinstance(first, SourceDocument)
    assert first.text == "Page 4 text." and first.success and first.source == "web"
    assert first.updated == T0 + timedelta(minutes=4)
    assert_pool_idle(client)


async def test_list_direction_is_inverted_on_the_wire(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 5)
    middle = docs[2].id
    older = await client.sources.list(cursor=middle, direction="older")
    assert [d.id for d in older] == [docs[1].id, docs[0].id]
    same = await client.sources.list(cursor=middle, direction="next")  # the API's name
    assert [d.id for d in same] == [docs[1].id, docs[0].id]
    newer = await client.sources.list(cursor=middle, direction="newer", page_size=1)
    assert [d.id for d in newer] == [docs[3].id]
    following = await newer.get_next_page()  # newer pages continue before the first id
    assert following is not None and [d.id for d in following] == [docs[4].id]
    assert not following.has_more


async def test_list_filters(fake: FakeFini, client: FiniClient, src: FakeSources) -> None:
    web = seed(src, 3)
    notion = src.add_source(
        "https://notion.so/handbook", title="Team Handbook", source="notion", external_id="n-1"
    )
    flagged = src.add_source("https://docs.example.com/changed", changed=True, english=True)
    assert [d.id async for d in client.sources.list(source="notion")] == [notion.id]
    assert [d.id async for d in client.sources.list(title="handbook")] == [notion.id]
    assert [d.id async for d in client.sources.list(url="PAGE-1")] == [web[1].id]
    assert [d.id async for d in client.sources.list(changed=True)] == [flagged.id]
    assert [d.id async for d in client.sources.list(english=True)] == [flagged.id]
    assert [d.id async for d in client.sources.list(id=web[0].id)] == [web[0].id]
    assert [d.id async for d in client.sources.list(extra_params={"source": "notion"})] == [
        notion.id
    ]


async def test_list_refuses_bad_arguments_before_sending(
    fake: FakeFini, client: FiniClient
) -> None:
    for kwargs in (
        {"page_size": 0},
        {"page_size": True},
        {"direction": "sideways"},
        {"id": "not-a-uuid"},
        {"cursor": "nope"},
        {"changed": "yes"},
        {"source": ""},
    ):
        with pytest.raises(ValidationError):
            client.sources.list(**kwargs)  # type: ignore[arg-type]
    assert fake.calls["sources.list"] == 0


async def test_list_bad_query_is_a_bad_request(fake: FakeFini, client: FiniClient) -> None:
    with pytest.raises(BadRequestError):
        await client.sources.list(cursor=str(uuid.uuid4()))  # unknown cursor: 400


async def test_breaking_out_of_the_walk_leaves_nothing_open(
    client: FiniClient, src: FakeSources
) -> None:
    seed(src, 6)
    async for _ in client.sources.list(page_size=2):
        break
    assert_pool_idle(client)


# -- get -----------------------------------------------------------------------------------------


async def test_get_one_and_its_errors(fake: FakeFini, client: FiniClient, src: FakeSources) -> None:
    (doc,) = seed(src, 1)
    got = await client.sources.get(doc.id)
    assert got.id == doc.id and got.original_url == doc.original_url
    assert got.paragraphs == ["Page 0 text."] and got.linked_job_status is None
    with pytest.raises(NotFoundError):
        await client.sources.get(str(uuid.uuid4()))
    src.foreign.add(doc.id)
    with pytest.raises(PermissionDeniedError):  # another workspace's source: 403
        await client.sources.get(doc.id)
    calls = fake.calls["sources.get"]
    for bad in ("", "abc", "../refresh", 42):
        with pytest.raises(ValidationError):
            await client.sources.get(bad)  # type: ignore[arg-type]
    assert fake.calls["sources.get"] == calls


# -- add, crawl and wait -------------------------------------------------------------------------


async def test_add_urls_then_wait_for_the_ingestion(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    src.pages["https://shop.example.com/returns"] = "Returns are free within 30 days."
    src.pending_for = 3600  # queued until the test lets it run
    added = await client.sources.add_urls(
        ["https://shop.example.com/returns", "https://shop.example.com/returns"], english=True
    )
    assert isinstance(added, AddedSources)
    assert len(added.added_document_ids) == 1 and added.updated_document_ids == []
    assert src.last_bodies["sources.add"] == {
        "source": "web",
        "documentIdsToAdd": ["https://shop.example.com/returns"],
        "english": True,
    }
    (doc_id,) = added.ids
    queued = await client.sources.get(doc_id)
    assert queued.linked_job_status == "PENDING" and not queued.paragraphs
    src.documents[doc_id].fetch_pending_for = 0  # the fetch runs now
    (done,) = await client.sources.wait_for_refresh([doc_id], timeout=10)
    assert done.linked_job_status == "COMPLETED" and done.success and done.english
    assert done.paragraphs == ["Returns are free within 30 days."]
    again = await client.sources.add_urls("https://shop.example.com/returns")
    assert again.added_document_ids == [] and again.updated_document_ids == [doc_id]


async def test_add_checks_urls_versus_ids_before_sending(
    fake: FakeFini, client: FiniClient
) -> None:
    for args, kwargs in (
        ((["not a url"],), {}),  # web wants URLs
        ((["ftp://example.com/x"],), {}),
        ((["https://notion.so/page"],), {"source": "notion"}),  # providers want ids
        (([],), {}),  # nothing to add
        ((["https://example.com"],), {"source": "files"}),  # not an ingest type
        (("https://example.com",), {}),  # one string is not a list
        ((["https://example.com"],), {"english": "yes"}),
    ):
        with pytest.raises(ValidationError):
            await client.sources.add(*args, **kwargs)  # type: ignore[arg-type]
    assert fake.calls["sources.add"] == 0


async def test_add_by_provider_id_and_the_servers_refusal(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    doc = src.add_source("https://notion.so/a", source="notion", external_id="n-a")
    result = await client.sources.add([doc.id], source="notion")
    assert result.updated_document_ids == [doc.id]
    with pytest.raises(BadRequestError):  # an id the workspace does not have
        await client.sources.add([str(uuid.uuid4())], source="zendesk")


async def test_add_is_never_repeated_once_sent(fake: FakeFini, client: FiniClient) -> None:
    fake.drop_next("sources.add")
    with pytest.raises(APIConnectionError):
        await client.sources.add_urls(["https://example.com/a"])
    assert fake.calls["sources.add"] == 1  # the server may have queued it: not retried


async def test_write_routes_need_the_write_scope(fake: FakeFini) -> None:
    async with fake.client(READ_KEY) as reader:
        with pytest.raises(PermissionDeniedError):
            await reader.sources.add_urls(["https://example.com/a"])
        assert (await reader.sources.list()).items == []


async def test_crawl_links(fake: FakeFini, client: FiniClient, src: FakeSources) -> None:
    src.crawl_width = 300
    found = await client.sources.crawl_links("https://docs.example.com/")
    assert len(found) == 250  # the default limit, sent explicitly
    assert src.last_bodies["sources.crawl"] == {
        "links": ["https://docs.example.com/"],
        "limit": 250,
    }
    few = await client.sources.crawl_links(
        ["https://a.example.com", "https://b.example.com"], limit=3
    )
    assert few == [
        "https://a.example.com/page-1",
        "https://a.example.com/page-2",
        "https://a.example.com/page-3",
    ]
    calls = fake.calls["sources.crawl"]
    for args, kwargs in (
        (([],), {}),
        (("docs.example.com",), {}),
        (("https://docs.example.com",), {"limit": 0}),
    ):
        with pytest.raises(ValidationError):
            await client.sources.crawl_links(*args, **kwargs)  # type: ignore[arg-type]
    assert fake.calls["sources.crawl"] == calls
    fake.fail_next("sources.crawl", status=503)  # creates nothing: retried like a read
    assert len(await client.sources.crawl_links("https://x.example.com", limit=2)) == 2


# -- refresh and wait ----------------------------------------------------------------------------


async def test_refresh_wait_and_list_the_changed_ones(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    same, edited = seed(src, 2)
    src.pages[edited.original_url] = "Page 1 text, edited."
    queued = await client.sources.refresh([same.id, edited.id, same.id])
    assert queued == [same.id, edited.id]  # a top-level array; duplicates sent once
    assert src.last_bodies["sources.refresh"] == {"documentIds": [same.id, edited.id]}
    docs = await client.sources.wait_for_refresh(queued, timeout=10)
    assert [d.id for d in docs] == [same.id, edited.id]
    assert all(d.linked_job_status == "COMPLETED" for d in docs)
    assert docs[1].changed and docs[1].old_paragraphs == ["Page 1 text."]
    assert docs[1].paragraphs == ["Page 1 text, edited."]
    assert not docs[0].changed
    assert [d.id async for d in client.sources.list(changed=True)] == [edited.id]


async def test_refresh_is_all_or_nothing(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    (known,) = seed(src, 1)
    with pytest.raises(BadRequestError):
        await client.sources.refresh([known.id, str(uuid.uuid4())])
    assert (await client.sources.get(known.id)).linked_job_status is None  # nothing queued
    raw = src.add_source("https://files.example.com/a.pdf", source="files")
    with pytest.raises(BadRequestError):  # raw files cannot be refreshed
        await client.sources.refresh([raw.id])
    for bad in ([], "", ["nope"], [None]):
        with pytest.raises(ValidationError):
            await client.sources.refresh(bad)  # type: ignore[arg-type]


async def test_many_waits_share_one_polling_task(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    docs = seed(src, 12)
    src.pending_for = 3600  # nothing finishes until the test says so
    ids = await client.sources.refresh([d.id for d in docs])
    poller = client.sources.poller
    seen: set[str] = set()
    all_seen = asyncio.Event()

    def progress(source_id: str, doc: SourceDocument) -> None:
        seen.add(source_id)
        if len(seen) == len(ids):
            all_seen.set()

    poller.add_progress_callback(progress)
    first = asyncio.ensure_future(client.sources.wait_for_refresh(ids[:8], timeout=30))
    second = asyncio.ensure_future(client.sources.wait_for_refresh(ids[4:], timeout=30))
    await asyncio.wait_for(all_seen.wait(), 30)  # every source polled at least once
    pollers = [t for t in asyncio.all_tasks() if "source refreshes poller" in t.get_name()]
    assert len(pollers) == 1 and sorted(poller.pending) == sorted(ids)
    for doc in docs:
        doc.fetch_pending_for = 0  # the fetches finish now
    done = await first + await second
    assert {d.id for d in done} == set(ids) and all(d.success for d in done)
    await asyncio.wait_for(pollers[0], 5)  # nobody waits any more: the task ends by itself
    assert not poller.running
    assert_pool_idle(client)


async def test_wait_reports_failed_and_unknown_sources(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    good, bad = seed(src, 2)
    src.fail_on(bad.original_url)
    await client.sources.refresh([good.id, bad.id])
    with pytest.raises(JobFailedError) as info:
        await client.sources.wait_for_refresh([good.id, bad.id], timeout=10)
    failed = info.value.job
    assert isinstance(failed, SourceDocument) and failed.id == bad.id
    assert failed.linked_job_status == "FAILED" and failed.error
    await client.sources.refresh([bad.id])
    docs = await client.sources.wait_for_refresh([good.id, bad.id], raise_on_failure=False)
    assert [d.success for d in docs] == [True, False]
    with pytest.raises(NotFoundError):
        await client.sources.wait_for_refresh([str(uuid.uuid4())], timeout=10)
    with pytest.raises(ValidationError):
        await client.sources.wait_for_refresh([])


async def test_closing_the_client_ends_pending_waits(fake: FakeFini, src: FakeSources) -> None:
    from fini_async import ClientStateError

    src.pending_for = 60
    (doc,) = seed(src, 1)
    client = fake.client()
    client.sources.configure_polling(interval_initial=0.02, interval_max=0.05)
    await client.sources.refresh([doc.id])
    waiting = asyncio.ensure_future(client.sources.wait_for_refresh([doc.id]))
    await asyncio.sleep(0.05)
    await client.aclose()
    with pytest.raises(ClientStateError):
        await waiting
    assert not client.sources.poller.running


async def test_ids_of_another_workspace_are_403(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    mine, theirs = seed(src, 2)
    src.foreign.add(theirs.id)
    with pytest.raises(PermissionDeniedError):
        await client.sources.refresh([mine.id, theirs.id])
    with pytest.raises(PermissionDeniedError):
        await client.sources.delete([mine.id, theirs.id])
    assert mine.id in src.documents and mine.fetch_started is None  # nothing done


async def test_a_bad_key_is_401_on_every_sources_route(fake: FakeFini) -> None:
    from fini_async import AuthenticationError

    some = str(uuid.uuid4())
    async with fake.client("fini_wrong") as stranger:
        for call in (
            stranger.sources.list(),
            stranger.sources.get(some),
            stranger.sources.add_urls(["https://example.com"]),
            stranger.sources.crawl_links("https://example.com"),
            stranger.sources.refresh([some]),
            stranger.sources.delete([some]),
            stranger.sources.discover("notion"),
            stranger.sources.import_(
                "notion",
                [
                    {
                        "originalUrl": "https://n.so/a",
                        "title": "A",
                        "externalId": "a",
                        "mimeType": "t",
                    }
                ],
            ),
        ):
            with pytest.raises(AuthenticationError):
                await call


# -- delete --------------------------------------------------------------------------------------


async def test_delete_with_a_json_body_and_its_articles(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    keep, drop = seed(src, 2)
    (job,) = await client.knowledge.bulk_generate([drop.id], is_draft=False)
    await job.wait(timeout=10)
    article_id = job.hc_article_id
    assert article_id is not None and fake.kb.articles[article_id].content == "Page 1 text."
    result = await client.sources.delete([drop.id], delete_articles=True)
    assert isinstance(result, DeletedSources)
    assert [d.id for d in result.deleted_documents] == [drop.id]
    assert [a.id for a in result.deleted_articles] == [article_id]
    assert src.last_bodies["sources.delete"] == {"documentIds": [drop.id], "deleteArticles": True}
    assert article_id not in fake.kb.articles
    plain = await client.sources.delete(keep.id)
    assert plain.deleted_articles == [] and [d.id for d in plain.deleted_documents] == [keep.id]
    assert (await client.sources.list()).items == []


async def test_delete_is_all_or_nothing_and_not_repeated(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    (doc,) = seed(src, 1)
    with pytest.raises(BadRequestError):
        await client.sources.delete([doc.id, str(uuid.uuid4())])
    assert doc.id in src.documents  # nothing deleted
    fake.fail_next("sources.delete", status=502)  # may have been processed: not repeated
    with pytest.raises(InternalServerError):
        await client.sources.delete([doc.id])
    assert fake.calls["sources.delete"] == 2
    with pytest.raises(ValidationError):
        await client.sources.delete([])


# -- providers -----------------------------------------------------------------------------------

NOTION_ITEMS = [
    {
        "externalId": "n-1",
        "title": "Handbook",
        "originalUrl": "https://notion.so/handbook",
        "mimeType": "text/markdown",
        "iconLink": None,
        "object": "page",
    },
    {
        "externalId": "n-2",
        "title": "Roadmap",
        "originalUrl": "https://notion.so/roadmap",
        "mimeType": "text/markdown",
        "iconLink": "https://notion.so/icon.png",
        "object": "database",
    },
]


async def test_discover_import_and_ingest_a_provider(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    with pytest.raises(BadRequestError):  # not connected in the dashboard
        await client.sources.discover("notion")
    with pytest.raises(BadRequestError):
        await client.sources.import_("notion", NOTION_ITEMS)
    src.connect("notion", NOTION_ITEMS)
    found = await client.sources.discover("notion")
    assert all(isinstance(r, ProviderResource) for r in found)
    assert [r.external_id for r in found] == ["n-1", "n-2"]
    assert found[1].object == "database" and found[1].icon_link == "https://notion.so/icon.png"
    registered = await client.sources.import_("notion", found[:1])
    assert len(registered.added_document_ids) == 1
    assert src.last_bodies["sources.register"] == {
        "resources": [
            {
                "originalUrl": "https://notion.so/handbook",
                "title": "Handbook",
                "externalId": "n-1",
                "mimeType": "text/markdown",
                "object": "page",
            }
        ]
    }
    again = await client.sources.import_(
        "notion",
        [
            {
                "originalUrl": "https://notion.so/handbook",
                "title": "Handbook v2",
                "externalId": "n-1",
                "mimeType": "text/markdown",
            }
        ],
    )
    assert again.updated_document_ids == registered.added_document_ids
    (doc_id,) = registered.ids
    assert (await client.sources.get(doc_id)).paragraphs == []  # registering does not ingest
    await client.sources.add(registered.ids, source="notion")
    (doc,) = await client.sources.wait_for_refresh(registered.ids, timeout=10)
    assert doc.title == "Handbook v2" and doc.success and doc.source == "notion"
    assert [r.external_id for r in await client.sources.discover("notion")] == ["n-2"]


async def test_provider_arguments_are_checked_before_sending(
    fake: FakeFini, client: FiniClient
) -> None:
    with pytest.raises(ValidationError):
        await client.sources.discover("googledrive")  # no discovery route
    with pytest.raises(ValidationError):
        await client.sources.import_("notion", [])
    with pytest.raises(ValidationError):  # an item without its externalId
        await client.sources.import_(
            "notion", [{"originalUrl": "https://notion.so/x", "title": "X", "mimeType": "a/b"}]
        )
    assert fake.calls["sources.discover"] == fake.calls["sources.register"] == 0


# -- with knowledge generation -------------------------------------------------------------------


async def test_generate_from_a_listed_source_links_the_article(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    src.add_source("https://docs.example.com/billing", text="Invoices are sent monthly.")
    (doc,) = (await client.sources.list()).items
    job = await client.knowledge.generate(doc.text, origin="sources", document_id=doc.id)
    await job.wait(timeout=10)
    linked = await client.sources.get(doc.id)
    assert linked.linked_job_id == job.id and linked.linked_job_status == "COMPLETED"
    assert linked.linked_knowledge_id == job.hc_article_id
    assert [d.id async for d in client.sources.list(linked_knowledge_id=job.hc_article_id)] == [
        doc.id
    ]


async def test_delete_is_not_resent_after_a_dropped_connection(
    fake: FakeFini, client: FiniClient, src: FakeSources
) -> None:
    (doc,) = seed(src, 1)
    fake.drop_next("sources.delete")
    with pytest.raises(APIConnectionError):
        await client.sources.delete([doc.id])
    assert fake.calls["sources.delete"] == 1
