"""A real headless Chromium (Debian's) drives the example relay page over loopback: the answer
grows token by token with its sources, the history is carried across turns, Fini's failures are
shown clearly, and closing the page mid-answer cancels the upstream stream without a leak."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from examples.relay.app import create_app
from fini_async import FiniClient
from fini_async.testing import WRITE_KEY, FakeFini, assert_pool_idle, pool_stats

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

Q1 = "How do I reset my password?"
Q2 = "How do I upgrade to premium?"
#: Generous: the machine running the tests may be slow and busy.
WAIT_MS = 30_000


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


async def _open(browser: Any, url: str) -> Any:
    page = await browser.new_page()
    page.set_default_timeout(WAIT_MS)
    await page.goto(url)
    return page


async def _ask(page: Any, message: str) -> None:
    await page.fill("#q", message)
    await page.click("#send")  # waits while the previous answer is still streaming


async def _settled(page: Any, n: int) -> dict[str, Any]:
    """Wait until turn ``n`` (1-based) is done or failed; return what it shows."""
    turn = f"#log > .turn:nth-child({n})"
    await page.wait_for_selector(f"{turn}:is([data-state=done], [data-state=failed])")
    return await page.eval_on_selector(  # type: ignore[no-any-return]
        turn,
        """t => ({state: t.dataset.state, user: t.querySelector('.user').textContent,
                  answer: t.querySelector('.answer').textContent,
                  sources: [...t.querySelectorAll('.sources li')].map(li => li.textContent),
                  error: t.querySelector('.error').textContent})""",
    )


def _history(fake: FakeFini) -> list[dict[str, Any]]:
    """The message history of the last question the emulator received."""
    body = fake.state["last_bodies"]["ask-question"]
    return [{"role": m["role"], "content": m["content"]} for m in body["messageHistory"]]


async def _until(condition: Callable[[], bool], seconds: float = 30.0) -> float:
    """Wait for ``condition``; return how long it took."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():
        assert loop.time() - start < seconds, "condition never held"
        await asyncio.sleep(0.01)
    return loop.time() - start


async def test_answer_grows_token_by_token_with_sources(
    page_url: str, fake: FakeFini, client: FiniClient, browser: Any
) -> None:
    plain = await client.bots.ask_question(Q1)
    fake.chunk_delay = 0.05
    page = await _open(browser, page_url)
    # Record, in the page, what the turn shows after every change the relay's events make.
    await page.evaluate(
        """() => { window.seen = [];
        new MutationObserver(() => { const t = document.querySelector('.turn');
          window.seen.push([t.querySelector('.answer').textContent,
                            t.querySelectorAll('.sources li').length, t.dataset.state]); })
        .observe(document.getElementById('log'),
                 {subtree: true, childList: true, characterData: true, attributes: true}); }"""
    )
    await _ask(page, Q1)
    turn = await _settled(page, 1)
    assert turn == {
        "state": "done",
        "user": Q1,
        "answer": plain.answer,
        "sources": [f"{s.source_id} ({s.source_type})" for s in plain.based_on],
        "error": "",
    }
    seen = await page.evaluate("window.seen")
    partial = {answer for answer, _, state in seen if state == "streaming" and answer}
    assert len(partial) >= 3  # the answer appeared in several steps, growing
    assert all(plain.answer.startswith(answer) for answer in partial)
    # The sources were listed as soon as they arrived, before the answer finished.
    assert any(n == len(plain.based_on) and state == "streaming" for _, n, state in seen)


async def test_history_is_carried_across_turns(
    page_url: str, fake: FakeFini, client: FiniClient, browser: Any
) -> None:
    a1 = (await client.bots.ask_question(Q1)).answer
    a2 = (await client.bots.ask_question(Q2)).answer
    fake.chunk_delay = 0.02
    page = await _open(browser, page_url)
    await _ask(page, Q1)
    first = await _settled(page, 1)
    assert (first["state"], first["answer"]) == ("done", a1)
    assert _history(fake) == []
    await _ask(page, Q2)
    second = await _settled(page, 2)
    assert (second["state"], second["user"], second["answer"]) == ("done", Q2, a2)
    # Both turns stay on the page...
    assert await page.locator("#log > .turn").count() == 2
    assert await _settled(page, 1) == first
    # ...and the second question went to Fini with the first turn as its history.
    assert _history(fake) == [
        {"role": "user", "content": Q1},
        {"role": "assistant", "content": a1},
    ]
    await page.close()


