"""Lesson 5: deferred freeing with ``call_rcu()`` and ``rcu_barrier()``.

Kernel pattern: an updater that must not block hands the old object to
``call_rcu(&old->rcu, free_fn)`` or ``kfree_rcu(old, rcu)`` and moves on;
the callback runs after a grace period.  Before a module unloads,
``rcu_barrier()`` waits for every queued callback
(Documentation/RCU/whatisRCU.rst section 3, Documentation/RCU/rcubarrier.rst).
Rust: the proposals free through ``RcuDropGuard`` or a ``call_rcu`` taking
a ``Send + 'static`` closure.  kbind: ``RcuDropGuard.defer()`` is
``kfree_rcu()``, ``kbind.rcu.call_rcu(fn)`` is ``call_rcu()``; callbacks
run on the thread ``kbind-rcu-callbacks`` (MISUSE R18, R19).

The lesson: a reader holds a guard on the old value while the updater
defers its free; the timeline shows the callback running only after the
reader left.  Exits 1 if the free happened while the reader was inside.
"""

from __future__ import annotations

import sys
import threading

from kbind import trace
from kbind.rcu import Rcu, RcuReadGuard, call_rcu, pending_callbacks, rcu_barrier

TIMEOUT = 10.0


def main() -> int:
    table = Rcu({"entries": 3})
    inside, release = threading.Event(), threading.Event()
    freed_while_inside: list[bool] = []
    order: list[str] = []
    drop_guard = None

    def reader() -> None:
        with RcuReadGuard() as g:
            _ = table.read(g)["entries"]
            inside.set()
            release.wait(TIMEOUT)
            freed_while_inside.append(drop_guard is not None and drop_guard.freed)

    with trace.record() as rec:
        t = threading.Thread(target=reader, name="reader")
        t.start()
        inside.wait(TIMEOUT)
        drop_guard = table.replace({"entries": 4})
        drop_guard.defer()  # kfree_rcu(): returns at once
        call_rcu(lambda: order.append("callback ran"))  # call_rcu(): also returns at once
        queued = pending_callbacks()
        print(f"updater queued {queued} callback(s) and went on without waiting")
        release.set()
        t.join(timeout=TIMEOUT)
        drained = rcu_barrier(timeout=TIMEOUT)  # before "unloading": wait for callbacks
    print(rec.to_text(width=60))
    print(f"rcu_barrier() returned {drained}; old value freed: {drop_guard.freed}; {order}")
    ok = (
        queued >= 2 and drained and drop_guard.freed and order == ["callback ran"]
        and freed_while_inside == [False] and not rec.violations()
    )  # fmt: skip
    if not ok:
        print("LESSON 05 FAILED")
        return 1
    print("LESSON 05 OK: the deferred free ran after the reader left, and rcu_barrier() waited")
    return 0


if __name__ == "__main__":
    sys.exit(main())
