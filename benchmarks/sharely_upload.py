"""Peak memory of a Sharely file upload: ``python -m benchmarks.sharely_upload``.

Three processes, so that nothing but the client is measured:

* the emulator (``FakeSharely``) runs in its own process (``--serve``) on a loopback port;
* the parent writes test files to a temporary directory (10 MB and 100 MB by default, generated
  on the fly, never held in memory) and starts one fresh client process per file;
* each client process (``--client``) imports fini_async, exchanges its token and warms the
  connection up, then records its RSS, resets the kernel's high-water mark
  (``/proc/self/clear_refs``), uploads the file with ``client.knowledge.upload_file(path)`` and
  reads the peak RSS during the upload (``VmHWM``, cross-checked by a 2 ms sampling thread).

It prints RSS before / after / peak for every size, the peak's growth over the baseline and its
ratio to the file size, checks the server received every byte (size and SHA-256 as reported by
the emulator), and exits 1 if the upload's memory grew with the file (the 100 MB upload's peak
growth must stay under ``--max-growth-mb``, 32 MB by default, and within a few MB of the small
file's).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

MB = 1024 * 1024


# -- memory probes (Linux /proc, with a getrusage fallback) ----------------------------------


def _status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int:
    kb = _status_kb("VmRSS")
    if kb is not None:
        return kb * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter (VmHWM) to the current RSS; False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def peak_bytes() -> int:
    kb = _status_kb("VmHWM")
    if kb is not None:
        return kb * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class Sampler(threading.Thread):
    """Samples VmRSS every 2 ms: a cross-check where VmHWM cannot be reset."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, rss_bytes())
            self.samples += 1
            time.sleep(0.002)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# -- the three roles -------------------------------------------------------------------------


async def _serve() -> None:
    from fini_async.testing import FakeSharely

    fake = FakeSharely()
    await fake.start()
    print(json.dumps({"url": fake.url}), flush=True)
    try:
        await asyncio.get_running_loop().run_in_executor(
            None, sys.stdin.read
        )  # until parent closes
    finally:
        await fake.stop()


async def _client(url: str, path: str, mode: str = "stream") -> dict[str, Any]:
    from fini_async.sharely import SharelyClient
    from fini_async.testing._sharely import (
        SHARELY_API_KEY,
        SHARELY_ORGANIZATION_ID,
        SHARELY_WORKSPACE_ID,
    )

    async with SharelyClient(
        SHARELY_API_KEY,
        workspace_id=SHARELY_WORKSPACE_ID,
        organization_id=SHARELY_ORGANIZATION_ID,
        base_url=url,
        timeout=600,
    ) as client:
        # Warm-up: token exchange, connection, a tiny upload through the same code path.
        await client.knowledge.upload_file(b"warm-up", filename="warmup.txt")
        before = rss_bytes()
        hwm_reset = reset_peak()
        sampler = Sampler()
        sampler.start()
        started = time.perf_counter()
        if mode == "bytes":  # the control: what reading the whole file first would cost
            data = await asyncio.to_thread(Path(path).read_bytes)
            uploaded = await client.knowledge.upload_file(data, filename=Path(path).name)
            del data
        else:
            uploaded = await client.knowledge.upload_file(path, title="benchmark")
        elapsed = time.perf_counter() - started
        sampler.stop()
        peak = max(peak_bytes() if hwm_reset else 0, sampler.peak)
        after = rss_bytes()
        item = await client.knowledge.get(uploaded.knowledge_id or uploaded.id)
    size = await asyncio.to_thread(os.path.getsize, path)
    return {
        "mode": mode,
        "size": size,
        "rss_before": before,
        "rss_after": after,
        "rss_peak": peak,
        "hwm_reset": hwm_reset,
        "sampler_peak": sampler.peak,
        "samples": sampler.samples,
        "seconds": elapsed,
        "server_size": item.metadata.get("fileSize"),
        "server_sha256": item.metadata.get("sha256"),
    }


