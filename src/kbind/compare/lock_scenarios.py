"""The lock misuse scenarios (L01-L08, L10, L11), one per row of the catalog.

Each function takes the design's :class:`~kbind.compare.lock_designs.LockAdapter`
and does the misuse through it; a design that catches it raises from an
adapter step, one that lets it through gets to the end and the function
says what followed.  Nothing here deadlocks: the ABBA row (L05) takes the
two locks in opposite orders on two threads one after the other, which
lockdep reports and which never blocks.  Helper threads are joined with a
timeout, and what they raised is raised on the cell's thread.

Acts as user code (``KBIND_USER_CODE``), like the adapters.
"""

from __future__ import annotations

import copy
import gc

from kbind.compare.kit import Registrar, on_thread
from kbind.compare.lock_designs import LockAdapter
from kbind.compare.model import Scenario

__all__ = ["SCENARIOS", "on_thread"]

KBIND_USER_CODE = True

SCENARIOS: list[Scenario] = []


#: ``@scenario("ID")``: registers the function below it as that row's scenario.
scenario: Registrar[LockAdapter] = Registrar(SCENARIOS, "lock", sites=2)


@scenario("L01", sites=0)
def l01(d: LockAdapter) -> str:
    """Reach the protected data without taking the lock."""
    d.access_unlocked()
    return "read the data without the lock"


@scenario("L02", sites=2)
def l02(d: LockAdapter) -> str:
    """Keep what the guard handed out of the protected list, and change it after unlock."""
    items = d.spinlock([1])
    g = d.lock(items)
    ref = d.value(g)
    d.unlock(g)
    ref.append(2)  # no lock held
    return "changed the protected list after unlock"


@scenario("L03", sites=2)
def l03(d: LockAdapter) -> str:
    """Unlock a guard on a thread other than the one that locked."""
    lock = d.spinlock(0)
    g = d.lock(lock)
    try:
        on_thread(lambda: d.unlock(g), "kbind-compare-other")
    except BaseException:
        d.unlock(g)  # the owner still can
        raise
    return "unlocked on another thread"


@scenario("L04", sites=2)
def l04(d: LockAdapter) -> str:
    """Take a lock again on the thread that holds it."""
    lock = d.spinlock(0)
    d.relock(lock)
    return "took the lock twice on one thread"


@scenario("L05", sites=2)
def l05(d: LockAdapter) -> str:
    """Take two locks in opposite orders on two threads (one after the other: no deadlock)."""
    first, second = d.spinlock(0), d.spinlock(0)

    def forward() -> None:
        with d.locked(first), d.locked(second):
            pass

    def backward() -> None:
        with d.locked(second), d.locked(first):
            pass

    on_thread(forward, "kbind-compare-A")
    on_thread(backward, "kbind-compare-B")
    return "an AB-BA order went unreported"


@scenario("L06", sites=2)
def l06(d: LockAdapter) -> str:
    """Sleep (take a sleeping lock) while holding a spinlock."""
    lock = d.spinlock(0)
    with d.locked(lock):
        d.sleep()
    return "slept under a spinlock"


@scenario("L07", sites=2)
def l07(d: LockAdapter) -> str:
    """Sleep (take a sleeping lock) under a guard that disabled interrupts."""
    lock = d.irq_lock(0)
    with d.locked(lock):
        d.sleep()
    return "slept with interrupts disabled"


@scenario("L08", sites=2)
def l08(d: LockAdapter) -> str:
    """Reach LockedBy data with the guard of a lock other than its owner."""
    owner, other = d.spinlock(0), d.spinlock(0)
    data = d.locked_by(owner, [1])
    with d.locked(other) as g:
        got = d.access(data, g)
    return f"read {got!r} under the wrong lock"


@scenario("L10", sites=1)
def l10(d: LockAdapter) -> str:
    """Drop the only reference to a held guard without unlocking."""
    lock = d.spinlock(0)
    g = d.lock(lock)
    del g
    gc.collect()
    return "the lock stays held" if d.is_locked(lock) else "the lock was released silently"


@scenario("L11", sites=0)
def l11(d: LockAdapter) -> str:
    """Duplicate a held guard with copy.copy()."""
    lock = d.spinlock(0)
    with d.locked(lock) as g:
        copy.copy(g)
    return "duplicated the guard"
