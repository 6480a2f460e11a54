"""Locks that own their data: ``SpinLock[T]`` and ``Mutex[T]`` with ``LockGuard[T]``.

Mirrors Rust-for-Linux ``kernel::sync::{SpinLock, Mutex, Guard}``: the lock
owns the protected value, and the only way to reach it is through the guard
that ``lock()`` returns.  The lock word lives in C memory and is taken by
csrc/engine/lock.c (a spinlock that relaxes, then yields; a futex mutex that
sleeps), with the GIL released while waiting.

Rules enforced at run time (compile time in Rust):

* L01: the value is reachable only through a live guard.
* L02: a guard used after unlock raises :class:`kbind.LifetimeError`.
* L03: unlocking (or using a guard) on another thread raises
  :class:`kbind.GuardError` (Rust: ``Guard`` is ``!Send``).
* L04: locking a lock the calling thread already holds raises
  :class:`kbind.DeadlockError` instead of hanging (kernel: lockdep).
* L10: a guard garbage-collected while held emits
  :class:`kbind.GuardLeakWarning` naming where it was taken, and is released.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Final, Generic, NoReturn, TypeVar, final

from kbind._bridge.guard import (
    LiveRegistry,
    NotClone,
    Site,
    ThreadToken,
    leak_warning,
    refuse_as_guard,
    user_frame,
)
from kbind._bridge.native import ffi, hot, lib
from kbind.errors import DeadlockError
from kbind.lifetime import Scope

__all__ = ["LockGuard", "Mutex", "SpinLock", "track_guards", "tracked_guards"]

T = TypeVar("T")

#: How long one C call may wait before returning to Python, which then checks
#: for signals (Ctrl-C) and calls again.  Not a poll: the C side sleeps on
#: the futex (mutex) or yields (spinlock) for the whole slice.
_WAIT_SLICE_NS: Final = 50_000_000
#: Picks a successful C status (KB_OK) out of a C-only call chain (see _Lock._take).
_OK: Final = lib.KB_OK.__eq__


def track_guards(on: bool) -> None:
    """Start (``on=True``, with an empty registry) or stop recording every new LockGuard.

    For leak checks: :func:`tracked_guards` then lists the guards created
    since, that are still held.  Used by kbind's pytest strict mode; off, it
    costs nothing (the registry is the observer of LockGuard's hooks).
    """
    _registry.track(on)


def tracked_guards() -> list[LockGuard[object]]:
    """Return the LockGuards created since :func:`track_guards` that are still held."""
    return _registry.live()


class _Lock(NotClone, Generic[T]):
    """What SpinLock and Mutex share; the subclasses pick the C lock.

    The lock word, the value and the holder live in one C object (a
    ``kbind._bridge._hotpath.LockWord``); ``lock()`` and ``try_lock()`` are C method
    descriptors that take the lock with the engine's trylock and build the
    guard without releasing the GIL.  Only a wait (the lock is busy) comes
    back to Python (:meth:`_lock_busy`), which waits in cffi with the GIL
    released, in slices that let Ctrl-C in.

    Not Clone: copying or pickling a lock raises ``CloneError`` (a copy would
    be a second lock word, or an alias of this one).
    """

    __slots__ = ("__weakref__", "_lockp", "_word")
    _CLONE_ROLE = "owner"

    KIND: ClassVar[str]
    _WORD: ClassVar[str]  # "spin" or "mutex": the LockWord's C lock
    _CTYPE: ClassVar[str]
    _c_lock_timeout: ClassVar[Callable[..., int]]
    _c_unlock: ClassVar[Callable[..., None]]

    def __init__(self, value: T) -> None:
        self._word = hot.LockWord(self._WORD, value)
        #: the same lock word, as a cffi pointer, for the waits (cffi releases the GIL)
        self._lockp = ffi.cast(f"{self._CTYPE} *", self._word.address)

    @property
    def _value(self) -> T:
        value: T = self._word.value
        return value

    @property
    def _owner(self) -> ThreadToken | None:
        owner: ThreadToken | None = self._word.owner
        return owner

    @property
    def _holder(self) -> Site | None:
        guard = self._word.holder
        return None if guard is None else guard.created_at

    def __repr__(self) -> str:
        holder = self._holder
        state = f"held by thread {holder.thread!r}" if holder else "unlocked"
        return f"<{type(self).__name__} {state}>"

    if TYPE_CHECKING:

        def try_lock(self) -> LockGuard[T] | None:
            """Acquire the lock if it is free right now; return its guard, or None (C)."""
            ...

    def _lock_recursive(self) -> NoReturn:
        raise DeadlockError(
            f"lock {type(self).__name__} again",
            "this thread already holds it, so it would wait for itself forever "
            "(the kernel's lockdep reports this as a recursive locking deadlock)",
            guard=f"the {type(self).__name__}'s current guard",
            created_at=self._holder,
            sites=[("second lock() at", Site.from_frame(user_frame()))],
            hint="drop the first guard before locking again, or restructure to lock once",
        )

    def lock(self) -> LockGuard[T]:
        """Acquire the lock, waiting as long as it takes; return its guard.

        Context: may wait (spin/yield or sleep) with the GIL released.

        Raises:
            DeadlockError: this thread already holds the lock (L04).
        """
        # The contended half of lock(): the C descriptor installed as
        # ``lock`` below tries first and calls this (as _lock_wait) only when
        # the lock is busy.  It waits in cffi (GIL released), in slices so
        # Ctrl-C gets in.  Ctrl-C safety: a KeyboardInterrupt is raised
        # between bytecodes, so right after a call returns: the C lock could
        # be taken and the result lost.  The C calls therefore run inside
        # ``list.extend(filter(..., map(...)))``, all C, so ``taken`` holds
        # the success before Python can be interrupted; lock_commit() then
        # builds the guard and records it in one C call.
        p = self._lockp
        taken: list[object] = []
        try:
            while not taken:  # back in Python between slices: Ctrl-C can interrupt here
                taken.extend(filter(_OK, map(self._c_lock_timeout, (p,), (_WAIT_SLICE_NS,))))
            guard: LockGuard[T] = hot.lock_commit(self._word, LockGuard)
        except BaseException:
            if taken and self._word.holder is None:
                self._c_unlock(p)
            raise
        return guard

    def is_locked(self) -> bool:
        """Whether some thread holds the lock (a snapshot, for diagnostics)."""
        return self._word.owner is not None


_TRY_LOCK_DOC: Final = """Acquire the lock if it is free right now; return its guard, or None.

Context: never waits.
"""


@final
class SpinLock(_Lock[T]):
    """A spinning lock that owns a value of type ``T``.

    Kernel: ``spinlock_t`` / ``spin_lock()``.  Rust: ``kernel::sync::SpinLock<T>``.
    C: ``kb_spinlock_t``, ``kb_spin_lock()``.  Waiters spin with a CPU relax,
    then yield; the GIL is released while they do.

    Examples:
        >>> from kbind import SpinLock
        >>> counter = SpinLock(0)
        >>> with counter.lock() as g:
        ...     g.value += 1
        >>> with counter.lock() as g:
        ...     g.value
        1
    """

    __slots__ = ()
    KIND = "SpinLock"
    _WORD = "spin"
    _CTYPE = "kb_spinlock_t"
    _c_lock_timeout = lib.kb_spin_lock_timeout
    _c_unlock = lib.kb_spin_unlock


@final
class Mutex(_Lock[T]):
    """A sleeping lock that owns a value of type ``T``.

    Kernel: ``struct mutex`` / ``mutex_lock()``.  Rust: ``kernel::sync::Mutex<T>``.
    C: ``kb_mutex_t``, ``kb_mutex_lock()`` (a futex; waiters sleep).

    Examples:
        >>> from kbind import Mutex
        >>> m = Mutex([])
        >>> with m.lock() as g:
        ...     g.value.append("x")
    """

    __slots__ = ()
    KIND = "Mutex"
    _WORD = "mutex"
    _CTYPE = "kb_mutex_t"
    _c_lock_timeout = lib.kb_mutex_lock_timeout
    _c_unlock = lib.kb_mutex_unlock


# kbind.lifetime: a held guard was collected; its end (on any thread:
# end_anywhere) released the lock.
_guard_leaked: Final = leak_warning(
    "while still holding the lock",
    "released it",
    "Use `with lock.lock() as g:` or call g.unlock().",
)


@final
class LockGuard(
    Scope, hot.LockGuardBase, Generic[T], kind="LockGuard", engine="lock", end_anywhere=True,
    keep_at_thread_exit=True, on_leak=_guard_leaked,
):  # fmt: skip
    """Proof that the current thread holds a SpinLock or Mutex; the way to its value.

    Rust: ``kernel::sync::Guard<'_, T, B>``.  ``g.value`` reads and assigns the
    protected value while the guard is live; leaving the ``with`` block or
    calling :meth:`unlock` releases the lock.  A :class:`kbind.lifetime.Scope`
    whose end releases the lock (in C, ``kb_spin_unlock()``/``kb_mutex_unlock()``).

    Invariants:
        While ``alive``, the creating thread holds the lock.  After unlock
        every access raises LifetimeError; only the creating thread may use
        or unlock it.  Collected while held, it releases the lock and warns
        (L10: ``GuardLeakWarning``).
    """

    __slots__ = ()

    if TYPE_CHECKING:

        @property
        def value(self) -> T:
            """The protected value (only while the guard is live, on its thread): C."""

        @value.setter
        def value(self, new: T) -> None: ...

    @property
    def name(self) -> str:
        """``LockGuard#n`` plus the kind of lock it holds."""
        word = self._data
        kind = "no lock" if word is None else _LOCK_NAMES[word.kind]
        return f"{super().name} of {kind}"

    def _refuse_value(self, verb: str) -> None:
        """Raise the error for a use of .value on the wrong thread or after unlock."""
        hint = (
            "copy what you need out of g.value before the lock is released"
            if verb == "read"
            else "assign g.value only inside the with block that holds the lock"
        )
        self.check_owner(f"{verb} .value through the guard")
        self.check_alive(f"{verb} .value through {self.name}", hint=hint)

    def unlock(self) -> None:
        """Release the lock now (Rust: ``drop(guard)``).

        Raises:
            GuardError: on another thread (L03) or if already unlocked.
        """
        self.end()

    def _kb_refuse(self, what: str, how: str) -> object:
        refuse_as_guard(self, f"unlock {self.name}", what, how)
        return super()._kb_refuse(what, how)


_LOCK_NAMES: Final = {"spin": "SpinLock", "mutex": "Mutex"}

#: Live-guard registry for leak checks (kbind.pytest_plugin's strict mode),
#: off by default; see :func:`track_guards`.
_registry: Final[LiveRegistry[LockGuard[object]]] = LiveRegistry(
    lambda g: g.alive, LockGuard._kb_hooks
)

# lock() and try_lock() are C method descriptors (kbind._bridge._hotpath.lock_method):
# trylock and the guard in one C call; the Python lock() (as _lock_wait) and
# _lock_recursive() only when the lock is busy or held by this thread.
_Lock._lock_wait = _Lock.lock  # type: ignore[attr-defined]
_Lock.lock = hot.lock_method(  # type: ignore[method-assign]
    "lock", _Lock.lock.__doc__ or "", LockGuard, "_word", "_lock_wait", "_lock_recursive"
)
_Lock.try_lock = hot.lock_method(  # type: ignore[method-assign]
    "try_lock", _TRY_LOCK_DOC, LockGuard, "_word", None, None
)