def _write_file(path: Path, size: int) -> str:
    """Write ``size`` bytes of incompressible data in 1 MB blocks; returns the SHA-256."""
    digest = hashlib.sha256()
    seed = os.urandom(32)
    with path.open("wb") as fh:
        written = 0
        block_no = 0
        while written < size:
            block = hashlib.shake_256(seed + block_no.to_bytes(8, "big")).digest(
                min(MB, size - written)
            )
            fh.write(block)
            digest.update(block)
            written += len(block)
            block_no += 1
    return digest.hexdigest()


def _fmt(n: float) -> str:
    return f"{n / MB:8.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sharely_upload")
    parser.add_argument("--sizes-mb", default="10,100", help="file sizes to upload (MB)")
    parser.add_argument("--max-growth-mb", type=float, default=32.0)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--control",
        action="store_true",
        help="also upload the largest file as bytes read whole (shows what the probe catches)",
    )
    parser.add_argument(
        "--client", nargs=3, metavar=("URL", "PATH", "MODE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    if args.serve:
        asyncio.run(_serve())
        return 0
    if args.client:
        result = asyncio.run(_client(*args.client))
        print(json.dumps(result), flush=True)
        return 0

    sizes = [int(float(s) * MB) for s in args.sizes_mb.split(",") if s.strip()]
    me = [sys.executable, "-m", "benchmarks.sharely_upload"]
    root = str(Path(__file__).resolve().parent.parent)
    server = subprocess.Popen(
        [*me, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=root
    )
    results: list[dict[str, Any]] = []
    ok = True
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"]
        with tempfile.TemporaryDirectory(prefix="sharely-bench-") as tmp:
            runs = [(size, "stream") for size in sizes]
            if args.control:
                runs.append((max(sizes), "bytes"))
            for size, mode in runs:
                path = Path(tmp) / f"upload-{size // MB}mb.pdf"
                digest = _write_file(path, size)
                out = subprocess.run(
                    [*me, "--client", url, str(path), mode],
                    capture_output=True,
                    text=True,
                    cwd=root,
                    check=False,
                )
                path.unlink()
                if out.returncode != 0:
                    print(out.stderr, file=sys.stderr)
                    return 1
                result = json.loads(out.stdout.strip().splitlines()[-1])
                result["sha_ok"] = result["server_sha256"] == digest
                result["size_ok"] = result["server_size"] == size
                results.append(result)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    print("Sharely upload: client process RSS (the emulator runs in its own process)")
    print(
        f"{'file':>10} {'mode':>7} {'before':>11} {'after':>11} {'peak':>11} {'growth':>11} "
        f"{'growth/file':>12} {'MB/s':>7}  received"
    )
    for r in results:
        growth = r["rss_peak"] - r["rss_before"]
        r["growth"] = growth
        r["ratio"] = growth / r["size"]
        received = "ok" if r["sha_ok"] and r["size_ok"] else "MISMATCH"
        ok = ok and r["sha_ok"] and r["size_ok"]
        print(
            f"{_fmt(r['size'])} {r['mode']:>7} {_fmt(r['rss_before'])} {_fmt(r['rss_after'])} "
            f"{_fmt(r['rss_peak'])} {_fmt(growth)} {r['ratio']:12.4f} "
            f"{r['size'] / MB / r['seconds']:7.0f}  {received}"
        )
    streamed = [r for r in results if r["mode"] == "stream"]
    largest = max(streamed, key=lambda r: r["size"])
    smallest = min(streamed, key=lambda r: r["size"])
    flat = largest["growth"] <= args.max_growth_mb * MB
    if largest is not smallest:
        flat = flat and largest["growth"] - smallest["growth"] <= 8 * MB
    verdict = "flat" if flat else "GROWS WITH THE FILE"
    print(
        f"peak growth for {largest['size'] // MB} MB: {largest['growth'] / MB:.1f} MB "
        f"({largest['ratio']:.2%} of the file) -> {verdict}; "
        f"peak from {'VmHWM reset + sampling' if largest['hwm_reset'] else 'sampling'}"
    )
    return 0 if ok and flat else 1


if __name__ == "__main__":
    sys.exit(main())
