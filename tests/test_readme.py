"""The README's promises, checked: every ```python block runs as written against the emulator
(each in its own interpreter, as a user would paste it) and passes ``mypy --strict``, the emulator
example is a plain pytest test, the error tree lists every public exception, and the quick start
and benchmark sections say what they should.

A block that needs an outside service (Redis, a Ray cluster) opts out with an HTML comment on the
line before its fence::

    <!-- readme-test: skip (needs redis) -->
    ```python
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import textwrap
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import anyio
import pytest

import fini_async
from fini_async.testing import WRITE_KEY, FakeFini, FakeSharely, conversations_of, knowledge_of
from fini_async.testing._sharely import SHARELY_ORGANIZATION_ID

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
_SKIP = re.compile(r"<!--\s*readme-test:\s*skip\b\s*(.*?)\s*-->")


@dataclass(frozen=True)
class Block:
    """A ```python block of a Markdown file: the line of its fence, its code, and why it is
    skipped (None: it runs)."""

    line: int
    code: str
    skip: str | None

    @property
    def name(self) -> str:
        return f"readme_line_{self.line}"

    @property
    def is_pytest_module(self) -> bool:
        """A block that defines tests (run under plain pytest) rather than a script."""
        return re.search(r"^(async )?def test_\w+\(", self.code, re.MULTILINE) is not None


def python_blocks(text: str) -> list[Block]:
    """Every ```python block of ``text``, with its opt-out marker if the line before has one."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            end = i + 1
            while end < len(lines) and lines[end].strip() != "```":
                end += 1
            before = next((line for line in reversed(lines[:i]) if line.strip()), "")
            marker = _SKIP.search(before)
            skip = (marker.group(1).strip("() ") or "skipped") if marker else None
            # a block inside a list item is indented like its fence
            code = textwrap.dedent("\n".join(lines[i + 1 : end]) + "\n")
            blocks.append(Block(i + 1, code, skip))
            i = end
        i += 1
    return blocks


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_block_finder_sees_markers_and_every_block() -> None:
    text = (
        "intro\n```python\nprint(1)\n```\n\n<!-- readme-test: skip (needs redis) -->\n"
        "```python\nimport redis\n```\n```bash\nls\n```\n"
    )
    blocks = python_blocks(text)
    assert [(b.line, b.code, b.skip) for b in blocks] == [
        (2, "print(1)\n", None),
        (7, "import redis\n", "needs redis"),
    ]
    assert len(BLOCKS) >= 7  # Use, Configuration, Batch, Knowledge, Conversations, Sharely, ...


# -- every block runs ----------------------------------------------------------------------------


@pytest.fixture
async def sharely() -> AsyncIterator[FakeSharely]:
    async with FakeSharely() as server:
        yield server


def _env(fake: FakeFini, sharely: FakeSharely) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("FINI_", "SHARELY_", "PYTEST_"))
    }
    env.update(
        FINI_API_KEY=WRITE_KEY,
        FINI_BASE_URL=fake.url,
        SHARELY_API_KEY=sharely.api_key,
        SHARELY_BASE_URL=sharely.url,
        SHARELY_WORKSPACE_ID=sharely.workspace_id,
        SHARELY_ORGANIZATION_ID=SHARELY_ORGANIZATION_ID,
    )
    return env


@pytest.mark.parametrize("block", BLOCKS, ids=[b.name for b in BLOCKS])
async def test_every_python_block_runs_as_written(
    block: Block, fake: FakeFini, sharely: FakeSharely, tmp_path: Path
) -> None:
    if block.skip is not None:
        pytest.skip(f"README line {block.line}: {block.skip}")
    # What the blocks take for granted in a workspace: conversations, ingested documents, a file.
    conversations_of(fake).seed_conversations(8, span_days=20)
    jobs = knowledge_of(fake)
    jobs.documents.update({"doc-1": "Refunds take 5 days.", "doc-2": "We ship to Mars."})
    jobs.pending_for, jobs.run_for = 0.05, 0.1
    (tmp_path / "handbook.pdf").write_bytes(b"%PDF-1.4\n% a handbook\n%%EOF\n")
    script = tmp_path / f"{block.name}.py"
    script.write_text(block.code)
    if block.is_pytest_module:
        # Plain pytest, no configuration of this project; no anyio or pytest-asyncio plugin
        # unless the block says it uses anyio's (the fixtures of fini-async's own plugin do).
        (tmp_path / "pytest.ini").write_text("[pytest]\n")
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:asyncio"]
        if "pytest.mark.anyio" not in block.code:
            command += ["-p", "no:anyio"]
        command += ["-p", "no:cacheprovider", script.name]
    else:
        command = [sys.executable, script.name]
    with anyio.fail_after(60):
        proc = await anyio.run_process(command, cwd=tmp_path, env=_env(fake, sharely), check=False)
    output = (proc.stdout + proc.stderr).decode(errors="replace")
    assert proc.returncode == 0, f"README line {block.line} failed:\n{output}"
    if block.is_pytest_module:
        assert " passed" in output and "skipped" not in output, output


