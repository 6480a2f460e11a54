"""Sequence-lock benchmark: one command, ratios from the same run.

    python3 benchmarks/seqlock_bench.py [--quick]
    python3 benchmarks/run.py seqlock

1. Python, one thread, three int fields: the closure reader
   ``sl.read(lambda v: (v.a, v.b, v.c))`` and the explicit loop reader
   (``read_begin()`` / fields / ``read_retry()``) against the same run's
   ``with threading.Lock(): (o.a, o.b, o.c)``, as a Markdown table with each
   row's ns, the baseline's ns, the ratio, the target (the closure reader
   <= 3.0x, the loop <= 6.0x) and whether it is met; plus ``sl.snapshot()``.
2. Native reader throughput (C threads, GIL released, checks off): 2 readers
   with 0 writers and with 1 writer, via kb_seqlock_torture(check=0).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from _util import interleaved_best

from kbind import SeqLock, seqlock_torture


class Plain:
    __slots__ = ("a", "b", "c")

    def __init__(self) -> None:
        self.a, self.b, self.c = 1, 2, 3


#: (label, key, target ratio to the Lock baseline or None) of the rows printed.
ROWS = [
    ("`sl.read(lambda v: (v.a, v.b, v.c))`", "closure", 3.0),
    ("`read_begin()` / `seq.a, seq.b, seq.c` / `read_retry()` loop", "loop", 6.0),
    ("`sl.snapshot()` (dict of every field)", "snapshot", None),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (for tests)")
    args = ap.parse_args()
    n = 2_000 if args.quick else 100_000
    rounds = 2 if args.quick else 7
    dur = 0.1 if args.quick else 1.0

    sl = SeqLock(a=1, b=2, c=3)
    lock = threading.Lock()
    o = Plain()

    def with_lock() -> tuple[int, int, int]:
        with lock:
            return (o.a, o.b, o.c)

    def closure() -> object:
        return sl.read(lambda v: (v.a, v.b, v.c))

    def loop() -> object:
        while True:
            s = sl.read_begin()
            r = (s.a, s.b, s.c)
            if not sl.read_retry(s):
                return r

    def empty() -> None:
        return None

    fns = {"empty": empty, "lock": with_lock, "closure": closure, "loop": loop,
           "snapshot": sl.snapshot}  # fmt: skip
    t = interleaved_best(fns, n, rounds, reps={"loop": n // 4})
    base = t.pop("empty")
    t = {k: v - base for k, v in t.items()}
    t_lock = t["lock"]

    print(f"seqlock-bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(
        f"Python, one thread, three int fields (ns per read, best of {rounds} interleaved "
        f"rounds of {n}, loop overhead removed):"
    )
    print()
    print("| path | ns | baseline (same run) | ns | ratio to Lock | target | met |")
    print("|---|---:|---|---:|---:|---:|---|")
    for label, key, target in ROWS:
        ratio = t[key] / t_lock
        goal = f"<= {target:.1f}x" if target else "-"
        met = ("yes" if ratio <= target else "no") if target else "-"
        print(
            f"| {label} | {t[key]:.0f} | `with threading.Lock(): (o.a, o.b, o.c)` | "
            f"{t_lock:.0f} | {ratio:.2f}x | {goal} | {met} |"
        )
    print()

    r0 = seqlock_torture(readers=2, writers=0, duration=dur, check=False, words=4)
    r1 = seqlock_torture(readers=2, writers=1, duration=dur, check=False, words=4)
    rate0 = r0.successful_reads / r0.elapsed
    rate1 = r1.successful_reads / r1.elapsed
    print("Native C readers (2 threads, 4-word record, checks off):")
    print(f"  0 writers: {rate0:12.3e} successful reads/s")
    print(
        f"  1 writer : {rate1:12.3e} successful reads/s ({r1.writes / r1.elapsed:.3e} writes/s, "
        f"{100.0 * r1.retries / max(r1.reads, 1):.2f}% retries)   "
        f"ratio to 0 writers {rate1 / rate0:5.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
