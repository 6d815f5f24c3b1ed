"""The ``fini-async`` command, driven as a subprocess (``python -m fini_async ...``) against an
emulator running in the test process on loopback (or the command's own embedded emulator)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anyio
import pytest

from fini_async import FiniClient
from fini_async.cli._demo import SECTIONS
from fini_async.testing import WRITE_KEY, FakeFini, conversations_of, knowledge_of

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

UPGRADE = (
    "To upgrade to premium, open Settings, choose Billing and select the Premium plan. "
    "The upgrade takes effect immediately and is prorated."
)
WRONG_KEY = "fini_wrong_secret_0123456789"


def env_for(fake: FakeFini | None, **changes: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FINI_")}
    env["COLUMNS"] = "120"
    if fake is not None:
        env["FINI_BASE_URL"] = fake.url
        env["FINI_API_KEY"] = WRITE_KEY
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def assert_no_secret(*outputs: str, secret: str = WRITE_KEY) -> None:
    for text in outputs:
        assert secret not in text


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[bytes]) -> None:
        self.code = proc.returncode
        self.out = proc.stdout.decode()
        self.err = proc.stderr.decode()

    def __repr__(self) -> str:
        return f"<exit {self.code}\nstdout: {self.out}\nstderr: {self.err}>"


async def cli(
    *args: str | Path, fake: FakeFini | None = None, env: Mapping[str, str] | None = None
) -> Run:
    """Run the command to its end (the emulator keeps serving meanwhile: this awaits)."""
    command = [sys.executable, "-m", "fini_async", *map(str, args)]
    proc = await anyio.run_process(command, env=env or env_for(fake), check=False)
    run = Run(proc)
    assert_no_secret(run.out, run.err)
    assert "Traceback" not in run.err or "--debug" in command, run
    return run


def lines_of(path: Path) -> list[dict[str, Any]]:
    data = path.read_text()
    assert data.endswith("\n")
    return [json.loads(line) for line in data.splitlines()]


# -- packaging -----------------------------------------------------------------------------------


async def test_core_package_imports_neither_click_nor_rich() -> None:
    code = "import sys, fini_async, fini_async.testing, fini_async.cli; " + (
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'rich')))"
    )
    proc = await anyio.run_process([sys.executable, "-c", code])
    assert proc.stdout.decode().strip() == "[]"


async def test_without_the_cli_extra_one_line_says_what_to_install() -> None:
    code = (
        "import sys, runpy; sys.modules['click'] = None; sys.argv = ['fini-async', 'demo']; "
        "runpy.run_module('fini_async', run_name='__main__')"
    )
    proc = await anyio.run_process([sys.executable, "-c", code], check=False)
    assert proc.returncode == 1
    err = proc.stderr.decode()
    assert err.strip().splitlines() == [
        'fini-async: the command needs click and rich: pip install "fini-async[cli]"'
    ]


def test_every_command_has_help() -> None:
    from click.testing import CliRunner

    from fini_async.cli._app import cli as group

    runner = CliRunner()
    for command in (
        [],
        ["ask"],
        ["ask-many"],
        ["knowledge"],
        ["knowledge", "generate"],
        ["knowledge", "status"],
        ["conversations"],
        ["conversations", "list"],
        ["emulator"],
        ["demo"],
    ):
        result = runner.invoke(group, [*command, "--help"], prog_name="fini-async")
        assert result.exit_code == 0, result.output
        assert result.output.startswith("Usage: fini-async")
        summary = result.output.split("\n\n")[1].strip()
        assert len(summary) > 20, (command, summary)
    text = runner.invoke(group, ["ask-many", "--help"]).output
    assert "--no-retry-errors" in text and "resume" in text


# -- ask -----------------------------------------------------------------------------------------


async def test_ask_prints_answer_and_sources(fake: FakeFini) -> None:
    run = await cli("ask", "How do I upgrade to premium?", fake=fake)
    assert run.code == 0, run
    assert run.out.startswith(UPGRADE + "\n")
    assert "Sources:" in run.out
    assert "https://help.example.com/billing/upgrade" in run.out
    assert fake.calls["ask-question"] == 1


async def test_ask_instruction_is_sent() -> None:
    seen: list[Any] = []
    async with recording_fake(seen) as fake:
        run = await cli("ask", "What is Fini?", "--instruction", "Be brief.", fake=fake)
    assert run.code == 0, run
    assert [body["instruction"] for body in seen] == ["Be brief."]


def recording_fake(seen: list[Any]) -> FakeFini:
    """An emulator (not started yet) that appends each ask-question body to ``seen``."""
    fake = FakeFini()
    fake.app.middlewares.append(_record_bodies(seen))
    return fake


def _record_bodies(seen: list[Any]) -> Any:
    from aiohttp import web

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.endswith("/ask-question"):
            seen.append(json.loads(await request.read()))
        response: web.StreamResponse = await handler(request)
        return response

    return record


async def test_ask_stream_prints_tokens_as_they_arrive(fake: FakeFini) -> None:
    plain = await cli("ask", "How do I upgrade to premium?", fake=fake)
    # After 5 events (metadata + 4 tokens) the emulator goes silent for a while: the first
    # tokens must reach stdout before the rest of the answer exists.
    fake.stall_stream_after(5, 2.5)
    first_four = "".join(re.findall(r"\S+\s*", UPGRADE)[:4])
    command = [
        sys.executable,
        "-m",
        "fini_async",
        "ask",
        "--stream",
        "How do I upgrade to premium?",
    ]
    received = b""
    async with await anyio.open_process(command, env=env_for(fake)) as proc:
        assert proc.stdout is not None
        with anyio.fail_after(20):
            while first_four.encode() not in received:
                received += await proc.stdout.receive()
        early = received.decode()
        assert early.startswith(first_four)
        assert UPGRADE not in early  # the stream was still stalled: the output grew
        assert proc.returncode is None
        async for chunk in proc.stdout:
            received += chunk
        await proc.wait()
    assert proc.returncode == 0
    assert received.decode() == plain.out  # same text and sources as the plain answer


async def test_ask_json_prints_the_answer_as_one_object(fake: FakeFini) -> None:
    run = await cli("ask", "--json", "How do I upgrade to premium?", fake=fake)
    assert run.code == 0, run
    assert len(run.out.strip().splitlines()) == 1
    answer = json.loads(run.out)
    assert answer["answer"] == UPGRADE
    assert answer["based_on"][0]["source_id"] == "https://help.example.com/billing/upgrade"
    streamed = await cli("ask", "--json", "--stream", "How do I upgrade to premium?", fake=fake)
    assert json.loads(streamed.out)["answer"] == UPGRADE


async def test_empty_question_is_refused_before_any_request(fake: FakeFini) -> None:
    run = await cli("ask", "  ", fake=fake)
    assert run.code == 1
    assert run.err.strip().splitlines() == ["error: ValidationError: question must not be empty"]
    assert fake.calls["ask-question"] == 0


# -- errors and secrets --------------------------------------------------------------------------


async def test_missing_key_is_one_line(fake: FakeFini) -> None:
    run = await cli("ask", "What is Fini?", env=env_for(fake, FINI_API_KEY=None))
    assert run.code == 1
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: FINI_API_KEY is not set")
    assert run.out == ""
    assert sum(fake.calls.values()) == 0


async def test_wrong_key_is_one_line_with_401_and_never_printed(fake: FakeFini) -> None:
    env = env_for(fake, FINI_API_KEY=WRONG_KEY)
    run = await cli("ask", "What is Fini?", env=env)
    assert run.code == 1
    assert run.err.strip().splitlines() == [
        "error: AuthenticationError (401): Invalid or missing API key"
    ]
    assert_no_secret(run.out, run.err, secret=WRONG_KEY)
    debug = await cli("--debug", "ask", "What is Fini?", env=env)
    assert debug.code == 1
    assert "Traceback (most recent call last)" in debug.err
    assert "AuthenticationError" in debug.err
    assert "fini_async DEBUG POST /v2/bots/ask-question -> 401" in debug.err  # FINI_LOG=debug
    assert debug.err.strip().splitlines()[-1].startswith("error: AuthenticationError (401)")
    assert_no_secret(debug.out, debug.err, secret=WRONG_KEY)


async def test_usage_errors_exit_2(fake: FakeFini, tmp_path: Path) -> None:
    run = await cli("knowledge", "generate", fake=fake)
    assert run.code == 2
    assert "TEXT or with -f FILE" in run.err
    run = await cli("ask-many", tmp_path / "missing.txt", "-o", tmp_path / "a.jsonl", fake=fake)
    assert run.code == 2
    run = await cli("conversations", "list", "--since", "yesterday-ish", fake=fake)
    assert run.code == 2 and "is not a date" in run.err


async def test_server_errors_are_one_line(fake: FakeFini) -> None:
    fake.fail_next("ask-question", 3, status=503)  # the first try and both retries
    run = await cli("ask", "What is Fini?", fake=fake)
    assert run.code == 1
    lines = run.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: InternalServerError (503):")


# -- ask-many ------------------------------------------------------------------------------------


async def test_ask_many_txt_one_line_per_question(fake: FakeFini, tmp_path: Path) -> None:
    questions = [f"How do I upgrade to premium? #{i}" for i in range(40)]
    source = tmp_path / "questions.txt"
    source.write_text("\n\n".join(questions) + "\n\n  \n")  # blank lines are skipped
    out = tmp_path / "answers.jsonl"
    run = await cli("ask-many", source, "-o", out, "--concurrency", "4", fake=fake)
    assert run.code == 0, run
    records = lines_of(out)
    assert sorted(r["index"] for r in records) == list(range(40))
    for record in records:
        assert record["question"] == questions[record["index"]]
        assert record["answer"] == UPGRADE
        assert record["based_on"][0]["source_id"] == "https://help.example.com/billing/upgrade"
    assert fake.calls["ask-question"] == 40
    assert "done: 40 answered, 0 failed" in run.err
    again = await cli("ask-many", source, "-o", out, fake=fake)
    assert again.code == 0 and "nothing to do" in again.err
    assert fake.calls["ask-question"] == 40


async def test_ask_many_jsonl_options_ids_and_error_lines(tmp_path: Path) -> None:
    seen: list[Any] = []
    async with recording_fake(seen) as fake:
        await _jsonl_options_ids_and_error_lines(fake, tmp_path, seen)


async def _jsonl_options_ids_and_error_lines(
    fake: FakeFini, tmp_path: Path, seen: list[Any]
) -> None:
    source = tmp_path / "questions.jsonl"
    rows = [{"question": f"What is Fini? {i}", "id": f"q{i}"} for i in range(20)]
    rows[3]["instruction"] = "Be brief."
    rows[4]["temperature"] = 7  # refused by the SDK before any request: an error line
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "answers.jsonl"
    fake.fail_next("ask-question", 2, status=400)  # never retried: two error lines
    run = await cli("ask-many", source, "-o", out, "--concurrency", "1", fake=fake)
    assert run.code == 1, run  # some questions failed: a script must see it
    assert run.err.strip().splitlines()[-1] == (
        f"error: 3 of 20 questions failed (error lines in {out}); run the same command to ask "
        "them again"
    )
    records = {r["index"]: r for r in lines_of(out)}
    assert sorted(records) == list(range(20))
    assert all(r["id"] == f"q{i}" for i, r in records.items())
    errors = [r for r in records.values() if "error" in r]
    assert len(errors) == 3
    assert records[4]["error"]["type"] == "ValidationError"
    assert records[4]["error"]["status"] is None
    http = [r["error"] for r in errors if r["index"] != 4]
    assert all(e["type"] == "BadRequestError" and e["status"] == 400 for e in http)
    assert "done: 17 answered, 3 failed" in run.err
    assert any(body.get("instruction") == "Be brief." for body in seen)
    calls = fake.calls["ask-question"]
    assert calls == 19  # the bad temperature never left the client

    kept = await cli("ask-many", source, "-o", out, "--no-retry-errors", fake=fake)
    assert kept.code == 1 and "nothing to do" in kept.err  # the file still holds 3 errors
    assert "error: 3 of 20 questions failed" in kept.err
    assert "without --no-retry-errors" in kept.err
    assert fake.calls["ask-question"] == calls

    retried = await cli("ask-many", source, "-o", out, fake=fake)
    assert retried.code == 1, retried  # index 4 fails again
    assert "error: 1 of 20 questions failed" in retried.err
    assert "3 earlier errors to ask again" in retried.err
    records = {r["index"]: r for r in lines_of(out)}
    assert sorted(records) == list(range(20)) and len(lines_of(out)) == 20
    assert fake.calls["ask-question"] == calls + 2  # the two 400s; index 4 fails again locally
    assert [i for i, r in records.items() if "error" in r] == [4]


async def test_ask_many_interrupted_then_resumed(fake: FakeFini, tmp_path: Path) -> None:
    total = 300
    source = tmp_path / "questions.txt"
    source.write_text("".join(f"How do I upgrade to premium? #{i}\n" for i in range(total)))
    out = tmp_path / "answers.jsonl"
    fake.add_latency("ask-question", 0.05)
    command = [
        sys.executable, "-m", "fini_async", "ask-many", str(source), "-o", str(out),
        "--concurrency", "4",
    ]  # fmt: skip
    async with await anyio.open_process(command, env=env_for(fake)) as proc:
        with anyio.fail_after(60):
            # another process writes the file: poll it
            while not out.exists() or out.read_text().count("\n") < 20:  # noqa: ASYNC110
                await anyio.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        assert proc.stderr is not None
        err_bytes = b""
        with anyio.fail_after(30):
            async for chunk in proc.stderr:
                err_bytes += chunk
            await proc.wait()
        err = err_bytes.decode()
    assert proc.returncode == 130, err
    data = out.read_text()
    assert data.endswith("\n")
    first = [json.loads(line) for line in data.splitlines()]  # every line is whole JSON
    written = len(first)
    assert 20 <= written < total
    assert f"interrupted: {written} written, run the same command to resume" in err
    assert "Traceback" not in err
    assert len({r["index"] for r in first}) == written
    assert all("answer" in r for r in first)
    calls_before = fake.calls["ask-question"]

    fake.clear_faults()
    run = await cli(*command[3:], fake=fake)
    assert run.code == 0, run
    assert f"resuming: {written} already in" in run.err
    records = lines_of(out)
    assert len(records) == total
    assert sorted(r["index"] for r in records) == list(range(total))
    assert records[:written] == first  # what was written before is kept as it was
    # Only the questions not yet written were asked again, each once.
    assert fake.calls["ask-question"] - calls_before == total - written


async def test_ask_many_drops_a_cut_off_last_line(fake: FakeFini, tmp_path: Path) -> None:
    source = tmp_path / "questions.txt"
    source.write_text("".join(f"What is Fini? {i}\n" for i in range(10)))
    out = tmp_path / "answers.jsonl"
    await cli("ask-many", source, "-o", out, fake=fake)
    whole = out.read_text().splitlines(keepends=True)
    out.write_text("".join(whole[:6]) + whole[6][: len(whole[6]) // 2])  # an interrupted write
    calls = fake.calls["ask-question"]
    run = await cli("ask-many", source, "-o", out, fake=fake)
    assert run.code == 0, run
    assert "a cut-off last line dropped" in run.err
    assert sorted(r["index"] for r in lines_of(out)) == list(range(10))
    assert fake.calls["ask-question"] - calls == 4


async def test_ask_many_leaves_a_foreign_file_alone(fake: FakeFini, tmp_path: Path) -> None:
    source = tmp_path / "questions.txt"
    source.write_text("What is Fini?\n")
    out = tmp_path / "notes.jsonl"
    out.write_text('{"note": "not an answer"}\n')
    run = await cli("ask-many", source, "-o", out, fake=fake)
    assert run.code == 1
    assert run.err.strip().splitlines() == [
        f"error: ValidationError: {out} line 1 is not an ask-many result; choose another "
        "output file"
    ]
    assert out.read_text() == '{"note": "not an answer"}\n'
    assert fake.calls["ask-question"] == 0


async def test_ask_many_stops_on_a_wrong_key(fake: FakeFini, tmp_path: Path) -> None:
    source = tmp_path / "questions.txt"
    source.write_text("".join(f"What is Fini? {i}\n" for i in range(200)))
    out = tmp_path / "answers.jsonl"
    env = env_for(fake, FINI_API_KEY=WRONG_KEY)
    run = await cli("ask-many", source, "-o", out, "--concurrency", "4", env=env)
    assert run.code == 1
    assert run.err.strip().splitlines()[-1] == (
        "error: AuthenticationError (401): Invalid or missing API key"
    )
    assert_no_secret(run.out, run.err, secret=WRONG_KEY)
    assert not out.exists()  # nothing written, no empty file left: resumes from scratch
    assert fake.calls["ask-question"] <= 4  # the batch sent nothing after the first 401


# -- knowledge -----------------------------------------------------------------------------------


async def test_knowledge_generate_wait_publishes_and_answers_use_it(
    fake: FakeFini, tmp_path: Path
) -> None:
    text = "Shipping to Mars: we ship to Mars every second Tuesday."
    run = await cli("knowledge", "generate", text, "--publish", "--wait", fake=fake)
    assert run.code == 0, run
    job_id = re.search(r"job (\S+): queued", run.out).group(1)  # type: ignore[union-attr]
    job = knowledge_of(fake).jobs[job_id]
    assert not job.is_draft
    match = re.search(rf"job {job_id}: COMPLETED \(article (\S+)\)", run.out)
    assert match and match.group(1) == job.article_id
    assert fake.kb.articles[job.article_id].content == text
    answer = await cli("ask", "--json", "Do you ship to Mars?", fake=fake)
    assert json.loads(answer.out)["answer"] == text

    notes = tmp_path / "notes.md"
    notes.write_text("Refunds of annual plans are prorated.")
    queued = await cli("knowledge", "generate", "-f", notes, fake=fake)
    assert queued.code == 0, queued
    second = re.search(r"job (\S+): queued", queued.out).group(1)  # type: ignore[union-attr]
    assert knowledge_of(fake).jobs[second].is_draft  # drafts unless --publish

    status = await cli("knowledge", "status", job_id, second, "--json", fake=fake)
    assert status.code == 0, status
    rows = [json.loads(line) for line in status.out.splitlines()]
    assert [r["id"] for r in rows] == [job_id, second]
    assert rows[0]["status"] == "COMPLETED" and rows[0]["hc_article_id"] == job.article_id
    table = await cli("knowledge", "status", job_id, fake=fake)
    assert job_id in table.out and "COMPLETED" in table.out


async def test_knowledge_failures_are_one_line(fake: FakeFini) -> None:
    knowledge_of(fake).fail_on("BROKEN")
    run = await cli("knowledge", "generate", "BROKEN text", "--wait", fake=fake)
    assert run.code == 1
    assert re.fullmatch(r"error: JobFailedError: [^\n]*failed\n", run.err), run
    unknown = await cli("knowledge", "status", "no-such-job", fake=fake)
    assert unknown.code == 1
    assert unknown.err.strip().splitlines() == [
        "error: NotFoundError (404): One or more knowledge jobs were not found"
    ]


# -- conversations -------------------------------------------------------------------------------


async def test_conversations_list(fake: FakeFini) -> None:
    seeded = conversations_of(fake).seed_conversations(30, span_days=20)
    run = await cli("conversations", "list", "--since", "30d", "--json", fake=fake)
    assert run.code == 0, run
    rows = [json.loads(line) for line in run.out.splitlines()]
    assert [r["id"] for r in rows] == [c.id for c in seeded]  # newest first, each once
    recent = await cli("conversations", "list", "--json", fake=fake)  # the last 7 days
    in_week = [json.loads(line)["id"] for line in recent.out.splitlines()]
    assert 0 < len(in_week) < 30 and in_week == [c.id for c in seeded[: len(in_week)]]
    middle = seeded[10].created_at
    until = await cli(
        "conversations", "list", "--since", "2000-01-01", "--until", str(middle), "--json",
        fake=fake,
    )  # fmt: skip
    assert [json.loads(line)["id"] for line in until.out.splitlines()] == [
        c.id for c in seeded if c.created_at <= middle
    ]
    table = await cli("conversations", "list", "--since", "30d", "--limit", "3", fake=fake)
    assert table.code == 0, table
    assert all(c.id in table.out for c in seeded[:3]) and seeded[3].id not in table.out


# -- --emulator, emulator, demo ------------------------------------------------------------------


async def test_global_emulator_option_needs_no_key() -> None:
    env = env_for(None, FINI_API_KEY=None, FINI_BASE_URL="http://127.0.0.1:9")
    run = await cli("--emulator", "ask", "How do I upgrade to premium?", env=env)
    assert run.code == 0, run
    assert run.out.startswith(UPGRADE)
    listed = await cli("--emulator", "conversations", "list", "--json", env=env)
    assert listed.code == 0 and len(listed.out.splitlines()) == 20


async def test_emulator_command_serves_until_ctrl_c() -> None:
    command = [sys.executable, "-m", "fini_async", "emulator", "--port", "0"]
    async with await anyio.open_process(command, env=env_for(None)) as proc:
        assert proc.stdout is not None
        received = b""
        with anyio.fail_after(30):
            while b"read-only key" not in received:
                received += await proc.stdout.receive()
        url = re.search(rb"on (http://127\.0\.0\.1:\d+)", received).group(1).decode()  # type: ignore[union-attr]
        assert WRITE_KEY.encode() in received
        async with FiniClient(api_key=WRITE_KEY, base_url=url) as client:
            answer = await client.bots.ask_question("How do I upgrade to premium?")
            conversations = [c async for c in client.conversations.list()]
        assert answer.answer == UPGRADE
        assert len(conversations) == 20
        proc.send_signal(signal.SIGINT)
        with anyio.fail_after(30):
            await proc.wait()
    assert proc.returncode == 0


async def test_demo_runs_every_section() -> None:
    run = await cli("demo", env=env_for(None))
    assert run.code == 0, run
    positions = []
    for title in SECTIONS:
        positions.append(run.out.index(title.format(n=300)))
    assert positions == sorted(positions)
    assert "300 answered, 0 failed" in run.out
    # The chat's follow-up was answered in the light of its first question: history was kept.
    chat = run.out[positions[1] : positions[2]]
    assert "Is that upgrade prorated?  (sent with 2 earlier messages)" in chat
    assert 'Following up on "How do I upgrade to premium?":' in chat
    after = run.out[positions[3] : positions[4]]
    assert "before: I could not find that" in after
    assert "after:  Shipping to Mars" in after
    assert "COMPLETED" in after
    synced = run.out[positions[4] : positions[5]]
    assert "2 sources refreshed (re-fetched), 1 changed" in synced
    assert "published as " in synced and "[red]" not in synced
    assert "we now deliver on Sundays" in synced
    assert "the answer is based on the article just published" in synced
    assert "13 conversations in the last 7 days" in run.out
    assert "Demo finished in" in run.out


# -- hardening (issue 11) ------------------------------------------------------------------------


async def test_emulator_and_timeout_options_after_the_command() -> None:
    env = env_for(None, FINI_API_KEY=None, FINI_BASE_URL="http://127.0.0.1:9")
    run = await cli("ask", "--emulator", "--timeout", "30", "How do I upgrade?", env=env)
    assert run.code == 0, run
    assert run.out.startswith(UPGRADE)
    listed = await cli("conversations", "list", "--json", "--emulator", env=env)
    assert listed.code == 0 and len(listed.out.splitlines()) == 20
    bad = await cli("ask", "--timeout", "-1", "q", env=env)
    assert bad.code == 2 and "--timeout" in bad.err


async def test_timeout_option_and_env_say_attempts_and_total_time(fake: FakeFini) -> None:
    fake.add_latency("ask-question", 3)
    where = f"[POST {fake.url}/v2/bots/ask-question]"
    for args, env in (
        (["--timeout", "0.3"], env_for(fake)),
        ([], env_for(fake, FINI_TIMEOUT="0.3")),
        (["--timeout", "0.3"], env_for(fake, FINI_TIMEOUT="100")),  # the option wins
    ):
        run = await cli("ask", *args, "What is Fini?", env=env)
        assert run.code == 1, run
        (line,) = run.err.strip().splitlines()
        assert line.startswith("error: APITimeoutError: "), line
        assert where in line
        match = re.search(r"gave up after (\d+) attempts in (\d+\.\d) s", line)
        assert match, line
        assert int(match.group(1)) == 3  # the first try and the two retries
        assert float(match.group(2)) >= 0.9, line  # three attempts of 0.3 s each
        assert "--timeout or FINI_TIMEOUT" in line
    assert fake.calls["ask-question"] == 9


async def test_connection_error_is_one_sentence_with_method_and_url() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    run = await cli(
        "ask", "What is Fini?", env=env_for(None, FINI_API_KEY=WRITE_KEY, FINI_BASE_URL=url)
    )
    assert run.code == 1
    (line,) = run.err.strip().splitlines()
    assert line.startswith("error: APIConnectionError: "), line
    assert f"[POST {url}/v2/bots/ask-question]; gave up after 3 attempts in " in line


def _run_on_a_terminal(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as stdin, stdout and stderr; its exit status and
    everything it wrote."""
    import pty

    main, sub = pty.openpty()
    try:
        proc = subprocess.Popen(command, stdin=sub, stdout=sub, stderr=sub, env=env)
    finally:
        os.close(sub)
    output = b""
    try:
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(main)
        code = proc.wait(timeout=60)
    return code, output.decode(errors="replace")


