"""What the CLI draws while it waits: the consoles, a spinner, the spinner that follows a
knowledge job's state (shared by ``knowledge generate --wait`` and the demo), and ask-many's
progress bar. Spinners and bars show on a terminal only and are gone afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .. import FiniClient, KnowledgeJob
from ._askmany import BatchStats

__all__ = [
    "RateColumn",
    "batch_progress",
    "spinner",
    "stderr_console",
    "stdout_console",
    "wait_for_job",
]


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def stdout_console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:  # piped: never wrap or cut ids to fit 80 columns
        console = Console(highlight=False, width=250)
    return console


def _spinner_progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@contextmanager
def spinner(description: str) -> Iterator[Callable[[], None]]:
    """A spinner on stderr while waiting for the API (only on a terminal, and gone afterwards).
    Yields a function that stops it early (before printing what arrived)."""
    progress = _spinner_progress(stderr_console())
    progress.add_task(description, total=None)
    with progress:
        yield progress.stop


async def wait_for_job(
    client: FiniClient,
    job: KnowledgeJob,
    *,
    timeout: float | None,
    console: Console | None = None,
    label: str = "waiting",
) -> None:
    """Wait for a knowledge job with a spinner that shows its state as the poller sees it change
    (``job 123: IN_PROGRESS``); raises what :meth:`KnowledgeJob.wait` raises."""
    with _spinner_progress(console or stderr_console()) as progress:
        task = progress.add_task(f"job {job.id}: {label}", total=None)

        def on_change(job_id: str, status: Any) -> None:
            if job_id == job.id:
                progress.update(task, description=f"job {job_id}: {status.status}")

        remove = client.knowledge.add_progress_callback(on_change)
        try:
            await client.knowledge.wait(job, timeout=timeout)
        finally:
            remove()


class RateColumn(ProgressColumn):
    """Results per second since the batch started."""

    def __init__(self, stats: BatchStats) -> None:
        super().__init__()
        self.stats = stats

    def render(self, task: Task) -> Text:
        return Text(f"{self.stats.rate:,.1f}/s", style="progress.data.speed")


def batch_progress(stats: BatchStats) -> Progress:
    """ask-many's bar on stderr: done of total, rate, elapsed and remaining time, and a
    description the caller keeps up to date."""
    return Progress(
        TextColumn("asking"),
        BarColumn(bar_width=30),
        MofNCompleteColumn(),
        RateColumn(stats),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}"),
        console=stderr_console(),
    )
