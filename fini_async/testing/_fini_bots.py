"""Emulated ask-question: plain and streamed, answered from the knowledge base."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

_TOKEN = re.compile(r"\S+\s*")
ROLES = ("system", "user", "assistant", "function")
#: Words by which a question refers back to the conversation ("Is that upgrade prorated?").
_REFERRING = frozenset({"that", "it", "its", "this", "these", "those", "they", "them"})
_WORDS = re.compile(r"[a-z]+")


def follow_up(history: list[Any], question: str) -> str | None:
    """The earlier question a follow-up refers to: the last user message of ``history`` when
    ``question`` refers back to it (``that``, ``it``, ...), else None."""
    if not _REFERRING.intersection(_WORDS.findall(question.lower())):
        return None
    for message in reversed(history):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, str) and content.strip():
            return content.strip()
    return None


def setup(fake: FakeFini, app: web.Application) -> None:
    async def ask_question(request: web.Request) -> web.StreamResponse:
        return await _ask(fake, request)

    async def list_bots(request: web.Request) -> web.StreamResponse:
        bots = fake.state["bots"] or {"bot_default": {"id": "bot_default", "name": "Default"}}
        return json_response([{**b, "createdAt": 1_700_000_000_000} for b in bots.values()])

    fake.route(app, "POST", "/v2/bots/ask-question", "ask-question", "read", ask_question)
    fake.route(app, "GET", "/v2/bots/public", "bots.list", "read", list_bots)


def _parse(fake: FakeFini, raw: bytes) -> tuple[dict[str, Any] | None, web.Response | None]:
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return None, fake.error(400, "Body is not valid JSON")
    if not isinstance(body, dict):
        return None, fake.error(400, "Body must be a JSON object")
    problems = []
    question = body.get("question")
    if not isinstance(question, str) or not question.strip():
        problems.append("question must be a non-empty string")
    history = body.get("messageHistory")
    if not isinstance(history, list):
        problems.append("messageHistory must be an array")
    else:
        for msg in history:
            if not isinstance(msg, dict) or msg.get("role") not in ROLES:
                problems.append("messageHistory items need a role of system, user, assistant")
                break
    temperature = body.get("temperature", 0.4)
    if not isinstance(temperature, (int, float)) or not 0 <= temperature <= 2:
        problems.append("temperature must be between 0 and 2")
    if problems:
        return None, fake.error(400, problems)
    return body, None


async def _ask(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    body, error = _parse(fake, await request.read())
    if error is not None or body is None:
        return error or fake.error(400, "bad request")
    # The last valid body, like ``last_headers``: tests check what a client sent (its history).
    fake.state["last_bodies"]["ask-question"] = body
    question: str = body["question"]
    earlier = follow_up(body["messageHistory"], question)
    if earlier is None:
        text, based_on = fake.kb.answer(question)
    else:
        # A follow-up is answered in the light of the question it refers to, and says so: what
        # shows that the conversation's history reached the server.
        text, based_on = fake.kb.answer(f"{earlier} {question}")
        text = f'Following up on "{earlier}": {text}'
    categories = [c for c in body.get("categories") or [] if isinstance(c, str)][:1]
    answer_uuid = str(uuid.uuid4())
    fake.history.record(question, text, categories, based_on)  # the chat-history route's rows
    messages = [
        *body["messageHistory"],
        {"role": "user", "content": question},
        {"role": "assistant", "content": text},
    ]
    if not body.get("stream") or request.headers.get("x-fake-stream-format") == "json":
        return json_response(
            {
                "answer": text,
                "answer_uuid": answer_uuid,
                "based_on": based_on,
                "categories": categories,
                "messages": messages,
                "success": 1,
            }
        )
    meta = {"based_on": based_on, "answer_uuid": answer_uuid, "categories": categories}
    return await stream_answer(fake, request, meta, text)


def _frame(fmt: str, payload: str) -> bytes:
    if fmt == "ndjson":
        return (payload + "\n").encode()
    if fmt == "lines":
        return f"data: {payload}\n".encode()
    if fmt == "sse-crlf":
        return f"data: {payload}\r\n\r\n".encode()
    return f"data: {payload}\n\n".encode()


async def stream_answer(
    fake: FakeFini, request: web.Request, meta: dict[str, Any], text: str
) -> web.StreamResponse:
    """Stream ``meta`` then ``text`` token by token in the emulator's configured format."""
    fmt = request.headers.get("x-fake-stream-format", fake.stream_format)
    delay = float(request.headers.get("x-fake-chunk-delay", fake.chunk_delay))
    fault = fake.take_stream_fault()
    resp = web.StreamResponse(
        headers={
            "Content-Type": "application/x-ndjson" if fmt == "ndjson" else "text/event-stream",
            "Cache-Control": "no-cache",
        }
    )
    await resp.prepare(request)
    fake.streams_open += 1
    events = [json.dumps(meta)] + [json.dumps({"content": t}) for t in _TOKEN.findall(text)]
    finished = False
    try:
        for index, payload in enumerate(events):
            if fault is not None and index == fault.after:
                if fault.cut:
                    if request.transport is not None:
                        request.transport.close()
                    return resp
                if fault.stall:
                    await asyncio.sleep(fault.stall)
                if fault.malformed:
                    await resp.write(b"data: this line is not json {\n\n")
                if fault.error_status is not None:
                    err = {
                        "statusCode": fault.error_status,
                        "message": fault.error_message,
                        "error": "Stream Error",
                    }
                    await resp.write(_frame(fmt, json.dumps(err)))
                    finished = True
                    return resp
            if delay and index:
                await asyncio.sleep(delay)
            if request.transport is None or request.transport.is_closing():
                return resp
            await resp.write(_frame(fmt, payload))
        if fake.stream_done and fmt != "ndjson":
            await resp.write(_frame(fmt, "[DONE]"))
        await resp.write_eof()
        finished = True
        return resp
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    finally:
        fake.streams_open -= 1
        if finished:
            fake.streams_completed += 1
        else:
            fake.stream_disconnects += 1
