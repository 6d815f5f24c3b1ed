"""The README's command: ``python -m examples.relay --port N`` (and ``--fastapi``) starts, serves
the page, streams an answer from the embedded emulator, and exits cleanly on Ctrl-C."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize("variant", ["aiohttp", "fastapi"])
async def test_the_readme_command_serves_the_page_and_streams(variant: str) -> None:
    args = []
    if variant == "fastapi":
        pytest.importorskip("fastapi", reason="--fastapi needs fastapi")
        pytest.importorskip("uvicorn", reason="--fastapi needs uvicorn")
        args = ["--fastapi"]
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "FINI_API_KEY"}
    env["PYTHONUNBUFFERED"] = "1"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "examples.relay",
        "--port",
        str(port),
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        banner = await asyncio.wait_for(proc.stdout.readline(), 60)  # type: ignore[union-attr]
        assert f"{url}/" in banner.decode() and "FakeFini" in banner.decode()
        async with aiohttp.ClientSession() as s:
            for _ in range(600):  # up to a minute on a busy machine
                try:
                    async with s.get(url + "/") as r:
                        page = await r.text()
                        break
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None, "the relay exited before serving"
                    await asyncio.sleep(0.1)
            else:
                raise AssertionError("the relay never served the page")
            assert r.status == 200 and '<form id="f">' in page
            q = {"message": "How do I reset my password?", "history": []}
            async with s.post(url + "/api/chat", json=q) as r:
                assert r.headers["Content-Type"].startswith("text/event-stream")
                chunks = []
                async for chunk in r.content.iter_any():
                    chunks.append(chunk)
        blocks = b"".join(chunks).decode().strip().split("\n\n")
        names = [b.split("\n")[0][7:] for b in blocks]
        assert names[0] == "metadata" and names[-1] == "done" and names.count("delta") > 3
        done = json.loads(blocks[-1].split("\n")[1][6:])
        assert done["answer"].startswith("To reset your password")
        assert len(chunks) > 3  # streamed as the emulator produced it, not in one piece
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(proc.wait(), 30)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        err = (await proc.stderr.read()).decode()  # type: ignore[union-attr]
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
