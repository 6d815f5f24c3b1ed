"""Sharely file uploads: multipart streamed from disk, the allow-list checked before sending,
retries that resend the whole file, background processing and ``wait_for_upload``."""

from __future__ import annotations

import asyncio
import gc
import hashlib
import io
import os
import tracemalloc
from pathlib import Path

import pytest

from fini_async import (
    ClientStateError,
    InternalServerError,
    JobTimeoutError,
    NotFoundError,
    SharelyClient,
    ValidationError,
)
from fini_async.sharely import UploadedFile, content_type_for
from fini_async.testing import FakeSharely


def _write(path: Path, size: int) -> str:
    """A file of ``size`` pseudo-random bytes; returns its SHA-256."""
    digest = hashlib.sha256()
    block = hashlib.sha256(path.name.encode()).digest() * 2048  # 64 KiB
    with path.open("wb") as fh:
        left = size
        while left:
            chunk = block[: min(left, len(block))]
            fh.write(chunk)
            digest.update(chunk)
            left -= len(chunk)
    return digest.hexdigest()


def _open_fds() -> int | None:
    return len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None


def _tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


def _is_server_task(task: asyncio.Task[object]) -> bool:
    """The emulator's request handlers (aiohttp.web) finish on their own after a disconnect."""
    code = getattr(task.get_coro(), "cr_code", None)
    return code is not None and "aiohttp/web_" in code.co_filename


# -- content types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("a.pdf", "application/pdf"),
        ("A.DOCX", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("notes.md", "text/markdown"),
        ("t.txt", "text/plain"),
        ("sheet.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("d.csv", "text/csv"),
        ("p.jpeg", "image/jpeg"),
        ("p.jpg", "image/jpeg"),
        ("v.mp4", "video/mp4"),
        ("s.mp3", "audio/mpeg"),
        ("s.wav", "audio/wav"),
        ("z.zip", "application/zip"),
        ("d.json", "application/json"),
        ("i.webp", "image/webp"),
    ],
)
def test_content_type_comes_from_the_file_name(name: str, mime: str) -> None:
    assert content_type_for(name) == mime


