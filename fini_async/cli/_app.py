"""The ``fini-async`` click group and its commands."""

from __future__ import annotations

import re
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import anyio
import click
import msgspec
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
from rich.table import Table
from rich.text import Text

from .. import Answer, BatchProgress, ValidationError
from ._askmany import BatchStats, answer_to_file
from ._batchfile import AnswerFile, read_questions, scan_answers
from ._output import format_sources, json_line
from ._runtime import Settings, fail, open_client, run

__all__ = ["cli"]

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def stderr_console() -> Console:
    return Console(stderr=True, highlight=False)


def stdout_console() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal:  # piped: never wrap or cut ids to fit 80 columns
        console = Console(highlight=False, width=250)
    return console


_EMULATOR_HELP = (
    "Run the command against an emulator started in this process (with its test key and "
    "20 sample conversations) instead of FINI_BASE_URL."
)
_TIMEOUT_HELP = (
    "Give up on a request after this many seconds (each phase of each attempt; retries get "
    "their own). Default: the SDK's timeouts (10 s to connect, 120 s to read)."
)

F = TypeVar("F", bound=Callable[..., Any])


def _set_emulator(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        ctx.ensure_object(Settings).emulator = True


def _set_timeout(ctx: click.Context, param: click.Parameter, value: float | None) -> None:
    if value is not None:
        ctx.ensure_object(Settings).timeout = value


def api_options(*, timeout: bool = True) -> Callable[[F], F]:
    """``--emulator`` (and ``--timeout``) on a command that calls the API, so that they work
    after the command's name too: ``fini-async ask --emulator "..."``. They set the group's
    :class:`Settings`, like the same options before the command's name."""

    def decorate(func: F) -> F:
        if timeout:
            func = click.option(
                "--timeout",
                type=click.FloatRange(min=0, min_open=True),
                metavar="SECONDS",
                expose_value=False,
                callback=_set_timeout,
                help=_TIMEOUT_HELP + " Also FINI_TIMEOUT.",
            )(func)
        decorated: F = click.option(
            "--emulator",
            is_flag=True,
            expose_value=False,
            callback=_set_emulator,
            help=_EMULATOR_HELP,
        )(func)
        return decorated

    return decorate


@contextmanager
def spinner(description: str) -> Iterator[Callable[[], None]]:
    """A spinner on stderr while waiting for the API (only on a terminal, and gone afterwards).
    Yields a function that stops it early (before printing what arrived)."""
    err = stderr_console()
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    progress.add_task(description, total=None)
    with progress:
        yield progress.stop


@click.group(context_settings=_CONTEXT)
@click.option("--emulator", is_flag=True, help=_EMULATOR_HELP)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    envvar="FINI_TIMEOUT",
    show_envvar=True,
    help=_TIMEOUT_HELP,
)
@click.option(
    "--debug",
    is_flag=True,
    help="Show full tracebacks and log every HTTP attempt (like FINI_LOG=debug).",
)
@click.version_option(package_name="fini-async", prog_name="fini-async")
@click.pass_context
def cli(ctx: click.Context, emulator: bool, timeout: float | None, debug: bool) -> None:
    """The Fini support-AI API from the command line.

    Reads FINI_API_KEY (required unless --emulator) and FINI_BASE_URL (default: the production
    API) from the environment, and FINI_TIMEOUT (like --timeout). --emulator and --timeout go
    before or after the command's name. Errors print one line on stderr and exit with status 1
    (2 for a usage error, 130 after Ctrl-C); --debug adds the traceback.

    Try `fini-async demo` first: it needs no key and no network.
    """
    settings = Settings(emulator=emulator, debug=debug, timeout=timeout)
    if debug:
        settings.enable_debug_logging()
    ctx.obj = settings


# -- ask -----------------------------------------------------------------------------------------


def print_answer(answer: Answer, *, streamed: bool = False) -> None:
    if not streamed:
        click.echo(answer.answer, nl=False)
    click.echo()
    sources = format_sources(answer.based_on)
    if sources:
        click.echo(sources)


