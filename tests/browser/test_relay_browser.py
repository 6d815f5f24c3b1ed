"""A real headless Chromium (Debian's) drives the example relay page."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from examples.relay.app import create_app
from fini_async import FiniClient
from fini_async.testing import FakeFini

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
try:
    from playwright.async_api import async_playwright
except ImportError:  # pragma: no cover
    async_playwright = None  # type: ignore[assignment]

if async_playwright is None or not os.path.exists(CHROMIUM):
    if os.environ.get("FINI_REQUIRE_BROWSER"):
        raise RuntimeError("FINI_REQUIRE_BROWSER is set but Chromium or playwright is missing")
    pytest.skip(
        "needs Debian's chromium and the playwright package (.ci/install-browser)",
        allow_module_level=True,
    )


@pytest.fixture
async def page_url(client: FiniClient) -> AsyncIterator[str]:
    runner = web.AppRunner(create_app(client), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/"
    await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    async with async_playwright() as p:
        b = await p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield b
        await b.close()


async def test_answer_grows_token_by_token_with_sources(
    page_url: str, fake: FakeFini, browser: Any
) -> None:
    fake.chunk_delay = 0.05
    page = await browser.new_page()
    await page.goto(page_url)
    await page.fill("#q", "How do I reset my password?")
    await page.click("button")
    seen = set()
    for _ in range(200):
        seen.add(await page.text_content(".answer") or "")
        if fake.streams_completed:
            break
        await asyncio.sleep(0.02)
    await page.wait_for_selector(".sources li")
    assert len({s for s in seen if s}) >= 3  # the answer appeared in several steps
    assert "reset" in (await page.text_content(".answer") or "").lower()


async def test_closing_the_page_disconnects_upstream(
    page_url: str, fake: FakeFini, browser: Any
) -> None:
    fake.chunk_delay = 0.5
    page = await browser.new_page()
    await page.goto(page_url)
    await page.fill("#q", "How do I reset my password?")
    await page.click("button")
    for _ in range(200):
        if (await page.text_content(".answer")) and fake.streams_open == 1:
            break
        await asyncio.sleep(0.02)
    assert fake.streams_open == 1
    await page.close()
    for _ in range(100):
        if fake.streams_open == 0:
            break
        await asyncio.sleep(0.01)
    assert fake.streams_open == 0 and fake.stream_disconnects == 1
