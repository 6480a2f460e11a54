"""The merged Rust API, ``kernel::sync::rcu``: a guard that proves a read-side section, no more.

Rust (rust/kernel/sync/rcu.rs):

    let guard = rcu::read_lock();
    // ... read RCU-protected data ...
    guard.unlock();              // or drop(guard)
    rcu::synchronize_rcu();      // safe since August 2026; "not in atomic context"

The Rust ``Guard`` is ``!Send`` and ties no lifetime to data; "must not be
called in atomic context" is documentation.  kbind runs the same design on
its engine and checks, at run time, what Rust leaves to the documentation:
a grace-period wait inside the guard is a ``DeadlockError``, and any call
that may sleep inside it an ``AtomicContextError`` naming both sites.

The lesson: an updater's grace period waits for a reader holding the guard,
ends once the reader unlocks it, and a sleep inside the guard is refused.
Exits 1 otherwise.
"""

from __future__ import annotations

import sys
import threading

from kbind import context
from kbind.errors import AtomicContextError, DeadlockError
from kbind.kernel.sync import rcu


def main() -> int:
    guard = rcu.read_lock()
    done = threading.Event()

    def update() -> None:
        rcu.synchronize_rcu()
        done.set()

    updater = threading.Thread(target=update)
    updater.start()
    waited = not done.wait(0.2)  # the grace period cannot end under the open guard
    try:
        rcu.synchronize_rcu()
        refused_wait = False
    except DeadlockError as e:
        refused_wait = True
        print("synchronize_rcu() in the reader:", str(e).splitlines()[0])
    try:
        context.sleep(0.01)
        refused_sleep = False
    except AtomicContextError as e:
        refused_sleep = True
        print("sleep in the reader:", str(e).splitlines()[0])
    guard.unlock()
    ended = done.wait(10)
    updater.join(10)
    print(f"grace period waited for the reader: {waited}; ended after unlock: {ended}")
    return 0 if waited and ended and refused_wait and refused_sleep else 1


if __name__ == "__main__":
    sys.exit(main())
