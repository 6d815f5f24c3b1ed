"""``ask-many``'s loop: ``client.bots.ask_many`` over the questions not answered yet, each result
written (one whole line) the moment it arrives."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import (
    AuthenticationError,
    BatchProgress,
    ConfigurationError,
    FiniClient,
    PermissionDeniedError,
)
from ._batchfile import AnswerFile, Item
from ._output import answer_record, error_record, json_line, leaf_exception

__all__ = ["FATAL_ERRORS", "BatchStats", "answer_to_file"]

#: Failures that would fail every other question the same way: they stop the batch (nothing is
#: written for them) instead of filling the file with error lines.
FATAL_ERRORS = (AuthenticationError, PermissionDeniedError, ConfigurationError)


@dataclass
class BatchStats:
    """Counts for the progress bar, the summary and the interruption message."""

    total: int
    already_done: int
    answered: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    def restart_clock(self) -> None:
        self.started = time.monotonic()

    @property
    def written(self) -> int:
        return self.answered + self.failed

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        elapsed = self.elapsed
        return self.written / elapsed if elapsed > 0 else 0.0


async def answer_to_file(
    client: FiniClient,
    pending: list[Item],
    out: AnswerFile,
    stats: BatchStats,
    *,
    concurrency: int,
    rate: float | None,
    ask_kwargs: dict[str, Any],
    on_result: Callable[[BatchStats, BatchProgress], None],
) -> None:
    """Ask every ``pending`` item (at most ``concurrency`` at once, at most ``rate`` a second) and
    write each result to ``out`` as it arrives. ``on_result(stats, batch.progress)`` runs after
    each write.

    Cancelling (Ctrl-C) closes the batch, cancelling the requests in flight; every line written
    before stays whole. A failure in :data:`FATAL_ERRORS` stops the batch and is raised."""
    requests = [item.request() for item in pending]
    async with client.bots.ask_many(
        requests, concurrency=concurrency, rate_limit=rate, ordered=False, **ask_kwargs
    ) as batch:
        async for result in batch:
            item = pending[result.index]
            record: dict[str, Any] = {"index": item.index, "id": item.id, "question": item.question}
            if result.error is not None:
                error = leaf_exception(result.error)
                if isinstance(error, FATAL_ERRORS):
                    raise error
                record["error"] = error_record(error)
            elif result.answer is not None:
                record.update(answer_record(result.answer))
            out.write(json_line(record))
            if result.error is not None:
                stats.failed += 1
            else:
                stats.answered += 1
            on_result(stats, batch.progress)
