"""The same relay on FastAPI (``uvicorn examples.relay.fastapi_app:app``); needs fastapi."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from fini_async import FiniClient, ValidationError
from fini_async.relay import SSE_MEDIA_TYPE

PAGE = Path(__file__).with_name("page.html")


def create_app(client: FiniClient) -> FastAPI:
    app = FastAPI()

    @app.get("/")
    async def index() -> FileResponse:
        return FileResponse(PAGE)

    @app.post("/api/chat")
    async def chat(request: Request) -> Response:
        try:
            body: Any = await request.json()
            stream = client.bots.stream_question(
                body["message"], message_history=body.get("history") or []
            )
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return StreamingResponse(stream.sse(), media_type=SSE_MEDIA_TYPE)

    return app
