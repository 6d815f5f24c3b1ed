"""The pytest plugin shipped with the package (``pytest11`` entry point): its fixtures work in a
user's project with plain pytest + anyio (strict mode, ``@pytest.mark.anyio``) and in anyio's auto
mode, and ``assert_pool_idle`` catches a response left open."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fini_async import FiniClient
from fini_async.testing import (
    FakeFini,
    assert_pool_idle,
    pool_stats,
    wait_for_pool_idle,
)

USER_TESTS = """
import pytest

from fini_async import FiniClient, SharelyClient
from fini_async.testing import FakeFini, FakeSharely, assert_pool_idle

{mark}
async def test_fini(fini_fake: FakeFini, fini_client: FiniClient) -> None:
    answer = await fini_client.bots.ask_question("How do I upgrade to premium?")
    assert answer.answer
    assert fini_fake.calls["ask-question"] == 1
    assert_pool_idle(fini_client)


{mark}
async def test_sharely(sharely_fake: FakeSharely, sharely_client: SharelyClient) -> None:
    await sharely_client.knowledge.create_text("hello")
    assert sharely_fake.calls["sharely.knowledge.create"] == 1
    assert_pool_idle(sharely_client)


{mark}
async def test_each_test_gets_its_own_emulator(fini_fake: FakeFini) -> None:
    assert fini_fake.calls["ask-question"] == 0
"""


def _run_pytest(directory: Path) -> subprocess.CompletedProcess[str]:
    # -p no:cacheprovider: leave nothing in the temporary project; the plugin itself is found
    # through its entry point, as in a user's environment.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(directory)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_fixtures_work_in_a_users_project(tmp_path: Path, mode: str) -> None:
    mark = "@pytest.mark.anyio" if mode == "strict" else ""
    (tmp_path / "test_user.py").write_text(USER_TESTS.format(mark=mark))
    ini = "[pytest]\n" + ("anyio_mode = auto\n" if mode == "auto" else "")
    (tmp_path / "pytest.ini").write_text(ini)
    result = _run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_the_plugin_is_registered_through_its_entry_point(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_list.py").write_text(
        textwrap.dedent(
            """
            def test_plugin(pytestconfig):
                plugin = pytestconfig.pluginmanager.get_plugin("fini_async")
                assert plugin is not None
                assert plugin.__name__ == "fini_async.testing.pytest_plugin"
            """
        )
    )
    result = _run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_assert_pool_idle_catches_an_open_stream(fake: FakeFini, client: FiniClient) -> None:
    assert_pool_idle(client)  # no session yet: nothing held
    fake.chunk_delay = 0.05
    stream = client.bots.stream_question("How do I reset my password?")
    await stream.__anext__()
    stats = pool_stats(client)
    assert stats.in_use == 1 and stats.acquired == 1 and not stats.idle
    with pytest.raises(AssertionError, match="not idle"):
        assert_pool_idle(client)
    with pytest.raises(AssertionError, match="not idle"):
        await wait_for_pool_idle(client, timeout=0.05)
    await stream.aclose()
    await wait_for_pool_idle(client)
    assert_pool_idle(client)
