"""Lesson 11: traversing an RCU list while an updater changes it.

Kernel pattern: readers walk a list with ``list_for_each_entry_rcu()``
inside ``rcu_read_lock()``; an updater takes its own lock
(``spin_lock(&routes_lock)``), links a new entry with ``list_add_rcu()``,
unlinks one with ``list_del_rcu()`` or swaps one in with
``list_replace_rcu()``, unlocks, and frees the old entry after a grace
period (``synchronize_rcu(); kfree()`` or ``kfree_rcu()``)
(Documentation/RCU/listRCU.rst, include/linux/rculist.h).  A traversal
outside a reader is what ``CONFIG_PROVE_RCU_LIST`` reports; an update
without the lock is what ``lockdep_assert_held()`` catches.  Rust:
Rust-for-Linux has no RCU list yet; in the shape of its ``Rcu<T>``, a
traversal borrows ``&Guard``, so neither an element reference nor the
iterator outlives the guard.  kbind: ``kbind.rcu.RcuList``: ``iter(guard)``
needs a read guard (rule R20), its references die with the guard
(``LifetimeError``), and updates need ``update_lock`` held (rule R26).

The lesson: two readers traverse a routing table while an updater adds,
replaces and removes routes under the lock; every traversal sees the
default route, each route once, and every element it sees readable.
Then an element reference kept past its guard, a traversal without a
guard, and an update without the lock are each refused with a named error.
Exits 1 if any of it goes otherwise.
"""

from __future__ import annotations

import sys
import threading

from kbind import GuardError, LifetimeError
from kbind.rcu import RcuDropGuard, RcuList, RcuReadGuard, rcu_barrier

TIMEOUT = 10.0
UPDATES = 200


class Route:
    """One routing entry (published as it is, never changed in place)."""

    def __init__(self, dest: str, via: str) -> None:
        self.dest = dest
        self.via = via


def traffic(routes: RcuList[Route]) -> tuple[int, list[str]]:
    """Readers traverse while an updater changes the list; return (traversals, problems)."""
    problems: list[str] = []
    done = threading.Event()
    counts = [0, 0]

    def reader(i: int) -> None:
        while counts[i] < 5_000 and not (done.is_set() and counts[i] > 10):
            with RcuReadGuard() as g:  # rcu_read_lock()
                seen = [(r.dest, r.via) for r in routes.iter(g)]  # list_for_each_entry_rcu()
            dests = [d for d, _ in seen]
            if "default" not in dests or len(set(dests)) != len(dests):
                problems.append(f"reader {i} saw {seen}")
            counts[i] += 1

    def updater() -> None:
        try:
            for n in range(UPDATES):
                olds: list[RcuDropGuard[Route]] = []
                with routes.update_lock.lock() as held:  # spin_lock(&routes_lock)
                    routes.add(Route(f"10.0.{n}.0/24", "eth1"))  # list_add_rcu()
                    old = routes.lookup(held, f"10.0.{n - 1}.0/24")
                    if old is not None:  # list_replace_rcu(): readers see one or the other
                        olds.append(routes.replace(old, Route(old.dest, "eth2")))
                    gone = routes.lookup(held, f"10.0.{n - 3}.0/24")
                    if gone is not None:
                        olds.append(routes.remove(gone))  # list_del_rcu()
                for i, dropguard in enumerate(olds):  # spin_unlock() first, then free
                    dropguard.drop() if i == 0 else dropguard.defer()  # synchronize_rcu / kfree_rcu
        finally:
            done.set()

    threads = [threading.Thread(target=reader, args=(i,), name=f"reader-{i}") for i in (0, 1)]
    threads.append(threading.Thread(target=updater, name="updater"))
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 6)
    if any(t.is_alive() for t in threads):
        problems.append("a thread did not finish")
    return sum(counts), problems


def refusals(routes: RcuList[Route]) -> list[str]:
    """Each misuse of the lesson, and the error kbind named for it."""
    caught: list[str] = []
    with RcuReadGuard() as g:
        kept = routes.lookup(g, "default")  # a reference bound to g ...
    try:  # ... used after g was dropped
        print("kept route via", kept.via if kept is not None else None)
    except LifetimeError as exc:
        if exc.created_at is not None and exc.dropped_at is not None:
            caught.append("stale element reference: LifetimeError naming both sites")
        print("  " + str(exc).splitlines()[0])
    try:
        for route in routes:  # type: ignore[attr-defined]  # the misuse is the lesson
            print("traversed without a guard:", route)
    except TypeError as exc:
        if "R20" in str(exc):
            caught.append("traversal without a guard: TypeError (R20)")
        print("  " + str(exc)[:100] + "...")
    try:
        routes.add(Route("192.168.0.0/16", "eth3"))  # no spin_lock() around it
    except GuardError as exc:
        if "R26" in str(exc) and exc.created_at is not None and exc.sites:
            caught.append("update without the lock: GuardError (R26) naming both sites")
        print("  " + str(exc).splitlines()[0][:100] + "...")
    return caught


def main() -> int:
    routes = RcuList([Route("default", "eth0")], key=lambda r: r.dest)
    traversals, problems = traffic(routes)
    print(f"{traversals} traversals ran beside {UPDATES} locked updates; problems: {problems}")
    caught = refusals(routes)
    for line in caught:
        print("caught:", line)
    drained = rcu_barrier(timeout=TIMEOUT)  # the deferred frees have run
    with RcuReadGuard() as g:
        final = sorted(r.dest for r in routes.iter(g))
    ok = not problems and traversals > 20 and len(caught) == 3 and drained and "default" in final
    if not ok:
        print("LESSON 11 FAILED")
        return 1
    print(
        "LESSON 11 OK: readers traversed a changing list safely; a stale element reference, "
        "a traversal without a guard and an unlocked update were refused"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
