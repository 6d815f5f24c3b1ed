"""Small helpers the emulated help-center routes share: reading a JSON body, checking fields
the NestJS way (every problem listed in one 400), ISO timestamps."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._server import Handler

if TYPE_CHECKING:
    from ._fini import FakeFini

__all__ = ["Checker", "add_routes", "bind", "iso", "json_body", "now_iso"]

#: A route handler written at module level: it takes the emulator first.
FakeHandler = Callable[["FakeFini", web.Request], Awaitable[web.StreamResponse]]


def bind(fake: FakeFini, handler: FakeHandler) -> Handler:
    """``handler`` bound to ``fake``, as aiohttp calls it: handlers live at module level (one
    function per route, readable and testable on their own) rather than as closures inside
    one long ``setup``."""

    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(fake, request)

    return route


def add_routes(
    fake: FakeFini, app: web.Application, routes: Iterable[tuple[str, str, str, str, FakeHandler]]
) -> None:
    """Register ``(method, path, route name, scope, handler)`` rows, each handler bound to
    ``fake`` (see :func:`bind`), in order: the order matters where patterns overlap."""
    for method, path, name, scope, handler in routes:
        fake.route(app, method, path, name, scope, bind(fake, handler))


def iso(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def now_iso() -> str:
    return iso(datetime.now(timezone.utc))


async def json_body(fake: FakeFini, request: web.Request) -> dict[str, Any] | web.Response:
    """The request's JSON object, or the 400 to answer."""
    try:
        body = json.loads(await request.read() or b"null")
    except ValueError:
        return fake.error(400, "Body is not valid JSON")
    if not isinstance(body, dict):
        return fake.error(400, "Body must be a JSON object")
    return body


class Checker:
    """Collects validation problems of one body; ``error()`` is the 400 (or None)."""

    def __init__(self, fake: FakeFini, body: dict[str, Any]) -> None:
        self.fake = fake
        self.body = body
        self.problems: list[str] = []

    def text(self, key: str, *, required: bool = True, empty: bool = False) -> None:
        if key not in self.body:
            if required:
                self.problems.append(f"{key} should not be empty")
            return
        value = self.body[key]
        if not isinstance(value, str):
            self.problems.append(f"{key} must be a string")
        elif not empty and not value.strip():
            self.problems.append(f"{key} should not be empty")

    def flag(self, key: str, *, required: bool = False) -> None:
        if key not in self.body:
            if required:
                self.problems.append(f"{key} must be a boolean value")
            return
        if not isinstance(self.body[key], bool):
            self.problems.append(f"{key} must be a boolean value")

    def strings(self, key: str, *, required: bool = True, non_empty: bool = True) -> None:
        if key not in self.body:
            if required:
                self.problems.append(f"{key} must be an array")
            return
        value = self.body[key]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problems.append(f"{key} must be an array of strings")
        elif non_empty and not value:
            self.problems.append(f"{key} should not be empty")

    def forbid(self, *keys: str) -> None:
        for key in keys:
            if key in self.body:
                self.problems.append(f"property {key} should not exist")

    def error(self) -> web.Response | None:
        return self.fake.error(400, self.problems) if self.problems else None
