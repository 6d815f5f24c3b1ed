"""Bad configuration and input give a ValidationError before anything is sent (issue 11):
base_url, API keys and headers, lone surrogates, NaN and infinities; for both clients."""

from __future__ import annotations

from typing import Any

import pytest

from fini_async import FiniClient, ValidationError
from fini_async.sharely import SharelyClient
from fini_async.testing import FakeFini, FakeSharely

CLIENTS = [FiniClient, SharelyClient]


def nothing_sent(fake: Any) -> bool:
    return sum(fake.calls.values()) == 0


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(
    "url",
    [
        "",
        "   ",
        "https://api.example.com/?key=secretpw",
        "https://api.example.com/#secretpw",
        "https://user:secretpw@api.example.com",
        "https://secretpw@api.example.com",
        "https://api.example.com:99999",
        "https://api.example.com:0",
        "https://api.example.com:abc",
        "https://api.exa mple.com",
        "https://api.example.com/\r\nX-Injected: 1",
        "ftp://api.example.com",
        "api.example.com",
    ],
)
def test_bad_base_url(cls: Any, url: str) -> None:
    with pytest.raises(ValidationError) as info:
        cls("k", base_url=url)
    assert info.value.field == "base_url"
    assert "secretpw" not in str(info.value)


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("url", [123, b"https://api.example.com", ["https://x"]])
def test_base_url_must_be_a_string(cls: Any, url: Any) -> None:
    with pytest.raises(ValidationError, match="must be a string"):
        cls("k", base_url=url)


@pytest.mark.parametrize(("cls", "var"), [(FiniClient, "FINI"), (SharelyClient, "SHARELY")])
def test_empty_base_url_does_not_fall_back(
    cls: Any, var: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"{var}_BASE_URL", "https://from-env.example.com")
    with pytest.raises(ValidationError, match="must not be empty"):
        cls("k", base_url="")
    assert cls("k").base_url == "https://from-env.example.com"  # None still means "the default"
    assert cls("k", base_url="https://h.example.com:8443/api/").base_url == (
        "https://h.example.com:8443/api"
    )


@pytest.mark.parametrize(("cls", "var"), [(FiniClient, "FINI"), (SharelyClient, "SHARELY")])
def test_bad_base_url_from_the_environment(
    cls: Any, var: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"{var}_BASE_URL", "https://u:secretpw@example.com")
    with pytest.raises(ValidationError) as info:
        cls("k")
    assert "secretpw" not in str(info.value)


BAD_TEXT = ["k\r\nX-Injected: 1", "k\nx", "k\0", "k\ud800"]


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize("key", [*BAD_TEXT, 123, b"key"])
def test_bad_api_key_at_construction(cls: Any, key: Any) -> None:
    with pytest.raises(ValidationError) as info:
        cls(key, base_url="http://127.0.0.1:1")
    assert info.value.field == "api_key"
    if isinstance(key, str):
        assert key not in str(info.value)


@pytest.mark.parametrize("cls", CLIENTS)
@pytest.mark.parametrize(
    "headers",
    [
        {"X-Trace": "a\r\nX-Injected: 1"},
        {"X-Trace": "a\nb"},
        {"X-Trace": "a\0"},
        {"X-Trace": 1},
        {"X-Trace": None},
        {"Bad Name": "v"},
        {"X-Bad\r\n": "v"},
        {"": "v"},
        {1: "v"},
        "X-Trace: 1",
    ],
)
def test_bad_default_headers_at_construction(cls: Any, headers: Any) -> None:
    with pytest.raises(ValidationError) as info:
        cls("k", base_url="http://127.0.0.1:1", default_headers=headers)
    assert info.value.field is not None and info.value.field.startswith("default_headers")


