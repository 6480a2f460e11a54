"""The lock and its guard: ``kernel::sync::lock::{Lock, Guard}``, ``SpinLock<T>``, ``Mutex<T>``.

Rust: rust/kernel/sync/lock.rs (``Lock<T, B: Backend>``, ``Guard<'a, T, B>``),
lock/spinlock.rs, lock/mutex.rs.  One ``Guard`` type serves every backend, as
in Rust.  Built beside :mod:`kbind.sync` (the 2021 API, unchanged) on the same
engine: the lock word, value and holder are a ``kbind._bridge._hotpath.LockWord``,
``lock()``/``try_lock()`` are its C descriptors, waits run in cffi with the GIL
released, in slices that let Ctrl-C in.

The context model (:mod:`kbind.context`): a held SpinLock is an atomic
section (``enter_atomic("a SpinLock section")`` when the guard begins; the
section ends in the guard's ``end`` hook, however the guard ends: unlock, the
``with`` block, or a collection on any thread).  ``Mutex.lock()`` may sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, NoReturn, TypeVar, final

from kbind import context
from kbind._bridge.guard import NotClone, Site, leak_warning, owner_thread_error, refuse_as_guard
from kbind._bridge.native import ffi, hot, lib
from kbind._bridge.site import user_frame
from kbind.errors import DeadlockError
from kbind.lifetime import Scope

__all__ = ["Guard", "Lock", "Mutex", "SpinLock", "irqs_disabled"]

T = TypeVar("T")

#: One C wait's slice before Python checks for Ctrl-C (the C side sleeps or yields throughout).
WAIT_SLICE_NS: Final = 50_000_000
#: Picks a successful C status out of a C-only call chain (see Lock._lock_wait).
OK: Final = lib.KB_OK.__eq__

SPIN_SECTION: Final = "a SpinLock section"
IRQ_SECTION: Final = "a SpinLockIrq section (interrupts disabled)"


class IrqState:
    """One thread's count of interrupt disabling (kernel: the irq-disable nesting of a CPU)."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class _IrqLocal(threading.local):
    def __init__(self) -> None:
        self.state = IrqState()


_irq: Final = _IrqLocal()


def irq_state() -> IrqState:
    """Return the calling thread's interrupt-disable count (shared with its guards and tokens)."""
    state: IrqState = _irq.state
    return state


def irqs_disabled() -> bool:
    """Whether the calling thread has interrupts disabled (kernel: ``irqs_disabled()``).

    True inside a ``SpinLockIrq.lock()`` guard or a ``local_interrupt_disable()`` token.
    """
    return _irq.state.count > 0


def _here(how: str = "") -> Site:
    return Site.from_frame(user_frame(), how)


def refuse_off_thread(guard: Any, op: str) -> None:
    """Raise GuardError naming the guard's site and this one unless it is this thread's."""
    if not guard._is_mine():
        raise owner_thread_error(
            op, guard.name, guard.owner, guard.created_at if guard.begun else None,
            "a lock guard cannot move between threads (Rust: Guard is !Send)",
            "take the lock on the thread that uses it, and release it there",
            sites=[("attempted at", _here())], dropped_at=guard.dropped_at,
        )  # fmt: skip


def _guard_begin(g: Guard[Any]) -> None:
    # kbind.lifetime: runs when the lock has just been taken, before the scope opens.
    g._irq = None
    g._token = None
    g._section = None
    if g._data.kind == "spin":
        g._section = context.enter_atomic(SPIN_SECTION, Site.from_frame(user_frame()))


def _guard_end(g: Guard[Any]) -> None:
    # kbind.lifetime: the lock was released (on any thread: a collected guard ends
    # anywhere); the atomic section and the interrupt count end with it.
    section, g._section = g._section, None
    if section is not None:
        section.close()
    irq, g._irq = g._irq, None
    if irq is not None:
        irq.count -= 1
    token, g._token = g._token, None
    if token is not None:
        token._borrows.pop(id(g), None)


_guard_leaked: Final = leak_warning(
    "while still holding the lock",
    "released it (and ended its atomic section)",
    "Use `with lock.lock() as g:` or call g.unlock().",
)


