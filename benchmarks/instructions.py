"""Client CPU instructions per request or chunk, counted under valgrind (callgrind).

    python -m benchmarks.instructions                # plain, streams, bigstream: raw, fini-async
    python -m benchmarks.instructions --workloads bigstream --flavours raw,fini-async --loop uvloop

Wall-clock figures on a shared two-core machine vary by 30% from run to run; an instruction
count varies by about 1%. It is a proxy (no cache misses, no system calls), good for telling
whether a change to the client's hot path helps and by how much. Each (workload, flavour) runs
twice in a fresh interpreter under callgrind, once with no units after the warm-up and once with
``n`` units; the difference divided by ``n`` is the client's cost per unit, imports and set-up
excluded. The loopback server runs natively in its own process. Needs ``valgrind`` on PATH.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
from typing import Any

from benchmarks._clients import FLAVOURS, REPO_ROOT
from benchmarks._server import ServerProcess
from benchmarks._workloads import WORKLOADS

#: the timed size of each workload here (under valgrind everything is ~50x slower)
SIZES: dict[str, tuple[str, int]] = {
    "plain": ("requests", 1000),
    "streams": ("streams", 100),
    "bigstream": ("chunks", 100_000),
}
_COLLECTED = re.compile(r"Collected : (\d+)")


async def _child(spec: dict[str, Any]) -> None:
    workload = WORKLOADS[spec["workload"]]
    params = dict(workload.full)
    fl = FLAVOURS[spec["flavour"]](spec["base_url"], max_connections=100)
    await fl.open()
    try:
        await workload.warmup(fl, params)
        key, n = SIZES[spec["workload"]]
        if spec["n"]:
            params[key] = n
            await workload.run(fl, params)
    finally:
        await fl.close()


def _count(spec: dict[str, Any]) -> int:
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        json.dumps(spec),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO_ROOT, check=False)
    found = _COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or found is None:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{spec['flavour']} {spec['workload']}: {tail}")
    return int(found.group(1))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", default="plain,streams,bigstream")
    p.add_argument("--flavours", default="raw,fini-async")
    p.add_argument("--loop", default="asyncio", choices=("asyncio", "uvloop"))
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        if spec["loop"] == "uvloop":
            import uvloop

            uvloop.run(_child(spec))
        else:
            asyncio.run(_child(spec))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind)", file=sys.stderr)
        return 1
    workloads = [w for w in args.workloads.split(",") if w]
    flavours = [f for f in args.flavours.split(",") if f]
    for name in workloads:
        if name not in SIZES:
            p.error(f"unknown workload {name!r}; choose from {','.join(SIZES)}")
    with ServerProcess() as srv:
        for name in workloads:
            key, n = SIZES[name]
            workload = WORKLOADS[name]
            units = workload.expected({**workload.full, key: n})
            per: dict[str, float] = {}
            for flavour in flavours:
                spec = {"workload": name, "flavour": flavour, "base_url": srv.base_url}
                spec["loop"] = args.loop
                base = _count({**spec, "n": 0})
                full = _count({**spec, "n": 1})
                per[flavour] = (full - base) / units
                ratio = f"  ({per[flavour] / per[flavours[0]]:.2f}x {flavours[0]}'s count)"
                print(
                    f"{name:10} {args.loop:8} {flavour:15} {key}={n:<7} "
                    f"{per[flavour]:9,.0f} instructions/{workload.unit}"
                    + (ratio if flavour != flavours[0] else ""),
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
