"""``AnswerAccumulator``: the events of a streamed answer folded into the :class:`Answer` the plain
call returns. Pure: no sockets, no stream; ``AnswerStream`` drives it.

Metadata events merge field by field (the last value of each field wins, an absent one changes
nothing); text pieces are kept in order and joined once, when the text is asked for."""

from __future__ import annotations

from typing import Any

from ._models import Answer, AnswerMetadata, Message, Source
from ._stream_decode import META_FIELDS

__all__ = ["AnswerAccumulator"]

#: The fields merged as they come (``based_on`` is kept apart: an empty list does not replace
#: sources already received).
_MERGED = tuple(name for name in META_FIELDS if name != "based_on")


class AnswerAccumulator:
    """What a stream has delivered so far. ``parts`` is the list of text pieces (the stream
    appends to it directly on its hot path)."""

    __slots__ = ("_meta", "based_on", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.based_on: list[Source] | None = None
        self._meta: dict[str, Any] = {}

    def add(self, meta: AnswerMetadata) -> None:
        """Merge a metadata event."""
        if meta.based_on:
            self.based_on = meta.based_on
        merged = self._meta
        for name in _MERGED:
            value = getattr(meta, name)
            if value is not None:
                merged[name] = value

    def add_text(self, text: str) -> None:
        self.parts.append(text)

    @property
    def text(self) -> str:
        """The text so far."""
        return "".join(self.parts)

    def build(self, history: list[Message], question: str) -> Answer:
        """The whole answer. Without text pieces, the metadata's ``answer`` is the text; without
        ``messages``: the history plus this turn (what the next turn's history needs)."""
        fields = dict(self._meta)
        answer = fields.pop("answer", None)
        text = "".join(self.parts) if self.parts else (answer or "")
        if not fields.get("messages"):
            fields["messages"] = [
                *history,
                Message(role="user", content=question),
                Message(role="assistant", content=text),
            ]
        fields.setdefault("success", 1)
        return Answer(answer=text, based_on=self.based_on or [], **fields)
