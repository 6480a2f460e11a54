"""Sequence-lock benchmark: one command, ratios from the same run.

    python3 benchmarks/seqlock_bench.py [--quick]

1. Python closure read of three int fields: ``sl.read(lambda v: (v.a, v.b, v.c))``
   against ``with threading.Lock(): (o.a, o.b, o.c)``, plus ``sl.snapshot()``
   (whole loop in one C call) and the explicit loop reader.  Single thread.
2. Native reader throughput (C threads, GIL released, checks off): 2 readers
   with 0 writers and with 1 writer, via kb_seqlock_torture(check=0).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from kbind import SeqLock, seqlock_torture


class Plain:
    __slots__ = ("a", "b", "c")

    def __init__(self) -> None:
        self.a, self.b, self.c = 1, 2, 3


def per_call_ns(fn: object, n: int, repeat: int = 5) -> float:
    assert callable(fn)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (for tests)")
    args = ap.parse_args()
    n = 2_000 if args.quick else 100_000
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

    base = per_call_ns(empty, n)
    t_lock = per_call_ns(with_lock, n) - base
    t_closure = per_call_ns(closure, n) - base
    t_snap = per_call_ns(sl.snapshot, n) - base
    t_loop = per_call_ns(loop, max(n // 4, 500)) - base

    print(f"seqlock-bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print("Python, one thread, three int fields (ns per read, best of 5, call overhead removed):")
    print(f"  with threading.Lock(): read fields    {t_lock:9.0f} ns")
    print(
        f"  SeqLock.read(closure)                 {t_closure:9.0f} ns   "
        f"ratio to Lock {t_closure / t_lock:5.2f}x"
    )
    print(
        f"  SeqLock.snapshot()                    {t_snap:9.0f} ns   "
        f"ratio to Lock {t_snap / t_lock:5.2f}x"
    )
    print(
        f"  read_begin/seq.f/read_retry loop      {t_loop:9.0f} ns   "
        f"ratio to Lock {t_loop / t_lock:5.2f}x"
    )

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
