"""``fini-async conversations``: list conversations over any range of dates."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

import click
import msgspec
from rich.table import Table

from ._options import CONTEXT, api_options
from ._output import json_line, when_text
from ._progress import spinner, stdout_console
from ._runtime import Settings, open_client, run

__all__ = ["conversations", "parse_when"]


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


@click.group(context_settings=CONTEXT)
def conversations() -> None:
    """Read the workspace's conversations (newest first, any date range)."""


@conversations.command("list", context_settings=CONTEXT)
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
                when_text(conv.created_at),
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
