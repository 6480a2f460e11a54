"""``kernel::sync::rcu`` (merged): ``Guard``, ``read_lock()``, ``synchronize_rcu``, ``rcu_barrier``.

Rust: rust/kernel/sync/rcu.rs.  ``Guard`` entered the kernel with the first
RCU abstraction (Linux 6.12-era); the safe free functions
``synchronize_rcu()`` and ``rcu_barrier()`` were merged in August 2026 (per
the late-2026 survey this mirror follows; confirm the release before quoting it).
The Rust guard is ``!Send`` (checked at compile time), is released by drop or
``unlock(self)``, is not ``#[must_use]`` and carries no lifetime tied to any
data: it only proves that the thread is in a read-side critical section.
"Must not be called in atomic context" is documentation in Rust; kbind
checks it (:mod:`kbind.context`).

It runs on the same engine as :class:`kbind.rcu.RcuReadGuard` (both are
engine "rcu_read" scopes of :mod:`kbind.lifetime`): the two designs' guards
nest with each other, and either design's grace periods wait for both.
"""

from __future__ import annotations

from typing import final

from kbind import context
from kbind.lifetime import Scope
from kbind.rcu import _runtime as _rt
from kbind.rcu import rcu_barrier as _rcu_barrier
from kbind.rcu import synchronize_rcu as _synchronize_rcu
from kbind.rcu.guard import ReadSection, read_leak_hooks

__all__ = ["Guard", "rcu_barrier", "read_lock", "synchronize_rcu"]

_leaked, _thread_exited = read_leak_hooks(
    "an rcu::Guard", "Use `with Guard():` or call guard.unlock()."
)


@final
class Guard(
    ReadSection, Scope, kind="rcu::Guard", engine="rcu_read", on_leak=_leaked,
    on_thread_exit=_thread_exited,
):  # fmt: skip
    """An RCU read-side critical section of the calling thread.

    Rust: ``kernel::sync::rcu::Guard`` (``Guard::new()``, ``Default``,
    ``rcu::read_lock()``; released by drop or ``unlock(self)``).  Kernel:
    ``rcu_read_lock()`` / ``rcu_read_unlock()``.

    Rules (run-time checks, each error names both sites):

    * the guard belongs to the thread that made it (Rust: ``!Send``):
      ``unlock()`` on another thread raises ``GuardError`` (R08);
    * it is released once: a second ``unlock()`` raises ``GuardError`` (R10);
    * inside it nothing may sleep: ``synchronize_rcu()`` and ``rcu_barrier()``
      raise ``DeadlockError`` (R05, R07), other sleeping calls of the
      kernel designs ``AtomicContextError`` (:mod:`kbind.context`);
    * a guard collected while held is released with a ``GuardLeakWarning``.

    Unlike :class:`kbind.rcu.RcuReadGuard`, no data is read through it: the
    Rust guard ties no lifetime to data (the RFC ``Rcu<P>`` design,
    :mod:`kbind.rfc.rcu_pointer`, does).

    Examples:
        >>> from kbind.kernel.sync import rcu
        >>> with rcu.Guard():
        ...     pass
        >>> g = rcu.read_lock()
        >>> g.unlock()
    """

    __slots__ = ()
    _END = "unlock"
    _MAKE = "Guard()"
    _MAKE_ALSO = "kbind.kernel.sync.rcu.read_lock()"

    def unlock(self) -> None:
        """Leave the read-side critical section now (Rust: ``Guard::unlock(self)``).

        Raises:
            GuardError: on another thread (R08) or if already unlocked (R10).
        """
        self.end()


_rt.register_guard_kind(Guard)


def _wait_allowed(op: str) -> None:
    # A grace-period wait in a read-side section waits for itself: the more
    # specific DeadlockError (R05/R07) first, then any other atomic section.
    ts = _rt.current_state()
    if ts is not None and ts.guards:
        _rt.raise_in_reader(f"call {op}", ts)
    context.might_sleep(op)


def read_lock() -> Guard:
    """Enter a read-side critical section; return its guard (Rust: ``rcu::read_lock()``)."""
    return Guard()


def synchronize_rcu() -> None:
    """Wait for a full grace period (Rust: ``kernel::sync::rcu::synchronize_rcu()``, 2026-08).

    Kernel: ``synchronize_rcu()``.  Every read-side section that began
    before the call (of any RCU design in kbind) has ended when it returns.

    Context: may sleep.  Raises ``DeadlockError`` inside a read-side section
    (R05: it would wait for itself) and ``AtomicContextError`` in another
    atomic section (a spinlock, interrupts disabled, an RCU callback).
    """
    _wait_allowed("synchronize_rcu()")
    _synchronize_rcu()


def rcu_barrier() -> None:
    """Wait until every RCU callback queued before the call has run (Rust: ``rcu_barrier()``).

    Kernel: ``rcu_barrier()``.  Context: may sleep; raises like
    :func:`synchronize_rcu`.
    """
    _wait_allowed("rcu_barrier()")
    _rcu_barrier()
