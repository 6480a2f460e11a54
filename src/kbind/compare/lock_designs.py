"""The lock designs as adapters: how each locks, reaches its data and sleeps.

Every lock scenario (:mod:`kbind.compare.lock_scenarios`) is written once
against :class:`LockAdapter`.  The columns:

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

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kbind import sync
from kbind.compare.model import Adapter, Design, NotApplicable, RuledOut
from kbind.kernel.sync import lock as mainline

__all__ = ["DESIGNS", "LockAdapter", "snippet"]

KBIND_USER_CODE = True


def snippet(imports: str, body: str) -> str:
    """Return a module for mypy: ``imports``, then ``body`` (its misuse line marked)."""
    head = f"from __future__ import annotations\n{textwrap.dedent(imports).strip()}\n\n"
    return head + textwrap.dedent(body).strip() + "\n"


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
