"""Deferred freeing with call_rcu(), and callbacks that fail.

Kernel pattern: an updater that must not block (it holds a spinlock, or runs
in softirq context) cannot call ``synchronize_rcu()``; it hands the old
object to ``call_rcu()`` (or ``kfree_rcu()``) and moves on:

    spin_lock(&table_lock);
    old = rcu_replace_pointer(table, new, lockdep_is_held(&table_lock));
    spin_unlock(&table_lock);
    call_rcu(&old->rcu, free_table_rcu);   /* runs after a grace period */

Before a module unloads, ``rcu_barrier()`` waits until every callback it
queued has run.  In kbind, ``RcuDropGuard.defer()`` is ``kfree_rcu()`` and
``kbind.rcu.call_rcu(fn)`` is ``call_rcu()``; callbacks run on the thread
``kbind-rcu-callbacks`` after a grace period.  A callback that raises is
reported through ``sys.unraisablehook`` and the next callbacks still run.

The lesson: a reader holds a guard on the old table while the updater
defers its free; the free cannot happen while the reader holds it, and does
happen (after ``rcu_barrier()``) once the reader is done.  Exits 1 otherwise.
"""

from __future__ import annotations

import sys
import threading

from kbind import rcu
from kbind.rcu import Rcu, RcuReadGuard


def main() -> int:
    table = Rcu({"eth0": "00:11:22:33:44:55"})
    reader_in, reader_done = threading.Event(), threading.Event()
    log: list[str] = []

    def reader() -> None:
        with RcuReadGuard() as g:
            old_view = table.read(g)
            reader_in.set()
            reader_done.wait(timeout=10)
            # Still inside the section: the old table must still be readable.
            log.append(f"reader still sees eth0 = {old_view['eth0']}")

    t = threading.Thread(target=reader, name="reader")
    t.start()
    reader_in.wait(timeout=10)

    old = table.replace({"eth0": "66:77:88:99:aa:bb"})
    old.defer()  # kfree_rcu(): does not wait
    rcu.call_rcu(lambda: log.append("callback: a grace period has passed"))
    freed_while_reading = old.freed
    reader_done.set()
    t.join(timeout=10)

    # A callback that fails is reported, and does not stop the others.
    reported: list[object] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda args: reported.append(args.exc_value)
    try:
        rcu.call_rcu(lambda: 1 / 0)
        rcu.call_rcu(lambda: log.append("callback after the failing one ran"))
        rcu.rcu_barrier()  # every callback queued so far has run
    finally:
        sys.unraisablehook = previous_hook

    for line in log:
        print(line)
    print(f"the failing callback was reported: {reported!r}")
    ok = (
        not freed_while_reading
        and old.freed
        and log[0].startswith("reader still sees eth0 = 00:11")
        and "callback after the failing one ran" in log
        and len(reported) == 1
        and isinstance(reported[0], ZeroDivisionError)
    )
    print("ok: the old table was freed only after the reader left" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