@final
class Guard(
    Scope, hot.LockGuardBase, Generic[T], kind="lock::Guard", engine="lock", begin=_guard_begin,
    end=_guard_end, end_anywhere=True, keep_at_thread_exit=True, on_leak=_guard_leaked,
):  # fmt: skip
    """Proof that this thread holds a lock; the way to its value.

    Rust: ``kernel::sync::lock::Guard<'a, T, B>`` (``Deref``/``DerefMut`` to
    ``T``; dropping it unlocks).  Kernel: the section between ``spin_lock()``
    and ``spin_unlock()`` (or ``mutex_lock()``/``mutex_unlock()``).

    Rules (run-time checks; Rust checks them at compile time):

    * ``g.value`` reads and assigns the value only while the guard is held,
      on its thread: after unlock ``LifetimeError`` names where it was taken
      and released; on another thread ``GuardError`` names the guard's site
      and the attempt (Rust: ``Guard`` is ``!Send``);
    * it is released once (``unlock()`` or the ``with`` block): a second
      unlock raises ``GuardError`` naming both unlock sites and releases nothing;
    * a SpinLock guard is an atomic section: nothing may sleep while it is
      held (``AtomicContextError``, :mod:`kbind.context`); the section ends
      with the guard, however it ends;
    * collected while held: ``GuardLeakWarning`` naming where it was taken,
      and the lock is released.

    Examples:
        >>> from kbind.kernel.sync.lock import SpinLock
        >>> lock = SpinLock(0)
        >>> with lock.lock() as g:
        ...     g.value += 1
        >>> g = lock.lock()
        >>> g.value
        1
        >>> g.unlock()
    """

    __slots__ = ("_irq", "_section", "_token")
    _section: context.AtomicSection | None
    _irq: IrqState | None
    _token: Any

    if TYPE_CHECKING:

        @property
        def value(self) -> T:
            """The protected value (only while the guard is held, on its thread): C."""

        @value.setter
        def value(self, new: T) -> None: ...

    @property
    def name(self) -> str:
        """``lock::Guard#n`` plus the kind of lock it holds."""
        word = self._data
        kind = "no lock" if word is None else ("a spinlock" if word.kind == "spin" else "a mutex")
        return f"{super().name} of {kind}"

    def _refuse_value(self, verb: str) -> None:
        """Raise the error for ``.value`` on the wrong thread or after unlock (C calls it)."""
        refuse_off_thread(self, f"{verb} .value through {self.name}")
        hint = (
            "copy what you need out of g.value before the lock is released"
            if verb == "read"
            else "assign g.value only while the guard is held"
        )
        self.check_alive(f"{verb} .value through {self.name}", hint=hint)

    def unlock(self) -> None:
        """Release the lock now (Rust: dropping the ``Guard``).

        Raises:
            GuardError: on another thread, or if already released.
        """
        self.end()

    def _kb_refuse(self, what: str, how: str) -> object:
        if what == "thread":
            refuse_off_thread(self, f"unlock {self.name}")
        refuse_as_guard(self, f"unlock {self.name}", what, how)
        return super()._kb_refuse(what, how)


class Lock(NotClone, Generic[T]):
    """What every lock shares (Rust: ``kernel::sync::lock::Lock<T, B: Backend>``).

    The subclasses pick the backend (the C lock).  Not Clone: copying or
    pickling a lock raises ``CloneError``.
    """

    __slots__ = ("__weakref__", "_lockp", "_word")
    _CLONE_ROLE = "owner"

    KIND: ClassVar[str]
    _WORD: ClassVar[str]
    _CTYPE: ClassVar[str]
    _c_lock_timeout: ClassVar[Callable[..., int]]
    _c_unlock: ClassVar[Callable[..., None]]

    def __init__(self, value: T) -> None:
        self._word = hot.LockWord(self._WORD, value)
        self._lockp = ffi.cast(f"{self._CTYPE} *", self._word.address)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.KIND = cls.__name__

    def __repr__(self) -> str:
        g = self._word.holder
        state = "unlocked" if g is None else f"held by thread {g.created_at.thread!r}"
        return f"<{self.KIND} {state}>"

    def is_locked(self) -> bool:
        """Whether some thread holds the lock (a snapshot, for diagnostics)."""
        return self._word.owner is not None

    if TYPE_CHECKING:

        def try_lock(self) -> Guard[T] | None:
            """Take the lock if it is free now; return its guard, or None (C).

            Rust: ``Lock::try_lock()``.  Context: never waits, so it is
            allowed in atomic context; None also when this thread holds it.
            """

        def _lock_fast(self) -> Guard[T]: ...

    def _lock_recursive(self) -> NoReturn:
        holder = self._word.holder
        raise DeadlockError(
            f"lock {self.KIND} again",
            "this thread already holds it, so it would wait for itself forever "
            "(the kernel's lockdep reports this as a recursive locking deadlock)",
            guard=None if holder is None else holder.name,
            created_at=None if holder is None else holder.created_at,
            sites=[("second lock() at", _here())],
            hint="release the first guard before locking again",
        )

    def _lock_wait(self) -> Guard[T]:
        # The contended half of lock() (the C descriptor calls it when the lock is
        # busy): waits in cffi with the GIL released, in slices (Ctrl-C gets in
        # between); the C calls run inside list.extend(filter(map())) so a success
        # is recorded before Python can be interrupted (as kbind.sync).
        p = self._lockp
        taken: list[object] = []
        try:
            while not taken:
                taken.extend(filter(OK, map(self._c_lock_timeout, (p,), (WAIT_SLICE_NS,))))
            guard: Guard[T] = hot.lock_commit(self._word, Guard)
        except BaseException:
            if taken and self._word.holder is None:
                self._c_unlock(p)
            raise
        return guard


