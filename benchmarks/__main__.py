"""Benchmark runner: ``python -m benchmarks [--quick] [--runs N] [--workloads ...] ...``.

Starts the loopback server in its own process, then runs every (run, workload, loop, flavour)
measurement in a fresh child interpreter, interleaving flavours within each run to spread
machine noise. Writes ``benchmarks/results/latest.{json,md}``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from benchmarks._batch_workloads import batch_notes
from benchmarks._clients import FLAVOURS, REPO_ROOT
from benchmarks._report import (
    Measurement,
    evaluate_targets,
    format_extra,
    machine_info,
    machine_line,
    render_markdown,
    render_summary,
    render_text,
    summarize,
    to_json,
)
from benchmarks._server import ServerProcess
from benchmarks._workloads import DERIVED_WORKLOADS, RESULT_PREFIX, WORKLOADS

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
ALL_WORKLOADS = [*WORKLOADS, *DERIVED_WORKLOADS]
#: Opt-in workloads (not in the default run): scale_out spawns worker processes and redis-server.
OPT_IN_WORKLOADS = ["scale_out"]
LOOPS = ("asyncio", "uvloop")
#: module imported by the `import` workload -> flavour that needs it
IMPORT_MODULES = {
    "fini_async": "fini-async",
    "aiohttp": "raw",
    "msgspec": "raw",
    "httpx": "httpx",
    "openai": "openai",
}


def child_env() -> dict[str, str]:
    """Environment for child interpreters: bytecode caching on, as for an installed package.

    With ``PYTHONDONTWRITEBYTECODE`` set (as in some dev shells) the in-tree ``fini_async``
    would be recompiled from source on every import while site-packages load ``.pyc`` files,
    adding tens of ms to its import time. Caches go to a temp dir, not into the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "fini-async-bench-pycache")
    return env


_CHILD_ENV = child_env()


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--runs",
        type=int,
        default=None,
        help="runs per figure; the median is reported (default 5, --quick: 2)",
    )
    p.add_argument("--quick", action="store_true", help="smoke run: smaller counts, 2 runs")
    p.add_argument(
        "--workloads",
        type=_csv,
        default=ALL_WORKLOADS,
        help=f"comma list (default: {','.join(ALL_WORKLOADS)}; opt-in: scale_out)",
    )
    p.add_argument(
        "--flavours",
        type=_csv,
        default=list(FLAVOURS),
        help=f"comma list (default: {','.join(FLAVOURS)})",
    )
    p.add_argument(
        "--loops",
        type=_csv,
        default=list(LOOPS),
        help="event loops: asyncio,uvloop (default: both; uvloop if installed)",
    )
    p.add_argument(
        "--uvloop",
        action="store_const",
        const=["uvloop"],
        dest="loops",
        help="shorthand for --loops uvloop",
    )
    p.add_argument(
        "--profile",
        type=_csv,
        default=[],
        metavar="FLAVOURS",
        help="cProfile these flavours on run 1; writes results/profile-*.txt",
    )
    p.add_argument(
        "--import-samples",
        type=int,
        default=3,
        help="timed imports per module per run (interleaved; all samples enter the median)",
    )
    p.add_argument("--timeout", type=float, default=600, help="per-child timeout, seconds")
    p.add_argument("--output-dir", default=RESULTS_DIR)
    p.add_argument("--no-write", action="store_true", help="do not write results files")
    p.add_argument(
        "--no-readme",
        dest="readme",
        action="store_false",
        help="do not copy the table into benchmarks/README.md and its summary into README.md "
        "(a run of every workload, flavour and loop without --quick does by default)",
    )
    args = p.parse_args(argv)
    if args.runs is None:
        args.runs = 2 if args.quick else 5
    for w in args.workloads:
        if w not in ALL_WORKLOADS and w not in OPT_IN_WORKLOADS:
            choices = ",".join([*ALL_WORKLOADS, *OPT_IN_WORKLOADS])
            p.error(f"unknown workload {w!r}; choose from {choices}")
    for f in args.flavours:
        if f not in FLAVOURS:
            p.error(f"unknown flavour {f!r}; choose from {','.join(FLAVOURS)}")
    for lp in args.loops:
        if lp not in LOOPS:
            p.error(f"unknown loop {lp!r}; choose from {','.join(LOOPS)}")
    return args


def run_child(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "benchmarks._workloads", json.dumps(spec)]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO_ROOT,
            check=False,
            env=_CHILD_ENV,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout after {timeout:.0f}s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result: dict[str, Any] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"ok": False, "error": f"child exited {proc.returncode}: {tail}"[:500]}


_IMPORT_CODE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
#: pseudo-module for the import workload: ``import fini_async`` with aiohttp already imported,
#: i.e. fini_async's own cost over aiohttp's, measured in one interpreter (far less noisy than
#: the difference of two separate medians).
OVER_AIOHTTP = "fini_async+"