@cli.command(context_settings=_CONTEXT)
@click.argument("question")
@click.option("--stream", is_flag=True, help="Print the answer token by token as it arrives.")
@click.option("--instruction", metavar="TEXT", help="An instruction for the agent.")
@click.option("--json", "as_json", is_flag=True, help="Print the whole Answer as one JSON object.")
@api_options()
@click.pass_obj
def ask(
    settings: Settings, question: str, stream: bool, instruction: str | None, as_json: bool
) -> None:
    """Ask QUESTION and print the answer, then its sources.

    \b
    fini-async ask "How do I upgrade to premium?"
    fini-async ask --stream "How do I reset my password?"
    fini-async ask --json "What is Fini?" | jq .answer
    """

    async def go() -> None:
        async with open_client(settings) as client:
            with spinner("waiting for the answer") as stop:
                if stream:
                    async with client.bots.stream_question(question, instruction=instruction) as s:
                        if not as_json:
                            async for text in s.text_stream:
                                stop()  # the first token ends the spinner
                                click.echo(text, nl=False)
                        answer = await s.get_final_answer()
                else:
                    answer = await client.bots.ask_question(question, instruction=instruction)
        if as_json:
            click.echo(json_line(answer))
        else:
            print_answer(answer, streamed=stream)

    run(settings, go)


# -- ask-many ------------------------------------------------------------------------------------


class RateColumn(ProgressColumn):
    """Results per second since the batch started."""

    def __init__(self, stats: BatchStats) -> None:
        super().__init__()
        self.stats = stats

    def render(self, task: Task) -> Text:
        return Text(f"{self.stats.rate:,.1f}/s", style="progress.data.speed")


@cli.command("ask-many", context_settings=_CONTEXT)
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="The answers file (JSON lines), appended to as results arrive.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=32,
    show_default=True,
    help="Most questions in flight at once (the batch lowers it on 429s and raises it again).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="R",
    help="Most requests per second (default: no cap).",
)
@click.option("--instruction", metavar="TEXT", help="An instruction sent with every question.")
@click.option(
    "--retry-errors/--no-retry-errors",
    default=True,
    show_default=True,
    help="On resume, ask again the questions whose earlier result was an error.",
)
@api_options()
@click.pass_obj
def ask_many(
    settings: Settings,
    questions: Path,
    output: Path,
    concurrency: int,
    rate: float | None,
    instruction: str | None,
    retry_errors: bool,
) -> None:
    """Answer every question of QUESTIONS concurrently into OUTPUT, one JSON line each.

    QUESTIONS is a .txt file (one question a line, blank lines skipped), a .jsonl file (one
    object a line: "question", an optional "id", and any ask options such as "instruction",
    "temperature", "categories", "user_attributes", "message_history"), a .csv or .tsv file (a
    header row with a "question" column, and optionally "id" and option columns; JSON in the
    cells of list and object options) or a .json file (an array of strings or such objects).
    A mistake in it (a wrong type, an unknown key) stops the command before anything is asked,
    naming the line.

    Each input gets one line, written whole and flushed the moment its result arrives, in
    completion order: {"index": i, "id": ..., "question": ..., "answer": ..., "based_on": [...]}
    or, when that question failed, {"index": i, ..., "error": {"type": ..., "status": ...,
    "message": ...}}. A failed question never stops the batch, but the command then exits with
    status 1 and says how many failed; a wrong or unauthorised key (401, 403) stops it, and
    nothing is written for it (no empty OUTPUT is left behind).

    Resumable: Ctrl-C loses nothing already written (exit status 130), and running the same
    command again skips every index already in OUTPUT. Error lines are asked again on resume
    (and replaced) unless --no-retry-errors. A cut-off last line is dropped and asked again.

    \b
    fini-async ask-many questions.txt -o answers.jsonl --concurrency 64 --rate 50
    """
    try:
        items = read_questions(questions)
        resume = scan_answers(output, items, retry_errors=retry_errors)
    except (ValidationError, OSError) as exc:
        fail(settings, exc)
    pending = [item for item in items if item.index not in resume.done]
    notes = []
    if resume.done:
        notes.append(f"{len(resume.done)} already in {output}")
    if resume.dropped_errors:
        notes.append(f"{resume.dropped_errors} earlier errors to ask again")
    if resume.truncated:
        notes.append("a cut-off last line dropped")
    if notes:
        click.echo(f"resuming: {', '.join(notes)}", err=True)
    stats = BatchStats(total=len(items), already_done=len(resume.done))
    if not pending:
        click.echo(f"nothing to do: all {len(items)} questions have a line in {output}", err=True)
        _exit_if_failed(resume.kept_errors, len(items), output, retry_errors)
        return
    ask_kwargs: dict[str, Any] = {}
    if instruction is not None:
        ask_kwargs["instruction"] = instruction

    async def go() -> None:
        progress = Progress(
            TextColumn("asking"),
            BarColumn(bar_width=30),
            MofNCompleteColumn(),
            RateColumn(stats),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=stderr_console(),
        )
        async with open_client(settings) as client:
            with AnswerFile(output, resume) as out, progress:
                task = progress.add_task("", total=len(items), completed=len(resume.done))

                def on_result(stats: BatchStats, batch: BatchProgress) -> None:
                    # the batch's adaptive concurrency limit, and the 429s it has seen
                    description = f"in flight <= {batch.concurrency}, 429s: {batch.rate_limited}"
                    progress.update(
                        task, completed=stats.already_done + stats.written, description=description
                    )

                stats.restart_clock()
                await answer_to_file(
                    client,
                    pending,
                    out,
                    stats,
                    concurrency=concurrency,
                    rate=rate,
                    ask_kwargs=ask_kwargs,
                    on_result=on_result,
                )

    def interrupted() -> str:
        return (
            f"interrupted: {stats.written} written, run the same command to resume "
            f"({stats.already_done + stats.written} of {stats.total} in {output})"
        )

    run(settings, go, on_interrupt=interrupted)
    click.echo(
        f"done: {stats.answered} answered, {stats.failed} failed, {stats.already_done} already "
        f"there; {stats.total} of {stats.total} in {output} ({stats.written} in "
        f"{stats.elapsed:.1f} s, {stats.rate:,.1f} answers/s)",
        err=True,
    )
    _exit_if_failed(stats.failed + resume.kept_errors, len(items), output, retry_errors)


