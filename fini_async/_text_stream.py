"""``AnswerStream.text_stream``: the answer's text pieces, on the stream's own cursor."""

from __future__ import annotations

import sys
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING

from ._models import AnswerDelta

if TYPE_CHECKING:
    from ._streaming import AnswerStream

__all__ = ["text_stream"]


async def _texts(stream: AnswerStream) -> AsyncGenerator[str, None]:
    # An async generator, not a class with ``async def __anext__``: resuming a generator costs
    # about half as much as calling a Python ``__anext__`` (a slot lookup and a new coroutine per
    # item). Each step re-reads the stream's cursor, so iterating the stream itself in between,
    # or a refill, is seen at once.
    yield ""  # the priming step taken by _text_stream, never seen by the caller
    while True:
        items = stream._items
        pos = stream._pos
        if pos < len(items):
            item = items[pos]
            if type(item) is AnswerDelta:  # the hot path: one piece of text, counted later
                stream._pos = pos + 1
                yield item.text
                continue
        elif not stream._finished:
            await stream._fill()  # what stream.__anext__ would do next, two coroutines fewer
            continue
        try:
            event = await stream.__anext__()
        except StopAsyncIteration:
            return
        if type(event) is AnswerDelta:
            yield event.text


def text_stream(stream: AnswerStream) -> AsyncIterator[str]:
    """``stream.text_stream``. The generator is started here, with no async-generator hooks
    installed, so that it is bound to none: breaking out of the caller's loop then closes it at
    once, synchronously, like a plain iterator (it holds nothing to clean up: the stream's own
    ``async with`` or ``close`` does that), instead of the event loop's finalizer scheduling a
    task to close it."""
    gen = _texts(stream)
    hooks = sys.get_asyncgen_hooks()
    sys.set_asyncgen_hooks(firstiter=None, finalizer=None)
    try:
        gen.__anext__().send(None)  # runs to the priming ``yield ""``: no I/O, no await
    except StopIteration:
        pass
    finally:
        sys.set_asyncgen_hooks(*hooks)
    return gen
