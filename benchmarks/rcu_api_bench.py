"""Python RCU API benchmark: one command, ratios from the same run.

    python3 benchmarks/rcu_api_bench.py [--quick]
    python3 benchmarks/run.py rcu-api

1. One thread, ns per read of one attribute (best of several interleaved
   rounds, loop overhead removed):
   ``with RcuReadGuard() as g: rcu.read(g).attr``, the closure form
   ``rcu.with_read(lambda c: c.attr)``, a bare guard, and the baselines
   ``with threading.Lock(): obj.attr`` and ``readerwriterlock``'s
   ``RWLockFair`` reader (if installed: ``pip install readerwriterlock``).
2. Reader throughput: one Python reader thread running the guard+read loop
   for a while, alone and with one updater thread replacing the value
   continuously (``replace(new).drop()``: publish, wait for a grace period,
   free).  Ratio with / without.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading
import time
from collections.abc import Callable

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from _util import interleaved_best

from kbind import trace
from kbind.rcu import Rcu, RcuReadGuard

try:
    from readerwriterlock import rwlock
except ImportError:  # optional baseline
    rwlock = None


class Plain:
    __slots__ = ("attr",)

    def __init__(self, attr: int = 1) -> None:
        self.attr = attr


def reader_rate(rcu: Rcu[Plain], duration: float, updater: bool) -> tuple[float, int]:
    """Reads per second of one reader thread, with or without a concurrent updater."""
    stop = threading.Event()
    counts = [0, 0]
    start = threading.Barrier(2 if updater else 1)

    def reader() -> None:
        start.wait(timeout=10)
        n = 0
        end = time.perf_counter() + duration
        while True:
            for _ in range(100):
                with RcuReadGuard() as g:
                    rcu.read(g).attr  # noqa: B018 - the read is the benchmark
            n += 100
            if time.perf_counter() >= end:
                break
        counts[0] = n
        stop.set()

    def update() -> None:
        start.wait(timeout=10)
        i = 0
        while not stop.is_set():
            i += 1
            rcu.replace(Plain(i)).drop()
        counts[1] = i

    threads = [threading.Thread(target=reader)]
    if updater:
        threads.append(threading.Thread(target=update))
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 30)
    return counts[0] / duration, counts[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (for tests)")
    args = ap.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    n = 2_000 if args.quick else 100_000
    rounds = 2 if args.quick else 7
    dur = 0.2 if args.quick else 2.0

    obj = Plain()
    lock = threading.Lock()
    rcu = Rcu(Plain())

    def get_attr(c: Plain) -> int:
        return c.attr

    def empty() -> None:
        return None

    def lock_pass() -> None:
        with lock:
            pass

    def lock_attr() -> object:
        with lock:
            return obj.attr

    def lock_fn() -> object:
        with lock:
            return get_attr(obj)

    def guard_read() -> object:
        with RcuReadGuard() as g:
            return rcu.read(g).attr

    def closure() -> object:
        return rcu.with_read(get_attr)

    def guard_only() -> None:
        with RcuReadGuard():
            pass

    fns: dict[str, Callable[[], object]] = {
        "empty": empty,
        "lock_pass": lock_pass,
        "lock_attr": lock_attr,
        "lock_fn": lock_fn,
        "guard_read": guard_read,
        "closure": closure,
        "guard_only": guard_only,
    }
    if rwlock is not None:
        rw = rwlock.RWLockFair()

        def rw_read() -> object:
            with rw.gen_rlock():
                return obj.attr

        fns["rwlock"] = rw_read
    t = interleaved_best(fns, n, rounds)
    with trace.record():  # the cost of a guard+read while a recording is active
        traced = interleaved_best({"empty": empty, "traced": guard_read}, n // 4 or 1, rounds)
    base = t.pop("empty")
    t = {k: v - base for k, v in t.items()}
    t["traced"] = traced["traced"] - traced["empty"]

    print(f"rcu-api-bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"One thread (ns/op, best of {rounds} interleaved rounds of {n}, loop overhead removed):")
    print()
    print("| path | ns | baseline (same run) | ns | ratio to Lock | target | met |")
    print("|---|---:|---|---:|---:|---:|---|")
    rows = [
        ("`with RcuReadGuard() as g: rcu.read(g).attr`", "guard_read", "lock_attr", 2.0),
        ("`rcu.with_read(fn)`", "closure", "lock_fn", 2.0),
        ("`with RcuReadGuard(): pass`", "guard_only", "lock_pass", 1.5),
        ("guard+read while `kbind.trace.record()` is active", "traced", "lock_attr", None),
        ("`RWLockFair` reader: `with gen_rlock(): obj.attr`", "rwlock", "lock_attr", None),
    ]
    names = {
        "lock_attr": "`with threading.Lock(): obj.attr`",
        "lock_fn": "`with lock: fn(obj)`",
        "lock_pass": "`with threading.Lock(): pass`",
    }
    for label, key, basekey, target in rows:
        if key not in t:
            print(f"| {label} | - | (readerwriterlock not installed) | | | | |")
            continue
        ratio = t[key] / t[basekey]
        goal = f"<= {target:.1f}x" if target else "-"
        met = ("yes" if ratio <= target else "no") if target else "-"
        print(
            f"| {label} | {t[key]:.0f} | {names[basekey]} | {t[basekey]:.0f} | "
            f"{ratio:.2f}x | {goal} | {met} |"
        )

    alone, _ = reader_rate(rcu, dur, updater=False)
    busy, updates = reader_rate(rcu, dur, updater=True)
    ratio = busy / alone
    print()
    print(f"Reader throughput, one Python reader thread, guard+read loop ({dur:g} s each):")
    print(f"  no updater          : {alone:12.3e} reads/s")
    print(
        f"  one updater (replace+drop, {updates / dur:.3e} updates/s): {busy:12.3e} reads/s   "
        f"ratio to no updater {ratio:5.2f} (target >= 0.80: {'met' if ratio >= 0.8 else 'not met'})"
    )
    with RcuReadGuard() as g:
        ref = rcu.read(g)
        print()
        print(
            f"Sizes: sys.getsizeof(RcuReadGuard) = {sys.getsizeof(g)} bytes, "
            f"sys.getsizeof(RcuRef) = {sys.getsizeof(ref)} bytes"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
