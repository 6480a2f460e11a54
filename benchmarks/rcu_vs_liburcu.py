"""Benchmark kbind's C QSBR RCU engine against liburcu's QSBR flavour, in one run.

Builds benchmarks/native/rcu_bench.c with gcc (the kbind core linked in
directly, both read sides inlined: kbind's from csrc/engine/rcu_inline.h, liburcu's
with _LGPL_SOURCE), runs it, and prints a table of the two side by side with
ratios and kbind's targets for its engine (the last column).

Usage:
    python3 benchmarks/rcu_vs_liburcu.py [--reps N] [--seconds S] [--sync-iters N] [--markdown]
                                         [--disasm]

Every read loop is the same macro (benchmarks/native/read_loops.h) and starts
on a 64-byte boundary; ``--disasm`` prints each reader's inner loop (objdump)
so the shapes can be compared.  Each figure is the median of ``--reps`` runs
with its range [min-max]; the kbind/liburcu ratio is taken per run (the two
ran back to back) and its median and range given: a difference whose range
straddles 1.00 is not a real one.

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
# liburcu's headers use GNU C (typeof, statement expressions).  Every inner
# read loop starts on a 64-byte boundary: without -falign-loops=64, gcc's
# default (pad to 16 bytes only if that takes few bytes) left kbind's loop
# straddling a 64-byte line while the plain and liburcu loops did not, a
# difference of code placement, not of RCU (see --disasm).
BENCH_FLAGS = ["-std=gnu11", "-O2", "-falign-loops=64", "-Wall", "-Wextra", "-Werror"]
READERS = ("plain_reader", "kb_reader", "ur_reader", "kb_reader_counted")
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


def inner_loops(exe: pathlib.Path, functions: tuple[str, ...]) -> dict[str, list[str]]:
    """Return each function's inner loop (the instructions up to the first backward jump).

    Instructions are given as ``ADDRESS: MNEMONIC OPERANDS`` from ``objdump -d``;
    empty when objdump is missing.
    """
    if shutil.which("objdump") is None:
        return {}
    out = subprocess.run(
        ["objdump", "-d", "--no-show-raw-insn", str(exe)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    loops: dict[str, list[str]] = {}
    for fn in functions:
        body = out.split(f"<{fn}>:\n", 1)[1].split("\n\n", 1)[0].splitlines()
        insns = [(int(ln.split(":")[0], 16), ln.split(":", 1)[1].split("#")[0].strip())
                 for ln in body if ":" in ln]  # fmt: skip
        for addr, text in insns:
            parts = text.split()
            if parts[0].startswith("j") and parts[0] != "jmp" and len(parts) > 1:
                target = int(parts[1], 16)
                if target < addr:
                    loops[fn] = [f"{a:#x}: {t}" for a, t in insns if target <= a <= addr]
                    break
    return loops


def disasm(exe: pathlib.Path) -> str:
    """Describe the readers' inner loops: address, 64-byte alignment, instructions."""
    lines = []
    for fn, insns in inner_loops(exe, READERS).items():
        start = int(insns[0].split(":")[0], 16)
        lines.append(f"{fn}: inner loop at {start:#x} ({start % 64} bytes into a 64-byte line)")
        lines += [f"    {i}" for i in insns]
    return "\n".join(lines) or "objdump not found: no disassembly"


def run(exe: pathlib.Path, reps: int, seconds: float, sync_iters: int) -> dict[str, float]:
    """Run the benchmark and parse its "name value" lines."""
    return _util.run_native(exe, str(reps), str(seconds), str(sync_iters))


def spread(v: dict[str, float], name: str, fmt: str = ".3g") -> str:
    """Render ``NAME_med [NAME_min-NAME_max]``."""
    return f"{v[name + '_med']:{fmt}} [{v[name + '_min']:{fmt}}-{v[name + '_max']:{fmt}}]"


def table(v: dict[str, float]) -> list[tuple[str, str, str, str, str]]:
    """Rows: measure, kbind, liburcu, ratio kbind/liburcu (paired, median [range]), target."""
    rows: list[tuple[str, str, str, str, str]] = []
    for nr in (1, 2):
        rows.append(
            (
                f"read side, {nr} reader{'s' if nr > 1 else ''} (reads/s per reader; plain load "
                f"{spread(v, f'read_plain_{nr}r')})",
                spread(v, f"read_kb_{nr}r"),
                f"{spread(v, f'read_urcu_{nr}r')} ({spread(v, f'ratio_urcu_plain_{nr}r', '.2f')}"
                "x plain)",
                spread(v, f"ratio_kb_urcu_{nr}r", ".2f"),
                "≥ 0.95",
            )
        )
    for nr in (1, 2):
        kb, ur = v[f"read_kbdebug_{nr}r_med"], v[f"read_urcu_{nr}r_med"]
        rows.append(
            (
                f"read side, {nr} reader{'s' if nr > 1 else ''}, kbind counting nesting inline "
                "(KB_RCU_DEBUG)",
                spread(v, f"read_kbdebug_{nr}r"),
                f"{ur:.3g}",
                f"{kb / ur:.2f}",
                "—",
            )
        )
    for nr in (0, 1, 2):
        rows.append(
            (
                f"synchronize_rcu median µs, {nr} online reader{'s' if nr != 1 else ''}",
                spread(v, f"sync_kb_{nr}r_median_us"),
                spread(v, f"sync_urcu_{nr}r_median_us"),
                spread(v, f"ratio_sync_{nr}r", ".2f"),
                "≤ 1.0",
            )
        )
        kb, ur = v[f"sync_kb_{nr}r_p99_us"], v[f"sync_urcu_{nr}r_p99_us"]
        rows.append(
            (
                f"synchronize_rcu p99, {nr} online reader{'s' if nr != 1 else ''}",
                _util.fmt(kb, "us"),
                _util.fmt(ur, "us"),
                f"{kb / ur:.2f}",
                "—",
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
    header = ("measure", "kbind", "liburcu QSBR", "kbind / liburcu", "target")
    return _util.render(header, rows, markdown)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=5, help="runs per measure (median), 1..16")
    p.add_argument("--seconds", type=float, default=0.3, help="seconds per read-side run")
    p.add_argument("--sync-iters", type=int, default=2000, help="synchronize_rcu calls per run")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    p.add_argument("--disasm", action="store_true", help="print each reader's inner loop")
    args = p.parse_args(argv)
    if not 1 <= args.reps <= 16:
        p.error("--reps must be in 1..16")
    if not have_liburcu():
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    exe = build()
    if args.disasm:
        print(disasm(exe))
    values = run(exe, args.reps, args.seconds, args.sync_iters)
    print(render(table(values), args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
