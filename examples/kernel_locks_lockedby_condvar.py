"""Lesson: the merged kernel locks - a device list under a Mutex, its stats LockedBy it, a CondVar.

Rust: ``kernel::sync::{Mutex, SpinLock, LockedBy, CondVar}`` (rust/kernel/sync/
lock.rs, locked_by.rs, condvar.rs); kbind: :mod:`kbind.kernel.sync.lock`.

* The Mutex owns the queue; ``LockedBy(queue, stats)`` says the stats are
  protected by the same lock, and every access proves it with the guard
  (a guard of another lock is refused: Rust's owner pointer comparison).
* A consumer waits on a CondVar, which releases the Mutex while it sleeps
  and holds it again when the wait returns.
* A Mutex may sleep, so taking it under a SpinLock is refused
  (``AtomicContextError``, the kernel's ``might_sleep()``), naming both sites.

Run: ``python examples/kernel_locks_lockedby_condvar.py`` - exits 0 if everything behaved.
"""

from __future__ import annotations

import threading

from kbind.errors import AtomicContextError, GuardError
from kbind.kernel.sync.lock import CondVar, LockedBy, Mutex, SpinLock


def main() -> None:
    queue: Mutex[list[str]] = Mutex([])
    stats = LockedBy(queue, 0)  # how many items were consumed: protected by queue's lock
    ready = CondVar()
    consumed: list[str] = []

    def consumer() -> None:
        while len(consumed) < 3:
            with queue.lock() as g:
                while not g.value:
                    if not ready.wait_timeout(g, 5.0):
                        raise SystemExit("the producer never notified")
                consumed.extend(g.value)
                stats.access_mut(g).value += len(g.value)
                g.value.clear()

    t = threading.Thread(target=consumer)
    t.start()
    for item in ("eth0", "eth1", "lo"):
        with queue.lock() as g:
            g.value.append(item)
            ready.notify_one()
    t.join(10)
    assert not t.is_alive() and consumed == ["eth0", "eth1", "lo"]
    with queue.lock() as g:
        print(f"consumed {consumed}, stats under the queue lock: {stats.access(g)}")
        assert stats.access(g) == 3

    other = SpinLock(0)
    with other.lock() as wrong:
        try:
            stats.access(wrong)
        except GuardError as err:
            print(f"a guard of another lock is refused:\n{err}\n")
        else:
            raise SystemExit("LockedBy accepted another lock's guard")
        try:
            queue.lock()
        except AtomicContextError as err:
            print(f"a Mutex under a SpinLock is refused:\n{err}")
        else:
            raise SystemExit("Mutex.lock() slept in atomic context")


if __name__ == "__main__":
    main()