async def test_spinner_while_waiting_only_on_a_terminal(fake: FakeFini) -> None:
    fake.add_latency("ask-question", 1.0)
    env = env_for(fake, TERM="xterm", COLUMNS="100")
    command = [sys.executable, "-m", "fini_async", "ask", "What is Fini?"]
    code, output = await anyio.to_thread.run_sync(_run_on_a_terminal, command, env)
    assert code == 0, output
    assert "waiting for the answer" in output  # the spinner's line, cleared before the answer
    assert "Fini" in output.split("waiting for the answer")[-1]
    piped = await cli("ask", "What is Fini?", fake=fake)
    assert piped.code == 0 and piped.err == ""  # no spinner into a pipe or a file


async def test_ask_many_reads_csv_and_json(tmp_path: Path) -> None:
    seen: list[Any] = []
    async with recording_fake(seen) as fake:
        csv_file = tmp_path / "questions.csv"
        csv_file.write_text(
            "\ufeffid,question,instruction,temperature,categories\n"  # Excel's BOM
            'a1,"How do I upgrade, quickly?",Be brief.,0.5,"[""billing""]"\n'
            "a2,What is Fini?,,,\n"
            ",,,,\n"  # an empty row is skipped
        )
        out = tmp_path / "csv.jsonl"
        run = await cli("ask-many", csv_file, "-o", out, "--concurrency", "1", fake=fake)
        assert run.code == 0, run
        records = sorted(lines_of(out), key=lambda r: r["index"])
        assert [(r["id"], r["question"]) for r in records] == [
            ("a1", "How do I upgrade, quickly?"),
            ("a2", "What is Fini?"),
        ]
        first = next(b for b in seen if b["question"] == "How do I upgrade, quickly?")
        assert first["instruction"] == "Be brief." and first["temperature"] == 0.5
        assert first["categories"] == ["billing"]
        second = next(b for b in seen if b["question"] == "What is Fini?")
        assert "instruction" not in second and "temperature" not in second

        json_file = tmp_path / "questions.json"
        json_file.write_text(
            json.dumps(["What is Fini?", {"question": "How do I upgrade?", "id": 7}])
        )
        out = tmp_path / "json.jsonl"
        run = await cli("ask-many", json_file, "-o", out, fake=fake)
        assert run.code == 0, run
        records = sorted(lines_of(out), key=lambda r: r["index"])
        assert [(r["id"], r["question"]) for r in records] == [
            (None, "What is Fini?"),
            (7, "How do I upgrade?"),
        ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.jsonl", '{"question": "ok"}\n{"question": 5}\n', "line 2 needs a non-empty string "
         "'question', not a number"),
        ("q.jsonl", '{"question": "ok", "id": []}\n', "line 1: 'id' must be a string or an "
         "integer, not an array"),
        ("q.jsonl", '\n{"question": "ok", "temperature": "hot"}\n', "line 2: 'temperature' must "
         "be a number, not a string"),
        ("q.jsonl", '{"question": "ok", "categories": "billing"}\n', "line 1: 'categories' must "
         "be an array of strings, not a string"),
        ("q.jsonl", '{"question": "ok", "user_attributes": [1]}\n', "line 1: 'user_attributes' "
         "must be an object, not an array"),
        ("q.json", '{"question": "not in an array"}', "must hold a JSON array of questions"),
        ("q.json", '["ok", 5]', "item 2 must be a JSON object, not a number"),
        ("q.json", '["ok", {"question": "x", "instruction": 1}]', "item 2: 'instruction' must "
         "be a string, not a number"),
        ("q.csv", "text\nWhat is Fini?\n", "line 1 must be a header row with a 'question' column"),
        ("q.csv", "question,colour\nWhat?,red\n", "line 1: unknown column 'colour'"),
        ("q.csv", "question,temperature\nok,1\nok,warm\n", "line 3: temperature must be a "
         "number, got 'warm'"),
        ("q.csv", "question,id\nok,1,extra\n", "line 2 has 3 cells for 2 columns"),
        ("q.csv", 'question,categories\nok,"[""a"", "\n', "line 2: the categories cell is not "
         "JSON"),
        ("q.xlsx", "PK\x03\x04", ".xlsx files are not read; export the questions"),
    ],
)  # fmt: skip
async def test_ask_many_refuses_bad_question_files_up_front(
    fake: FakeFini, tmp_path: Path, name: str, content: str, message: str
) -> None:
    source = tmp_path / name
    source.write_text(content)
    out = tmp_path / "answers.jsonl"
    run = await cli("ask-many", source, "-o", out, fake=fake)
    assert run.code == 1, run
    (line,) = run.err.strip().splitlines()
    assert line.startswith(f"error: ValidationError: {source}"), line
    assert message in line, line
    assert not out.exists()
    assert fake.calls["ask-question"] == 0