def _exit_if_failed(failed: int, total: int, output: Path, retry_errors: bool) -> None:
    """Exit with status 1 when error lines are left in ``output``, saying how many: a script
    must not take a half-answered file for a finished one."""
    if not failed:
        return
    again = (
        "run the same command to ask them again"
        if retry_errors
        else "run it again without --no-retry-errors to ask them again"
    )
    questions = "question" if total == 1 else "questions"
    click.echo(
        f"error: {failed} of {total} {questions} failed (error lines in {output}); {again}",
        err=True,
    )
    sys.exit(1)


# -- knowledge -----------------------------------------------------------------------------------


@cli.group(context_settings=_CONTEXT)
def knowledge() -> None:
    """Generate knowledge (background jobs) and read job statuses."""


@knowledge.command("generate", context_settings=_CONTEXT)
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
            err = stderr_console()
            with Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                disable=not err.is_terminal,
            ) as progress:
                task = progress.add_task(f"job {job.id}: waiting", total=None)

                def on_change(job_id: str, status: Any) -> None:
                    if job_id == job.id:
                        progress.update(task, description=f"job {job_id}: {status.status}")

                remove = client.knowledge.add_progress_callback(on_change)
                try:
                    await client.knowledge.wait(job, timeout=timeout)
                finally:
                    remove()
            article = f" (article {job.hc_article_id})" if job.hc_article_id else ""
            click.echo(f"job {job.id}: {job.status}{article}")

    run(settings, go)


@knowledge.command("status", context_settings=_CONTEXT)
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
                s.id, s.status, _when(s.created_at), _when(s.completed_at), s.hc_article_id or ""
            )
        stdout_console().print(table)

    run(settings, go)


