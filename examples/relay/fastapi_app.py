"""The same relay on FastAPI: ``python -m examples.relay --fastapi``, or
``uvicorn examples.relay.fastapi_app:app``. Needs fastapi and uvicorn.

Runs against the embedded FakeFini emulator unless FINI_API_KEY is set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from fini_async import FiniClient, ValidationError
from fini_async.relay import streaming_response

from .app import PAGE, default_client, parse_chat


def create_app(client: FiniClient | None = None) -> FastAPI:
    """The relay app; without ``client`` it makes one (FakeFini unless FINI_API_KEY is set)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if client is not None:
            yield
            return
        async with default_client() as c:
            app.state.client = c
            yield

    app = FastAPI(lifespan=lifespan)
    if client is not None:
        app.state.client = client

    @app.get("/")
    async def index() -> FileResponse:
        return FileResponse(PAGE)

    @app.post("/api/chat")
    async def chat(request: Request) -> Response:
        try:
            fmt = request.query_params.get("format", "sse")
            body: Any = await request.json()
            message, history = parse_chat(body, fmt)
            stream = request.app.state.client.bots.stream_question(message, message_history=history)
        except (ValueError, ValidationError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        # Not StreamingResponse(stream.sse()): this one also notices a client that goes away
        # while Fini is silent, and cancels the upstream stream at once.
        return streaming_response(stream, format=fmt)

    return app


app = create_app()
