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
from Python) come from benchmarks/rcu_api_bench.py.

Usage:
    python3 benchmarks/rcu_backends.py [--reps N] [--seconds S] [--sync-iters N] [--markdown]

The machine is noisy: compare the ratios of one run, not absolute numbers
across runs.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import rcu_vs_liburcu  # noqa: E402  (a sibling script, not a package)
from _util import core_sources, fmt, render, run_native  # noqa: E402

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
    sources = [str(p) for p in core_sources()]
    subprocess.run(
        ["gcc", *FLAGS, f"-I{CSRC}", *sources, str(BENCH), "-o", str(exe), "-pthread", "-ldl"],
        check=True,
    )
    return exe


def run(exe: pathlib.Path, backend: str, reps: int, seconds: float, iters: int) -> dict[str, float]:
    """Run the API benchmark over ``backend``; parse its "name value" lines."""
    return run_native(exe, backend, str(reps), str(seconds), str(iters))


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
    print("\n### Through the Python API (kbind.rcu), builtin vs liburcu backend\n")
    py: dict[str, dict[str, float]] = {}
    for backend in BACKENDS:
        try:
            py[backend] = python_api(backend, args.reps)
        except subprocess.CalledProcessError as exc:
            print(f"the {backend} backend could not run: {exc.stderr.strip()}")
            return 2
    rows = [
        (name, fmt_py(py["builtin"][key], unit), fmt_py(py["liburcu"][key], unit),
         f"{py['liburcu'][key] / py['builtin'][key]:.2f}")
        for key, name, unit in PY_MEASURES
    ]  # fmt: skip
    header = ("measure (Python)", "builtin", "liburcu", "liburcu / builtin")
    print(render(header, rows, args.markdown))
    return status


#: (key, label, unit) of the Python-level measures.
PY_MEASURES = (
    ("guard_read", "`with RcuReadGuard() as g: rcu.read(g).attr`", "ns"),
    ("with_read", "`rcu.with_read(lambda c: c.attr)`", "ns"),
    ("sync", "`synchronize_rcu()` (no reader online)", "ns"),
    ("call_rcu", "`call_rcu(fn)` x 2000 + `rcu_barrier()`, per callback", "ns"),
)

# Runs in a child process, so that KBIND_RCU_BACKEND selects the engine.
_PY_PROBE = """
import json, sys, timeit
from kbind.rcu import Rcu, RcuReadGuard, call_rcu, rcu_barrier, synchronize_rcu
from kbind.rcu_backend import current_backend
reps = int(sys.argv[1])
class C:
    attr = 1
rcu = Rcu(C())
env = dict(rcu=rcu, RcuReadGuard=RcuReadGuard, synchronize_rcu=synchronize_rcu)
def per(stmt, n):
    return min(timeit.repeat(stmt, globals=env, number=n, repeat=reps)) / n * 1e9
def callbacks():
    n = 2000
    t0 = timeit.default_timer()
    for _ in range(n):
        call_rcu(lambda: None)
    rcu_barrier()
    return (timeit.default_timer() - t0) / n * 1e9
out = {
    "backend": current_backend(),
    "guard_read": per("with RcuReadGuard() as g: rcu.read(g).attr", 50000),
    "with_read": per("rcu.with_read(lambda c: c.attr)", 50000),
    "sync": per("synchronize_rcu()", 2000),
    "call_rcu": min(callbacks() for _ in range(reps)),
}
print(json.dumps(out))
"""


def python_api(backend: str, reps: int) -> dict[str, float]:
    """Measure the Python RCU API in a child process running on ``backend``."""
    env = {**os.environ, "KBIND_RCU_BACKEND": backend}
    out = subprocess.run(
        [sys.executable, "-c", _PY_PROBE, str(reps)], env=env, capture_output=True,
        text=True, check=True, timeout=600,
    ).stdout  # fmt: skip
    data: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if data.pop("backend") != backend:  # type: ignore[comparison-overlap]
        raise subprocess.CalledProcessError(1, "probe", stderr="ran on the wrong backend")
    return data


def fmt_py(x: float, unit: str) -> str:
    return f"{x:,.0f} {unit}"


if __name__ == "__main__":
    sys.exit(main())
