"""The options the CLI's commands share: click's context settings and ``--emulator`` /
``--timeout``, which work before the command's name and after it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._runtime import Settings

__all__ = ["CONTEXT", "EMULATOR_HELP", "TIMEOUT_HELP", "api_options"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


EMULATOR_HELP = (
    "Run the command against an emulator started in this process (with its test key and "
    "20 sample conversations) instead of FINI_BASE_URL."
)
TIMEOUT_HELP = (
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
                help=TIMEOUT_HELP + " Also FINI_TIMEOUT.",
            )(func)
        decorated: F = click.option(
            "--emulator",
            is_flag=True,
            expose_value=False,
            callback=_set_emulator,
            help=EMULATOR_HELP,
        )(func)
        return decorated

    return decorate
