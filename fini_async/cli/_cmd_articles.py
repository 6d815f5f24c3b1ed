"""``fini-async articles``: list and read help-center articles, publish drafts."""

from __future__ import annotations

import click
from rich.table import Table

from .. import Article
from ._options import CONTEXT, api_options
from ._output import json_line, one_line, when_text
from ._progress import spinner, stdout_console
from ._runtime import Settings, open_client, run

__all__ = ["articles"]


@click.group(context_settings=CONTEXT)
def articles() -> None:
    """Help-center articles: the live knowledge answers use, and drafts waiting for review."""


def _print_table(items: list[Article]) -> None:
    table = Table(box=None)
    for name in ("id", "kind", "version", "updated (UTC)", "title"):
        table.add_column(name, no_wrap=name != "title")
    for article in items:
        table.add_row(
            article.id,
            "draft" if article.is_draft else "live",
            "" if article.version is None else str(article.version),
            when_text(article.updated_at),
            one_line(article.title),
        )
    stdout_console().print(table)


@articles.command("list", context_settings=CONTEXT)
@click.option(
    "--type",
    "kind",
    type=click.Choice(["live", "draft"]),
    help="Only live articles or only drafts (default: both).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per article.")
@api_options()
@click.pass_obj
def articles_list(settings: Settings, kind: str | None, as_json: bool) -> None:
    """List the workspace's articles."""

    async def go() -> None:
        async with open_client(settings) as client:
            with spinner("reading the articles"):
                items = await client.articles.list(type=kind)
        if as_json:
            for article in items:
                click.echo(json_line(article))
        else:
            _print_table(items)

    run(settings, go)


@articles.command("get", context_settings=CONTEXT)
@click.argument("article_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the article as one JSON object.")
@api_options()
@click.pass_obj
def articles_get(settings: Settings, article_id: str, as_json: bool) -> None:
    """Print one article: its fields, then its main knowledge."""

    async def go() -> None:
        async with open_client(settings) as client:
            article = await client.articles.get(article_id)
        if as_json:
            click.echo(json_line(article))
            return
        _print_table([article])
        if article.questions:
            click.echo("questions: " + "; ".join(article.questions))
        click.echo(article.main_knowledge)

    run(settings, go)


@articles.command("publish", context_settings=CONTEXT)
@click.argument("draft_ids", nargs=-1, required=True, metavar="ID...")
@api_options()
@click.pass_obj
def articles_publish(settings: Settings, draft_ids: tuple[str, ...]) -> None:
    """Publish drafts as they are and print the id of each live article (it may differ from the
    draft's: a draft of its own becomes a new live article)."""

    async def go() -> None:
        async with open_client(settings) as client:
            for draft_id in draft_ids:
                draft = await client.articles.get(draft_id)
                live = await client.articles.publish(draft)
                click.echo(f"{draft_id}: published as {live.id}")

    run(settings, go)
