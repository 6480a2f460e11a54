"""Benchmark kbind's C QSBR RCU engine against liburcu's QSBR flavour, in one run.

Builds benchmarks/native/rcu_bench.c with gcc (the kbind core linked in
directly, both read sides inlined: kbind's from csrc/engine/rcu_inline.h, liburcu's
with _LGPL_SOURCE), runs it, and prints a table of the two side by side with
ratios and kbind's targets for its engine (the last column).

Usage:
    python3 benchmarks/rcu_vs_liburcu.py [--reps N] [--seconds S] [--sync-iters N] [--markdown]

Needs gcc and liburcu's development files (Debian/Ubuntu:
``apt-get install -y liburcu-dev``).  The machine is noisy: compare the
ratios of one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import pathlib
import shutil
import subprocess
import sys
import tempfile

import _util

ROOT = pathlib.Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
BENCH = ROOT / "benchmarks" / "native" / "rcu_bench.c"
BIN_DIR = ROOT / "benchmarks" / "native" / "bin"
CORE_FLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-strict-aliasing"]
# liburcu's headers use GNU C (typeof, statement expressions).
BENCH_FLAGS = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror"]
INSTALL_HINT = (
    "liburcu (QSBR flavour) was not found: install its development files, e.g.\n"
    "    apt-get update && apt-get install -y liburcu-dev\n"
    "then run this benchmark again."
)


def have_liburcu() -> bool:
    """Return True if a program using <urcu-qsbr.h> compiles and links."""
    if shutil.which("gcc") is None:
        return False
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "probe.c"
        src.write_text(
            "#define _LGPL_SOURCE 1\n#include <urcu-qsbr.h>\n"
            "int main(void) { rcu_register_thread(); synchronize_rcu();"
            " rcu_unregister_thread(); return 0; }\n"
        )
        r = subprocess.run(
            [
                "gcc",
                str(src),
                "-o",
                str(pathlib.Path(tmp) / "probe"),
                "-lurcu-qsbr",
                "-lurcu-common",
                "-pthread",
            ],
            capture_output=True,
            check=False,
        )
        return r.returncode == 0


def build() -> pathlib.Path:
    """Compile the kbind core and the benchmark; return the executable's path."""
    BIN_DIR.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in _util.core_sources():
        obj = BIN_DIR / (src.stem + ".o")
        subprocess.run(
            ["gcc", *CORE_FLAGS, f"-I{CSRC}", "-c", str(src), "-o", str(obj)], check=True
        )
        objs.append(str(obj))
    exe = BIN_DIR / "rcu_bench"
    subprocess.run(
        [
            "gcc",
            *BENCH_FLAGS,
            f"-I{CSRC}",
            str(BENCH),
            *objs,
            "-o",
            str(exe),
            "-lurcu-qsbr",
            "-lurcu-common",
            "-pthread",
        ],
        check=True,
    )
    return exe


def run(exe: pathlib.Path, reps: int, seconds: float, sync_iters: int) -> dict[str, float]:
    """Run the benchmark and parse its "name value" lines."""
    return _util.run_native(exe, str(reps), str(seconds), str(sync_iters))


def table(v: dict[str, float]) -> list[tuple[str, str, str, str, str]]:
    """Rows: measure, kbind, liburcu, ratio kbind/liburcu, target."""
    rows: list[tuple[str, str, str, str, str]] = []
    for nr in (1, 2):
        kb, ur, plain = v[f"read_kb_{nr}r"], v[f"read_urcu_{nr}r"], v[f"read_plain_{nr}r"]
        rows.append(
            (
                f"read side, {nr} reader{'s' if nr > 1 else ''} (reads/s per reader; plain load "
                f"{plain:.3g}/s)",
                f"{kb:.3g}/s ({kb / plain:.2f}x plain)",
                f"{ur:.3g}/s ({ur / plain:.2f}x plain)",
                f"{kb / ur:.2f}",
                "≥ 0.95",
            )
        )
    for nr in (1, 2):
        kb, ur = v[f"read_kbdebug_{nr}r"], v[f"read_urcu_{nr}r"]
        rows.append(
            (
                f"read side, {nr} reader{'s' if nr > 1 else ''}, kbind counting nesting inline "
                "(KB_RCU_DEBUG)",
                f"{kb:.3g}/s",
                f"{ur:.3g}/s",
                f"{kb / ur:.2f}",
                "—",
            )
        )
    for nr in (0, 1, 2):
        for stat in ("median", "p99"):
            kb, ur = v[f"sync_kb_{nr}r_{stat}_us"], v[f"sync_urcu_{nr}r_{stat}_us"]
            rows.append(
                (
                    f"synchronize_rcu {stat}, {nr} online reader{'s' if nr != 1 else ''}",
                    _util.fmt(kb, "us"),
                    _util.fmt(ur, "us"),
                    f"{kb / ur:.2f}",
                    "≤ 1.0" if stat == "median" else "—",
                )
            )
    kb, ur = v["callrcu_kb_per_s"], v["callrcu_urcu_per_s"]
    rows.append(
        (
            "call_rcu end to end (1e6 callbacks + rcu_barrier)",
            f"{kb:.3g}/s",
            f"{ur:.3g}/s",
            f"{kb / ur:.2f}",
            "≥ 1.0",
        )
    )
    kb, ur = v["barrier_kb_idle_us"], v["barrier_urcu_idle_us"]
    rows.append(
        (
            "idle rcu_barrier (median)",
            _util.fmt(kb, "us"),
            _util.fmt(ur, "us"),
            f"{kb / ur:.2g}",
            "≤ 0.1",
        )
    )
    return rows


def render(rows: list[tuple[str, str, str, str, str]], markdown: bool) -> str:
    """The comparison table, as Markdown or aligned text."""
    header = ("measure", "kbind", "liburcu 0.13 QSBR", "kbind / liburcu", "target")
    return _util.render(header, rows, markdown)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=5, help="runs per measure (median), 1..16")
    p.add_argument("--seconds", type=float, default=0.3, help="seconds per read-side run")
    p.add_argument("--sync-iters", type=int, default=2000, help="synchronize_rcu calls per run")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args(argv)
    if not 1 <= args.reps <= 16:
        p.error("--reps must be in 1..16")
    if not have_liburcu():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    exe = build()
    values = run(exe, args.reps, args.seconds, args.sync_iters)
    print(render(table(values), args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
