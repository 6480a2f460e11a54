"""Lesson 14: an existence guarantee from a lock taken inside the reader.

Kernel pattern: find an element under ``rcu_read_lock()``, take its own
lock, recheck a ``deleted`` flag under that lock, then leave the reader and
keep using the element while holding the lock; the deleter sets the flag
under the same lock before it unpublishes the element, so a clear flag
means the element cannot be freed before the unlock
(Documentation/RCU/whatisRCU.rst; Documentation/RCU/listRCU.rst, "Avoiding
stale data").  Rust: a ``Guard`` of a lock inside the object, which the
reference would borrow.  kbind: ``kbind.rcu.lock_existing(ref)`` does the
three steps and returns the reference moved to the lock's guard (valid
until the unlock) or None for a deleted element; skipping the recheck is
refused (MISUSE R27).

The lesson: a reader keeps an element past its section through its lock and
updates the lock's data; then a deleter marks it deleted and unpublishes
it, and a second reader gets None; finally the shortcut -- moving the
reference to the lock without the recheck (``kbind.lifetime.rebind``) --
raises ``LifetimeError`` naming where the element was retired.  Exits 1 if
anything else happens.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from kbind import LifetimeError, lifetime
from kbind.rcu import Rcu, RcuReadGuard, lock_existing, rcu_barrier
from kbind.sync import SpinLock


@dataclass
class State:
    """What the element's lock protects: its hit counter and the deleted flag."""

    hits: int = 0
    deleted: bool = False


@dataclass
class Route:
    """A published element: immutable fields and a lock of its own."""

    prefix: str
    lock: SpinLock[State]


def main() -> int:
    table = Rcu(Route("10.0.0.0/8", SpinLock(State())))

    # 1. Keep it past the reader through its lock (the flag is clear).
    with RcuReadGuard() as g:
        held = lock_existing(table.read(g))  # spin_lock(&p->lock); if (p->deleted) ...
    if held is None:
        print("LESSON 14 FAILED: a live element looked deleted")
        return 1
    with held as route:  # the reader has ended; the lock keeps the element
        held.guard.value.hits += 1
        print(f"after the reader, under its lock: {route.prefix}, hits={held.guard.value.hits}")
    try:
        _ = route.prefix
        print("LESSON 14 FAILED: the reference outlived the unlock")
        return 1
    except LifetimeError:
        print("after the unlock, the reference is dead (LifetimeError)")

    # 2. The deleter marks it under its lock, then unpublishes it.
    lock = table.with_read(lambda r: r.lock)
    with RcuReadGuard() as g:
        stale = table.read(g)  # found before the delete ...
        with lock.lock() as lg:
            lg.value.deleted = True
        old = table.replace(Route("0.0.0.0/0", SpinLock(State())))
        gone = lock_existing(stale)  # ... the recheck sees the flag: None
        print(f"after the delete, lock_existing() gives {gone}")
        # 3. The shortcut: its lock, no recheck, then the reference moved to the lock.
        guard = stale.lock.lock()
        try:
            lifetime.rebind(stale, guard)
            refused = False
        except LifetimeError as exc:
            refused = any(label == "retired at" for label, _ in exc.sites)
            print("moving it to its lock without the recheck: LifetimeError (retired at ...)")
        finally:
            guard.unlock()
    old.defer()
    rcu_barrier()
    with lock.lock() as lg:
        hits = lg.value.hits
    if gone is not None or not refused or hits != 1:
        print("LESSON 14 FAILED")
        return 1
    print("LESSON 14 OK: the lock kept the live element; the deleted one was refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
