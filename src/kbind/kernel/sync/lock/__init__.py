"""``kernel::sync::lock`` and neighbours: SpinLock, Mutex, Guard, LockedBy, CondVar, SpinLockIrq.

Rust: rust/kernel/sync/lock.rs (``Lock<T, B>``, ``Guard``), lock/spinlock.rs
(``SpinLock<T>``), lock/mutex.rs (``Mutex<T>``), rust/kernel/sync/locked_by.rs
(``LockedBy<T, U>``), rust/kernel/sync/condvar.rs (``CondVar``) and the
``SpinLockIrq<T>`` / ``LocalInterruptDisabled`` series (merged 2026-08;
the kernel release that carries it is not confirmed here).  Beside the
2021-API design :mod:`kbind.sync` (``LockGuard``), which keeps its
behaviour; both run on the engine's C locks.

The context model (:mod:`kbind.context`, the kernel's ``might_sleep()``):
a held SpinLock or SpinLockIrq, and a live ``LocalInterruptDisabled`` token,
are atomic sections of their thread; ``Mutex.lock()`` and ``CondVar.wait()``
may sleep and raise ``AtomicContextError`` inside one (or inside an RCU
reader), naming both sites.

Modules: ``_core`` (Lock, Guard, SpinLock, Mutex), ``irq`` (SpinLockIrq and
the token), ``locked_by``, ``condvar``.
"""

from kbind.kernel.sync.lock._core import Guard, Lock, Mutex, SpinLock, irqs_disabled
from kbind.kernel.sync.lock.condvar import CondVar
from kbind.kernel.sync.lock.irq import LocalInterruptDisabled, SpinLockIrq, local_interrupt_disable
from kbind.kernel.sync.lock.locked_by import LockedBy, LockedByMut

__all__ = [
    "CondVar",
    "Guard",
    "LocalInterruptDisabled",
    "Lock",
    "LockedBy",
    "LockedByMut",
    "Mutex",
    "SpinLock",
    "SpinLockIrq",
    "irqs_disabled",
    "local_interrupt_disable",
]
