"""RCU lists and the RCU hash table against a ``threading.Lock``, ratios from the same run.

    python3 benchmarks/rcu_list_bench.py [--quick]
    python3 benchmarks/run.py rcu-list

One thread, ns per lookup (best of interleaved rounds, loop overhead
removed), each lookup finding one element and reading one field of it:

1. An element in the middle of a 100-element ``kbind.rcu.RcuList`` under a
   read guard, ``with RcuReadGuard() as g: lst.lookup(g, key).payload``
   (the scan compares the keys the list's key function gave; only the
   match gets a reference), against the same search of a Python list under
   a lock: ``with lock: for x in items: if x.key == key: ...``.  Target: 2x.
2. The same element found by traversing, ``for ref in lst.iter(g): if
   ref.key == key: ...``: a reference per element visited (shown, no target).
3. ``kbind.rcu.RcuHashTable`` (1000 keys in 1024 buckets: a load factor
   under 1, as rhashtable keeps it) ``table.lookup(g, key).payload``
   against ``with lock: d.get(key).payload`` (both return None for a
   missing key).  Target: 2x.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import threading
from collections.abc import Callable

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from _util import interleaved_best

from kbind.rcu import RcuHashTable, RcuList, RcuReadGuard

TARGET = 2.0
N_LIST = 100
N_TABLE = 1000
N_BUCKETS = 1024


class Item:
    """What the lists hold: a key and a payload."""

    __slots__ = ("key", "payload")

    def __init__(self, key: int) -> None:
        self.key = key
        self.payload = key * 2


def paths() -> dict[str, Callable[[], object]]:
    """The timed lookups (and an empty function for the loop overhead)."""
    items = [Item(i) for i in range(N_LIST)]
    lock = threading.Lock()
    lst = RcuList([Item(i) for i in range(N_LIST)], key=lambda it: it.key)
    d = {i: Item(i) for i in range(N_TABLE)}
    table: RcuHashTable[int, Item] = RcuHashTable(buckets=N_BUCKETS)
    for i in range(N_TABLE):
        table.insert(i, Item(i))
    key = N_LIST // 2
    tkey = N_TABLE // 2

    def empty() -> None:
        return None

    def list_lock() -> object:
        with lock:
            for x in items:
                if x.key == key:
                    return x.payload
        return None

    def list_lookup() -> object:
        with RcuReadGuard() as g:
            ref = lst.lookup(g, key)
            return ref.payload if ref is not None else None

    def list_iter() -> object:
        with RcuReadGuard() as g:
            for ref in lst.iter(g):
                if ref.key == key:
                    return ref.payload
        return None

    def dict_lock() -> object:
        with lock:
            x = d.get(tkey)
            return x.payload if x is not None else None

    def table_lookup() -> object:
        with RcuReadGuard() as g:
            ref = table.lookup(g, tkey)
            return ref.payload if ref is not None else None

    for fn in (list_lock, list_lookup, list_iter, dict_lock, table_lookup):
        assert fn() == (key if fn in (list_lock, list_lookup, list_iter) else tkey) * 2
    return {
        "empty": empty,
        "list_lock": list_lock,
        "list_lookup": list_lookup,
        "list_iter": list_iter,
        "dict_lock": dict_lock,
        "table_lookup": table_lookup,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (for tests)")
    args = ap.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    n = 500 if args.quick else 20_000
    rounds = 2 if args.quick else 7
    fns = paths()
    reps = {"list_lock": n // 10 or 1, "list_lookup": n // 10 or 1, "list_iter": n // 20 or 1}
    t = interleaved_best(fns, n, rounds, reps)
    base = t.pop("empty")
    t = {k: v - base for k, v in t.items()}

    print(f"rcu-list-bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(f"One thread (ns/lookup, best of {rounds} interleaved rounds, loop overhead removed):")
    print()
    print("| lookup | ns | baseline (same run) | ns | ratio | target | met |")
    print("|---|---:|---|---:|---:|---:|---|")
    rows = [
        (f"`RcuList.lookup(g, key)`, element {N_LIST // 2} of {N_LIST}", "list_lookup",
         "list_lock", TARGET),
        (f"`for ref in RcuList.iter(g)`, element {N_LIST // 2} of {N_LIST}", "list_iter",
         "list_lock", None),
        (f"`RcuHashTable.lookup(g, key)`, {N_TABLE} keys in {N_BUCKETS} buckets", "table_lookup",
         "dict_lock", TARGET),
    ]  # fmt: skip
    names = {
        "list_lock": "`with lock:` the same search of a Python list",
        "dict_lock": "`with lock: d.get(key)`",
    }
    missed = []
    for label, key, basekey, target in rows:
        ratio = t[key] / t[basekey]
        goal = f"<= {target:.1f}x" if target else "-"
        met = ("yes" if ratio <= target else "no") if target else "-"
        if target and ratio > target:
            missed.append(key)
        print(
            f"| {label} | {t[key]:.0f} | {names[basekey]} | {t[basekey]:.0f} | "
            f"{ratio:.2f}x | {goal} | {met} |"
        )
    print()
    print(
        f"Targets: RcuList.lookup <= {TARGET:.1f}x and RcuHashTable.lookup <= {TARGET:.1f}x "
        f"the lock baseline: {'met' if not missed else 'not met: ' + ', '.join(missed)}."
    )
    per = (t["list_iter"] - t["list_lookup"]) / (N_LIST // 2 + 1)
    print(
        f"Traversal: {per:.0f} ns more per element visited than the keyed scan (a reference "
        "per element, and each field read through it checked)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