@pytest.mark.parametrize("name", ["tool.exe", "page.html", "noext", "archive.tar.gz", "x.svg"])
async def test_a_type_off_the_allow_list_is_refused_before_sending(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    path.write_bytes(b"data")
    with pytest.raises(ValidationError) as info:
        await sharely.knowledge.upload_file(path)
    assert info.value.field == "file"
    with pytest.raises(ValidationError) as explicit:
        await sharely.knowledge.upload_file(b"data", filename="x.pdf", content_type="text/html")
    assert explicit.value.field == "content_type"
    assert sum(sfake.calls.values()) == 0


async def test_other_bad_upload_arguments(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    cases = [
        (lambda: sharely.knowledge.upload_file(tmp_path / "missing.pdf"), "file"),
        (lambda: sharely.knowledge.upload_file(tmp_path), "file"),
        (lambda: sharely.knowledge.upload_file(b"abc"), "filename"),
        (lambda: sharely.knowledge.upload_file(io.BytesIO(b"abc")), "filename"),
        (lambda: sharely.knowledge.upload_file(io.StringIO("abc"), filename="a.txt"), "file"),
        (lambda: sharely.knowledge.upload_file(12345), "file"),  # type: ignore[arg-type]
        (lambda: sharely.knowledge.upload_file(b"x", filename="a.txt", title=3), "title"),  # type: ignore[arg-type]
        (lambda: sharely.knowledge.upload_file(b"x", filename="a.txt", background=1), "background"),  # type: ignore[arg-type]
    ]
    for make, field in cases:
        with pytest.raises(ValidationError) as info:
            await make()
        assert info.value.field == field
    assert sum(sfake.calls.values()) == 0


# -- uploads ---------------------------------------------------------------------------------


async def test_upload_a_path_as_multipart(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    path = tmp_path / "handbook.pdf"
    digest = _write(path, 3 * 1024 * 1024 + 17)
    uploaded = await sharely.knowledge.upload_file(
        path, title="Handbook", description="The staff handbook", language="en"
    )
    assert isinstance(uploaded, UploadedFile)
    assert uploaded.knowledge_id and uploaded.type == "FILE"
    received = sfake.received_uploads[-1]
    assert received["filename"] == "handbook.pdf"
    assert received["content_type"] == "application/pdf"
    assert received["size"] == 3 * 1024 * 1024 + 17
    assert received["sha256"] == digest
    assert (received["title"], received["description"], received["language"]) == (
        "Handbook",
        "The staff handbook",
        "en",
    )
    assert "status" not in received  # synchronous unless background=True
    item = sfake.items[uploaded.knowledge_id]
    assert (item.title, item.language, item.sha256) == ("Handbook", "en", digest)


async def test_upload_bytes_and_a_callers_file_object(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    await sharely.knowledge.upload_file(b'{"a": 1}', filename="data.json")
    assert sfake.received_uploads[-1]["content_type"] == "application/json"
    assert sfake.received_uploads[-1]["head"] == b'{"a": 1}'

    path = tmp_path / "notes.md"
    path.write_bytes(b"HEADER" + b"# notes\n" * 1000)
    with path.open("rb") as fh:
        fh.seek(6)  # the upload starts where the caller's file is
        await sharely.knowledge.upload_file(fh, title="Notes")
        assert not fh.closed  # the caller's file stays the caller's
    received = sfake.received_uploads[-1]
    assert received["filename"] == "notes.md"
    assert received["content_type"] == "text/markdown"
    assert received["sha256"] == hashlib.sha256(b"# notes\n" * 1000).hexdigest()

    await sharely.knowledge.upload_file(io.BytesIO(b"a,b\n1,2\n"), filename="t.csv")
    assert sfake.received_uploads[-1]["content_type"] == "text/csv"


@pytest.mark.parametrize("kind", ["path", "file object", "bytes"])
async def test_a_503_resends_the_whole_file(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "big.txt"
    digest = _write(path, 512 * 1024)
    sfake.fail_next("sharely.knowledge.file", 1, 503, retry_after=0)
    with path.open("rb") as fh:
        source: object = {"path": path, "file object": fh, "bytes": path.read_bytes()}[kind]
        uploaded = await sharely.knowledge.upload_file(source, filename="big.txt")  # type: ignore[arg-type]
    assert sfake.calls["sharely.knowledge.file"] == 2
    assert sfake.received_uploads[-1]["sha256"] == digest
    assert sfake.items[uploaded.knowledge_id or ""].sha256 == digest


async def test_an_upload_is_not_retried_when_the_server_may_have_processed_it(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"hello")
    sfake.fail_next("sharely.knowledge.file", 1, 500)
    with pytest.raises(InternalServerError):
        await sharely.knowledge.upload_file(path)
    assert sfake.calls["sharely.knowledge.file"] == 1


async def test_a_401_during_an_upload_reexchanges_and_resends_the_file(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    path = tmp_path / "a.pdf"
    digest = _write(path, 200 * 1024)
    await sharely.knowledge.list(limit=1)
    sfake.revoke_tokens()
    uploaded = await sharely.knowledge.upload_file(path)
    assert sfake.calls["sharely.token"] == 2
    assert sfake.calls["sharely.knowledge.file"] == 2
    assert sfake.items[uploaded.knowledge_id or ""].sha256 == digest


async def test_a_non_seekable_stream_that_must_be_resent_fails_clearly(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    class Pipe(io.RawIOBase):
        name = "pipe.txt"

        def __init__(self) -> None:
            self.left = 3

        def readable(self) -> bool:
            return True

        def seekable(self) -> bool:
            return False

        def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
            if not self.left:
                return 0
            self.left -= 1
            buf[:4] = b"data"
            return 4

    uploaded = await sharely.knowledge.upload_file(Pipe())
    assert sfake.received_uploads[-1]["head"] == b"data" * 3
    assert uploaded.knowledge_id
    await sharely.knowledge.list(limit=1)
    sfake.revoke_tokens()  # the 401 needs the body again, and a pipe cannot rewind
    with pytest.raises(ClientStateError):
        await sharely.knowledge.upload_file(Pipe())


async def test_an_upload_streams_from_disk_in_bounded_memory(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    """32 MiB goes out while Python allocates a small fraction of that at any moment (the
    emulator, in the same process, hashes the upload chunk by chunk too)."""
    size = 32 * 1024 * 1024
    path = tmp_path / "video.mp4"
    digest = _write(path, size)
    await sharely.knowledge.list(limit=1)  # token and connection ready
    gc.collect()
    tracemalloc.start()
    try:
        uploaded = await sharely.knowledge.upload_file(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sfake.items[uploaded.knowledge_id or ""].sha256 == digest
    assert peak < size / 4, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.0f} MB upload"


async def test_cancelling_an_upload_leaves_no_task_and_no_open_file(
    sfake: FakeSharely, tmp_path: Path
) -> None:
    path = tmp_path / "slow.pdf"
    _write(path, 256 * 1024)
    sfake.add_latency("sharely.knowledge.file", 1.5)
    before = _tasks()
    fds_before = _open_fds()
    async with sfake.client() as client:
        await client.knowledge.list(limit=1)
        task = asyncio.create_task(client.knowledge.upload_file(path))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    await asyncio.sleep(0.05)
    gc.collect()
    left = {t for t in _tasks() - before if not _is_server_task(t)}
    assert not left
    if fds_before is not None:
        assert (_open_fds() or 0) <= fds_before


# -- background processing -------------------------------------------------------------------


async def test_background_upload_then_wait_for_upload(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    sfake.processing_delay = 0.4
    path = tmp_path / "report.docx"
    digest = _write(path, 100 * 1024)
    uploaded = await sharely.knowledge.upload_file(path, background=True)
    assert sfake.received_uploads[-1]["status"] == "BACKGROUND_START"
    assert uploaded.status == "BACKGROUND_START" and uploaded.knowledge_id is None
    first = await sharely.knowledge.get_upload_metadata(uploaded)
    assert not first.done
    meta = await sharely.knowledge.wait_for_upload(uploaded.metadata_id, interval=0.05)
    assert meta.done and meta.knowledge is not None and meta.knowledge_id == meta.knowledge.id
    assert sfake.items[meta.knowledge.id].sha256 == digest
    assert meta.knowledge.metadata["mimeType"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    assert sfake.calls["sharely.upload_metadata"] >= 3


async def test_wait_for_upload_rides_out_transient_errors(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    uploaded = await sharely.knowledge.upload_file(b"x", filename="a.txt", background=True)
    sfake.fail_next("sharely.upload_metadata", 4, 500)  # more than the transport's 2 retries
    meta = await sharely.knowledge.wait_for_upload(uploaded, interval=0.02)
    assert meta.done
    assert sfake.calls["sharely.upload_metadata"] >= 5


async def test_wait_for_upload_times_out_with_the_last_status(
    sfake: FakeSharely, sharely: SharelyClient
) -> None:
    sfake.processing_delay = 60
    uploaded = await sharely.knowledge.upload_file(b"x", filename="a.txt", background=True)
    with pytest.raises(JobTimeoutError) as info:
        await sharely.knowledge.wait_for_upload(uploaded, timeout=0.4, interval=0.05)
    assert info.value.job is not None and not info.value.job.done
    with pytest.raises(NotFoundError):
        await sharely.knowledge.wait_for_upload("00000000-0000-4000-8000-000000000000")
    with pytest.raises(ValidationError):
        await sharely.knowledge.wait_for_upload(uploaded, timeout=0)


async def test_cancelling_wait_for_upload_leaves_nothing_running(sfake: FakeSharely) -> None:
    sfake.processing_delay = 60
    before = _tasks()
    async with sfake.client() as client:
        uploaded = await client.knowledge.upload_file(b"x", filename="a.txt", background=True)
        task = asyncio.create_task(client.knowledge.wait_for_upload(uploaded, interval=0.02))
        await asyncio.sleep(0.2)
        calls = sfake.calls["sharely.upload_metadata"]
        assert calls >= 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.sleep(0.2)
        assert sfake.calls["sharely.upload_metadata"] <= calls + 1
    await asyncio.sleep(0.05)
    assert not {t for t in _tasks() - before if not _is_server_task(t)}


async def test_file_names_go_out_as_utf8_like_a_browser_sends_them(
    sfake: FakeSharely, sharely: SharelyClient, tmp_path: Path
) -> None:
    path = tmp_path / "Résumé – final v2.pdf"
    path.write_bytes(b"%PDF-1.7")
    uploaded = await sharely.knowledge.upload_file(path)
    assert sfake.received_uploads[-1]["filename"] == "Résumé – final v2.pdf"
    assert uploaded.title == "Résumé – final v2.pdf"
    await sharely.knowledge.upload_file(b"x", filename='say "hi".txt', title="Grüße")
    assert sfake.received_uploads[-1]["filename"] == "say %22hi%22.txt"
    assert sfake.received_uploads[-1]["title"] == "Grüße"
