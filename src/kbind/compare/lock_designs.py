"""The lock designs as adapters: how each locks, reaches its data and sleeps.

Every lock scenario (:mod:`kbind.compare.lock_scenarios`) is written once
against :class:`LockAdapter`.  The columns:

* ``kernel_c`` and ``kernel_c+debug`` -- :mod:`kbind.kernel_c`: the kernel's
  ``spinlock_t`` and ``struct mutex`` beside the data they protect, checked
  only by lockdep and the lock debugging options (on in ``+debug``);
* ``sync`` -- :mod:`kbind.sync`: ``SpinLock<T>``, ``Mutex<T>`` and
  ``LockGuard``, the 2021 Rust-for-Linux API;
* ``kernel.sync.lock`` -- :mod:`kbind.kernel.sync.lock`: mainline
  ``SpinLock``, ``Mutex``, ``Guard`` (rust/kernel/sync/lock.rs), with
  ``LockedBy`` (rust/kernel/sync/locked_by.rs), ``SpinLockIrq`` and
  ``LocalInterruptDisabled``, and the context model of :mod:`kbind.context`
  (the kernel's ``might_sleep()``).

Acts as user code (``KBIND_USER_CODE``): the sites kbind's errors name are
the adapter's lines.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kbind import kernel_c, sync
from kbind.compare.kit import KernelCOptions, snippet
from kbind.compare.model import Adapter, Design, NotApplicable, RuledOut
from kbind.kernel.sync import lock as mainline

__all__ = ["DESIGNS", "LockAdapter", "snippet"]

KBIND_USER_CODE = True


class LockAdapter(Adapter):
    """The steps of a lock design.  Handles (``lock``, ``g``) are opaque.

    * ``spinlock(value)``, ``mutex(value)``, ``irq_lock(value)``: a lock owning ``value``
      (``irq_lock``: one whose guard disables interrupts).
    * ``lock(lock)`` returns a guard; ``unlock(g)``; ``locked(lock)`` as a ``with`` block.
    * ``relock(lock)``: take ``lock`` a second time inside a first.
    * ``value(g)``: what the guard hands out of the protected data.
    * ``is_locked(lock)``: whether some thread holds it.
    * ``sleep()``: a call that sleeps (taking an uncontended sleeping lock).
    * ``locked_by(owner, value)``, ``access(data, g)``: data protected by another
      object's lock, and reaching it with a guard.
    * ``access_unlocked()``: protected data without the lock (L01).
    """

    design = "?"
    module = "?"

    def spinlock(self, value: Any) -> Any:
        """Return a fresh spinlock owning ``value``."""
        raise NotImplementedError

    def mutex(self, value: Any) -> Any:
        """Return a fresh sleeping lock owning ``value``."""
        raise NotImplementedError

    def irq_lock(self, value: Any) -> Any:
        """Return a fresh spinlock whose guard disables interrupts."""
        raise NotApplicable("no interrupt-disabling lock")

    def lock(self, lock: Any) -> Any:
        """Take ``lock``; return its guard."""
        return lock.lock()

    def unlock(self, g: Any) -> None:
        """Release the lock ``g`` holds."""
        g.unlock()

    @contextmanager
    def locked(self, lock: Any) -> Iterator[Any]:
        """Hold ``lock`` for a ``with`` block; yield the guard."""
        with lock.lock() as g:
            yield g

    def relock(self, lock: Any) -> None:
        """Take ``lock`` again while this thread holds it."""
        first = lock.lock()
        try:
            lock.lock().unlock()
        finally:
            first.unlock()

    def value(self, g: Any) -> Any:
        """Return what the guard hands out of the protected data."""
        return g.value

    def is_locked(self, lock: Any) -> bool:
        """Whether some thread holds ``lock``."""
        return bool(lock.is_locked())

    def sleep(self) -> None:
        """Make a call that sleeps: take (and release) an uncontended sleeping lock."""
        self.unlock(self.lock(self.mutex(0)))

    def locked_by(self, owner: Any, value: Any) -> Any:
        """Return ``value`` protected by ``owner``'s lock."""
        raise NotApplicable("no LockedBy")

    def access(self, data: Any, g: Any) -> Any:
        """Reach ``LockedBy`` data with the guard ``g``."""
        raise NotApplicable("no LockedBy")

    def access_unlocked(self) -> None:
        """Read the protected data without taking the lock (L01)."""
        raise RuledOut(
            "the lock owns its value: only a guard reaches it",
            snippet(
                f"from {self.module} import SpinLock",
                """
                items = SpinLock([1])
                items.value.append(2)  # misuse
                """,
            ),
        )


