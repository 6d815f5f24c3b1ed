"""``fini-async demo``: the SDK's range in a few seconds, against an emulator started in-process."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from .. import BatchProgress, FiniClient, SyncProgress
from ..testing import FakeFini, conversations_of, knowledge_of
from ._progress import wait_for_job
from ._samples import seed_sources

__all__ = ["SECTIONS", "run_demo"]

#: The section titles, in order (the tests look for them).
SECTIONS = (
    "1. A streamed answer, token by token",
    "2. A chat that keeps its history",
    "3. A batch of {n} questions",
    "4. Knowledge generated, waited on, then used",
    "5. Knowledge kept in sync with its sources",
    "6. Conversations listed",
)

STREAM_QUESTION = "How do I reset my password?"
#: The gap between streamed tokens the emulator is asked for (x-fake-chunk-delay), so that the
#: tokens visibly arrive one by one.
TOKEN_DELAY = 0.04
BATCH_TOPICS = (
    "How do I upgrade to premium?",
    "How can I reset my password?",
    "What is your refund policy?",
    "Can I cancel my annual plan?",
    "What is Fini?",
)
#: How long the emulator takes per answer in the batch section, so concurrency shows, and the
#: most requests it admits a second (429 with Retry-After beyond), so the batch's adaptation shows.
BATCH_LATENCY = 0.05
BATCH_SERVER_LIMIT = 200
BATCH_CONCURRENCY = 32
UNKNOWN_QUESTION = "Do you ship to Mars?"
NEW_KNOWLEDGE = (
    "Shipping to Mars: we ship to Mars every second Tuesday. Delivery takes seven months and "
    "the parcel travels in a pressurised crate."
)

SYNC_QUESTION = "Do you deliver on Sundays?"
#: The demo's sources: (url, the text fetched earlier, the page now; None when unchanged).
SYNC_SOURCES = (
    (
        "https://help.example.com/delivery/sundays",
        "Sunday delivery: there is no delivery on Sundays.",
        "Sunday delivery: we now deliver on Sundays in Berlin and Paris, for a fee of 5 euros.",
    ),
    (
        "https://help.example.com/delivery/tracking",
        "Tracking: every parcel has a tracking link in its confirmation email.",
        None,
    ),
)


async def run_demo(*, questions: int = 300) -> None:
    """Run every section against a fresh emulator; returns when the demo is over."""
    console = Console(highlight=False)
    started = time.monotonic()
    console.print(
        "[bold]fini-async demo[/]: every call below is real HTTP to an emulator of the Fini API "
        "running in this process on loopback."
    )
    async with FakeFini() as fake:
        jobs = knowledge_of(fake)
        jobs.pending_for = 0.3  # short job timings so the wait takes about a second
        jobs.run_for = 0.7
        conversations_of(fake).seed_conversations(12, span_days=6)
        async with fake.client() as client:
            client.knowledge.configure_polling(interval_initial=0.1, interval_max=0.25)
            await _stream(console, client)
            await _chat(console, client)
            await _batch(console, client, fake, questions)
            await _knowledge(console, client)
            await _sync(console, client, fake)
            await _conversations(console, client)
    console.rule()
    console.print(f"Demo finished in {time.monotonic() - started:.1f} s.")


def _title(console: Console, index: int, **values: Any) -> None:
    console.print()
    console.rule(f"[bold]{SECTIONS[index].format(**values)}", align="left")


async def _stream(console: Console, client: FiniClient) -> None:
    _title(console, 0)
    console.print(f"[bold]> {STREAM_QUESTION}[/]")
    tokens = 0
    begun = time.monotonic()
    async with client.bots.stream_question(
        STREAM_QUESTION, extra_headers={"x-fake-chunk-delay": str(TOKEN_DELAY)}
    ) as stream:
        async for text in stream.text_stream:
            click.echo(text, nl=False)  # flushed at once
            tokens += 1
        answer = await stream.get_final_answer()
    click.echo()
    sources = ", ".join(s.source_id or "?" for s in answer.based_on[:2])
    console.print(
        f"[dim]{tokens} tokens in {time.monotonic() - begun:.1f} s; based on {sources}[/]"
    )


async def _chat(console: Console, client: FiniClient) -> None:
    _title(console, 1)
    chat = client.bots.chat(instruction="Answer briefly.")
    for question in ("How do I upgrade to premium?", "Is that upgrade prorated?"):
        sent = len(chat.history)
        answer = await chat.ask(question)
        console.print(f"[bold]> {question}[/]  [dim](sent with {sent} earlier messages)[/]")
        console.print(answer.answer)
    console.print(f"[dim]the chat now holds {len(chat.history)} messages[/]")


async def _batch(console: Console, client: FiniClient, fake: FakeFini, n: int) -> None:
    _title(console, 2, n=n)
    questions = [f"{BATCH_TOPICS[i % len(BATCH_TOPICS)]} (customer #{i})" for i in range(n)]
    fake.add_latency("ask-question", BATCH_LATENCY)
    fake.set_rate_limit(BATCH_SERVER_LIMIT)
    console.print(
        f"client.bots.ask_many(questions, concurrency={BATCH_CONCURRENCY}); the emulator takes "
        f"{BATCH_LATENCY * 1000:.0f} ms per answer ({n * BATCH_LATENCY:.0f} s one after another) "
        f"and admits {BATCH_SERVER_LIMIT} requests a second, answering 429 beyond"
    )
    begun = time.monotonic()
    with Progress(
        TextColumn("asking"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("asking", total=n, rate="")

        def on_progress(p: BatchProgress) -> None:
            bar.update(task, completed=p.completed, rate=f"{p.rate:,.0f} answers/s")

        async with client.bots.ask_many(
            questions, concurrency=BATCH_CONCURRENCY, on_progress=on_progress
        ) as batch:
            async for _ in batch:
                pass
        progress = batch.progress
    fake.clear_faults()
    fake.set_rate_limit(None)
    elapsed = time.monotonic() - begun
    console.print(
        f"{progress.succeeded} answered, {progress.failed} failed in {elapsed:.2f} s: "
        f"[bold]{n / elapsed:,.0f} answers/s[/]"
    )
    console.print(
        f"[dim]{_calls(progress.rate_limited)} answered 429 paced and retried; the batch "
        f"adapted to concurrency {progress.concurrency}, "
        f"{progress.rate_limit or 0:,.0f} requests/s (batch.progress)[/]"
    )


def _calls(n: int) -> str:
    return f"{n} call" if n == 1 else f"{n} calls"


async def _knowledge(console: Console, client: FiniClient) -> None:
    _title(console, 3)
    before = await client.bots.ask_question(UNKNOWN_QUESTION)
    console.print(f"[bold]> {UNKNOWN_QUESTION}[/]")
    console.print(f"before: {before.answer}")
    job = await client.knowledge.generate(NEW_KNOWLEDGE, is_draft=False)
    console.print(f'client.knowledge.generate("{NEW_KNOWLEDGE[:40]}...", is_draft=False)')
    await wait_for_job(client, job, timeout=30, console=console, label="queued")
    console.print(f"job {job.id}: {job.status}, published as article {job.hc_article_id}")
    after = await client.bots.ask_question(UNKNOWN_QUESTION)
    used = after.based_on[0].source_type if after.based_on else "nothing"
    console.print(f"after:  {after.answer}")
    console.print(f"[dim]the answer is now based on the {used} article[/]")


async def _sync(console: Console, client: FiniClient, fake: FakeFini) -> None:
    _title(console, 4)
    seed_sources(fake, SYNC_SOURCES)
    client.sources.configure_polling(interval_initial=0.1, interval_max=0.25)
    console.print(
        f"{len(SYNC_SOURCES)} sources ingested earlier; the page of the first has changed since"
    )
    console.print("client.knowledge.sync_sources(publish=True)")
    with Progress(
        TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("refresh", total=None)

        def on_progress(p: SyncProgress) -> None:
            bar.update(task, description=f"{p.stage}: {p.finished}/{p.total} documents")

        report = await client.knowledge.sync_sources(publish=True, on_progress=on_progress)
    console.print(
        f"{len(report.refreshed)} sources refreshed (re-fetched), {len(report.results)} changed"
    )
    for r in report.results:
        console.print(  # ids cut to 8 characters to fit a line
            f"source {r.document_id[:8]}: job {(r.job_id or '')[:8]} -> draft "
            f"{(r.article_id or '')[:8]} -> published as {(r.live_article_id or '')[:8]}"
            + (f" [red]{r.error}[/]" if r.error else "")
        )
    answer = await client.bots.ask_question(SYNC_QUESTION)
    console.print(f"[bold]> {SYNC_QUESTION}[/]")
    console.print(answer.answer)
    used = {s.source_id for s in answer.based_on}
    live = {r.live_article_id for r in report.results}
    note = "the article just published" if used & live else "other articles"
    console.print(f"[dim]the answer is based on {note}[/]")


async def _conversations(console: Console, client: FiniClient) -> None:
    _title(console, 5)
    await client.conversations.generate_answer(UNKNOWN_QUESTION, bot_id="bot_default")
    since = datetime.now(timezone.utc) - timedelta(days=7)
    pages = 0
    convs = []
    async for page in client.conversations.list(since=since, page_size=5).pages():
        pages += 1
        convs.extend(page.items)
    table = Table("created (UTC)", "source", "channel", "first message", box=None)
    for conv in convs[:8]:
        created = conv.created_at
        table.add_row(
            created.strftime("%Y-%m-%d %H:%M") if created else "",
            conv.source or "",
            conv.channel or "",
            conv.subject_preview or "",
        )
    console.print(table)
    console.print(
        f"{len(convs)} conversations in the last 7 days, read in {pages} pages of 5 "
        "(newest first; the first is the one just created)"
    )
