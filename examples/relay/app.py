"""aiohttp.web relay: one HTML page, ``POST /api/chat`` relays Fini's stream as SSE.

Runs against the embedded FakeFini emulator unless FINI_API_KEY is set.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp import web

from fini_async import FiniClient, ValidationError
from fini_async.relay import relay_to

PAGE = Path(__file__).with_name("page.html")
CLIENT = web.AppKey("client", FiniClient)


def create_app(client: FiniClient | None = None) -> web.Application:
    """The relay app; without ``client`` it makes one (FakeFini unless FINI_API_KEY is set)."""
    app = web.Application()

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        if client is not None:
            app[CLIENT] = client
            yield
            return
        if os.environ.get("FINI_API_KEY"):
            async with FiniClient() as c:
                app[CLIENT] = c
                yield
            return
        from fini_async.testing import FakeFini

        async with FakeFini(chunk_delay=0.05) as fake, fake.client() as c:
            app[CLIENT] = c
            yield

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(PAGE)

    async def chat(request: web.Request) -> web.StreamResponse:
        try:
            body: Any = await request.json()
            message = body["message"]
            history = body.get("history") or []
            fmt = request.query.get("format", "sse")
            stream = request.app[CLIENT].bots.stream_question(message, message_history=history)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return await relay_to(request, stream, format=fmt)

    app.cleanup_ctx.append(lifespan)
    app.router.add_get("/", index)
    app.router.add_post("/api/chat", chat)
    return app


def main() -> None:
    port = int(os.environ.get("PORT", "8080"))
    print(f"relay on http://127.0.0.1:{port}/")
    web.run_app(create_app(), host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