@final
class SpinLock(Lock[T]):
    """A spinning lock owning a ``T``; holding it is an atomic section.

    Rust: ``kernel::sync::SpinLock<T>`` (rust/kernel/sync/lock/spinlock.rs,
    ``new_spinlock!``).  Kernel: ``spinlock_t``, ``spin_lock()``.  C:
    ``kb_spinlock_t``, ``kb_spin_lock_timeout()``.

    Rules: ``lock()`` on a lock this thread holds raises ``DeadlockError``
    naming the live guard's site; while the guard is held nothing may sleep
    (``Mutex.lock()``, ``CondVar.wait()`` on another lock, ``synchronize_rcu()``:
    ``AtomicContextError`` naming the section's site and the call's).

    Examples:
        >>> from kbind.kernel.sync.lock import SpinLock
        >>> counter = SpinLock(0)
        >>> with counter.lock() as g:
        ...     g.value += 1
    """

    __slots__ = ()
    _WORD = "spin"
    _CTYPE = "kb_spinlock_t"
    _c_lock_timeout = lib.kb_spin_lock_timeout
    _c_unlock = lib.kb_spin_unlock

    if TYPE_CHECKING:

        def lock(self) -> Guard[T]:
            """Take the lock, spinning while it is busy; return its guard (C).

            Rust: ``Lock::lock()``.  Context: any (spinning does not sleep);
            the guard opens an atomic section.

            Raises:
                DeadlockError: this thread holds the lock already.
            """


@final
class Mutex(Lock[T]):
    """A sleeping lock owning a ``T``; taking it may sleep.

    Rust: ``kernel::sync::Mutex<T>`` (rust/kernel/sync/lock/mutex.rs,
    ``new_mutex!``).  Kernel: ``struct mutex``, ``mutex_lock()``.  C:
    ``kb_mutex_t`` (a futex), ``kb_mutex_lock_timeout()``.

    Rules: ``lock()`` may sleep, so it raises ``AtomicContextError`` inside a
    SpinLock section, an RCU reader or an interrupt-disabled section (the
    kernel's ``might_sleep()``), naming both sites; a recursive ``lock()``
    raises ``DeadlockError``.  ``try_lock()`` never sleeps.

    Examples:
        >>> from kbind.kernel.sync.lock import Mutex
        >>> m = Mutex([])
        >>> with m.lock() as g:
        ...     g.value.append("x")
    """

    __slots__ = ()
    _WORD = "mutex"
    _CTYPE = "kb_mutex_t"
    _c_lock_timeout = lib.kb_mutex_lock_timeout
    _c_unlock = lib.kb_mutex_unlock

    def lock(self) -> Guard[T]:
        """Take the mutex, sleeping while it is busy; return its guard.

        Rust: ``Lock::lock()``.  Context: may sleep (``might_sleep("Mutex.lock()")``).

        Raises:
            AtomicContextError: called in an atomic section.
            DeadlockError: this thread holds the mutex already.
        """
        context.might_sleep("Mutex.lock()")
        return self._lock_fast()


_SPIN_LOCK_DOC: Final = """Take the lock, spinning while it is busy; return its guard.

Rust: ``Lock::lock()``.  Context: any (spinning does not sleep); the guard
opens an atomic section.  Raises DeadlockError if this thread holds it already.
"""
Lock._lock_fast = hot.lock_method(  # type: ignore[method-assign]
    "lock", "Take the lock (trylock in C, then wait); return its guard.", Guard, "_word",
    "_lock_wait", "_lock_recursive",
)  # fmt: skip
Lock.try_lock = hot.lock_method(  # type: ignore[method-assign]
    "try_lock", "Take the lock if it is free now; return its guard, or None.", Guard, "_word",
    None, None,
)  # fmt: skip
SpinLock.lock = hot.lock_method(  # type: ignore[method-assign]
    "lock", _SPIN_LOCK_DOC, Guard, "_word", "_lock_wait", "_lock_recursive"
)
