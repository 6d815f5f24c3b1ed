"""FakeSharely's ``POST knowledge/file``: a multipart upload parsed as a stream (a 100 MB upload
is hashed chunk by chunk, never held in memory), processed at once or, with
``status=BACKGROUND_START``, as a background job."""

from __future__ import annotations

import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from ._sharely_jobs import SharelyJob

if TYPE_CHECKING:
    from ._sharely import FakeSharely, SharelyItem

__all__ = ["ALLOWED_MIME", "upload"]

ALLOWED_MIME = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "text/plain",
        "text/markdown",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "text/csv",
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "video/mp4",
        "audio/mpeg",
        "audio/wav",
        "application/zip",
        "application/x-zip-compressed",
        "application/json",
    }
)

#: How much of each file is kept (``received_uploads[...]["head"]``) for tests to look at.
HEAD_BYTES = 4096


async def upload(fake: FakeSharely, request: web.Request) -> web.StreamResponse:
    """Receive the form, record it in ``fake.received_uploads``, check the file's type and make
    the item (now, or when a background job finishes)."""
    if not request.content_type.startswith("multipart/form-data"):
        return fake.error(400, "Expected multipart/form-data")
    fields, file_info = await _read_form(request)
    if file_info is None:
        return fake.error(400, "Missing required field: file")
    fake.received_uploads.append({**fields, **file_info})
    if file_info["content_type"] not in ALLOWED_MIME:
        return fake.error(400, f"Unsupported file type: {file_info['content_type'] or 'unknown'}")
    title = fields.get("title") or file_info["filename"]
    meta_id = str(uuid.uuid4())
    metadata: dict[str, Any] = {
        "filename": file_info["filename"],
        "fileSize": file_info["size"],
        "mimeType": file_info["content_type"],
        "sha256": file_info["sha256"],
    }
    if fields.get("description"):
        metadata["description"] = fields["description"]

    def make_item(job: SharelyJob | None = None) -> SharelyItem:
        item = fake.add_knowledge(
            "FILE", title=title, metadata=metadata, language=fields.get("language")
        )
        item.size, item.sha256 = file_info["size"], file_info["sha256"]
        item.filename, item.content_type = file_info["filename"], file_info["content_type"]
        fake.uploads[meta_id] = item.id
        if job is not None:
            job.result = {"knowledgeId": item.id}
        return item

    answer: dict[str, Any] = {"uploadFileMetadataId": meta_id, "title": title, "type": "FILE"}
    if fields.get("status") == "BACKGROUND_START":
        fake.uploads[meta_id] = None
        job = fake.start_job("KNOWLEDGE_UPLOAD", make_item)
        answer.update(id=meta_id, knowledgeId=None, status="BACKGROUND_START", workflowId=job.id)
    else:
        item = make_item()
        answer.update(id=item.id, knowledgeId=item.id, status="PROCESSED")
    return fake.reply(answer, 201)


async def _read_form(request: web.Request) -> tuple[dict[str, str], dict[str, Any] | None]:
    """The text fields, and the file's name, type, size, SHA-256 and first bytes (None when the
    form has no file part)."""
    reader = await request.multipart()
    fields: dict[str, str] = {}
    file_info: dict[str, Any] | None = None
    while True:
        part = await reader.next()
        if part is None:
            return fields, file_info
        if not isinstance(part, aiohttp.BodyPartReader):
            continue
        if part.name == "file":
            file_info = await _read_file(part)
        elif part.name:
            fields[part.name] = (await part.read(decode=True)).decode("utf-8", "replace")


async def _read_file(part: aiohttp.BodyPartReader) -> dict[str, Any]:
    digest = hashlib.sha256()
    size = 0
    head = bytearray()
    while True:
        chunk = await part.read_chunk(256 * 1024)
        if not chunk:
            break
        size += len(chunk)
        digest.update(chunk)
        if len(head) < HEAD_BYTES:
            head.extend(chunk[: HEAD_BYTES - len(head)])
    return {
        "filename": part.filename,
        "content_type": part.headers.get("Content-Type", "").split(";")[0].strip(),
        "size": size,
        "sha256": digest.hexdigest(),
        "head": bytes(head),
    }
