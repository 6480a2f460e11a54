"""Lock guard benchmark: ``with SpinLock.lock() as g: g.value`` (and Mutex) against threading.Lock.

    python3 benchmarks/lock_bench.py [--quick]
    python3 benchmarks/run.py locks

One thread, uncontended (the hot path: trylock and the guard in C, no GIL
release), ns per block, best of interleaved rounds, loop overhead removed;
ratios against ``with threading.Lock(): obj.attr`` measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from _util import interleaved_best

from kbind import Mutex, SpinLock

TARGET = 2.0


class Plain:
    __slots__ = ("attr",)

    def __init__(self) -> None:
        self.attr = 1


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (for tests)")
    args = ap.parse_args()
    n = 2_000 if args.quick else 100_000
    rounds = 2 if args.quick else 7
    obj = Plain()
    lock = threading.Lock()
    spin = SpinLock(1)
    mutex = Mutex(1)

    def empty() -> None:
        return None

    def lock_attr() -> object:
        with lock:
            return obj.attr

    def spin_value() -> object:
        with spin.lock() as g:
            return g.value

    def mutex_value() -> object:
        with mutex.lock() as g:
            return g.value

    t = interleaved_best(
        {"empty": empty, "lock": lock_attr, "spin": spin_value, "mutex": mutex_value}, n, rounds
    )
    base = t.pop("empty")
    t = {k: v - base for k, v in t.items()}
    print(f"lock-bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"One thread, uncontended (ns/op, best of {rounds} interleaved rounds of {n}):")
    print()
    print("| path | ns | baseline (same run) | ns | ratio | target | met |")
    print("|---|---:|---|---:|---:|---:|---|")
    for label, key in (
        ("`with SpinLock.lock() as g: g.value`", "spin"),
        ("`with Mutex.lock() as g: g.value`", "mutex"),
    ):
        ratio = t[key] / t["lock"]
        print(
            f"| {label} | {t[key]:.0f} | `with threading.Lock(): obj.attr` | {t['lock']:.0f} | "
            f"{ratio:.2f}x | <= {TARGET:.1f}x | {'yes' if ratio <= TARGET else 'no'} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
