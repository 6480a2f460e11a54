"""Lesson 4: ``synchronize_rcu()`` inside a read-side section waits for itself.

Kernel pattern: calling ``synchronize_rcu()`` between ``rcu_read_lock()``
and ``rcu_read_unlock()`` deadlocks: the grace period waits for every
section that began before it, including the caller's own.  lockdep reports
"Illegal synchronize_rcu() in RCU read-side critical section" (the
RCU_LOCKDEP_WARN() in synchronize_rcu(), kernel/rcu/tree.c).  The rule is
Documentation/RCU/checklist.rst item 13: only SRCU (and Tasks Trace RCU)
readers may block, and synchronize_rcu() blocks (item 6 is the related rule
that it cannot be called from irq context); see also
Documentation/RCU/whatisRCU.rst.
Rust-for-Linux does not catch it at compile time.  kbind raises
``DeadlockError`` instead of hanging (MISUSE R05), and does the same for
the implicit synchronize of ``RcuDropGuard.drop()`` (R06).  The fix:
leave the section first, or free with ``defer()``/``call_rcu()``, which do
not wait.

The lesson calls both inside a section, checks each raises
``DeadlockError`` (with the guard's site), then does it right.  Exits 1
otherwise.
"""

from __future__ import annotations

import sys

from kbind import DeadlockError
from kbind.rcu import Rcu, RcuReadGuard, rcu_barrier, synchronize_rcu


def main() -> int:
    config = Rcu({"version": 1})
    caught = []
    with RcuReadGuard() as g:
        _ = config.read(g)["version"]
        try:
            synchronize_rcu()  # would wait for this very section
        except DeadlockError as exc:
            caught.append("synchronize_rcu")
            print("synchronize_rcu() inside the section raised DeadlockError:")
            print("  " + str(exc).replace("\n", "\n  "))
        old = config.replace({"version": 2})  # publishing inside a reader is fine ...
        try:
            old.drop()  # ... but waiting for the grace period is not
        except DeadlockError:
            caught.append("RcuDropGuard.drop")
            print("RcuDropGuard.drop() inside the section raised DeadlockError too")
        old.defer()  # the fix inside a reader: free after a grace period, without waiting
    synchronize_rcu()  # the fix outside: leave the section first
    drained = rcu_barrier(timeout=10)
    print(f"outside the section synchronize_rcu() returned; deferred free done: {old.freed}")
    if caught != ["synchronize_rcu", "RcuDropGuard.drop"] or not drained or not old.freed:
        print(f"LESSON 04 FAILED: caught {caught}")
        return 1
    print("LESSON 04 OK: both waits inside a reader raised DeadlockError instead of hanging")
    return 0


if __name__ == "__main__":
    sys.exit(main())
