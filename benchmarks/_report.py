"""Summaries, targets and rendering (text table, Markdown, JSON)."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

MIB = 1024 * 1024
BASELINE = "raw"
SUBJECT = "fini-async"
OPENAI_FLAVOURS = ("openai", "openai-aiohttp")


@dataclass
class Measurement:
    """One child run (or one timed import)."""

    workload: str
    flavour: str
    loop: str
    run: int
    params: dict[str, int]
    ok: bool
    units: int = 0
    expected: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    rss_open: int = 0
    rss_peak: int = 0
    server_cpu: float | None = None
    error: str | None = None
    unsupported: bool = False
    #: workload-specific figures of this run (status calls, 429s, ...)
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class Summary:
    workload: str
    flavour: str
    loop: str
    unit: str
    runs: int
    params: dict[str, int]
    median: float  # throughput (units/s); for rss: MiB; for import: ms
    low: float
    high: float
    wall: float = 0.0
    cpu_per_unit_us: float = 0.0
    server_util: float | None = None
    ratio: float | None = None  # vs raw (throughput) or delta (rss MiB / import ms)
    #: raw's CPU per unit / this flavour's: a noise-resistant companion of ``ratio``
    cpu_ratio: float | None = None
    errors: list[str] = field(default_factory=list)
    #: median (and [min, max]) of each workload-specific figure over the good runs
    extra: dict[str, float] = field(default_factory=dict)
    extra_range: dict[str, list[float]] = field(default_factory=dict)


@dataclass
class Target:
    name: str
    loop: str
    value: float | None
    threshold: str
    passed: bool | None  # None: could not be evaluated

    @property
    def mark(self) -> str:
        return {True: "PASS", False: "FAIL", None: "n/a"}[self.passed]


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else 0.0


def _extras(good: Sequence[Measurement]) -> dict[str, list[float]]:
    values: dict[str, list[float]] = {}
    for m in good:
        for key, value in m.extra.items():
            values.setdefault(key, []).append(value)
    return values


def summarize(
    measurements: Iterable[Measurement], units: dict[str, str], baseline: str = BASELINE
) -> list[Summary]:
    groups: dict[tuple[str, str, str], list[Measurement]] = {}
    for m in measurements:
        groups.setdefault((m.workload, m.loop, m.flavour), []).append(m)
    out: list[Summary] = []
    for (workload, loop, flavour), ms in groups.items():
        good = [m for m in ms if m.ok and m.units == m.expected and m.wall > 0]
        errors = sorted(
            {m.error or f"incomplete: {m.units}/{m.expected}" for m in ms if m not in good}
        )
        if any(m.unsupported for m in ms):
            errors = ["unsupported"]
        if workload == "import":
            vals = [m.wall * 1000 for m in good]
            out.append(
                Summary(
                    workload,
                    flavour,
                    loop,
                    "ms",
                    len(good),
                    ms[0].params,
                    _median(vals),
                    min(vals, default=0.0),
                    max(vals, default=0.0),
                    errors=errors,
                )
            )
            continue
        thr = [m.units / m.wall for m in good]
        # /proc CPU times tick at 10 ms: too coarse for very short runs
        srv = [m.server_cpu / m.wall for m in good if m.server_cpu is not None and m.wall >= 0.25]
        out.append(
            Summary(
                workload=workload,
                flavour=flavour,
                loop=loop,
                unit=units.get(workload, "unit") + "/s",
                runs=len(good),
                params=ms[0].params,
                median=_median(thr),
                low=min(thr, default=0.0),
                high=max(thr, default=0.0),
                wall=_median([m.wall for m in good]),
                cpu_per_unit_us=_median([m.cpu / m.units * 1e6 for m in good]),
                server_util=_median(srv) if srv else None,
                errors=errors,
                extra={k: _median(v) for k, v in _extras(good).items()},
                extra_range={k: [min(v), max(v)] for k, v in _extras(good).items()},
            )
        )
        if workload == "plain":  # the rss figure comes from the plain runs
            rss = [m.rss_peak / MIB for m in good]
            out.append(
                Summary(
                    "rss",
                    flavour,
                    loop,
                    "MiB",
                    len(good),
                    ms[0].params,
                    _median(rss),
                    min(rss, default=0.0),
                    max(rss, default=0.0),
                    errors=errors,
                )
            )
    index = {(s.workload, s.loop, s.flavour): s for s in out}
    for s in out:
        if s.workload == "import" and s.flavour.endswith("+"):
            continue  # already a delta over aiohttp
        if s.workload == "import":
            base = index.get(("import", s.loop, "aiohttp"))
        else:
            base = index.get((s.workload, s.loop, baseline))
        if base is None or not base.runs or not s.runs:
            continue
        if s.workload in ("rss", "import"):
            s.ratio = s.median - base.median  # delta, MiB or ms
        elif base.median:
            s.ratio = s.median / base.median
            if s.cpu_per_unit_us:
                s.cpu_ratio = base.cpu_per_unit_us / s.cpu_per_unit_us
    return out


def evaluate_targets(summaries: Sequence[Summary]) -> list[Target]:
    index = {(s.workload, s.loop, s.flavour): s for s in summaries if s.runs}
    loops = sorted({s.loop for s in summaries if s.workload != "import"})
    targets: list[Target] = []

    def get(workload: str, loop: str, flavour: str) -> Summary | None:
        return index.get((workload, loop, flavour))

    for loop in loops:
        for workload, need in (("plain", 0.85), ("streams", 0.8), ("bigstream", 0.8)):
            s = get(workload, loop, SUBJECT)
            if s is None or get(workload, loop, BASELINE) is None:
                continue
            ok = s.ratio is not None and s.ratio >= need
            cpu = "" if s.cpu_ratio is None else f"; CPU-based {s.cpu_ratio:.2f}x"
            targets.append(
                Target(f"{workload}: fini-async/raw", loop, s.ratio, f">= {need}x{cpu}", ok)
            )
        s = get("rss", loop, SUBJECT)
        if s is not None and get("rss", loop, BASELINE) is not None and s.ratio is not None:
            targets.append(
                Target("peak RSS: fini-async - raw (MiB)", loop, s.ratio, "<= 5 MiB", s.ratio <= 5)
            )
        for peer in OPENAI_FLAVOURS:
            for workload in ("plain", "streams", "bigstream"):
                s, p = get(workload, loop, SUBJECT), get(workload, loop, peer)
                if s is None or p is None or not p.median:
                    continue
                r = s.median / p.median
                targets.append(Target(f"{workload}: fini-async/{peer}", loop, r, ">= 10x", r >= 10))
    imp_loops = sorted({s.loop for s in summaries if s.workload == "import"})
    for loop in imp_loops:
        s = get("import", loop, "fini_async")
        if s is not None and s.ratio is not None:
            targets.append(
                Target(
                    "import: fini_async - aiohttp (ms)", loop, s.ratio, "<= 40 ms", s.ratio <= 40
                )
            )
        s = get("import", loop, "fini_async+")
        if s is not None and s.runs:
            targets.append(
                Target(
                    "import: fini_async after aiohttp (ms)",
                    loop,
                    s.median,
                    "<= 40 ms",
                    s.median <= 40,
                )
            )
    return targets


# --------------------------------------------------------------------------------------------
# machine info
# --------------------------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, Any]:
    versions = {
        d: _version(d)
        for d in ("aiohttp", "msgspec", "anyio", "backoff", "httpx", "openai", "uvloop")
    }
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": platform.platform(),
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "versions": {k: v for k, v in versions.items() if v},
    }


def machine_line(info: dict[str, Any]) -> str:
    vers = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    load = info.get("loadavg_at_start")
    busy = f", load avg {load[0]:.2f} at start" if load else ""
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['implementation']} {info['python']}, "
        f"{info['os']}, {info['date']}{busy} ({vers})"
    )


# --------------------------------------------------------------------------------------------
# rendering
# --------------------------------------------------------------------------------------------

HEADER = (
    "workload",
    "loop",
    "flavour",
    "n",
    "median",
    "min-max",
    "wall s",
    "CPU us/unit",
    "srv CPU",
    "vs raw",
    "CPU vs raw",
)
ORDER = {
    "plain": 0,
    "streams": 1,
    "bigstream": 2,
    "rss": 3,
    "import": 4,
    "knowledge_jobs": 5,
    "ask_many": 6,
    "ask_many_limited": 7,
}


def _fmt_num(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _row(s: Summary) -> tuple[str, ...]:
    n = ",".join(f"{k}={v}" for k, v in s.params.items() if k != "concurrency")
    if not s.runs:
        return (s.workload, s.loop, s.flavour, n, "ERROR", "; ".join(s.errors)[:60], *[""] * 5)
    rng = f"{_fmt_num(s.low)}-{_fmt_num(s.high)}"
    if s.workload in ("rss", "import"):
        delta = "" if s.ratio is None else f"{s.ratio:+.1f} {s.unit}"
        ref = "raw" if s.workload == "rss" else "aiohttp"
        return (
            s.workload,
            s.loop,
            s.flavour,
            n,
            f"{_fmt_num(s.median)} {s.unit}",
            rng,
            "",
            "",
            "",
            f"{delta} vs {ref}" if delta else "",
            "",
        )
    srv = "" if s.server_util is None else f"{s.server_util:.0%}"
    ratio = "" if s.ratio is None else f"{s.ratio:.2f}x"
    cpu_ratio = "" if s.cpu_ratio is None else f"{s.cpu_ratio:.2f}x"
    return (
        s.workload,
        s.loop,
        s.flavour,
        n,
        f"{_fmt_num(s.median)} {s.unit}",
        rng,
        f"{s.wall:.2f}",
        f"{s.cpu_per_unit_us:.1f}",
        srv,
        ratio,
        cpu_ratio,
    )


def format_extra(extra: dict[str, float]) -> str:
    """``status calls 612, 429s 8, 429 0.4%``: a key ending in ``" %"`` is a percentage."""
    parts = []
    for key, value in extra.items():
        if key.endswith(" %"):
            parts.append(f"{key[:-2]} {value:.1f}%")
        elif value == int(value):
            parts.append(f"{key} {value:,.0f}")
        else:
            parts.append(f"{key} {_fmt_num(value)}")
    return ", ".join(parts)


def _table(summaries: Sequence[Summary], flavour_order: Sequence[str]) -> list[tuple[str, ...]]:
    """Header and rows; an ``extra`` column only when some row has workload-specific figures."""
    rows = _sorted(summaries, flavour_order)
    if not any(s.extra for s in rows):
        return [HEADER] + [_row(s) for s in rows]
    return [(*HEADER, "extra")] + [(*_row(s), format_extra(s.extra)) for s in rows]


def _sorted(summaries: Iterable[Summary], flavour_order: Sequence[str]) -> list[Summary]:
    fo = {f: i for i, f in enumerate(flavour_order)}
    return sorted(
        summaries,
        key=lambda s: (ORDER.get(s.workload, 9), s.loop, fo.get(s.flavour, 99), s.flavour),
    )


def render_text(
    summaries: Sequence[Summary], targets: Sequence[Target], flavour_order: Sequence[str]
) -> str:
    rows = _table(summaries, flavour_order)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if targets:
        lines += ["", "Targets:"]
        for t in targets:
            v = "n/a" if t.value is None else f"{t.value:.2f}"
            lines.append(f"  [{t.mark}] {t.name} [{t.loop}] = {v} (target {t.threshold})")
    return "\n".join(lines)


def render_markdown(
    summaries: Sequence[Summary],
    targets: Sequence[Target],
    flavour_order: Sequence[str],
    info: dict[str, Any],
    notes: Sequence[str],
) -> str:
    out = ["# fini-async benchmarks", "", f"Machine: {machine_line(info)}", ""]
    header, *rows = _table(summaries, flavour_order)
    out.append("| " + " | ".join(header) + " |")
    out.append("|" + "---|" * len(header))
    for row in rows:
        out.append("| " + " | ".join(c.replace("|", "/") for c in row) + " |")
    if targets:
        out += [
            "",
            "## Targets",
            "",
            "| target | loop | value | threshold | result |",
            "|---|---|---|---|---|",
        ]
        for t in targets:
            v = "n/a" if t.value is None else f"{t.value:.2f}"
            out.append(f"| {t.name} | {t.loop} | {v} | {t.threshold} | {t.mark} |")
    if notes:
        out += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


def _times(ratio: float) -> str:
    return f"{ratio:.1f}x" if ratio < 10 else f"{ratio:.0f}x"


def render_summary(
    summaries: Sequence[Summary], targets: Sequence[Target], info: dict[str, Any]
) -> str:
    """The few key ratios of a run, as Markdown bullets: the summary the project's README shows
    (the whole table goes to benchmarks/README.md)."""
    index = {(s.workload, s.loop, s.flavour): s for s in summaries if s.runs}
    loops = sorted({s.loop for s in summaries if s.workload != "import" and s.runs})

    def ratios(workload: str) -> str | None:
        found = [index.get((workload, loop, SUBJECT)) for loop in loops]
        if any(s is None or s.ratio is None for s in found):
            return None
        return " / ".join(f"{s.ratio:.2f}x" for s in found if s is not None)

    lines = [
        f"- Latest full run: {info.get('date', '?')}, {info.get('cpu', '?')} "
        f"({info.get('cores', '?')} cores), {info.get('implementation', '')} "
        f"{info.get('python', '')}."
    ]
    vs_raw = [f"{w} {r}" for w in ("plain", "streams", "bigstream", "ask_many") if (r := ratios(w))]
    if vs_raw:
        lines.append(
            f"- Throughput vs raw aiohttp + msgspec ({' / '.join(loops)}): {', '.join(vs_raw)}."
        )
    for loop in loops[:1]:
        peers = []
        for workload in ("plain", "streams", "bigstream"):
            s = index.get((workload, loop, SUBJECT))
            found = [index.get((workload, loop, peer)) for peer in OPENAI_FLAVOURS]
            if s is None or any(p is None or not p.median for p in found):
                continue
            peers.append(
                f"{workload} {' / '.join(_times(s.median / p.median) for p in found if p)}"
            )
        if peers:
            lines.append(
                f"- vs the OpenAI SDK ({' / '.join(OPENAI_FLAVOURS)} transports, {loop}): "
                f"{', '.join(peers)}."
            )
    rss = [index.get(("rss", loop, SUBJECT)) for loop in loops]
    imported = next(
        (s for s in summaries if s.workload == "import" and s.flavour == "fini_async+"), None
    )
    extra = []
    if rss and all(s is not None and s.ratio is not None for s in rss):
        extra.append(
            "peak RSS "
            + " / ".join(
                f"{s.ratio:+.1f} MiB" for s in rss if s is not None and s.ratio is not None
            )
            + " over raw"
        )
    if imported is not None and imported.runs:
        extra.append(f"`import fini_async` after aiohttp {imported.median:.0f} ms")
    if extra:
        lines.append(f"- {'; '.join(extra)}.")
    judged = [t for t in targets if t.passed is not None]
    if judged:
        met = sum(1 for t in judged if t.passed)
        lines.append(f"- Targets met: {met} of {len(judged)}.")
    return "\n".join(lines) + "\n"


def to_json(
    measurements: Sequence[Measurement],
    summaries: Sequence[Summary],
    targets: Sequence[Target],
    info: dict[str, Any],
    config: dict[str, Any],
    notes: Sequence[str],
    extra: dict[str, Any],
) -> dict[str, Any]:
    return {
        "machine": info,
        "config": config,
        "notes": list(notes),
        "summaries": [asdict(s) for s in summaries],
        "targets": [{**asdict(t), "mark": t.mark} for t in targets],
        "measurements": [asdict(m) for m in measurements],
        **extra,
    }
