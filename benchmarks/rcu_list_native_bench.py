"""RCU list benchmark: native reader throughput with one updater against readers alone.

    python3 benchmarks/rcu_list_native_bench.py [--quick] [--seconds S] [--rounds N]
    python3 benchmarks/run.py rcu-list-native

C reader threads (GIL released) traverse the C RCU list and its hash buckets
(csrc/engine/rculist.c, one traversal per read-side section, checks on,
no hold per element) through ``kb_rculist_torture()``.  Each round runs the
readers alone (no updater: the baseline) and then with one updater that adds,
deletes and replaces elements and frees the removed ones after grace
periods, by ``synchronize_rcu()`` or by ``call_rcu()``; rounds alternate so
that the machine's noise hits both alike.  Throughput is element visits per
second (the list's length changes under an updater, so traversals per
second would not compare); the table gives each run's best round and the
ratio to the baseline of the same run (target: >= 0.5x).  One updater
takes a CPU, so the readers are one fewer than the usable CPUs (1 to 4).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Literal

from kbind.torture import rculist_torture

#: The least a reader with one updater should keep of the readers' throughput alone.
TARGET = 0.5


Reclaim = Literal["sync", "call"]


def _visits_per_s(
    readers: int, updaters: int, seconds: float, reclaim: Reclaim
) -> tuple[float, float]:
    """Return (visits/s, updates/s) of one run."""
    r = rculist_torture(
        readers=readers, updaters=updaters, duration=seconds, reclaim=reclaim, read_spin=0
    )
    if not r.passed:
        sys.exit(f"rculist-bench: the torture found errors: {r}")
    return r.visits / r.elapsed, r.updates / r.elapsed


def main() -> int:
    """Measure and print the table (exit status 0: a missed target is a "no" in it)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (for tests)")
    ap.add_argument("--seconds", type=float, default=None, help="seconds per run (default 0.5)")
    ap.add_argument("--rounds", type=int, default=None, help="alternating rounds (default 5)")
    args = ap.parse_args()
    seconds = args.seconds or (0.1 if args.quick else 0.5)
    rounds = args.rounds or (2 if args.quick else 5)
    cpus = len(os.sched_getaffinity(0))
    readers = max(1, min(4, cpus - 1))

    modes: tuple[tuple[Reclaim, str], ...] = (
        ("sync", "synchronize_rcu()"),
        ("call", "call_rcu()"),
    )
    alone = 0.0
    best = {key: (0.0, 0.0) for key, _ in modes}  # (visits/s, updates/s) of the best round
    for _ in range(rounds):
        alone = max(alone, _visits_per_s(readers, 0, seconds, "sync")[0])
        for key, _ in modes:
            best[key] = max(best[key], _visits_per_s(readers, 1, seconds, key))

    print(f"rculist-bench: {readers} reader thread(s) on {cpus} usable CPU(s), "
          f"best of {rounds} alternating rounds of {seconds:g} s each")  # fmt: skip
    print()
    print("| readers with | element visits/s | updates/s | baseline (same run) | visits/s "
          "| ratio | target | met |")  # fmt: skip
    print("|---|---:|---:|---|---:|---:|---:|---|")
    for key, label in modes:
        visits, updates = best[key]
        ratio = visits / alone
        print(f"| 1 updater, freeing after {label} | {visits:.3e} | {updates:.3e} "
              f"| readers alone (no updater) | {alone:.3e} | {ratio:.2f}x "
              f"| >= {TARGET:.1f}x | {'yes' if ratio >= TARGET else 'no'} |")  # fmt: skip
    print()
    print(
        "The updater runs flat out (each update costs readers the cache lines it writes, "
        "and with synchronize_rcu() a quiescent-state report per grace period), so the "
        "ratio falls as the update rate rises."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
