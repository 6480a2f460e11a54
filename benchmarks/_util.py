"""Shared helpers for the benchmark suites: timing, native builds, tables."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys
import time
import timeit
from collections.abc import Callable, Sequence

ROOT = pathlib.Path(__file__).resolve().parents[1]
CSRC = ROOT / "csrc"
sys.path.insert(0, str(CSRC))
from build_ffi import core_sources  # noqa: E402  (the C core's sources, listed once)

sys.path.remove(str(CSRC))
BIN = ROOT / "benchmarks" / "native" / "bin"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"]


def per_call_ns(stmt: str, env: dict[str, object], number: int = 200_000, repeat: int = 7) -> float:
    """Best-of-``repeat`` cost of ``stmt`` in nanoseconds per execution."""
    times = timeit.repeat(stmt, globals=env, number=number, repeat=repeat)
    return min(times) / number * 1e9


def interleaved_best(
    fns: dict[str, Callable[[], object]], n: int, rounds: int, reps: dict[str, int] | None = None
) -> dict[str, float]:
    """Best ns per call of each fn, measured in interleaved rounds (noise hits all alike).

    Each round calls every fn ``n`` times in a loop (``reps[name]`` times for the
    names given there: slow bodies need fewer).
    """
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(rounds):
        for name, fn in fns.items():
            count = (reps or {}).get(name, n)
            t0 = time.perf_counter_ns()
            for _ in range(count):
                fn()
            best[name] = min(best[name], (time.perf_counter_ns() - t0) / count)
    return best


def build_native(
    name: str, sources: Sequence[pathlib.Path], extra: Sequence[str] = ()
) -> pathlib.Path:
    """Compile a native benchmark with the core's flags; return the executable."""
    if shutil.which("gcc") is None:
        sys.exit("benchmarks need gcc to build their native programs")
    BIN.mkdir(parents=True, exist_ok=True)
    exe = BIN / name
    core = core_sources()
    cmd = ["gcc", *CFLAGS, "-I", str(CSRC), *map(str, sources), *map(str, core), "-o", str(exe),
           "-lpthread", *extra]  # fmt: skip
    subprocess.run(cmd, check=True)
    return exe


def run_native(exe: pathlib.Path, *args: str, timeout: float = 600) -> dict[str, float]:
    """Run a native benchmark printing ``name value`` lines; return them as a dict."""
    out = subprocess.run([str(exe), *args], check=True, capture_output=True, text=True,
                         timeout=timeout).stdout  # fmt: skip
    result = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2:
            result[parts[0]] = float(parts[1])
    return result


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Format a Markdown table (also readable in a terminal)."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = [f"### {title}", ""]
    for i, row in enumerate(cells):
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if i == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def render(header: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """Format rows as a Markdown table, or as aligned columns for a terminal."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def fmt(x: float, unit: str) -> str:
    """Format a measure: ``unit`` is "/s", "ns" or (default) microseconds."""
    if unit == "/s":
        return f"{x:.3g}/s"
    if unit == "ns":
        return f"{x:.3g} ns"
    if x >= 1000:
        return f"{x / 1000:.3g} ms"
    return f"{x:.3g} µs"
