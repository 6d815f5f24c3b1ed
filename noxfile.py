"""Sessions: ``nox`` runs lint, typecheck and tests (Python 3.10-3.13); ``nox -s bench`` runs the
benchmarks."""

from __future__ import annotations

import glob
import os

import nox

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

# pyenv installs each version under $PYENV_ROOT/versions/X.Y.Z; its shims only expose the active
# one, so put every installed 3.10-3.13 on PATH for nox to find python3.X.
_pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
_bins = [
    path
    for version in PYTHONS
    for path in sorted(glob.glob(os.path.join(_pyenv_root, "versions", f"{version}.*", "bin")))[-1:]
]
if _bins:
    os.environ["PATH"] = os.pathsep.join([*_bins, os.environ.get("PATH", "")])


#: The one Python whose test run includes the scale-out tests (Redis, Ray): they need redis-py,
#: Ray Data and a ``redis-server`` binary, and take a minute; elsewhere they skip with a reason.
SCALE_PYTHON = "3.12"


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, over real loopback sockets against the emulator."""
    if session.python == SCALE_PYTHON:
        session.install("-e", ".[test,redis,ray]")
        # Fail, not skip, when redis-server or Ray is missing here (.ci/run installs them).
        session.env["FINI_REQUIRE_SCALE"] = "1"
    else:
        session.install("-e", ".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python="3.12")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff==0.17.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python="3.12")
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the package and the benchmarks."""
    session.install("-e", ".[cli,relay,test,bench,redis]", "mypy>=1.11")
    session.run("mypy", "--strict")


@nox.session(python="3.12")
def bench(session: nox.Session) -> None:
    """The benchmarks against raw aiohttp + msgspec and the peers (python -m benchmarks)."""
    session.install("-e", ".[cli,bench]")
    session.run("python", "-m", "benchmarks", *session.posargs)
