"""Lesson: ``SpinLockIrq`` and the ``LocalInterruptDisabled`` token (Rust, merged 2026-08).

Kernel: ``spin_lock_irqsave()`` disables local interrupts and takes the lock;
the Rust ``SpinLockIrq::lock()`` counts the disabling so sections nest, and
``lock_with(&LocalInterruptDisabled)`` skips it when a token proves that
interrupts are already off.  kbind: :mod:`kbind.kernel.sync.lock`; an
interrupt-disabled section is an atomic section of the thread, where
nothing may sleep.

Run: ``python examples/kernel_spinlock_irq.py`` - exits 0 if everything behaved.
"""

from __future__ import annotations

from kbind.errors import AtomicContextError, GuardError
from kbind.kernel.sync.lock import Mutex, SpinLockIrq, irqs_disabled, local_interrupt_disable


def main() -> None:
    events = SpinLockIrq(0)
    with events.lock() as g:  # interrupts off, lock held
        g.value += 1
        assert irqs_disabled()
    assert not irqs_disabled()

    with local_interrupt_disable() as token:
        with events.lock_with(token) as g:  # the token is the proof; nothing to disable
            g.value += 1
        try:
            Mutex(0).lock()  # may sleep: not with interrupts off
        except AtomicContextError as err:
            print(f"sleeping with interrupts disabled is refused:\n{err}\n")
        else:
            raise SystemExit("Mutex.lock() slept with interrupts disabled")
        g = events.lock_with(token)
        try:
            token.drop()  # the guard borrows the token (a compile error in Rust)
        except GuardError as err:
            print(f"the token outlives its guards:\n{err}\n")
        else:
            raise SystemExit("the token was dropped under its guard")
        g.unlock()
    assert not irqs_disabled()
    with events.lock() as g:
        print(f"events counted: {g.value}")
        assert g.value == 2


if __name__ == "__main__":
    main()
