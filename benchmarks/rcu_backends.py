"""Compare kbind's two RCU backends, builtin and liburcu, natively and through kbind's C API.

One command, two tables:

1. Native, inlined (benchmarks/rcu_vs_liburcu.py): kbind's engine against
   liburcu's QSBR flavour called directly, with the read sides inlined
   (needs liburcu's development files to compile).
2. Through kbind's C API (benchmarks/native/rcu_backend_bench.c): the same
   out-of-line kb_rcu_*() calls Python makes, dispatched through the
   backend table, once over each backend (liburcu loaded with dlopen()).
   Ratios are liburcu / builtin.

Python-level figures for the full RCU API (RcuReadGuard, Rcu[T], call_rcu
from Python) come with the Python API (issue 4).

Usage:
    python3 benchmarks/rcu_backends.py [--reps N] [--seconds S] [--sync-iters N] [--markdown]

The machine is noisy: compare the ratios of one run, not absolute numbers
across runs.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import rcu_vs_liburcu  # noqa: E402  (a sibling script, not a package)

ROOT = HERE.parent
CSRC = ROOT / "csrc"
BENCH = HERE / "native" / "rcu_backend_bench.c"
BIN_DIR = HERE / "native" / "bin"
FLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-strict-aliasing"]
BACKENDS = ("builtin", "liburcu")

Row = tuple[str, str, str, str]


def build() -> pathlib.Path:
    """Compile the kbind core (no liburcu at link time) and the API benchmark."""
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    exe = BIN_DIR / "rcu_backend_bench"
    sources = [str(p) for p in sorted(CSRC.glob("[a-z]*.c"))]
    subprocess.run(
        ["gcc", *FLAGS, f"-I{CSRC}", *sources, str(BENCH), "-o", str(exe), "-pthread", "-ldl"],
        check=True,
    )
    return exe


def run(exe: pathlib.Path, backend: str, reps: int, seconds: float, iters: int) -> dict[str, float]:
    """Run the API benchmark over ``backend``; parse its "name value" lines."""
    out = subprocess.run(
        [str(exe), backend, str(reps), str(seconds), str(iters)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    values: dict[str, float] = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        values[name] = float(value)
    return values


def fmt(x: float, unit: str) -> str:
    if unit == "/s":
        return f"{x:.3g}/s"
    if unit == "ns":
        return f"{x:.3g} ns"
    if x >= 1000:
        return f"{x / 1000:.3g} ms"
    return f"{x:.3g} µs"


MEASURES: tuple[tuple[str, str, str], ...] = (
    ("read_api", "/s", "read side: read_lock + dereference + read_unlock (reads/s, 1 reader)"),
    ("qs_ns", "ns", "kb_rcu_quiescent_state(), no grace period pending"),
    ("offon_ns", "ns", "kb_rcu_thread_offline() + kb_rcu_thread_online()"),
    ("sync_0r_median_us", "us", "synchronize_rcu median, 0 online readers"),
    ("sync_0r_p99_us", "us", "synchronize_rcu p99, 0 online readers"),
    ("sync_1r_median_us", "us", "synchronize_rcu median, 1 online reader"),
    ("sync_1r_p99_us", "us", "synchronize_rcu p99, 1 online reader"),
    ("callrcu_per_s", "/s", "call_rcu end to end (1e5 callbacks + rcu_barrier)"),
    ("one_cb_barrier_us", "us", "one call_rcu_token + rcu_barrier"),
    ("barrier_idle_us", "us", "idle rcu_barrier"),
)


def api_table(v: dict[str, dict[str, float]]) -> list[Row]:
    """Rows: measure, builtin, liburcu, ratio liburcu/builtin."""
    rows: list[Row] = []
    for key, unit, label in MEASURES:
        b, u = v["builtin"][key], v["liburcu"][key]
        rows.append((label, fmt(b, unit), fmt(u, unit), f"{u / b:.3g}" if b else "—"))
    return rows


def render(header: tuple[str, ...], rows: list[tuple[str, ...]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=5, help="runs per measure (median), 1..16")
    p.add_argument("--seconds", type=float, default=0.3, help="seconds per read-side run")
    p.add_argument("--sync-iters", type=int, default=2000, help="synchronize_rcu calls per run")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    args = p.parse_args(argv)
    if not 1 <= args.reps <= 16:
        p.error("--reps must be in 1..16")
    if shutil.which("gcc") is None:
        print("gcc is needed to build the benchmarks", file=sys.stderr)
        return 2
    status = 0
    print("### Native, inlined: kbind's engine vs liburcu called directly\n")
    if rcu_vs_liburcu.have_liburcu():
        native = rcu_vs_liburcu.build()
        values = rcu_vs_liburcu.run(native, args.reps, args.seconds, args.sync_iters)
        header = ("measure", "kbind", "liburcu 0.13 QSBR", "kbind / liburcu", "target")
        print(render(header, list(rcu_vs_liburcu.table(values)), args.markdown))
    else:
        print(rcu_vs_liburcu.INSTALL_HINT)
        status = 2
    print("\n### Through kbind's C API (backend table), builtin vs liburcu backend\n")
    exe = build()
    results: dict[str, dict[str, float]] = {}
    for backend in BACKENDS:
        try:
            results[backend] = run(exe, backend, args.reps, args.seconds, args.sync_iters)
        except subprocess.CalledProcessError as exc:
            print(f"the {backend} backend could not run: {exc.stderr.strip()}")
            return 2
    header = ("measure (kb_rcu_*() calls)", "builtin", "liburcu", "liburcu / builtin")
    print(render(header, list(api_table(results)), args.markdown))
    return status


if __name__ == "__main__":
    sys.exit(main())
