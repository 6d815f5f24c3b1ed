"""An emulator of the Fini (and Sharely) APIs for tests, demos and local development.

It speaks real HTTP on loopback: run it in-process (``async with FakeFini() as fake``) or
standalone (``python -m fini_async.testing`` or ``fini-async emulator``)."""

from .._public import public_module as _public_module
from ._fini import READ_KEY, WRITE_KEY, FakeFini
from ._fini_articles import FakeArticles, FakeFolder, HelpCenterMeta
from ._fini_conversations import FakeConversation, FakeConversations, conversations_of
from ._fini_knowledge import FakeJob, FakeKnowledge, knowledge_of
from ._fini_rules import FakeRule, FakeRules
from ._fini_tags import FakeTag, FakeTagGroup, FakeTags
from ._kb import Article, KnowledgeBase
from ._pool import PoolStats, assert_pool_idle, pool_stats, wait_for_pool_idle
from ._server import EmulatorServer, Fault, StreamFault
from ._sharely import FakeSharely, SharelyItem, SharelyJob

__all__ = [
    "READ_KEY",
    "WRITE_KEY",
    "Article",
    "EmulatorServer",
    "FakeArticles",
    "FakeConversation",
    "FakeConversations",
    "FakeFini",
    "FakeFolder",
    "FakeJob",
    "FakeKnowledge",
    "FakeRule",
    "FakeRules",
    "FakeSharely",
    "FakeTag",
    "FakeTagGroup",
    "FakeTags",
    "Fault",
    "HelpCenterMeta",
    "KnowledgeBase",
    "PoolStats",
    "SharelyItem",
    "SharelyJob",
    "StreamFault",
    "assert_pool_idle",
    "conversations_of",
    "knowledge_of",
    "pool_stats",
    "wait_for_pool_idle",
]

_public_module(globals(), __all__, __name__)
