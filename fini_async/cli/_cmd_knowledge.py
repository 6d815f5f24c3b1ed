"""``fini-async knowledge``: queue a knowledge-generation job (and wait for it), read job
statuses."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from ._options import CONTEXT, api_options
from ._output import json_line, when_text
from ._progress import spinner, stdout_console, wait_for_job
from ._runtime import Settings, fail, open_client, run

__all__ = ["knowledge"]


# -- knowledge -----------------------------------------------------------------------------------


@click.group(context_settings=CONTEXT)
def knowledge() -> None:
    """Generate knowledge (background jobs) and read job statuses."""


@knowledge.command("generate", context_settings=CONTEXT)
@click.argument("text", required=False)
@click.option(
    "-f",
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the candidate knowledge from this file instead of TEXT.",
)
@click.option("--wait", is_flag=True, help="Wait for the job to finish, with a spinner.")
@click.option(
    "--draft/--publish",
    default=True,
    show_default=True,
    help="Create a reviewable draft, or publish the result so answers use it at once.",
)
@click.option("--instructions", metavar="TEXT", help="Instructions for the generation.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=600.0,
    show_default=True,
    help="With --wait: give up after this many seconds.",
)
@api_options(timeout=False)
@click.pass_obj
def knowledge_generate(
    settings: Settings,
    text: str | None,
    file: Path | None,
    wait: bool,
    draft: bool,
    instructions: str | None,
    timeout: float,
) -> None:
    """Queue a knowledge-generation job from TEXT (or -f FILE) and print its id.

    With --wait, wait until it finishes and print its final status and the article it created
    or updated; a FAILED job exits with status 1.

    \b
    fini-async knowledge generate "Refunds take 5 business days." --publish --wait
    fini-async knowledge generate -f notes.md
    """
    if (text is None) == (file is None):
        raise click.UsageError("give the knowledge as TEXT or with -f FILE (one of them)")
    if file is not None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            fail(settings, exc)
    assert text is not None

    async def go() -> None:
        async with open_client(settings) as client:
            job = await client.knowledge.generate(text, is_draft=draft, instructions=instructions)
            click.echo(f"job {job.id}: queued")
            if not wait:
                return
            await wait_for_job(client, job, timeout=timeout)
            article = f" (article {job.hc_article_id})" if job.hc_article_id else ""
            click.echo(f"job {job.id}: {job.status}{article}")

    run(settings, go)


@knowledge.command("status", context_settings=CONTEXT)
@click.argument("job_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per job.")
@api_options()
@click.pass_obj
def knowledge_status(settings: Settings, job_ids: tuple[str, ...], as_json: bool) -> None:
    """Print the status of knowledge jobs (one call for up to 100 ids).

    An unknown id fails the whole call (the API answers 404)."""

    async def go() -> None:
        async with open_client(settings) as client:
            with spinner("reading the jobs"):
                statuses = await client.knowledge.get_jobs(list(job_ids))
        if as_json:
            for status in statuses:
                click.echo(json_line(status))
            return
        table = Table(box=None)
        for name in ("job", "status", "created (UTC)", "completed (UTC)", "article"):
            table.add_column(name, no_wrap=True)
        for s in statuses:
            table.add_row(
                s.id,
                s.status,
                when_text(s.created_at),
                when_text(s.completed_at),
                s.hc_article_id or "",
            )
        stdout_console().print(table)

    run(settings, go)
