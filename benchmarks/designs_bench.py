"""The read path of each RCU design, side by side, against one threading.Lock baseline.

    python3 benchmarks/designs_bench.py [--quick]
    python3 benchmarks/run.py designs

One thread, ns per read (enter the read side, read one attribute, leave),
best of interleaved rounds, loop overhead removed; every ratio is against
``with threading.Lock(): obj.attr`` measured in the same run.  Target: each
design's read path within 2.0x the lock.  The raw C API (``kbind.kernel_c``)
is shown as the baseline design, without a target.
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

from kbind import kernel_c
from kbind.kernel.revocable import Revocable
from kbind.kernel.sync import rcu as krcu
from kbind.kernel.sync.srcu import Srcu
from kbind.rcu import Rcu, RcuReadGuard
from kbind.rfc import rcu_pointer

TARGET = 2.0


class Plain:
    __slots__ = ("attr",)

    def __init__(self) -> None:
        self.attr = 1


def read_paths() -> list[tuple[str, str, Callable[[], object], float | None]]:
    """(design, what is timed, the read, its target) for every RCU design."""
    obj = Plain()
    cell = Rcu(Plain())
    gp = kernel_c.RcuPointer(kernel_c.kmalloc(Plain()))
    domain = Srcu()
    rev = Revocable(Plain())
    ptr = rcu_pointer.Rcu(Plain())

    def get_attr(c: Plain) -> int:
        return c.attr

    def original() -> object:
        with RcuReadGuard() as g:
            return cell.read(g).attr

    def merged() -> object:
        with krcu.Guard():
            return obj.attr

    def srcu() -> object:
        with domain.read_lock():
            return obj.attr

    def revocable() -> object:
        return rev.try_access_with(get_attr)

    def rfc_pointer() -> object:
        with krcu.Guard() as g:
            p = ptr.dereference(g)
            return p.attr if p is not None else None

    def raw_c() -> object:
        kernel_c.rcu_read_lock()
        p = kernel_c.rcu_dereference(gp)
        kernel_c.rcu_read_unlock()
        return p.value.attr if p is not None else None

    return [
        ("kbind.rcu", "`with RcuReadGuard() as g: rcu.read(g).attr`", original, TARGET),
        ("kbind.kernel.sync.rcu", "`with rcu.Guard(): obj.attr`", merged, TARGET),
        ("kbind.kernel.sync.srcu", "`with domain.read_lock(): obj.attr`", srcu, TARGET),
        ("kbind.kernel.revocable", "`rev.try_access_with(fn)`", revocable, TARGET),
        (
            "kbind.rfc.rcu_pointer",
            "`with rcu.Guard() as g: p.dereference(g).attr`",
            rfc_pointer,
            TARGET,
        ),
        ("kbind.kernel_c", "`rcu_read_lock(); rcu_dereference(gp).value.attr; ...`", raw_c, None),
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer iterations (for tests)")
    args = ap.parse_args(sys.argv[1:] if __name__ == "__main__" else [])
    n = 2_000 if args.quick else 100_000
    rounds = 2 if args.quick else 7
    obj = Plain()
    lock = threading.Lock()

    def empty() -> None:
        return None

    def lock_attr() -> object:
        with lock:
            return obj.attr

    paths = read_paths()
    fns: dict[str, Callable[[], object]] = {"empty": empty, "lock": lock_attr}
    fns.update({design: fn for design, _, fn, _ in paths})
    t = interleaved_best(fns, n, rounds)
    base = t.pop("empty")
    t = {k: v - base for k, v in t.items()}
    print(f"designs-bench: python {sys.version.split()[0]}, {os.cpu_count()} CPUs")
    print(
        f"One thread (ns per read, best of {rounds} interleaved rounds of {n}, "
        "loop overhead removed):"
    )
    print()
    print("| design | read path | ns | ratio to `with threading.Lock(): obj.attr` | target | met |")
    print("|---|---|---:|---:|---:|---|")
    print(f"| (baseline) | `with threading.Lock(): obj.attr` | {t['lock']:.0f} | 1.00x | - | - |")
    missed = []
    for design, label, _, target in paths:
        ratio = t[design] / t["lock"]
        met = "-" if target is None else ("yes" if ratio <= target else "no")
        goal = "-" if target is None else f"<= {target:.1f}x"
        if met == "no":
            missed.append(design)
        print(f"| `{design}` | {label} | {t[design]:.0f} | {ratio:.2f}x | {goal} | {met} |")
    if missed:
        print(f"\ntarget not met: {', '.join(missed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
