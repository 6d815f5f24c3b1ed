"""``fini-async sources``, ``articles`` and ``knowledge sync``, driven as subprocesses against an
emulator in the test process on loopback (or the command's own ``--emulator``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any

import anyio
import pytest

from fini_async.testing import WRITE_KEY, FakeFini

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def env_for(fake: FakeFini | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINI_")}
    env["COLUMNS"] = "200"
    if fake is not None:
        env["FINI_BASE_URL"] = fake.url
        env["FINI_API_KEY"] = WRITE_KEY
    return env


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[bytes]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout.decode()
        self.err = proc.stderr.decode()

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout: {self.out}\nstderr: {self.err}>"

    def json(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines()]


async def cli(*args: str, fake: FakeFini | None = None) -> Run:
    command = [sys.executable, "-m", "fini_async", *args]
    run = Run(await anyio.run_process(command, env=env_for(fake), check=False))
    assert WRITE_KEY not in run.out + run.err
    assert "Traceback" not in run.err, run
    return run


@pytest.fixture
def quick(fake: FakeFini) -> FakeFini:
    fake.sources.pending_for = fake.knowledge.pending_for = 0.01
    fake.sources.run_for = fake.knowledge.run_for = 0.02
    return fake


def seed(fake: FakeFini, n: int, *, change: int) -> list[str]:
    ids = []
    for i in range(n):
        url = f"https://docs.example.com/cli-{i}"
        ids.append(
            fake.sources.add_source(url, text=f"Topic {i}: old text.", title=f"Topic {i}").id
        )
        if i < change:
            fake.sources.pages[url] = f"Topic {i}: new text."
    return ids


# -- sources ---------------------------------------------------------------------------------------


async def test_sources_list_get_and_filters(quick: FakeFini) -> None:
    ids = seed(quick, 3, change=0)
    table = await cli("sources", "list", fake=quick)
    assert table.code == 0, table
    assert all(i in table.out for i in ids)
    limited = await cli("sources", "list", "--limit", "2", "--json", fake=quick)
    assert limited.code == 0 and len(limited.json()) == 2
    titled = await cli("sources", "list", "--title", "TOPIC 1", "--json", fake=quick)
    assert [d["id"] for d in titled.json()] == [ids[1]]
    one = await cli("sources", "get", ids[0], fake=quick)
    assert one.code == 0 and "Topic 0: old text." in one.out
    as_json = await cli("sources", "get", ids[0], "--json", fake=quick)
    assert as_json.json()[0]["originalUrl"] == "https://docs.example.com/cli-0"


async def test_sources_get_unknown_and_bad_ids_fail_in_one_line(quick: FakeFini) -> None:
    missing = await cli("sources", "get", str(uuid.uuid4()), fake=quick)
    assert missing.code == 1 and missing.err.startswith("error: NotFoundError (404)")
    bad = await cli("sources", "get", "nope", fake=quick)
    assert bad.code == 1 and "ValidationError" in bad.err
    assert quick.calls["sources.get"] == 1  # the bad id never left the process


async def test_sources_add_refresh_wait_and_delete(quick: FakeFini) -> None:
    url = "https://docs.example.com/new-page"
    quick.sources.pages[url] = "A brand new page."
    added = await cli("sources", "add", url, "--wait", "--json", fake=quick)
    assert added.code == 0, added
    source_id = added.out.split(":")[0]
    record = json.loads(added.out.splitlines()[-1])
    assert record["id"] == source_id and record["linkedJobStatus"] == "COMPLETED"
    quick.sources.pages[url] = "The page, changed."
    refreshed = await cli("sources", "refresh", source_id, "--wait", fake=quick)
    assert refreshed.code == 0, refreshed
    assert f"{source_id}: refresh queued" in refreshed.out and "yes" in refreshed.out  # changed
    changed = await cli("sources", "list", "--changed", "--json", fake=quick)
    assert [d["id"] for d in changed.json()] == [source_id]
    deleted = await cli("sources", "delete", source_id, fake=quick)
    assert deleted.code == 0 and f"{source_id}: deleted source" in deleted.out
    assert source_id not in quick.sources.documents


async def test_a_failed_fetch_exits_1(quick: FakeFini) -> None:
    quick.sources.fail_on("broken.example")
    run = await cli("sources", "add", "https://broken.example/page", "--wait", fake=quick)
    assert run.code == 1 and "1 of 1 fetches failed" in run.err


# -- articles --------------------------------------------------------------------------------------


async def test_articles_list_get_and_publish_a_generated_draft(quick: FakeFini) -> None:
    ids = seed(quick, 1, change=1)
    sync = await cli("knowledge", "sync", ids[0], "--json", fake=quick)
    assert sync.code == 0, sync
    (record,) = sync.json()
    draft_id = record["article_id"]
    drafts = await cli("articles", "list", "--type", "draft", "--json", fake=quick)
    assert draft_id in [a["id"] for a in drafts.json()]
    got = await cli("articles", "get", draft_id, fake=quick)
    assert got.code == 0 and "draft" in got.out
    published = await cli("articles", "publish", draft_id, fake=quick)
    assert published.code == 0, published
    live_id = published.out.strip().rsplit(" ", 1)[-1]
    live = await cli("articles", "list", "--type", "live", "--json", fake=quick)
    assert live_id in [a["id"] for a in live.json()]


# -- knowledge sync --------------------------------------------------------------------------------


async def test_sync_prints_a_line_per_document_and_publishes(quick: FakeFini) -> None:
    ids = seed(quick, 3, change=2)
    run = await cli("knowledge", "sync", "--publish", fake=quick)
    assert run.code == 0, run
    lines = run.out.splitlines()
    assert len(lines) == 2
    assert {line.split(":")[0] for line in lines} == set(ids[:2])
    assert all(": published " in line for line in lines)
    assert "3 sources refreshed, 2 documents synced: 2 ok (2 published), 0 failed" in run.err


async def test_sync_exits_1_when_a_document_failed_and_goes_on_with_the_others(
    quick: FakeFini,
) -> None:
    ids = seed(quick, 3, change=3)
    quick.knowledge.fail_on(ids[1])
    run = await cli("knowledge", "sync", *ids, "--json", fake=quick)
    assert run.code == 1, run
    by_doc = {r["document_id"]: r for r in run.json()}
    assert set(by_doc) == set(ids)
    assert by_doc[ids[1]]["error"]["type"] == "JobFailedError"
    assert by_doc[ids[0]]["error"] is None and by_doc[ids[2]]["article_id"]
    assert "1 failed" in run.err


async def test_sync_against_the_embedded_emulator() -> None:
    run = await cli("--emulator", "knowledge", "sync", "--publish")
    assert run.code == 0, run
    assert len(run.out.splitlines()) == 2  # the two sample sources whose page changed
    listed = await cli("--emulator", "sources", "list", "--json")
    assert len(listed.json()) == 3
