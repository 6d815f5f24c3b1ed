"""The public surface: ``fini_async.__all__`` pinned, every name importable, classes shown under
their public path, ``dir()`` listing the lazy Sharely names, and no type from a private module in
a public signature unless it is exported."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from types import ModuleType
from typing import Any

import fini_async
import fini_async.relay
import fini_async.sharely
import fini_async.testing

EXPECTED_ALL = [
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AddedSources",
    "Answer",
    "AnswerDelta",
    "AnswerMetadata",
    "AnswerStream",
    "Article",
    "AskRequest",
    "AsyncPaginator",
    "AttemptHook",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchFailure",
    "BatchProgress",
    "BatchResult",
    "BatchSuccess",
    "Bot",
    "BulkDeleteError",
    "Chat",
    "ChatConversation",
    "ChatHistory",
    "ChatHistoryPage",
    "ChatRequest",
    "ChatSource",
    "ClientStateError",
    "ConfigurationError",
    "ConflictError",
    "Conversation",
    "ConversationList",
    "ConversationPage",
    "DeletedSourceArticle",
    "DeletedSourceDocument",
    "DeletedSources",
    "Event",
    "FiniClient",
    "FiniError",
    "Folder",
    "FolderNode",
    "FolderTree",
    "FunctionCall",
    "InternalServerError",
    "ItemIterator",
    "JobError",
    "JobFailedError",
    "JobIterator",
    "JobPoller",
    "JobStatus",
    "JobTimeoutError",
    "KnowledgeItem",
    "KnowledgeJob",
    "KnowledgeJobIterator",
    "Message",
    "NotAcceptableError",
    "NotFoundError",
    "Page",
    "PageIterator",
    "PermissionDeniedError",
    "Prompt",
    "ProviderResource",
    "RateLimitError",
    "RateLimiter",
    "RateLimiterUnavailableError",
    "RedisRateLimiter",
    "Rule",
    "SharelyBackgroundJob",
    "SharelyClient",
    "SharelyCreatedKnowledge",
    "SharelyDeletedKnowledge",
    "SharelyKnowledge",
    "SharelyKnowledgeList",
    "SharelyKnowledgePage",
    "SharelyKnowledgeRef",
    "SharelyUpdatedMetadata",
    "SharelyUploadFileMetadata",
    "SharelyUploadedFile",
    "Source",
    "SourceDocument",
    "SourceList",
    "SourcePage",
    "StreamError",
    "StreamEvent",
    "StreamResponse",
    "SyncDocumentResult",
    "SyncProgress",
    "SyncReport",
    "Tag",
    "TagGroup",
    "Timeout",
    "TokenBucket",
    "TreePersistResult",
    "UnknownEvent",
    "UnprocessableEntityError",
    "UsedArticle",
    "UsedFolder",
    "ValidationError",
    "__version__",
    "attempt_hook",
]

PUBLIC_MODULES: tuple[ModuleType, ...] = (
    fini_async,
    fini_async.sharely,
    fini_async.testing,
    fini_async.relay,
)


def test_all_is_pinned() -> None:
    assert fini_async.__all__ == EXPECTED_ALL


def test_every_exported_name_is_importable() -> None:
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"


def test_sharely_names_load_lazily_and_are_listed_by_dir() -> None:
    code = (
        "import sys, fini_async\n"
        "assert 'fini_async.sharely' not in sys.modules\n"
        "names = dir(fini_async)\n"
        "assert 'SharelyClient' in names and 'FiniClient' in names\n"
        "assert 'fini_async.sharely' not in sys.modules\n"
        "from fini_async import *\n"
        "assert SharelyClient.__module__ == 'fini_async.sharely'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_sharely_names_agree_with_the_sharely_package() -> None:
    lazy = {n for n in fini_async.__all__ if n.startswith("Sharely")}
    assert lazy == {n for n in fini_async.sharely.__all__ if n.startswith("Sharely")} - {
        "SharelyTokenAuth"
    }
    for name in lazy:
        assert getattr(fini_async, name) is getattr(fini_async.sharely, name)


def test_public_classes_print_under_their_public_path() -> None:
    assert repr(fini_async.RateLimitError) == "<class 'fini_async.RateLimitError'>"
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            value = getattr(module, name)
            if not isinstance(value, type):
                continue
            if module is fini_async.relay:
                continue  # relay re-exports; it is checked through fini_async
            lazy = module is fini_async and name.startswith("Sharely")
            home = "fini_async.sharely" if lazy else module.__name__
            assert value.__module__ == home, f"{module.__name__}.{name}: {value.__module__}"


def test_renamed_structs_still_decode() -> None:
    # msgspec resolves annotations in the module __module__ names: the fix-up must not break it
    import msgspec

    answer = msgspec.json.decode(b'{"answer": "hi", "basedOn": []}', type=fini_async.Answer)
    assert answer.answer == "hi"
    assert msgspec.convert({"id": "k1"}, fini_async.SharelyKnowledge).id == "k1"


def _public_classes() -> list[type]:
    classes: dict[int, type] = {}
    for module in PUBLIC_MODULES:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type):
                classes[id(value)] = value
    client = fini_async.FiniClient(api_key="k")
    sharely = fini_async.SharelyClient("k", workspace_id="w", organization_id="o")
    for resource in (
        client.bots,
        client.conversations,
        client.knowledge,
        client.sources,
        client.agents,
        client.knowledge_items,
        sharely.knowledge,
    ):
        classes[id(type(resource))] = type(resource)
    help_center = (client.articles, client.folders, client.rules, client.tags, client.tags.groups)
    for resource in help_center:
        classes[id(type(resource))] = type(resource)
    return list(classes.values())


def _exported() -> set[int]:
    return {id(getattr(m, n)) for m in PUBLIC_MODULES for n in m.__all__}


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DUNDERS = ("__init__", "__aenter__", "__aiter__", "__anext__", "__await__", "__call__")


def _private_types_in(annotation: Any, namespace: dict[str, Any], exported: set[int]) -> list[str]:
    found = []
    for token in _IDENT.findall(annotation if isinstance(annotation, str) else repr(annotation)):
        if token.startswith("_") and not token.startswith("__"):
            found.append(token)
            continue
        value = namespace.get(token)
        private_home = isinstance(value, type) and any(
            part.startswith("_") for part in value.__module__.split(".")
        )
        if private_home and id(value) not in exported:
            found.append(token)
    return found


def test_no_private_type_in_a_public_signature() -> None:
    exported = _exported()
    problems = []
    for cls in _public_classes():
        for attr, member in vars(cls).items():
            if attr.startswith("_") and attr not in _DUNDERS:
                continue
            func = member.fget if isinstance(member, property) else member
            func = getattr(func, "__func__", func)
            if not inspect.isfunction(func):
                continue
            namespace = vars(sys.modules[func.__module__])
            for param, annotation in func.__annotations__.items():
                for token in _private_types_in(annotation, namespace, exported):
                    problems.append(f"{cls.__name__}.{attr}({param}): {token}")
    assert not problems, problems
