"""``fini-async knowledge sync``: ``client.knowledge.sync_sources`` with a progress bar on a
terminal and one line per document as it finishes."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import SyncDocumentResult, SyncProgress, SyncReport
from ._options import CONTEXT, api_options
from ._output import error_line, error_record, json_line
from ._progress import stderr_console
from ._runtime import Settings, open_client, run

__all__ = ["knowledge_sync", "result_line", "result_record"]

_STAGE_TEXT = {
    "refresh": "refreshing the sources",
    "list": "listing the changed sources",
    "generate": "queueing generation",
    "wait": "generating",
    "done": "done",
}


def result_line(result: SyncDocumentResult) -> str:
    """``<document id>: published <live id> (draft <id>, job <id>)``, ``... draft <id>``, or
    ``... FAILED: error: ...``."""
    job = f"job {result.job_id}" if result.job_id else "no job"
    if result.error is not None:
        return f"{result.document_id}: FAILED ({job}) {error_line(result.error)}"
    if result.published:
        return f"{result.document_id}: published {result.live_article_id} ({job})"
    if result.article_id:
        return f"{result.document_id}: draft {result.article_id} ({job})"
    return f"{result.document_id}: no article changed ({job})"


def result_record(result: SyncDocumentResult) -> dict[str, Any]:
    """One document's result as the JSON object ``--json`` prints."""
    return {
        "document_id": result.document_id,
        "job_id": result.job_id,
        "article_id": result.article_id,
        "live_article_id": result.live_article_id,
        "published": result.published,
        "error": None if result.error is None else error_record(result.error),
    }


def _bar() -> Progress:
    console = stderr_console()
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


@click.command("sync", context_settings=CONTEXT)
@click.argument("source_ids", nargs=-1, metavar="[ID]...")
@click.option("--publish", is_flag=True, help="Publish each generated draft.")
@click.option(
    "--all", "every", is_flag=True, help="Generate from every refreshed source, changed or not."
)
@click.option("--instructions", metavar="TEXT", help="Instructions for the generation.")
@click.option("--bot-id", metavar="ID", help="Generate for this agent.")
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=600.0,
    show_default=True,
    help="Give up waiting on the fetches (and on the jobs) after this many seconds each.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per document.")
@api_options()
@click.pass_obj
def knowledge_sync(
    settings: Settings,
    source_ids: tuple[str, ...],
    publish: bool,
    every: bool,
    instructions: str | None,
    bot_id: str | None,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Refresh sources (the IDs given, else every source but raw files), generate knowledge
    from those that changed (--all: from all of them), wait for the jobs and, with --publish,
    publish the drafts.

    Prints one line per document as it finishes and a summary on stderr; exits with status 1
    when any document failed (the others still went through).

    \b
    fini-async knowledge sync --publish
    fini-async knowledge sync 3f2c... 9a41... --json
    """

    async def go() -> SyncReport:
        async with open_client(settings) as client:
            with _bar() as bar:
                task = bar.add_task(_STAGE_TEXT["refresh"], total=None)

                def on_progress(p: SyncProgress) -> None:
                    bar.update(
                        task,
                        description=_STAGE_TEXT.get(p.stage, p.stage),
                        total=p.total or None,
                        completed=p.finished,
                    )
                    if p.result is not None:
                        line = json_line(result_record(p.result)) if as_json else None
                        click.echo(line or result_line(p.result))

                return await client.knowledge.sync_sources(
                    list(source_ids) or None,
                    publish=publish,
                    only_changed=not every,
                    instructions=instructions,
                    bot_id=bot_id,
                    refresh_timeout=wait_timeout,
                    job_timeout=wait_timeout,
                    on_progress=on_progress,
                )

    report = run(settings, go)
    results = report.results
    published = sum(r.published for r in results)
    click.echo(
        f"{len(report.refreshed)} sources refreshed, {len(results)} documents synced: "
        f"{len(results) - len(report.failed)} ok ({published} published), "
        f"{len(report.failed)} failed",
        err=True,
    )
    if not report.ok:
        sys.exit(1)
