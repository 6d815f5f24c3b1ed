"""Running a command: the client (real or an embedded emulator), the event loop, and turning a
failure into one line on stderr and an exit status."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

import anyio
import click

from .. import (
    APIConnectionError,
    APITimeoutError,
    ConfigurationError,
    FiniClient,
    attempt_hook,
)
from ._output import error_line, leaf_exception

__all__ = ["EXIT_INTERRUPTED", "Settings", "fail", "open_client", "run"]

T = TypeVar("T")

#: The exit status after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130
#: Conversations the embedded emulator of ``--emulator`` starts with.
EMULATOR_CONVERSATIONS = 20


@dataclass
class Settings:
    """The group's global options, passed to every command as click's ``obj``."""

    emulator: bool = False
    debug: bool = False
    #: ``--timeout`` / ``FINI_TIMEOUT``: seconds for each phase of each attempt (None: the SDK's
    #: defaults).
    timeout: float | None = None

    def enable_debug_logging(self) -> None:
        # The transport reads FINI_LOG when the first client is built, which is after this.
        os.environ["FINI_LOG"] = "debug"


@asynccontextmanager
async def open_client(settings: Settings) -> AsyncIterator[FiniClient]:
    """A client from ``FINI_API_KEY``/``FINI_BASE_URL``, or (``--emulator``) one pointed at an
    emulator started in this process for the command's duration, with its test key."""
    if settings.emulator:
        from ..testing import FakeFini, conversations_of
        from ._samples import seed_sources

        async with FakeFini() as fake:
            conversations_of(fake).seed_conversations(EMULATOR_CONVERSATIONS, span_days=6)
            seed_sources(fake)
            async with fake.client(timeout=settings.timeout) as client:
                yield client
        return
    if not os.environ.get("FINI_API_KEY", "").strip():
        raise ConfigurationError(
            "FINI_API_KEY is not set: export FINI_API_KEY=<your key> (and FINI_BASE_URL if not "
            "the production API), or add --emulator to try the command against an embedded "
            "emulator"
        )
    async with FiniClient(timeout=settings.timeout) as client:
        yield client


def fail(settings: Settings, exc: BaseException, *, note: str = "") -> NoReturn:
    """Print ``exc`` as one line (and its traceback with ``--debug``) and exit with status 1.
    ``note`` is added to the line."""
    if settings.debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    click.echo(error_line(exc) + note, err=True)
    sys.exit(1)


class AttemptCounter:
    """Counts the HTTP attempts of a command (retries included), for the message of a connection
    failure or timeout. It is
    the transport's attempt hook in the command's task (a batch's workers install their own)."""

    def __init__(self) -> None:
        self.attempts = 0
        self.started = time.monotonic()

    async def before_attempt(self) -> None:
        self.attempts += 1

    def after_attempt(self, status: int | None, retry_after: float | None) -> None:
        pass

    def note(self) -> str:
        """How hard the command tried: '; gave up after 3 attempts in 31.0 s'."""
        attempts = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts"
        return f"; gave up after {attempts} in {time.monotonic() - self.started:.1f} s"


def run(
    settings: Settings,
    func: Callable[[], Coroutine[Any, Any, T]],
    *,
    on_interrupt: Callable[[], str] = lambda: "interrupted",
    interrupt_status: int = EXIT_INTERRUPTED,
    stop_signals: Sequence[int] = (signal.SIGINT,),
) -> T:
    """Run ``func`` in a fresh event loop. An error prints one line and exits with status 1.

    Ctrl-C (or another of ``stop_signals``) cancels ``func`` once, like asyncio's own runner, so
    every ``async with`` closes what it opened with its awaits working; then ``on_interrupt()``
    is printed and the process exits with ``interrupt_status``. A second Ctrl-C during that
    cleanup raises KeyboardInterrupt at once (ending the same way)."""
    state = _Interrupt()
    try:
        return anyio.run(_guarded, func, state, stop_signals)
    except BaseException as exc:
        if state.seen or isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)):
            click.echo(on_interrupt(), err=True)
            sys.exit(interrupt_status)
        if isinstance(exc, (click.exceptions.Exit, click.ClickException, SystemExit)):
            raise
        if not isinstance(exc, Exception):
            raise
        leaf = leaf_exception(exc)
        if isinstance(leaf, (click.exceptions.Exit, click.ClickException)):
            raise leaf from None
        if isinstance(leaf, BrokenPipeError):
            broken_pipe()
        note = ""
        if isinstance(leaf, APIConnectionError) and state.counter.attempts:
            note = state.counter.note()  # retries included: how long the command tried
            if isinstance(leaf, APITimeoutError):
                note += " (--timeout or FINI_TIMEOUT to wait longer)"
        fail(settings, exc, note=note)


class _Interrupt:
    seen = False

    def __init__(self) -> None:
        self.counter = AttemptCounter()


async def _guarded(
    func: Callable[[], Coroutine[Any, Any, T]], state: _Interrupt, stop_signals: Sequence[int]
) -> T:
    """Await ``func()``; a stop signal cancels this task once (a native cancellation, delivered
    once, not a cancel scope that would also cancel every await of the cleanup)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    installed: list[int] = []
    state.counter.started = time.monotonic()
    attempt_hook.set(state.counter)

    def on_signal() -> None:
        state.seen = True
        for sig in installed:  # a second Ctrl-C gets Python's default KeyboardInterrupt
            loop.remove_signal_handler(sig)
        installed.clear()
        if task is not None:
            task.cancel()

    for sig in stop_signals:
        try:
            loop.add_signal_handler(sig, on_signal)
        except (NotImplementedError, RuntimeError, ValueError):
            continue  # no signal handling here (Windows): Ctrl-C raises KeyboardInterrupt
        installed.append(sig)
    try:
        return await func()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


def broken_pipe() -> NoReturn:
    """stdout was closed by its reader (``| head``): stop quietly, as other commands do."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # so that the exit's flush of stdout cannot fail
    sys.exit(1)
