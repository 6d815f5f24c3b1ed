"""client.knowledge.initialize_tree (a CSV file, not JSON) and persist_tree (multipart, streamed
from a path, bytes or a file object), over real HTTP against the emulator."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from fini_async import (
    APIConnectionError,
    BadRequestError,
    FiniClient,
    InternalServerError,
    TreePersistResult,
    ValidationError,
)
from fini_async.testing import FakeFini, assert_pool_idle


async def test_initialize_returns_the_file(fake: FakeFini, client: FiniClient) -> None:
    data = await client.knowledge.initialize_tree("A help center for a bike rental shop")
    assert isinstance(data, bytes)
    lines = data.decode().splitlines()
    assert lines[0] == "folder,subfolder,article_title,article_content" and len(lines) == 4
    with pytest.raises(ValidationError):
        await client.knowledge.initialize_tree("  ")
    assert fake.calls["knowledge.tree.initialize"] == 1
    fake.fail_next("knowledge.tree.initialize", status=500)  # stores nothing: retried
    assert await client.knowledge.initialize_tree("Bikes") != b""
    assert fake.calls["knowledge.tree.initialize"] == 3


async def test_persist_bytes_from_initialize(fake: FakeFini, client: FiniClient) -> None:
    data = await client.knowledge.initialize_tree("Bike rentals")
    result = await client.knowledge.persist_tree(data)
    assert isinstance(result, TreePersistResult) and result.status == "SUCCESS"
    assert result.message == "Persisted 2 folders and 3 articles"
    (upload,) = fake.knowledge_tree.uploads
    assert upload.filename == "fini-tree-template.csv" and upload.content_type == "text/csv"
    assert upload.data == data
    titles = {a.title for a in fake.kb.articles.values()}
    assert "Setting up Bike rentals" in titles


async def test_persist_streams_a_path_and_a_file_object(
    fake: FakeFini, client: FiniClient, tmp_path: Path
) -> None:
    path = tmp_path / "tree.csv"
    path.write_text("folder,article_title\nBilling,How to pay\n")
    assert (await client.knowledge.persist_tree(path)).status == "SUCCESS"
    with open(path, "rb") as fh:  # noqa: ASYNC230 (a test's small local file)
        assert (await client.knowledge.persist_tree(fh)).status == "SUCCESS"
        assert not fh.closed  # the caller's file stays open
    assert [u.filename for u in fake.knowledge_tree.uploads] == ["tree.csv", "tree.csv"]
    assert_pool_idle(client)


async def test_persist_errors(fake: FakeFini, client: FiniClient, tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        await client.knowledge.persist_tree(tmp_path / "missing.csv")
    with pytest.raises(ValidationError):
        await client.knowledge.persist_tree(io.StringIO("folder,article_title\n"))  # type: ignore[arg-type]
    assert fake.calls["knowledge.tree.persist"] == 0
    with pytest.raises(InternalServerError):  # a file the server cannot read: 500, documented
        await client.knowledge.persist_tree(b"not,a,tree\n1,2,3\n", filename="x.csv")
    assert fake.calls["knowledge.tree.persist"] == 1  # an import: not repeated after a 500
    fake.drop_next("knowledge.tree.persist")
    with pytest.raises(APIConnectionError):
        await client.knowledge.persist_tree(b"folder,article_title\nA,B\n")
    assert fake.calls["knowledge.tree.persist"] == 2
    fake.respond_next(
        "knowledge.tree.persist",
        {"statusCode": 400, "message": "file is required", "error": "Bad Request"},
        status=400,
    )
    with pytest.raises(BadRequestError):
        await client.knowledge.persist_tree(b"folder,article_title\nA,B\n")
