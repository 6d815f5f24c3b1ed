"""aiohttp.web relay: one HTML page, ``POST /api/chat`` relays Fini's stream as SSE.

Runs against the embedded FakeFini emulator unless FINI_API_KEY is set.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web

from fini_async import FiniClient, ValidationError
from fini_async.relay import relay_to

PAGE = Path(__file__).with_name("page.html")
CLIENT = web.AppKey("client", FiniClient)
#: ``POST /api/chat?format=...``: how the answer is relayed (the page reads SSE).
FORMATS = ("sse", "ndjson", "text")


@asynccontextmanager
async def default_client() -> AsyncIterator[FiniClient]:
    """A client for Fini when FINI_API_KEY is set, else for an embedded FakeFini emulator that
    streams its answers a token every 50 ms, like a model would."""
    if os.environ.get("FINI_API_KEY"):
        async with FiniClient() as client:
            yield client
        return
    from fini_async.testing import FakeFini

    async with FakeFini(chunk_delay=0.05) as fake, fake.client() as client:
        yield client


def parse_chat(body: Any, fmt: str) -> tuple[str, list[Any]]:
    """The message and history of a ``POST /api/chat`` body; ValueError when malformed."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        raise ValueError("send a JSON object with a 'message' string")
    history = body.get("history") or []
    if not isinstance(history, list):
        raise ValueError("'history' must be a list of messages")
    return body["message"], history


def create_app(client: FiniClient | None = None) -> web.Application:
    """The relay app; without ``client`` it makes one (FakeFini unless FINI_API_KEY is set)."""
    app = web.Application()

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        if client is not None:
            app[CLIENT] = client
            yield
            return
        async with default_client() as c:
            app[CLIENT] = c
            yield

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE)

    async def chat(request: web.Request) -> web.StreamResponse:
        try:
            fmt = request.query.get("format", "sse")
            message, history = parse_chat(await request.json(), fmt)
            stream = request.app[CLIENT].bots.stream_question(message, message_history=history)
        except (ValueError, ValidationError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return await relay_to(request, stream, format=fmt)

    app.cleanup_ctx.append(lifespan)
    app.router.add_get("/", index)
    app.router.add_post("/api/chat", chat)
    return app


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m examples.relay [--host H] [--port N] [--fastapi]``."""
    parser = argparse.ArgumentParser(
        prog="python -m examples.relay",
        description="A chat page relaying Fini's answers token by token. Answers come from an "
        "embedded FakeFini emulator, or from Fini when FINI_API_KEY is set.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8080")))
    parser.add_argument(
        "--fastapi", action="store_true", help="serve the FastAPI version with uvicorn"
    )
    args = parser.parse_args(argv)
    source = "Fini" if os.environ.get("FINI_API_KEY") else "the embedded FakeFini emulator"
    print(f"relay on http://{args.host}:{args.port}/ (answers from {source})", flush=True)
    if args.fastapi:
        try:
            import uvicorn
        except ImportError:
            sys.exit("--fastapi needs fastapi and uvicorn: pip install fastapi uvicorn")
        uvicorn.run(
            "examples.relay.fastapi_app:app", host=args.host, port=args.port, log_level="warning"
        )
        return
    web.run_app(create_app(), host=args.host, port=args.port, print=None)


if __name__ == "__main__":
    main()
