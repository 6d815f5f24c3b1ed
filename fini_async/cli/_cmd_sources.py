"""``fini-async sources``: list, read, add, refresh and delete knowledge sources."""

from __future__ import annotations

import click
from rich.table import Table

from .. import FiniClient, SourceDocument
from ._options import CONTEXT, api_options
from ._output import json_line, one_line
from ._progress import spinner, stdout_console
from ._runtime import Settings, open_client, run

__all__ = ["sources"]

_WAIT_HELP = "Wait until the fetches end (a spinner on a terminal) and print each source."
_WAIT_TIMEOUT_HELP = "With --wait: give up after this many seconds."


@click.group(context_settings=CONTEXT)
def sources() -> None:
    """Knowledge sources (web pages, provider pages) that generation reads."""


def _updated(doc: SourceDocument) -> str:
    return "" if doc.updated_at is None else str(doc.updated_at)[:19].replace("T", " ")


def _print_table(docs: list[SourceDocument]) -> None:
    table = Table(box=None)
    for name in ("id", "type", "status", "changed", "updated", "title"):
        table.add_column(name, no_wrap=name != "title")
    for doc in docs:
        table.add_row(
            doc.id,
            doc.source or "",
            doc.linked_job_status or "",
            "yes" if doc.changed else "",
            _updated(doc),
            one_line(doc.title or doc.original_url or ""),
        )
    stdout_console().print(table)


def _print_docs(docs: list[SourceDocument], as_json: bool) -> None:
    if as_json:
        for doc in docs:
            click.echo(json_line(doc))
    else:
        _print_table(docs)


@sources.command("list", context_settings=CONTEXT)
@click.option("--changed", is_flag=True, help="Only sources whose content changed at refresh.")
@click.option("--type", "source", metavar="TYPE", help="Only this type (web, notion, ...).")
@click.option("--title", metavar="TEXT", help="Only titles containing TEXT (any case).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many sources.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per source.")
@api_options()
@click.pass_obj
def sources_list(
    settings: Settings,
    changed: bool,
    source: str | None,
    title: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List sources, the most recently updated first (every page, up to --limit)."""

    async def go() -> None:
        async with open_client(settings) as client:
            docs: list[SourceDocument] = []
            listing = client.sources.list(
                changed=True if changed else None,
                source=source,
                title=title,
                page_size=min(limit or 100, 100),
            )
            with spinner("reading the sources"):
                async for doc in listing:
                    docs.append(doc)
                    if limit is not None and len(docs) >= limit:
                        break
        _print_docs(docs, as_json)

    run(settings, go)


@sources.command("get", context_settings=CONTEXT)
@click.argument("source_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the record as one JSON object.")
@api_options()
@click.pass_obj
def sources_get(settings: Settings, source_id: str, as_json: bool) -> None:
    """Print one source record (its text too, without --json)."""

    async def go() -> None:
        async with open_client(settings) as client:
            doc = await client.sources.get(source_id)
        if as_json:
            click.echo(json_line(doc))
            return
        _print_table([doc])
        if doc.error:
            click.echo(f"error: {doc.error}")
        for paragraph in doc.paragraphs:
            click.echo(paragraph)

    run(settings, go)


@sources.command("add", context_settings=CONTEXT)
@click.argument("urls", nargs=-1, required=True, metavar="URL...")
@click.option("--wait", is_flag=True, help=_WAIT_HELP)
@click.option("--wait-timeout", type=click.FloatRange(min=0, min_open=True), default=600.0,
              show_default=True, help=_WAIT_TIMEOUT_HELP)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="With --wait: JSON lines.")
@api_options()
@click.pass_obj
def sources_add(
    settings: Settings, urls: tuple[str, ...], wait: bool, wait_timeout: float, as_json: bool
) -> None:
    """Queue the ingestion of web pages and print the ids of their source records."""

    async def go() -> None:
        async with open_client(settings) as client:
            added = await client.sources.add_urls(list(urls))
            for source_id in added.added_document_ids:
                click.echo(f"{source_id}: added")
            for source_id in added.updated_document_ids:
                click.echo(f"{source_id}: already there, queued again")
            if wait and added.ids:
                await _wait(client, added.ids, wait_timeout, as_json)

    run(settings, go)


@sources.command("refresh", context_settings=CONTEXT)
@click.argument("source_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--wait", is_flag=True, help=_WAIT_HELP)
@click.option("--wait-timeout", type=click.FloatRange(min=0, min_open=True), default=600.0,
              show_default=True, help=_WAIT_TIMEOUT_HELP)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="With --wait: JSON lines.")
@api_options()
@click.pass_obj
def sources_refresh(
    settings: Settings,
    source_ids: tuple[str, ...],
    wait: bool,
    wait_timeout: float,
    as_json: bool,
) -> None:
    """Queue a re-fetch of sources (all or nothing: one unknown id refreshes none).

    To regenerate the knowledge of the ones that changed, use `fini-async knowledge sync`."""

    async def go() -> None:
        async with open_client(settings) as client:
            queued = await client.sources.refresh(list(source_ids))
            for source_id in queued:
                click.echo(f"{source_id}: refresh queued")
            if wait:
                await _wait(client, list(source_ids), wait_timeout, as_json)

    run(settings, go)


async def _wait(client: FiniClient, ids: list[str], timeout: float, as_json: bool) -> None:
    with spinner("waiting for the fetches"):
        docs = await client.sources.wait_for_refresh(ids, timeout=timeout, raise_on_failure=False)
    _print_docs(docs, as_json)
    failed = [d for d in docs if (d.linked_job_status or "").upper() == "FAILED"]
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(docs)} fetches failed")


@sources.command("delete", context_settings=CONTEXT)
@click.argument("source_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--delete-articles", is_flag=True, help="Delete the articles made from them too.")
@api_options()
@click.pass_obj
def sources_delete(settings: Settings, source_ids: tuple[str, ...], delete_articles: bool) -> None:
    """Delete sources (all or nothing: one unknown id deletes none)."""

    async def go() -> None:
        async with open_client(settings) as client:
            deleted = await client.sources.delete(list(source_ids), delete_articles=delete_articles)
        for doc in deleted.deleted_documents:
            click.echo(f"{doc.id}: deleted source {one_line(doc.title or '')}".rstrip())
        for article in deleted.deleted_articles:
            click.echo(f"{article.id}: deleted article {one_line(article.title or '')}".rstrip())

    run(settings, go)
