"""The emulated source routes (``/v2/documents/public``...): each reads the request, hands it to
``fake.sources`` (whose methods answer ``(status, body)``) and answers; a request body is kept in
``fake.sources.last_bodies`` under its route name, for tests to inspect."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._fini_wire import add_routes
from ._server import json_response

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["setup"]

_Logic = Callable[[dict[str, Any]], tuple[int, Any]]


def setup(fake: FakeFini, app: web.Application) -> None:
    base = "/v2/documents/public"
    add_routes(
        fake,
        app,
        [
            ("GET", base, "sources.list", "read", _list),
            ("POST", base, "sources.add", "write", _add),
            ("DELETE", base, "sources.delete", "write", _delete),
            ("POST", f"{base}/refresh", "sources.refresh", "write", _refresh),
            ("POST", f"{base}/deep-crawl/links", "sources.crawl", "write", _crawl),
            ("GET", f"{base}/resources/{{provider}}", "sources.discover", "read", _discover),
            ("POST", f"{base}/resources/{{provider}}", "sources.register", "write", _register),
            ("GET", f"{base}/{{id}}", "sources.get", "read", _get),
        ],
    )


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _reply(fake: FakeFini, status: int, body: Any) -> web.Response:
    if status >= 400:
        return fake.error(status, body)
    return json_response(body, status=status)


async def _with_body(
    fake: FakeFini, request: web.Request, logic: Callable[[FakeFini], _Logic]
) -> web.StreamResponse:
    body = await _json_body(request)
    if body is None:
        return fake.error(400, "Body must be a JSON object")
    fake.sources.last_bodies[request.match_info.route.name or request.path] = body
    return _reply(fake, *logic(fake)(body))


async def _list(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    return _reply(fake, *fake.sources.list_page(request.query))


async def _get(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    return _reply(fake, *fake.sources.get(request.match_info["id"]))


async def _add(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    return await _with_body(fake, request, lambda f: f.sources.ingest)


async def _delete(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    return await _with_body(fake, request, lambda f: f.sources.delete)


async def _refresh(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    return await _with_body(fake, request, lambda f: f.sources.refresh)


async def _crawl(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    return await _with_body(fake, request, lambda f: f.sources.crawl)


async def _discover(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    return _reply(fake, *fake.sources.discover(request.match_info["provider"]))


async def _register(fake: FakeFini, request: web.Request) -> web.StreamResponse:
    body = await _json_body(request)
    if body is None:
        return fake.error(400, "Body must be a JSON object")
    fake.sources.last_bodies["sources.register"] = body
    return _reply(fake, *fake.sources.register(request.match_info["provider"], body))
