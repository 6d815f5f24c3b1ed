"""Lists derived, not restated. The ask options are listed once, derived from
:class:`AskRequest`'s fields, and every place that takes them (``ask_question``'s signature, the
body builder, ``ask_many``, ``chat``, the CLI's batch files) agrees with that one list. The relay
sends AnswerMetadata's fields as the struct declares them."""

from __future__ import annotations

import inspect

import msgspec
import pytest

from fini_async import AnswerMetadata, FiniClient, Source, ValidationError
from fini_async.cli._batchfile import OPTION_KEYS, OPTION_TYPES
from fini_async.resources.bots import (
    ASK_OPTIONS,
    REQUEST_OPTIONS,
    BotsResource,
    build_body,
)


def _keyword_params(func: object, *, drop: set[str]) -> set[str]:
    params = inspect.signature(func).parameters  # type: ignore[arg-type]
    return {name for name in params if name not in drop}


def test_ask_options_match_ask_question_and_stream_question() -> None:
    assert _keyword_params(BotsResource.ask_question, drop={"self", "question"}) == ASK_OPTIONS
    assert (
        _keyword_params(BotsResource.stream_question, drop={"self", "question", "_on_complete"})
        == ASK_OPTIONS
    )


def test_request_options_are_the_ones_the_body_does_not_take() -> None:
    assert {"timeout", "max_retries", "extra_headers"} == REQUEST_OPTIONS
    assert _keyword_params(build_body, drop={"question", "stream"}) == ASK_OPTIONS - REQUEST_OPTIONS


def test_cli_batch_files_take_the_body_options() -> None:
    assert OPTION_KEYS == ASK_OPTIONS - REQUEST_OPTIONS
    assert set(OPTION_TYPES) == OPTION_KEYS  # every option has its JSON type for the file check


async def test_chat_refuses_an_unknown_default_with_a_validation_error() -> None:
    # chat() used to pass its defaults straight to the body builder: a TypeError.
    async with FiniClient(api_key="k", base_url="http://127.0.0.1:9") as client:
        with pytest.raises(ValidationError) as info:
            client.bots.chat(instructoin="typo")
        assert info.value.field == "instructoin"
        with pytest.raises(ValidationError):
            client.bots.chat(temperature=5)


def test_relay_sends_every_scalar_metadata_field() -> None:
    from fini_async._framing import _meta_payload

    not_relayed = {"answer", "messages", "function_call", "raw"}
    values = {
        "answer_uuid": "u1",
        "categories": ["billing"],
        "success": 1,
        "conversation_id": "c1",
        "language": "en",
    }
    meta = AnswerMetadata(based_on=[Source(source_id="s1")], **values)
    payload = _meta_payload(meta)
    assert payload == {"based_on": msgspec.to_builtins(meta.based_on), **values}
    fields = {f.name for f in msgspec.structs.fields(AnswerMetadata)}
    assert set(payload) == fields - not_relayed