async def test_says_clearly_when_fini_fails_and_stays_usable(
    page_url: str, fake: FakeFini, client: FiniClient, browser: Any
) -> None:
    a1 = (await client.bots.ask_question(Q1)).answer
    fake.chunk_delay = 0.02
    page = await _open(browser, page_url)

    fake.fail_next("ask-question", status=401)  # before the answer starts
    await _ask(page, Q1)
    refused = await _settled(page, 1)
    assert refused["state"] == "failed" and refused["answer"] == ""
    assert refused["error"] == "Fini failed (401 AuthenticationError): injected failure (401)"

    fake.error_in_stream_after(4, status=503, message="model overloaded")  # mid-answer
    await _ask(page, Q1)
    overloaded = await _settled(page, 2)
    assert overloaded["state"] == "failed"
    assert overloaded["error"].startswith("Fini failed (503 ")
    assert overloaded["error"].endswith(": model overloaded")
    assert overloaded["answer"] and a1.startswith(overloaded["answer"])  # what arrived stays

    fake.cut_stream_after(4)  # the connection to Fini breaks mid-answer
    await _ask(page, Q1)
    cut = await _settled(page, 3)
    assert cut["state"] == "failed" and a1.startswith(cut["answer"]) and cut["answer"]
    assert cut["error"].startswith("Fini failed (StreamError): the stream broke after it started")

    # The chat is still usable, and the failed turns are not in the history it sends.
    await _ask(page, Q2)
    ok = await _settled(page, 4)
    assert ok["state"] == "done" and ok["error"] == "" and ok["answer"]
    assert _history(fake) == []
    assert await page.locator("#log > .turn").count() == 4
    assert await page.locator(".error:not(:empty)").count() == 3
    assert WRITE_KEY not in await page.content()  # the API key never reaches the page


def _pending_tasks() -> set[asyncio.Task[object]]:
    return {t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()}


@pytest.mark.parametrize("upstream", ["streaming", "silent"])
async def test_closing_the_page_disconnects_upstream_without_a_leak(
    page_url: str, fake: FakeFini, client: FiniClient, browser: Any, upstream: str
) -> None:
    if upstream == "streaming":
        fake.chunk_delay = 0.3
    else:
        fake.stall_stream_after(3, 3.0)  # Fini goes quiet after the metadata and two tokens
    page = await _open(browser, page_url)
    baseline = _pending_tasks()
    await _ask(page, Q1)
    await page.wait_for_function("document.querySelector('.answer')?.textContent.length > 0")
    assert fake.streams_open == 1
    assert not pool_stats(client).idle  # the upstream answer holds a connection
    await page.close()
    if upstream == "streaming":
        took = await _until(lambda: fake.stream_disconnects == 1)
    else:
        # Nothing to write to the browser while Fini is silent, so no failed write reveals the
        # disconnect: the relay's watch on the connection does. The upstream response is
        # closed within the second, while the emulator still holds its answer back...
        took = await _until(lambda: pool_stats(client).idle)
        assert fake.streams_open == 1
        # ...and the emulator sees the disconnect as soon as it writes again.
        await _until(lambda: fake.stream_disconnects == 1)
    assert took < 1.0, took
    assert fake.streams_open == 0 and fake.streams_completed == 0
    assert fake.calls["ask-question"] == 1
    # The relay leaked nothing: no connection checked out of the client's pool...
    assert_pool_idle(client)
    # ...and no task left over from the request (its handler is done, nothing else runs).
    await _until(lambda: _pending_tasks() <= baseline, 10.0)
