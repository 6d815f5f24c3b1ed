"""Every HTTP failure maps to a typed exception carrying status, message, body and request id."""

from __future__ import annotations

import pytest

import fini_async
from fini_async import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FiniClient,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    UnprocessableEntityError,
)
from fini_async.testing import READ_KEY, FakeFini

ROUTE = "ask-question"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (418, APIStatusError),
    ],
)
async def test_status_maps_to_class(
    fake: FakeFini, client: FiniClient, status: int, cls: type[APIStatusError]
) -> None:
    fake.fail_next(ROUTE, 5, status, headers={"x-request-id": "req_abc"})
    with pytest.raises(cls) as info:
        await client.bots.ask_question("hello?", max_retries=0)
    err = info.value
    assert type(err) is cls
    assert err.status_code == status
    assert err.request_id == "req_abc"
    assert err.method == "POST"
    assert err.url.endswith("/v2/bots/ask-question")
    assert err.message == f"injected failure ({status})"
    assert isinstance(err.body, dict) and err.body["statusCode"] == status
    assert str(status) in str(err) and "req_abc" in str(err)
    assert isinstance(err, fini_async.APIError) and isinstance(err, fini_async.FiniError)


async def test_nestjs_message_list_is_joined(fake: FakeFini, client: FiniClient) -> None:
    body = {
        "statusCode": 400,
        "message": ["question must be a string", "temperature must be <= 2"],
        "error": "Bad Request",
    }
    fake.fail_next(ROUTE, status=400, body=body)
    with pytest.raises(BadRequestError) as info:
        await client.bots.ask_question("hello?")
    assert info.value.message == "question must be a string; temperature must be <= 2"
    assert info.value.body == body


async def test_html_502_page_gives_readable_message(fake: FakeFini, client: FiniClient) -> None:
    page = (
        "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
        "</h1></center><hr><center>nginx</center></body></html>"
    )
    fake.fail_next(ROUTE, 3, status=502, body=page)
    with pytest.raises(InternalServerError) as info:
        await client.bots.ask_question("hello?")
    err = info.value
    assert err.status_code == 502
    assert "502 Bad Gateway" in err.message and "<" not in err.message
    assert err.body == page
    assert fake.calls[ROUTE] == 3  # 502 is retried for a safe request: 1 + max_retries


async def test_sharely_style_error_body(fake: FakeFini, client: FiniClient) -> None:
    body = {"error": "Unprocessable Entity", "message": "Unable to fetch the URL", "details": {}}
    fake.fail_next(ROUTE, status=422, body=body)
    with pytest.raises(UnprocessableEntityError) as info:
        await client.bots.ask_question("hello?")
    assert info.value.message == "Unable to fetch the URL"


async def test_empty_error_body(fake: FakeFini, client: FiniClient) -> None:
    fake.fail_next(ROUTE, status=404, body=b"")
    with pytest.raises(NotFoundError) as info:
        await client.bots.ask_question("hello?")
    assert info.value.message == "HTTP 404"


async def test_real_authentication_and_scope_errors(fake: FakeFini) -> None:
    async with fake.client(api_key="fini_wrong") as client:
        with pytest.raises(AuthenticationError) as info:
            await client.bots.ask_question("hello?")
    assert info.value.message == "Invalid or missing API key"
    assert fake.calls[ROUTE] == 1  # 401 is never retried
    # A read-only key can ask questions (a read route).
    async with fake.client(api_key=READ_KEY) as client:
        answer = await client.bots.ask_question("What is Fini?")
    assert answer.success == 1


async def test_undecodable_success_body(fake: FakeFini, client: FiniClient) -> None:
    fake.respond_next(ROUTE, b"<html>maintenance</html>")
    with pytest.raises(fini_async.APIResponseValidationError) as info:
        await client.bots.ask_question("hello?")
    assert info.value.body == b"<html>maintenance</html>"
