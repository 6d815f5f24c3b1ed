"""The ``fini-async`` click group and its commands."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Any

import anyio
import click

from .. import Answer, BatchProgress, ValidationError
from ._askmany import BatchStats, answer_to_file
from ._batchfile import AnswerFile, Resume, read_questions, scan_answers
from ._cmd_articles import articles
from ._cmd_conversations import conversations
from ._cmd_knowledge import knowledge
from ._cmd_sources import sources
from ._cmd_sync import knowledge_sync
from ._options import CONTEXT, EMULATOR_HELP, TIMEOUT_HELP, api_options
from ._output import format_sources, json_line
from ._progress import batch_progress, spinner
from ._runtime import Settings, fail, open_client, run

__all__ = ["cli"]


@click.group(context_settings=CONTEXT)
@click.option("--emulator", is_flag=True, help=EMULATOR_HELP)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    envvar="FINI_TIMEOUT",
    show_envvar=True,
    help=TIMEOUT_HELP,
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


@cli.command(context_settings=CONTEXT)
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


@cli.command("ask-many", context_settings=CONTEXT)
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
    _say_resuming(resume, output)
    stats = BatchStats(total=len(items), already_done=len(resume.done))
    if not pending:
        click.echo(f"nothing to do: all {len(items)} questions have a line in {output}", err=True)
        _exit_if_failed(resume.kept_errors, len(items), output, retry_errors)
        return
    ask_kwargs: dict[str, Any] = {}
    if instruction is not None:
        ask_kwargs["instruction"] = instruction

    async def go() -> None:
        progress = batch_progress(stats)
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
    _say_done(stats, output)
    _exit_if_failed(stats.failed + resume.kept_errors, len(items), output, retry_errors)


def _say_resuming(resume: Resume, output: Path) -> None:
    """On resume, say on stderr what an earlier run left in ``output``."""
    notes = []
    if resume.done:
        notes.append(f"{len(resume.done)} already in {output}")
    if resume.dropped_errors:
        notes.append(f"{resume.dropped_errors} earlier errors to ask again")
    if resume.truncated:
        notes.append("a cut-off last line dropped")
    if notes:
        click.echo(f"resuming: {', '.join(notes)}", err=True)


def _say_done(stats: BatchStats, output: Path) -> None:
    click.echo(
        f"done: {stats.answered} answered, {stats.failed} failed, {stats.already_done} already "
        f"there; {stats.total} of {stats.total} in {output} ({stats.written} in "
        f"{stats.elapsed:.1f} s, {stats.rate:,.1f} answers/s)",
        err=True,
    )


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


cli.add_command(knowledge)
cli.add_command(conversations)
cli.add_command(sources)
cli.add_command(articles)
knowledge.add_command(knowledge_sync)


# -- emulator and demo ---------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT)
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
    built-in knowledge base; knowledge jobs, conversations, streaming and three sample sources
    (two of them changed since their last fetch: try `knowledge sync`) all work.
    """
    from ..testing import READ_KEY, WRITE_KEY, FakeFini, conversations_of
    from ._samples import seed_sources

    async def go() -> None:
        fake = FakeFini(host=host, port=port, chunk_delay=chunk_delay)
        async with fake:
            conversations_of(fake).seed_conversations(seed, span_days=6)
            seed_sources(fake)
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


@cli.command(context_settings=CONTEXT)
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
    sources synced (refreshed, regenerated, published), and conversations listed. Needs no key
    and no network.
    """
    from ._demo import run_demo

    run(settings, lambda: run_demo(questions=questions))
