"""The wire structs and the conversation walk moved out of the resource modules; every name that
was importable from ``fini_async.resources.conversations`` and ``...knowledge`` still is, and is
the very object the new module defines (one definition, re-exported)."""

from __future__ import annotations

import importlib

import msgspec
import pytest

from fini_async.resources import conversations, knowledge

# What the resource modules offered before the split (their __all__ and the names documented or
# used by tests and examples).
CONVERSATION_NAMES = [
    *conversations.__all__,
    "DEFAULT_WINDOW",
    "EVENTS_PATH",
    "LIST_PATH",
    "ONE_PATH",
    "plan_windows",
]
KNOWLEDGE_NAMES = [
    *knowledge.__all__,
    "BULK_PATH",
    "GENERATE_PATH",
    "STATUS_PATH",
    "BulkGenerateBody",
    "GenerateBody",
    "JobLike",
    "JobStatusBody",
]


@pytest.mark.parametrize("name", CONVERSATION_NAMES)
def test_conversation_names_still_importable(name: str) -> None:
    assert getattr(conversations, name) is not None


@pytest.mark.parametrize("name", KNOWLEDGE_NAMES)
def test_knowledge_names_still_importable(name: str) -> None:
    assert getattr(knowledge, name) is not None


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("_conversation_models", "Conversation"),
        ("_conversation_models", "Event"),
        ("_conversation_models", "UsedArticle"),
        ("_conversation_models", "UsedFolder"),
        ("_conversation_pages", "ConversationList"),
        ("_conversation_pages", "ConversationPage"),
        ("_conversation_pages", "plan_windows"),
        ("_knowledge_models", "JobStatus"),
        ("_knowledge_jobs", "KnowledgeJob"),
        ("_knowledge_jobs", "KnowledgeJobIterator"),
    ],
)
def test_one_definition_re_exported(module: str, name: str) -> None:
    new = importlib.import_module(f"fini_async.resources.{module}")
    old = conversations if module.startswith("_conversation") else knowledge
    assert getattr(old, name) is getattr(new, name)
    import fini_async

    if name in fini_async.__all__:
        assert getattr(fini_async, name) is getattr(new, name)


def test_event_body_spells_its_wire_keys_in_camel_case() -> None:
    # The private body uses snake_case attributes with rename="camel", like every other struct.
    from fini_async.resources._conversation_models import _EventBody

    body = _EventBody(content="hi", role="agent", interaction_id="c1", bot_id="b1")
    assert msgspec.json.decode(msgspec.json.encode(body)) == {
        "content": "hi",
        "role": "agent",
        "interactionId": "c1",
        "botId": "b1",
    }