def test_every_python_block_passes_mypy_strict(tmp_path: Path) -> None:
    """The examples users copy type-check: a batch result narrows on ``ok``, the clients' return
    types carry what the examples read."""
    files = []
    for block in BLOCKS:
        if block.skip is None:
            path = tmp_path / f"{block.name}.py"
            path.write_text(block.code)
            files.append(str(path))
    cache = ROOT / ".mypy_cache" / "readme"
    command = [sys.executable, "-m", "mypy", "--strict", "--no-error-summary"]
    command += ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(cache), *files]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- what the README says ------------------------------------------------------------------------


def _section(title: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{title}\n")
    end = text.find("\n## ", start + len(title) + 2)
    return text[start : end if end >= 0 else len(text)]


def test_the_error_tree_lists_every_public_exception() -> None:
    section = _section("### Errors and retries")
    tree = section.split("```")[1]
    listed = set(re.findall(r"\b[A-Z]\w+\b", tree))
    public = {
        name
        for name in fini_async.__all__
        if isinstance(getattr(fini_async, name), type)
        and issubclass(getattr(fini_async, name), BaseException)
    }
    assert public, "no exceptions exported?"
    assert public <= listed, f"missing from the README's error tree: {sorted(public - listed)}"


def test_quick_start_makes_a_venv_before_its_two_commands() -> None:
    section = _section("## Quick start")
    commands = re.findall(r"```bash\n(.*?)\n```", section, re.DOTALL)
    assert commands[:3] == [
        "python3 -m venv .venv && . .venv/bin/activate",
        'python -m pip install ".[cli]" && python -m fini_async demo',
        "python -m pip install nox && python -m nox",
    ]
    assert commands[2] in (ROOT / ".ci" / "run").read_text()  # CI runs that command verbatim


def test_benchmark_table_lives_in_benchmarks_readme_with_a_summary_here() -> None:
    from benchmarks import __main__ as bench

    readme = README.read_text(encoding="utf-8")
    assert bench.README_START not in readme and "| workload | loop |" not in readme
    assert bench.SUMMARY_START in readme and bench.SUMMARY_END in readme
    summary = readme[readme.index(bench.SUMMARY_START) : readme.index(bench.SUMMARY_END)]
    assert "vs raw aiohttp" in summary and "OpenAI SDK" in summary
    assert Path(bench.RESULTS_README) == ROOT / "benchmarks" / "README.md"
    table = Path(bench.RESULTS_README).read_text(encoding="utf-8")
    start, end = table.index(bench.README_START), table.index(bench.README_END)
    assert "| workload | loop | flavour |" in table[start:end]


def test_benchmarks_write_their_table_and_summary_between_the_markers(tmp_path: Path) -> None:
    from benchmarks import __main__ as bench

    page = tmp_path / "README.md"
    page.write_text(f"# t\n\n## Results\n\n{bench.README_START}\nold\n{bench.README_END}\nend\n")
    table = "# fini-async benchmarks\n\n| a |\n|---|\n| 1 |\n\n## Targets\n\nx\n"
    assert bench.update_readme(str(page), table)
    assert page.read_text() == (
        f"# t\n\n## Results\n\n{bench.README_START}\n| a |\n|---|\n| 1 |\n\n### Targets\n\nx\n"
        f"{bench.README_END}\nend\n"
    )
    assert not bench.update_readme(str(page), "x", bench.SUMMARY_START, bench.SUMMARY_END)


def test_browser_tests_say_why_they_skip_and_how_to_install_chromium(tmp_path: Path) -> None:
    development = _section("## Development")
    assert "apt-get install chromium chromium-driver" in development
    assert "playwright" in development
    assert "chromium chromium-driver" in (ROOT / ".ci" / "install-browser").read_text()
    # This project's pytest configuration reports the reason of every skipped test.
    (tmp_path / "test_skips.py").write_text(
        "import pytest\n\n\ndef test_x() -> None:\n    pytest.skip('needs a browser here')\n"
    )
    command = [sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml")]
    command += ["--rootdir", str(tmp_path), "-p", "no:cacheprovider", str(tmp_path)]
    proc = subprocess.run(command, capture_output=True, text=True, check=False)
    assert "SKIPPED [1]" in proc.stdout and "needs a browser here" in proc.stdout, proc.stdout


def test_license_and_changelog_exist() -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License") and "fini-async maintainers" in license_text
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert "## [Unreleased]" in changelog and "keepachangelog.com" in changelog


def test_sdist_holds_examples_license_and_changelog(tmp_path: Path) -> None:
    pytest.importorskip("hatchling", reason="hatchling (the build backend) is not installed here")
    from hatchling.builders.sdist import SdistBuilder

    archive = Path(next(SdistBuilder(str(ROOT)).build(directory=str(tmp_path))))
    with tarfile.open(archive) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for path in ("LICENSE", "CHANGELOG.md", "README.md", "examples/relay/app.py"):
        assert path in names, path
