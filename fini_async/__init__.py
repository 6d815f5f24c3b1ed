"""fini-async: the asyncio-first Python SDK for Fini and Sharely."""

from typing import TYPE_CHECKING, Any

from ._batch import Batch, BatchFailure, BatchProgress, BatchResult, BatchSuccess
from ._client import FiniClient
from ._config import DEFAULT_TIMEOUT, Timeout
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BulkDeleteError,
    ClientStateError,
    ConfigurationError,
    ConflictError,
    FiniError,
    InternalServerError,
    JobError,
    JobFailedError,
    JobTimeoutError,
    NotAcceptableError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    StreamError,
    UnprocessableEntityError,
    ValidationError,
)
from ._models import (
    Answer,
    AnswerDelta,
    AnswerMetadata,
    FunctionCall,
    Message,
    Source,
    StreamEvent,
    UnknownEvent,
)
from ._pagination import AsyncPaginator, ItemIterator, Page, PageIterator
from ._poller import JobIterator, JobPoller
from ._public import public_module as _public_module
from ._ratelimit import RateLimiter, RateLimiterUnavailableError, TokenBucket
from ._streaming import AnswerStream
from ._transport import AttemptHook, StreamResponse, attempt_hook
from ._version import __version__
from .resources._articles_models import Article
from .resources._chat_history import (
    ChatConversation,
    ChatHistory,
    ChatHistoryPage,
    ChatRequest,
    ChatSource,
)
from .resources._sync import SyncDocumentResult, SyncProgress, SyncReport
from .resources.agents import Prompt
from .resources.bots import AskRequest, Bot, Chat
from .resources.conversations import (
    Conversation,
    ConversationList,
    ConversationPage,
    Event,
    UsedArticle,
    UsedFolder,
)
from .resources.folders import Folder, FolderNode, FolderTree
from .resources.knowledge import JobStatus, KnowledgeJob, KnowledgeJobIterator, TreePersistResult
from .resources.knowledge_items import KnowledgeItem
from .resources.rules import Rule
from .resources.sources import (
    AddedSources,
    DeletedSourceArticle,
    DeletedSourceDocument,
    DeletedSources,
    ProviderResource,
    SourceDocument,
    SourceList,
    SourcePage,
)
from .resources.tags import Tag, TagGroup

if TYPE_CHECKING:  # imported on first use: most users of the Fini client never need Sharely
    from ._redis_ratelimit import RedisRateLimiter
    from .sharely import (
        SharelyBackgroundJob,
        SharelyClient,
        SharelyCreatedKnowledge,
        SharelyDeletedKnowledge,
        SharelyKnowledge,
        SharelyKnowledgeList,
        SharelyKnowledgePage,
        SharelyKnowledgeRef,
        SharelyUpdatedMetadata,
        SharelyUploadedFile,
        SharelyUploadFileMetadata,
    )


def __getattr__(name: str) -> Any:
    if name.startswith("Sharely") and name in __all__:  # the names imported above for mypy
        from . import sharely

        value = getattr(sharely, name)
        globals()[name] = value
        return value
    if name == "RedisRateLimiter":  # redis-py itself is imported when one is made
        from ._redis_ratelimit import RedisRateLimiter

        _public_module({name: RedisRateLimiter}, [name], __name__)
        globals()[name] = RedisRateLimiter
        return RedisRateLimiter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))  # the lazy Sharely names too


__all__ = [
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


_public_module(globals(), __all__, __name__)