def time_import(module: str) -> tuple[float | None, str | None]:
    code = _IMPORT_CODE.format(mod=module.rstrip("+"))
    if module == OVER_AIOHTTP:
        code = "import aiohttp; " + code
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        timeout=120,
        env=_CHILD_ENV,
    )
    if proc.returncode:
        return None, (proc.stderr.strip().splitlines() or ["failed"])[-1][:300]
    return float(proc.stdout.strip().splitlines()[-1]), None


def import_breakdown(module: str, limit: int = 10) -> dict[str, float]:
    """``-X importtime`` self time of ``import module``, summed per top-level package (ms)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=False,
        timeout=120,
        env=_CHILD_ENV,
    )
    per_package: dict[str, float] = {}
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        parts = line[len("import time:") :].split("|")
        try:
            self_us = int(parts[0])
        except ValueError:
            continue
        package = parts[2].strip().split(".")[0]
        per_package[package] = per_package.get(package, 0.0) + self_us / 1000
    top = sorted(per_package.items(), key=lambda kv: -kv[1])[:limit]
    return {name: round(ms, 1) for name, ms in top}


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if "scale_out" in args.workloads:  # its own runner: several worker processes at once
        from benchmarks._scale_out import run_scale_out

        scale_status = run_scale_out(args.quick, args.output_dir, not args.no_write)
        args.workloads = [w for w in args.workloads if w != "scale_out"]
        if not args.workloads:
            return scale_status
    notes: list[str] = []
    skipped: list[str] = []

    flavours: list[str] = []
    for name in args.flavours:
        reason = FLAVOURS[name].skip_reason()
        if reason:
            skipped.append(f"{name}: {reason}")
            print(f"skipped: {reason}", flush=True)
        else:
            flavours.append(name)
    loops: list[str] = []
    for lp in args.loops:
        if lp == "uvloop" and importlib.util.find_spec("uvloop") is None:
            skipped.append("uvloop: not installed")
            print("skipped: uvloop (not installed)", flush=True)
        else:
            loops.append(lp)
    if "raw" not in flavours:
        notes.append("raw flavour not selected: no ratios can be computed")

    child_workloads = [w for w in WORKLOADS if w in args.workloads]
    if "rss" in args.workloads and "plain" not in child_workloads:
        child_workloads.insert(0, "plain")
    for wname in child_workloads:
        for f in flavours:
            only = WORKLOADS[wname].flavours
            if only is not None and f not in only:
                continue
            factor = FLAVOURS[f].scale_for(wname)
            if factor != 1.0:
                notes.append(
                    f"{f} {wname}: counts scaled by {factor} (slow peer); figures are per "
                    "request/chunk rates, so ratios stay comparable"
                )
    import_mods = [
        m
        for m, needed_by in IMPORT_MODULES.items()
        if "import" in args.workloads
        and (
            needed_by in flavours
            or needed_by == "raw"
            or (m == "openai" and "openai-aiohttp" in flavours)
        )
        and importlib.util.find_spec(m) is not None
    ]
    if "fini_async" in import_mods:
        import_mods.append(OVER_AIOHTTP)

    info = machine_info()
    print(f"Machine: {machine_line(info)}")
    print(
        f"runs={args.runs} quick={args.quick} loops={','.join(loops)} "
        f"flavours={','.join(flavours)} workloads={','.join(args.workloads)}",
        flush=True,
    )
    os.makedirs(args.output_dir, exist_ok=True)

    measurements: list[Measurement] = []
    started = time.perf_counter()
    for mod in import_mods:  # warm the .pyc cache before timing imports
        time_import(mod)
    with ServerProcess() as server:
        for run in range(1, args.runs + 1):
            for workload in child_workloads:
                wl = WORKLOADS[workload]
                for loop in loops:
                    for flavour in flavours:
                        if wl.flavours is not None and flavour not in wl.flavours:
                            continue
                        params = wl.params(FLAVOURS[flavour], args.quick)
                        profile = None
                        if run == 1 and flavour in args.profile:
                            profile = os.path.join(
                                args.output_dir, f"profile-{flavour}-{workload}-{loop}.txt"
                            )
                        spec = {
                            "flavour": flavour,
                            "workload": workload,
                            "loop": loop,
                            "base_url": server.base_url,
                            "server_pid": server.pid,
                            "params": params,
                            "profile": profile,
                        }
                        res = run_child(spec, args.timeout)
                        m = Measurement(
                            workload=workload,
                            flavour=flavour,
                            loop=loop,
                            run=run,
                            params=params,
                            ok=bool(res.get("ok")),
                            units=int(res.get("units", 0)),
                            expected=int(res.get("expected", 0)),
                            wall=float(res.get("wall", 0.0)),
                            cpu=float(res.get("cpu", 0.0)),
                            rss_open=int(res.get("rss_open", 0)),
                            rss_peak=int(res.get("rss_peak", 0)),
                            server_cpu=res.get("server_cpu"),
                            error=res.get("error"),
                            unsupported=bool(res.get("unsupported")),
                            extra=res.get("extra") or {},
                        )
                        measurements.append(m)
                        _progress(m, wl.unit)
            for mod in [m for _ in range(args.import_samples) for m in import_mods]:
                secs, err = time_import(mod)
                measurements.append(
                    Measurement(
                        workload="import",
                        flavour=mod,
                        loop="-",
                        run=run,
                        params={},
                        ok=secs is not None,
                        units=1,
                        expected=1,
                        wall=secs or 0.0,
                        error=err,
                    )
                )
                status = f"{secs * 1000:.1f} ms" if secs is not None else f"ERROR {err}"
                print(f"  run {run} import {mod}: {status}", flush=True)

    units = {name: wl.unit for name, wl in WORKLOADS.items()}
    summaries = [s for s in summarize(measurements, units) if s.workload in args.workloads]
    targets = evaluate_targets(summaries)
    notes += batch_notes(summaries)
    extra: dict[str, Any] = {"skipped": skipped}
    if "fini_async" in import_mods:
        breakdown = {m: import_breakdown(m) for m in ("fini_async", "aiohttp")}
        extra["import_breakdown_ms"] = breakdown
        top = ", ".join(f"{k} {v:.0f}" for k, v in breakdown["fini_async"].items())
        notes.append(f"import fini_async, -X importtime self ms by package (one run): {top}")
    if any(s.server_util is not None and s.server_util > 0.85 for s in summaries):
        notes.append("server CPU > 85% of wall time in some rows: those rows may be server-bound")
    notes.append(f"total benchmark time {time.perf_counter() - started:.0f}s")

    print()
    print(render_text(summaries, targets, flavours))
    for line in skipped:
        print(f"skipped: {line}")
    for note in notes:
        print(f"note: {note}")
    if not args.no_write:
        config = {k: v for k, v in vars(args).items() if k != "output_dir"}
        with open(os.path.join(args.output_dir, "latest.json"), "w") as fh:
            json.dump(
                to_json(measurements, summaries, targets, info, config, notes, extra), fh, indent=1
            )
        with open(os.path.join(args.output_dir, "latest.md"), "w") as fh:
            fh.write(render_markdown(summaries, targets, flavours, info, notes + skipped))
        print(f"wrote {os.path.relpath(args.output_dir, REPO_ROOT)}/latest.json and latest.md")
        defaults = parse_args([])
        full_run = not args.quick and all(
            sorted(getattr(args, k)) == sorted(getattr(defaults, k))
            for k in ("workloads", "flavours", "loops")
        )
        if args.readme and full_run:
            table = render_markdown(summaries, targets, flavours, info, notes + skipped)
            if update_readme(RESULTS_README, table):
                print("updated the benchmark table in benchmarks/README.md")
            summary = render_summary(summaries, targets, info)
            if update_readme(SUMMARY_README, summary, SUMMARY_START, SUMMARY_END):
                print("updated the benchmark summary in README.md")
    failed = [m for m in measurements if not m.ok and not m.unsupported]
    return 1 if failed else 0


#: Where a full run copies its Markdown table (between these markers): the benchmarks' own
#: README, next to the method and the columns.
RESULTS_README = os.path.join(REPO_ROOT, "benchmarks", "README.md")
README_START = "<!-- benchmarks:start (written by python -m benchmarks) -->"
README_END = "<!-- benchmarks:end -->"
#: And its few key ratios (render_summary), in the project's README.
SUMMARY_README = os.path.join(REPO_ROOT, "README.md")
SUMMARY_START = "<!-- benchmarks-summary:start (written by python -m benchmarks) -->"
SUMMARY_END = "<!-- benchmarks-summary:end -->"


def update_readme(
    path: str, markdown: str, start_marker: str = README_START, end_marker: str = README_END
) -> bool:
    """Put ``markdown`` between the markers in ``path``: its title dropped and its sections one
    level down (they sit inside the file's results section). False if the file or a marker is
    missing."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError:
        return False
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        return False
    body = "\n".join(
        "#" + line if line.startswith("## ") else line
        for line in markdown.splitlines()
        if not line.startswith("# ")
    )
    new = text[: start + len(start_marker)] + "\n" + body.strip() + "\n" + text[end:]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(new)
    return True


def _progress(m: Measurement, unit: str) -> None:
    head = f"  run {m.run} {m.workload:<16} {m.loop:<7} {m.flavour:<14}"
    if not m.ok:
        print(f"{head} {'unsupported' if m.unsupported else 'ERROR ' + str(m.error)}", flush=True)
        return
    thr = m.units / m.wall if m.wall else 0.0
    bad = "" if m.units == m.expected else f"  INCOMPLETE {m.units}/{m.expected}"
    extra = f"  {format_extra(m.extra)}" if m.extra else ""
    print(
        f"{head} {thr:>10,.0f} {unit}/s  wall {m.wall:6.2f}s  "
        f"rss {m.rss_peak / 2**20:5.1f} MiB{bad}{extra}",
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())