class _CLock:
    """A C lock and the data it protects, side by side (C has no lock that owns data)."""

    def __init__(self, lock: kernel_c.Spinlock | kernel_c.Mutex, value: Any) -> None:
        self.lock = lock
        self.data = value


class KernelC(KernelCOptions, LockAdapter):
    """``kbind.kernel_c``: ``spin_lock()``/``mutex_lock()`` with lockdep, options on or off."""

    module = "kbind.kernel_c"
    _names = itertools.count(1)

    def _name(self) -> str:  # one lockdep class per lock, so cells never share classes
        return f"compare lock {next(self._names)}"

    def spinlock(self, value: Any) -> Any:
        return _CLock(kernel_c.Spinlock(self._name()), value)

    def mutex(self, value: Any) -> Any:
        return _CLock(kernel_c.Mutex(self._name()), value)

    def _take(self, lock: _CLock) -> None:
        if isinstance(lock.lock, kernel_c.Spinlock):
            kernel_c.spin_lock(lock.lock)
        else:
            kernel_c.mutex_lock(lock.lock)

    def lock(self, lock: Any) -> Any:
        self._take(lock)
        return lock

    def unlock(self, g: Any) -> None:
        if isinstance(g.lock, kernel_c.Spinlock):
            kernel_c.spin_unlock(g.lock)
        else:
            kernel_c.mutex_unlock(g.lock)

    @contextmanager
    def locked(self, lock: Any) -> Iterator[Any]:
        self._take(lock)
        try:
            yield lock
        finally:
            self.unlock(lock)

    def relock(self, lock: Any) -> None:
        kernel_c.spin_lock(lock.lock)
        try:
            kernel_c.spin_lock(lock.lock)  # the second acquisition, on a line of its own
            kernel_c.spin_unlock(lock.lock)
        finally:
            kernel_c.spin_unlock(lock.lock)

    def value(self, g: Any) -> Any:
        return g.data

    def is_locked(self, lock: Any) -> bool:
        if isinstance(lock.lock, kernel_c.Spinlock):
            return kernel_c.spin_is_locked(lock.lock)
        return kernel_c.mutex_is_locked(lock.lock)

    def irq_lock(self, value: Any) -> Any:
        raise NotApplicable("kbind.kernel_c has no spin_lock_irqsave()")

    def access_unlocked(self) -> None:
        items = self.spinlock([1])
        kernel_c.lockdep_assert_held(items.lock)  # the kernel's idiom in a helper
        items.data.append(2)


class Api2021(LockAdapter):
    """``kbind.sync``: ``SpinLock``, ``Mutex``, ``LockGuard`` (the 2021 API)."""

    design = "sync"
    module = "kbind.sync"

    def spinlock(self, value: Any) -> Any:
        return sync.SpinLock(value)

    def mutex(self, value: Any) -> Any:
        return sync.Mutex(value)


class Mainline(LockAdapter):
    """``kbind.kernel.sync.lock``: ``SpinLock``, ``Mutex``, ``Guard``, ``LockedBy``, irq locks."""

    design = "kernel.sync.lock"
    module = "kbind.kernel.sync.lock"

    def spinlock(self, value: Any) -> Any:
        return mainline.SpinLock(value)

    def mutex(self, value: Any) -> Any:
        return mainline.Mutex(value)

    def irq_lock(self, value: Any) -> Any:
        return mainline.SpinLockIrq(value)

    def locked_by(self, owner: Any, value: Any) -> Any:
        return mainline.LockedBy(owner, value)

    def access(self, data: Any, g: Any) -> Any:
        return data.access(g)


#: The lock columns, in order.
DESIGNS: list[Design] = [
    Design(
        "kernel_c",
        "lock",
        "the kernel's spinlock_t and struct mutex, lockdep and lock debugging off",
        lambda: KernelC(False),
    ),
    Design(
        "kernel_c+debug",
        "lock",
        "the kernel's spinlock_t and struct mutex with PROVE_LOCKING, DEBUG_ATOMIC_SLEEP, "
        "DEBUG_SPINLOCK, DEBUG_MUTEXES",
        lambda: KernelC(True),
    ),
    Design(
        "sync",
        "lock",
        "SpinLock<T>, Mutex<T>, LockGuard (the 2021 Rust-for-Linux API)",
        Api2021,
    ),
    Design(
        "kernel.sync.lock",
        "lock",
        "SpinLock, Mutex, Guard, LockedBy, SpinLockIrq (rust/kernel/sync/lock.rs, mainline)",
        Mainline,
    ),
]