@pytest.mark.parametrize(
    "headers", [{"X-Trace": "a\r\nX-Injected: 1"}, {"X-Trace": 2}, {"No Good": "v"}]
)
async def test_bad_extra_headers_send_nothing(
    client: FiniClient, fake: FakeFini, headers: Any
) -> None:
    with pytest.raises(ValidationError):
        await client.bots.ask_question("q", extra_headers=headers)
    with pytest.raises(ValidationError):
        async with client.bots.stream_question("q", extra_headers=headers) as stream:
            await stream.get_final_text()
    with pytest.raises(ValidationError):
        await client.bots.list(extra_headers=headers)
    assert nothing_sent(fake)


async def test_bad_api_key_from_the_environment_sends_nothing(
    fake: FakeFini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINI_API_KEY", "key\r\nX-Injected: 1")
    async with FiniClient(base_url=fake.url, max_retries=0) as client:
        with pytest.raises(ValidationError) as info:
            await client.bots.ask_question("q")
    assert "X-Injected" not in str(info.value)
    assert nothing_sent(fake)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SHARELY_API_KEY", "key\nX-Injected: 1"),
        ("SHARELY_ORGANIZATION_ID", "org\r\nX-Injected: 1"),
    ],
)
async def test_bad_sharely_credentials_from_the_environment_send_nothing(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    async with FakeSharely() as fake:
        monkeypatch.setenv(name, value)
        kwargs: dict[str, Any] = {"workspace_id": fake.workspace_id, "max_retries": 0}
        if name != "SHARELY_API_KEY":
            kwargs["api_key"] = fake.api_key
        if name != "SHARELY_ORGANIZATION_ID":
            kwargs["organization_id"] = fake.organization_id
        async with SharelyClient(base_url=fake.url, **kwargs) as client:
            with pytest.raises(ValidationError):
                await client.knowledge.list()
        assert nothing_sent(fake)


@pytest.mark.parametrize("field", ["workspace_id", "organization_id"])
def test_bad_sharely_ids_at_construction(field: str) -> None:
    with pytest.raises(ValidationError) as info:
        SharelyClient("k", base_url="http://127.0.0.1:1", **{field: "x\r\ny"})
    assert info.value.field == field


async def test_lone_surrogates_are_refused(client: FiniClient, fake: FakeFini) -> None:
    with pytest.raises(ValidationError) as info:
        await client.bots.ask_question("caf\udce9?")
    assert info.value.field == "question"
    assert "\\udce9" in str(info.value)
    with pytest.raises(ValidationError):
        client.bots.stream_question("\ud800")
    with pytest.raises(ValidationError):
        await client.bots.ask_question("q", instruction="be \ud83d brief")
    with pytest.raises(ValidationError):
        await client.bots.ask_question("q", message_history=[{"role": "user", "content": "\udfff"}])
    with pytest.raises(ValidationError):
        await client.bots.ask_question("q", user_attributes={"name": "\ud800"})
    assert nothing_sent(fake)


async def test_sharely_lone_surrogates_are_refused() -> None:
    async with FakeSharely() as fake, fake.client() as client:
        with pytest.raises(ValidationError):
            await client.knowledge.create_text("text \ud800")
        assert nothing_sent(fake)


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan")])
async def test_non_finite_numbers_are_refused(
    client: FiniClient, fake: FakeFini, number: float
) -> None:
    with pytest.raises(ValidationError) as info:
        await client.bots.ask_question("q", user_attributes={"score": number})
    assert info.value.field == "user_attributes"
    with pytest.raises(ValidationError):
        client.bots.stream_question("q", user_attributes={"score": number})
    spec = {"name": "f", "parameters": {"type": "object", "default": [1.0, number]}}
    with pytest.raises(ValidationError):
        await client.bots.ask_question("q", functions=[spec])
    with pytest.raises(ValidationError):
        await client.bots.ask_question("q", temperature=number)
    assert nothing_sent(fake)


async def test_good_input_still_goes_through(client: FiniClient) -> None:
    answer = await client.bots.ask_question(
        "Café: how do I cancel? 🙂",
        user_attributes={"plan": "pro", "seats": 3, "ratio": 0.5, "vip": True},
        extra_headers={"X-Trace": "abc-123"},
    )
    assert answer.answer
