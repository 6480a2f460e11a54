"""Native read-side scaling at 1..N threads: kbind's RCU engine, liburcu, the seqlock.

    python3 benchmarks/rcu_scaling.py [--reps N] [--seconds S] [--max-threads N] [--tiny]
    python3 benchmarks/run.py rcu-scaling

Builds benchmarks/native/rcu_scaling_bench.c (the kbind core linked in, the
read sides inlined) and runs, at 1, 2, 4, ... threads up to N (the usable
CPUs by default, the last step always N), the same read loop
(benchmarks/native/read_loops.h) for a plain load, kbind's QSBR reader,
liburcu's QSBR reader and kbind's seqlock reader, threads pinned one per
CPU and no updater.  The table gives per step the total reads per second
(median [min-max] of the runs), each flavour's scaling against its own one
thread, and kbind/liburcu as the median [range] of per-run ratios (the two
measured back to back in the same run).  Without liburcu's development files
(``apt-get install -y liburcu-dev``) it says so and reports kbind alone.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

import _util
from rcu_vs_liburcu import have_liburcu

ROOT = pathlib.Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "native" / "rcu_scaling_bench.c"
#: As for rcu_vs_liburcu.py: GNU C for liburcu's headers, every inner loop 64-byte aligned.
FLAGS = ["-std=gnu11", "-falign-loops=64"]


def steps(n: int) -> list[int]:
    """Return 1, 2, 4, ... below ``n``, then ``n``."""
    out, k = [], 1
    while k < n:
        out.append(k)
        k *= 2
    return [*out, max(1, n)]


def build(liburcu: bool) -> pathlib.Path:
    """Compile the scaling benchmark (with liburcu's reader if ``liburcu``)."""
    extra = [*FLAGS, "-pthread"]
    if liburcu:
        extra = ["-DKB_BENCH_LIBURCU", *extra, "-lurcu-qsbr", "-lurcu-common"]
    return _util.build_native("rcu_scaling_bench", [BENCH], extra)


def spread(v: dict[str, float], name: str, fmt: str = ".3g") -> str:
    """Render ``median [min-max]`` of a measurement."""
    return f"{v[name + '_med']:{fmt}} [{v[name + '_min']:{fmt}}-{v[name + '_max']:{fmt}}]"


def table(v: dict[str, float], threads: list[int], liburcu: bool) -> list[list[str]]:
    """Rows: threads, then each flavour's reads/s and scaling, then kbind/liburcu."""
    flavours = ["plain", "kb", *(["urcu"] if liburcu else []), "seqlock"]
    rows = []
    for t in threads:
        row = [str(t)]
        for f in flavours:
            scale = v[f"read_{f}_{t}t_med"] / v[f"read_{f}_1t_med"]
            row.append(f"{spread(v, f'read_{f}_{t}t')} ({scale:.2f}x)")
        if liburcu:
            row.append(spread(v, f"ratio_kb_urcu_{t}t", ".2f"))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--reps", type=int, default=5, help="runs per step (median), 1..16")
    p.add_argument("--seconds", type=float, default=0.2, help="seconds per run")
    p.add_argument("--max-threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--tiny", action="store_true", help="one 20 ms run per step (for tests)")
    p.add_argument("--no-liburcu", action="store_true", help="leave liburcu out, as if absent")
    args = p.parse_args(argv)
    if args.tiny:
        args.reps, args.seconds = 1, 0.02
    if not 1 <= args.reps <= 16 or not 0 < args.seconds <= 60 or not 1 <= args.max_threads <= 256:
        p.error("--reps in 1..16, --seconds in (0, 60], --max-threads in 1..256")
    liburcu = have_liburcu() and not args.no_liburcu
    if not liburcu:
        print("liburcu is absent (apt-get install -y liburcu-dev): kbind alone is reported\n")
    exe = build(liburcu)
    threads = steps(args.max_threads)
    v = _util.run_native(exe, str(args.reps), str(args.seconds), *map(str, threads))
    header = ["threads", "plain load", "kbind rcu", *(["liburcu"] if liburcu else []),
              "kbind seqlock", *(["kbind / liburcu"] if liburcu else [])]  # fmt: skip
    title = (
        f"Read-side scaling, total reads/s, median [min-max] of {args.reps} runs of "
        f"{args.seconds:g} s (scaling vs 1 thread in parentheses); {int(v['pinned_cpus'])} "
        f"usable CPUs, threads pinned, no updater"
    )
    print(_util.table(title, header, table(v, threads, liburcu)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