def _when(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


# -- conversations -------------------------------------------------------------------------------


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([dhm])$")


def parse_when(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """An ISO date or datetime (naive means UTC), epoch milliseconds, or 7d / 12h / 30m ago."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return datetime.fromtimestamp(int(text) / 1000, tz=timezone.utc)
    match = _RELATIVE.match(text)
    if match:
        unit = {"d": "days", "h": "hours", "m": "minutes"}[match.group(2)]
        return datetime.now(timezone.utc) - timedelta(**{unit: float(match.group(1))})
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date: use 2024-05-01, 2024-05-01T12:00:00Z, epoch ms or "
            "7d / 12h / 30m (ago)"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


@cli.group(context_settings=_CONTEXT)
def conversations() -> None:
    """Read the workspace's conversations (newest first, any date range)."""


@conversations.command("list", context_settings=_CONTEXT)
@click.option(
    "--since",
    metavar="WHEN",
    callback=parse_when,
    help="From this time (default: 7 days before --until).",
)
@click.option(
    "--until", metavar="WHEN", callback=parse_when, help="Up to this time (default: now)."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Stop after this many.")
@click.option("--source", multiple=True, help="Only this source (repeat for several).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per conversation.")
@api_options()
@click.pass_obj
def conversations_list(
    settings: Settings,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
    source: tuple[str, ...],
    as_json: bool,
) -> None:
    """List conversations newest first, as a table or JSON lines.

    Dates are ISO dates or datetimes (naive means UTC), epoch milliseconds, or a time ago such
    as 30d, 12h or 45m. Ranges over 90 days are walked in 90-day windows.

    \b
    fini-async conversations list --since 30d --limit 20
    fini-async conversations list --since 2024-01-01 --until 2024-06-30 --json > all.jsonl
    """

    async def go() -> None:
        rows: list[Any] = []
        async with open_client(settings) as client:
            listing = client.conversations.list(
                since=since, until=until, source=list(source) or None
            )
            count = 0
            with spinner("listing conversations") as stop:
                async for conv in listing:
                    if as_json:
                        stop()  # lines go out as they come
                        record = msgspec.to_builtins(conv)
                        record["createdAtIso"] = _iso(conv.created_at)
                        click.echo(json_line(record))
                    else:
                        rows.append(conv)
                    count += 1
                    if limit is not None and count >= limit:
                        break
        if as_json:
            return
        if not rows:
            click.echo("no conversations in that range", err=True)
            return
        table = Table(box=None)
        for name in ("created (UTC)", "id", "source", "channel", "status"):
            table.add_column(name, no_wrap=True)
        table.add_column("subject")
        for conv in rows:
            table.add_row(
                _when(conv.created_at),
                conv.id,
                conv.source or "",
                conv.channel or "",
                conv.status or "",
                (conv.subject_preview or "")[:60],
            )
        stdout_console().print(table)

    run(settings, go)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


# -- emulator and demo ---------------------------------------------------------------------------


@cli.command(context_settings=_CONTEXT)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8787, show_default=True, help="0: any."
)
@click.option(
    "--chunk-delay",
    type=click.FloatRange(min=0),
    default=0.0,
    show_default=True,
    help="Seconds between the tokens of a streamed answer.",
)
@click.option(
    "--conversations",
    "seed",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Sample conversations to start with.",
)
@click.pass_obj
def emulator(settings: Settings, host: str, port: int, chunk_delay: float, seed: int) -> None:
    """Run the Fini API emulator until Ctrl-C, for curl or any client.

    It prints its URL and its two keys (read+write and read-only). Answers come from a small
    built-in knowledge base; knowledge jobs, conversations and streaming all work.
    """
    from ..testing import READ_KEY, WRITE_KEY, FakeFini, conversations_of

    async def go() -> None:
        fake = FakeFini(host=host, port=port, chunk_delay=chunk_delay)
        async with fake:
            conversations_of(fake).seed_conversations(seed, span_days=6)
            click.echo(f"Fini emulator on {fake.url}")
            click.echo(f"  write key: {WRITE_KEY}")
            click.echo(f"  read-only key: {READ_KEY}")
            click.echo(
                f"  try: FINI_BASE_URL={fake.url} FINI_API_KEY={WRITE_KEY} "
                "fini-async ask 'What is Fini?'"
            )
            click.echo("  Ctrl-C stops it.")
            await anyio.sleep_forever()

    stop = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    run(
        settings, go, on_interrupt=lambda: "emulator stopped", interrupt_status=0, stop_signals=stop
    )


@cli.command(context_settings=_CONTEXT)
@click.option(
    "--questions",
    type=click.IntRange(min=1),
    default=300,
    show_default=True,
    help="How many questions the batch section asks.",
)
@click.pass_obj
def demo(settings: Settings, questions: int) -> None:
    """Show the SDK's range in well under a minute, against an emulator started in-process.

    A streamed answer token by token, a chat that keeps its history, a batch with a progress
    bar and its throughput, knowledge generated, waited on and then used by the next answer,
    and conversations listed. Needs no key and no network.
    """
    from ._demo import run_demo

    run(settings, lambda: run_demo(questions=questions))
