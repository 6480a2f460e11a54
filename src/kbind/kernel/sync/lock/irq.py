"""``SpinLockIrq<T>`` and the ``LocalInterruptDisabled`` token (merged 2026-08).

Rust: the ``SpinLockIrq`` series in rust/kernel/sync/lock/ (merged 2026-08;
the kernel release that carries it is not confirmed here):
``SpinLockIrq::lock()`` disables local interrupts (counted, so sections
nest) and re-enables them when the guard drops; ``lock_with(&
LocalInterruptDisabled)`` takes a token proving that interrupts are already
disabled, and the guard borrows the token (checked at compile time).
Kernel: ``spin_lock_irqsave()`` / ``spin_unlock_irqrestore()``,
``local_irq_save()`` / ``local_irq_restore()``.

kbind has no interrupts: an interrupt-disabled section is an atomic section
of the calling thread (:mod:`kbind.context`), counted per thread
(:func:`irqs_disabled`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, TypeVar, final

from kbind import context
from kbind._bridge.guard import Site, leak_warning
from kbind._bridge.native import lib
from kbind._bridge.site import user_frame
from kbind.errors import GuardError
from kbind.kernel.sync.lock._core import (
    IRQ_SECTION,
    Guard,
    IrqState,
    Lock,
    irq_state,
    refuse_off_thread,
)
from kbind.lifetime import Scope

__all__ = ["LocalInterruptDisabled", "SpinLockIrq", "local_interrupt_disable"]

T = TypeVar("T")

TOKEN_SECTION: Final = "an interrupt-disabled section (local_interrupt_disable())"


def _token_begin(t: LocalInterruptDisabled) -> None:
    t._borrows = {}
    t._section = context.enter_atomic(TOKEN_SECTION, Site.from_frame(user_frame()))
    t._irq = st = irq_state()
    st.count += 1


def _token_end(t: LocalInterruptDisabled) -> None:
    section, t._section = t._section, None
    if section is not None:
        section.close()
    irq, t._irq = t._irq, None
    if irq is not None:
        irq.count -= 1


_token_leaked: Final = leak_warning(
    "with interrupts still disabled",
    "enabled them (and ended the atomic section)",
    "Use `with local_interrupt_disable() as token:` or call token.drop().",
)


@final
class LocalInterruptDisabled(
    Scope, kind="LocalInterruptDisabled", begin=_token_begin, end=_token_end,
    end_anywhere=True, on_leak=_token_leaked,
):  # fmt: skip
    """A token proving that this thread runs with local interrupts disabled.

    Rust: ``LocalInterruptDisabled`` (the SpinLockIrq series, 2026-08): made by
    ``local_interrupt_disable()``, ``!Send``, dropping it re-enables
    interrupts; ``SpinLockIrq::lock_with(&token)`` borrows it.  Kernel:
    ``local_irq_save()`` / ``local_irq_restore()``.

    Rules (run-time checks):

    * while it lives the thread is in an atomic section: nothing may sleep
      (``AtomicContextError`` naming the token's site and the call's);
    * it belongs to its thread (``GuardError`` naming both sites) and is
      dropped once (``GuardError``);
    * it outlives the guards taken with it: dropping it while one is held
      raises ``GuardError`` naming the token, the guard and the drop
      (Rust: the guard borrows the token; a compile error);
    * collected while alive: ``GuardLeakWarning``, and interrupts are enabled.
    """

    __slots__ = ("_borrows", "_irq", "_section")
    _borrows: dict[int, Site]
    _irq: IrqState | None
    _section: context.AtomicSection | None

    def _check_borrows(self, how: str) -> None:
        if self.alive and self._is_mine() and self._borrows:
            guard_site = next(iter(self._borrows.values()))
            raise GuardError(
                f"drop {self.name}",
                f"a SpinLockIrq guard taken with lock_with({self.name}) is still held; the "
                "guard borrows the token, so interrupts must stay disabled until it is released "
                "(Rust rejects this at compile time)",
                guard=self.name,
                created_at=self.created_at,
                sites=[("guard taken at", guard_site), (how, Site.from_frame(user_frame()))],
                hint="release the guard first, then drop the token",
            )

    def drop(self) -> None:
        """Enable interrupts again (Rust: dropping the token).

        Raises:
            GuardError: on another thread, if already dropped, or while a guard
                taken with :meth:`SpinLockIrq.lock_with` is still held.
        """
        self._check_borrows("token dropped at")
        self.end()

    def __exit__(self, *exc: object) -> None:
        self._check_borrows("with block left at")
        super().__exit__(*exc)


def local_interrupt_disable() -> LocalInterruptDisabled:
    """Disable local interrupts; return the token (Rust: ``local_interrupt_disable()``, 2026-08).

    Kernel: ``local_irq_save()``.  Context: any; opens an atomic section of
    the calling thread until the token is dropped.

    Examples:
        >>> from kbind.kernel.sync.lock import local_interrupt_disable, irqs_disabled
        >>> with local_interrupt_disable():
        ...     irqs_disabled()
        True
    """
    return LocalInterruptDisabled()


def _mark_irq(g: Guard[Any]) -> None:
    st = irq_state()
    st.count += 1
    g._irq = st
    if g._section is not None:
        g._section.what = IRQ_SECTION


@final
class SpinLockIrq(Lock[T]):
    """A spinlock owning a ``T`` whose guard also disables local interrupts.

    Rust: ``kernel::sync::SpinLockIrq<T>`` (merged 2026-08).  Kernel:
    ``spin_lock_irqsave()`` / ``spin_unlock_irqrestore()``.  C:
    ``kb_spinlock_t``, ``kb_spin_lock_timeout()``.

    Rules: :meth:`lock` counts interrupt disabling (nested sections are
    fine); the guard is an interrupt-disabled atomic section (nothing may
    sleep in it).  :meth:`lock_with` takes a live
    :class:`LocalInterruptDisabled` of this thread as proof (a wrong type is
    a mypy error and a ``TypeError``; a dropped token ``LifetimeError``;
    another thread's ``GuardError``, each naming both sites).

    Examples:
        >>> from kbind.kernel.sync.lock import SpinLockIrq, local_interrupt_disable
        >>> lock = SpinLockIrq(0)
        >>> with lock.lock() as g:
        ...     g.value += 1
        >>> with local_interrupt_disable() as token:
        ...     with lock.lock_with(token) as g:
        ...         g.value += 1
    """

    __slots__ = ()
    _WORD = "spin"
    _CTYPE = "kb_spinlock_t"
    _c_lock_timeout = lib.kb_spin_lock_timeout
    _c_unlock = lib.kb_spin_unlock

    def lock(self) -> Guard[T]:
        """Disable interrupts (counted) and take the lock; return its guard.

        Rust: ``SpinLockIrq::lock()``.  Context: any.

        Raises:
            DeadlockError: this thread holds the lock already.
        """
        g = self._lock_fast()
        _mark_irq(g)
        return g

    def try_lock(self) -> Guard[T] | None:
        """Take the lock if it is free now, disabling interrupts; else None.

        Rust: ``Lock::try_lock()`` on the irq backend.  Context: never waits.
        """
        g = Lock.try_lock(self)
        if g is not None:
            _mark_irq(g)
        return g

    def lock_with(self, token: LocalInterruptDisabled) -> Guard[T]:
        """Take the lock with interrupts already disabled, as the token proves.

        Rust: ``SpinLockIrq::lock_with(&LocalInterruptDisabled)`` (2026-08).
        The guard borrows the token: the token cannot be dropped while the
        guard is held.

        Raises:
            TypeError: ``token`` is not a LocalInterruptDisabled.
            LifetimeError: the token was dropped.
            GuardError: the token belongs to another thread.
            DeadlockError: this thread holds the lock already.
        """
        if type(token) is not LocalInterruptDisabled:
            raise TypeError(
                f"SpinLockIrq.lock_with() needs a LocalInterruptDisabled token (from "
                f"local_interrupt_disable()), not {type(token).__name__}"
            )
        refuse_off_thread(token, f"lock_with({token.name})")
        token.check_alive(
            f"lock_with({token.name})",
            hint="call local_interrupt_disable() and lock while its token lives",
        )
        g = self._lock_fast()
        g._token = token
        token._borrows[id(g)] = g.created_at
        return g

    if TYPE_CHECKING:

        def _lock_fast(self) -> Guard[T]: ...
