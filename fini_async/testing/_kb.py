"""The emulator's knowledge base: articles, and answers found by real text matching."""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field

__all__ = ["Article", "KnowledgeBase"]

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an and are as at be by can do does for from how i if in is it me my of on or our so "
    "that the this to us was we what when where which who why will with you your"
)
_STOP = frozenset(_STOP_WORDS.split())


def terms(text: str) -> list[str]:
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOP:
            continue
        if len(word) > 4 and word.endswith("s"):
            word = word[:-1]
        out.append(word)
    return out


@dataclass
class Article:
    """One help-center article. Only published (non-draft) articles answer questions."""

    title: str
    content: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    draft: bool = False
    source_id: str = ""
    source_type: str = "article"

    def text(self) -> str:
        return f"{self.title}\n{self.content}"


DEFAULT_ARTICLES = [
    Article(
        "What is Fini",
        "Fini is an AI tool that helps companies turn their knowledge base into AI chat in "
        "2 minutes.",
        source_id="https://usefini.com",
        source_type="url",
    ),
    Article(
        "Upgrading to premium",
        "To upgrade to premium, open Settings, choose Billing and select the Premium plan. "
        "The upgrade takes effect immediately and is prorated.",
        source_id="https://help.example.com/billing/upgrade",
        source_type="url",
    ),
    Article(
        "Cancelling an annual plan",
        "Customers on annual plans can cancel at the end of the current billing term from the "
        "Billing page.",
        source_id="https://help.example.com/billing/cancel",
        source_type="url",
    ),
    Article(
        "Resetting your password",
        "To reset your password, click 'Forgot password' on the sign-in page and follow the "
        "link we email you. The link expires after 30 minutes.",
        source_id="https://help.example.com/account/password",
        source_type="url",
    ),
    Article(
        "Refund policy",
        "Refunds are available within 14 days of purchase for monthly plans. Contact support "
        "with your order number to request a refund.",
        source_id="https://help.example.com/billing/refunds",
        source_type="url",
    ),
]

FALLBACK_ANSWER = (
    "I could not find that in the knowledge base. Please contact support and a human agent "
    "will help you."
)


class KnowledgeBase:
    """Articles, searched by cosine similarity of their terms with the question."""

    def __init__(self, articles: list[Article] | None = None) -> None:
        self.articles: dict[str, Article] = {}
        for article in DEFAULT_ARTICLES if articles is None else articles:
            self.put(Article(**vars(article)))

    def put(self, article: Article) -> Article:
        self.articles[article.id] = article
        return article

    def add(self, title: str, content: str, *, draft: bool = False, **kw: str) -> Article:
        return self.put(Article(title=title, content=content, draft=draft, **kw))

    def search(self, question: str, top_k: int = 3) -> list[tuple[Article, float]]:
        q = terms(question)
        if not q:
            return []
        qset = set(q)
        scored = []
        for article in self.articles.values():
            if article.draft:
                continue
            a = set(terms(article.text()))
            if not a:
                continue
            overlap = len(qset & a)
            if overlap:
                scored.append((article, round(overlap / math.sqrt(len(qset) * len(a)), 3)))
        scored.sort(key=lambda pair: pair[1], reverse=True)
        return scored[:top_k]

    def answer(self, question: str) -> tuple[str, list[dict[str, object]]]:
        """The answer text and its ``based_on`` list."""
        hits = self.search(question)
        if not hits:
            return FALLBACK_ANSWER, []
        based_on: list[dict[str, object]] = [
            {
                "answer": article.content,
                "score": score,
                "source_id": article.source_id or article.id,
                "source_type": article.source_type,
            }
            for article, score in hits
        ]
        return hits[0][0].content, based_on
