"""The client and its session manager: configuration, lifecycle, headers, logs, secrets, input."""

from __future__ import annotations

import asyncio
import logging
import os
import platform
import subprocess
import sys
import threading
import traceback

import aiohttp
import pytest

import fini_async
from fini_async import (
    AuthenticationError,
    ClientStateError,
    ConfigurationError,
    FiniClient,
    Message,
    ValidationError,
)
from fini_async.testing import WRITE_KEY, FakeFini

ROUTE = "ask-question"
SECRET = "fini_supersecret_0123456789"


async def test_env_fallbacks(fake: FakeFini, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINI_API_KEY", WRITE_KEY)
    monkeypatch.setenv("FINI_BASE_URL", fake.url)
    async with FiniClient() as client:
        assert client.base_url == fake.url
        assert (await client.bots.ask_question("What is Fini?")).answer


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FINI_BASE_URL", raising=False)
    assert FiniClient(api_key="k").base_url == "https://api-prod.usefini.com"


async def test_missing_key_fails_at_first_request_naming_the_variable(
    fake: FakeFini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FINI_API_KEY", raising=False)
    client = FiniClient(base_url=fake.url)  # no error here: nothing is sent yet
    async with client:
        with pytest.raises(ConfigurationError, match="FINI_API_KEY"):
            await client.bots.ask_question("What is Fini?")
    assert fake.calls[ROUTE] == 0


def test_constructor_does_no_io_and_needs_no_loop() -> None:
    client = FiniClient(api_key="k", base_url="http://127.0.0.1:9")
    assert client._transport._session is None
    with pytest.raises(ValidationError):
        FiniClient(api_key="k", base_url="not a url")
    with pytest.raises(ValidationError):
        FiniClient(api_key="k", max_connections=0)


async def test_closed_client_raises_clear_error(fake: FakeFini) -> None:
    client = fake.client()
    await client.bots.ask_question("What is Fini?")
    await client.aclose()
    await client.aclose()  # idempotent
    assert client.closed
    with pytest.raises(ClientStateError, match="closed"):
        await client.bots.ask_question("What is Fini?")


async def test_client_closed_before_use(fake: FakeFini) -> None:
    client = fake.client()
    await client.aclose()
    with pytest.raises(ClientStateError):
        await client.bots.ask_question("What is Fini?")


async def test_use_from_a_second_event_loop_is_refused(fake: FakeFini) -> None:
    async with fake.client() as client:
        await client.bots.ask_question("What is Fini?")
        errors: list[BaseException] = []

        def other_loop() -> None:
            try:
                asyncio.run(client.bots.ask_question("What is Fini?"))
            except BaseException as exc:
                errors.append(exc)

        thread = threading.Thread(target=other_loop)
        thread.start()
        await asyncio.to_thread(thread.join)
        assert len(errors) == 1 and isinstance(errors[0], ClientStateError)
        assert "another event loop" in str(errors[0])
        assert fake.calls[ROUTE] == 1


async def test_callers_session_is_used_and_left_open(fake: FakeFini) -> None:
    async with aiohttp.ClientSession() as session:
        async with FiniClient(api_key=WRITE_KEY, base_url=fake.url, session=session) as client:
            assert (await client.bots.ask_question("What is Fini?")).answer
        assert not session.closed
        async with session.get(fake.url + "/v2/bots/public") as resp:
            assert resp.status == 401  # still usable: no key on this plain request


async def test_session_is_created_lazily_in_the_running_loop(fake: FakeFini) -> None:
    client = fake.client()
    assert client._transport._session is None
    async with client:
        await client.bots.ask_question("What is Fini?")
        assert client._transport._loop is asyncio.get_running_loop()
        session = client._transport._session
        assert session is not None
    assert session.closed


async def test_user_agent_default_and_extra_headers(fake: FakeFini) -> None:
    async with fake.client(default_headers={"X-Team": "support"}) as client:
        await client.bots.ask_question("What is Fini?", extra_headers={"X-Trace": "t1"})
    seen = fake.last_headers[ROUTE]
    ua = seen["User-Agent"]
    assert ua == (
        f"fini-async/{fini_async.__version__} (python {platform.python_version()}; "
        f"aiohttp {aiohttp.__version__})"
    )
    assert seen["X-Team"] == "support" and seen["X-Trace"] == "t1"
    assert seen["Content-Type"] == "application/json"
    assert seen["Authorization"] == f"Bearer {WRITE_KEY}"


async def test_connection_pool_keeps_connections_alive(fake: FakeFini) -> None:
    async with fake.client(max_connections=4) as client:
        await asyncio.gather(*(client.bots.ask_question("What is Fini?") for _ in range(40)))
        connector = client._transport._session.connector  # type: ignore[union-attr]
        assert connector is not None and connector.limit == 4
        assert 1 <= sum(len(v) for v in connector._conns.values()) <= 4  # idle, kept alive


async def test_validation_happens_before_any_request(fake: FakeFini, client: FiniClient) -> None:
    bad_calls = [
        {"question": ""},
        {"question": "   "},
        {"question": 42},
        {"question": "q", "temperature": 2.5},
        {"question": "q", "temperature": -0.1},
        {"question": "q", "temperature": True},
        {"question": "q", "message_history": [{"role": "robot", "content": "beep"}]},
        {"question": "q", "message_history": [Message(role="moderator", content="x")]},
        {"question": "q", "message_history": "not a list"},
        {"question": "q", "message_history": [{"content": "no role"}]},
        {"question": "q", "stop": [1, 2]},
        {"question": "q", "categories": "billing"},
        {"question": "q", "user_attributes": {"plan": ["a", "b"]}},
        {"question": "q", "functions": [{"description": "no name"}]},
        {"question": "q", "function_call": "sometimes"},
    ]
    for kwargs in bad_calls:
        with pytest.raises(ValidationError) as info:
            await client.bots.ask_question(**kwargs)  # type: ignore[arg-type]
        assert isinstance(info.value, ValueError)
        with pytest.raises(ValidationError):
            client.bots.stream_question(**kwargs)  # type: ignore[arg-type]
    assert fake.calls[ROUTE] == 0


async def test_request_body_on_the_wire(fake: FakeFini, client: FiniClient) -> None:
    answer = await client.bots.ask_question(
        "How do I upgrade to premium?",
        message_history=[{"role": "system", "content": "Be brief."}],
        temperature=0.2,
        categories=["billing"],
        user_attributes={"plan": "pro", "seats": 3},
        stop=["\n\n"],
    )
    assert answer.categories == ["billing"]
    assert answer.based_on and answer.based_on[0].source_type == "url"
    assert [m.role for m in answer.messages] == ["system", "user", "assistant"]


async def test_tolerant_decoding_of_unusual_answers(fake: FakeFini, client: FiniClient) -> None:
    fake.respond_next(
        ROUTE,
        {
            "answer": "Hi",
            "answer_uuid": 1234,
            "based_on": {"answer": "A", "score": 1, "source_id": 7, "source_type": "pdf"},
            "categories": None,
            "messages": [{"role": "tool", "content": None}],
            "success": True,
            "brand_new_field": {"x": 1},
            "function_call": {"name": "lookup", "arguments": {"id": 3}},
            "conversation_id": "c1",
            "language": "en",
        },
    )
    answer = await client.bots.ask_question("hi?")
    assert answer.answer == "Hi" and answer.answer_uuid == "1234"
    assert answer.based_on[0].source_id == "7" and answer.based_on[0].score == 1.0
    assert answer.categories == [] and answer.success is True
    assert answer.messages[0].role == "tool"  # an open set: a new role never breaks a client
    assert answer.function_call is not None and answer.function_call.name == "lookup"
    assert answer.conversation_id == "c1" and answer.language == "en"


async def test_chat_carries_history(client: FiniClient) -> None:
    chat = client.bots.chat(instruction="Answer briefly.")
    first = await chat.ask("How do I upgrade to premium?")
    assert [m.role for m in chat.history] == ["user", "assistant"]
    async with chat.stream("And how do I reset my password?") as stream:
        second = await stream.get_final_answer()
    assert [m.content for m in chat.history] == [
        "How do I upgrade to premium?",
        first.answer,
        "And how do I reset my password?",
        second.answer,
    ]
    # An abandoned stream does not change the history.
    async with chat.stream("What is Fini?") as stream:
        await stream.__anext__()
    assert len(chat.history) == 4
    chat.reset()
    assert chat.history == []
    with pytest.raises(ValidationError):
        client.bots.chat(temperature=9)


async def test_bots_list(client: FiniClient) -> None:
    bots = await client.bots.list()
    assert bots and bots[0].id


# -- secrets ---------------------------------------------------------------------------------


async def test_secret_never_in_repr_logs_or_errors(
    fake: FakeFini, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="fini_async")
    fake.keys[SECRET] = {"read"}
    texts: list[str] = []
    async with FiniClient(api_key=SECRET, base_url=fake.url, max_retries=1) as client:
        client._transport.backoff_initial = 0.01
        texts += [repr(client), str(client), repr(client._transport), repr(client.bots)]
        texts += [repr(vars(client))]
        await client.bots.ask_question("What is Fini?")
        fake.fail_next(ROUTE, 2, 500)
        with pytest.raises(fini_async.InternalServerError) as info:
            await client.bots.ask_question("What is Fini?")
        texts += [str(info.value), repr(info.value), repr(vars(info.value))]
        texts += traceback.format_exception(info.value)
        async with client.bots.stream_question("What is Fini?") as stream:
            texts.append(repr(stream))
        fake.keys.pop(SECRET)
        with pytest.raises(AuthenticationError) as auth:
            await client.bots.ask_question("What is Fini?")
        texts += [str(auth.value), repr(auth.value), *traceback.format_exception(auth.value)]
    log_text = caplog.text
    assert "POST /v2/bots/ask-question -> 200 attempt=1 elapsed=" in log_text
    assert "-> 500 attempt=2" in log_text
    for text in [*texts, log_text]:
        assert SECRET not in text
        assert "Authorization" not in text


def test_fini_log_env_turns_on_debug_logging(tmp_path: object) -> None:
    code = (
        "import asyncio\n"
        "from fini_async.testing import FakeFini\n"
        "async def main():\n"
        "    async with FakeFini() as fake:\n"
        "        async with fake.client() as c:\n"
        "            await c.bots.ask_question('What is Fini?')\n"
        "asyncio.run(main())\n"
    )
    env = {**os.environ, "FINI_LOG": "debug"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "fini_async DEBUG POST /v2/bots/ask-question -> 200 attempt=1" in out.stderr
    assert WRITE_KEY not in out.stderr


async def test_emulator_answers_a_follow_up_in_the_light_of_the_history(
    client: FiniClient,
) -> None:
    chat = client.bots.chat()
    first = await chat.ask("How do I upgrade to premium?")
    follow = await chat.ask("Is that upgrade prorated?")
    assert follow.answer == f'Following up on "How do I upgrade to premium?": {first.answer}'
    alone = await client.bots.ask_question("Is that upgrade prorated?")  # no history
    assert not alone.answer.startswith("Following up")
    fresh = await chat.ask("How do I reset my password?")  # a new question, not a follow-up
    assert not fresh.answer.startswith("Following up")
