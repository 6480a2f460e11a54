"""Lesson: a lock that owns its data, and what happens when a guard is misused.

Kernel pattern: ``spin_lock(&lock); ...; spin_unlock(&lock);`` around data the
lock protects.  Rust-for-Linux turns the convention into types:
``SpinLock<T>`` owns the ``T``, and ``lock()`` returns a ``Guard`` through
which alone the data is reachable; the borrow checker stops the data from
outliving the guard.  kbind checks the same rules at run time:

* the data escapes its guard -> ``LifetimeError`` naming where the guard was
  taken and where it was dropped;
* the lock is taken twice on one thread -> ``DeadlockError`` instead of a hang.

Run: ``python examples/locks_guard_lifetimes.py`` - exits 0 if everything behaved.
"""

from __future__ import annotations

import sys

from kbind import DeadlockError, LifetimeError, SpinLock


def main() -> int:
    stats = SpinLock({"packets": 0, "bytes": 0})

    with stats.lock() as g:
        g.value["packets"] += 1
        g.value["bytes"] += 1500
        leaked = g  # keeping the guard past the block is the bug below

    with stats.lock() as g:
        snapshot = dict(g.value)  # the right way: copy out while locked
    print("snapshot copied under the lock:", snapshot)

    caught = []
    try:
        print(leaked.value)
    except LifetimeError as exc:
        caught.append(type(exc).__name__)
        print("\nusing the guard after its block ended:\n" + str(exc))

    with stats.lock():
        try:
            stats.lock()
        except DeadlockError as exc:
            caught.append(type(exc).__name__)
            print("\nlocking twice on one thread:\n" + str(exc))

    ok = snapshot == {"packets": 1, "bytes": 1500} and caught == ["LifetimeError", "DeadlockError"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
