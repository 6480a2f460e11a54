"""Locks that own their data: ``SpinLock[T]`` and ``Mutex[T]`` with ``LockGuard[T]``.

Mirrors Rust-for-Linux ``kernel::sync::{SpinLock, Mutex, Guard}``: the lock
owns the protected value, and the only way to reach it is through the guard
that ``lock()`` returns.  The lock word lives in C memory and is taken by
csrc/lock.c (a spinlock that relaxes, then yields; a futex mutex that
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

import warnings
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import ClassVar, Final, Generic, TypeVar, final

from kbind._guard import GuardBase, NotClone, Site, ThreadToken, _tls
from kbind._native import ffi, lib
from kbind.errors import DeadlockError, GuardLeakWarning

__all__ = ["LockGuard", "Mutex", "SpinLock", "track_guards", "tracked_guards"]

T = TypeVar("T")

#: How long one C call may wait before returning to Python, which then checks
#: for signals (Ctrl-C) and calls again.  Not a poll: the C side sleeps on
#: the futex (mutex) or yields (spinlock) for the whole slice.
_WAIT_SLICE_NS: Final = 50_000_000
#: Picks a successful C status (KB_OK) out of a C-only call chain (see _Lock._take).
_OK: Final = lib.KB_OK.__eq__

#: Live-guard registry for leak checks (kbind.pytest_plugin's strict mode):
#: None (the default: costs one global test per lock()) or a WeakSet that
#: every new LockGuard joins.  See :func:`track_guards`.
_tracked: weakref.WeakSet[LockGuard[object]] | None = None


def track_guards(on: bool) -> None:
    """Start (``on=True``, with an empty registry) or stop recording every new LockGuard.

    For leak checks: :func:`tracked_guards` then lists the guards created
    since, that are still held.  Used by kbind's pytest strict mode.
    """
    global _tracked
    _tracked = weakref.WeakSet() if on else None


def tracked_guards() -> list[LockGuard[object]]:
    """Return the LockGuards created since :func:`track_guards` that are still held."""
    reg = _tracked
    return [] if reg is None else [g for g in list(reg) if g.alive]


class _Lock(NotClone, Generic[T]):
    """What SpinLock and Mutex share; the subclasses pick the C lock.

    Not Clone: copying or pickling a lock raises ``CloneError`` (a copy would
    be a second lock word, or an alias of this one).
    """

    __slots__ = ("__weakref__", "_guard_num", "_holder", "_lockp", "_owner", "_value")
    _CLONE_ROLE = "owner"

    KIND: ClassVar[str]
    _CTYPE: ClassVar[str]
    _c_init: ClassVar[Callable[..., None]]
    _c_trylock: ClassVar[Callable[..., bool]]
    _c_lock_timeout: ClassVar[Callable[..., int]]
    _c_unlock: ClassVar[Callable[..., None]]

    def __init__(self, value: T) -> None:
        self._lockp = ffi.new(f"{self._CTYPE} *")
        type(self)._c_init(self._lockp)
        self._value = value
        self._owner: ThreadToken | None = None  # the holder's thread (never reused)
        self._holder: Site | None = None  # where the holder took it
        #: number of the LockGuard that holds it (0: none); a number, not the
        #: guard, so that an abandoned guard can be collected (and release).
        self._guard_num = 0

    def __repr__(self) -> str:
        state = f"held by thread {self._holder.thread!r}" if self._holder else "unlocked"
        return f"<{type(self).__name__} {state}>"

    def lock(self) -> LockGuard[T]:
        """Acquire the lock, waiting as long as it takes; return its guard.

        Context: may wait (spin/yield or sleep) with the GIL released.

        Raises:
            DeadlockError: this thread already holds the lock (L04).
        """
        me = _tls.me
        if self._owner is me:
            raise DeadlockError(
                f"lock {type(self).__name__} again",
                "this thread already holds it, so it would wait for itself forever "
                "(the kernel's lockdep reports this as a recursive locking deadlock)",
                guard=f"the {type(self).__name__}'s current guard",
                created_at=self._holder,
                sites=[("second lock() at", Site.here(2))],
                hint="drop the first guard before locking again, or restructure to lock once",
            )
        # Ctrl-C safety.  A KeyboardInterrupt is raised between bytecodes,
        # so right after any call returns: the C lock could be taken and the
        # result lost.  The C calls therefore run inside
        # ``list.extend(filter(..., map(...)))``, all C, so ``taken`` holds
        # the success before Python can be interrupted; then the guard is
        # built, and recorded with plain stores (``_guard_num``: the commit).
        # An exception before the commit undoes the C lock here; after it,
        # the guard owns the release (its __exit__/unlock, or __del__ if it
        # never reaches the caller).
        p = self._lockp
        taken: list[object] = []
        try:
            taken.extend(filter(None, map(self._c_trylock, (p,))))
            while not taken:  # back in Python between slices: Ctrl-C can interrupt here
                taken.extend(filter(_OK, map(self._c_lock_timeout, (p,), (_WAIT_SLICE_NS,))))
            return self._commit(me)
        except BaseException:
            if taken and self._guard_num == 0:
                self._c_unlock(p)
            raise

    def try_lock(self) -> LockGuard[T] | None:
        """Acquire the lock if it is free right now; return its guard, or None.

        Context: never waits.
        """
        me = _tls.me
        if self._owner is me:
            return None
        p = self._lockp
        taken: list[object] = []
        try:  # as lock()
            taken.extend(filter(None, map(self._c_trylock, (p,))))
            if not taken:
                return None
            return self._commit(me)
        except BaseException:
            if taken and self._guard_num == 0:
                self._c_unlock(p)
            raise

    def _commit(self, me: ThreadToken) -> LockGuard[T]:
        # The C lock is held: build the guard, then record it (stores only).
        guard: LockGuard[T] = LockGuard(self, depth=3)
        self._guard_num = guard.number  # the commit
        self._owner = me
        self._holder = guard.created_at
        return guard

    def _release(self) -> None:
        # Stores, then the C unlock as the one call: no bytecode boundary
        # where Ctrl-C could leave the bookkeeping and the lock word apart.
        self._guard_num = 0
        self._owner = None
        self._holder = None
        self._c_unlock(self._lockp)

    def is_locked(self) -> bool:
        """Whether some thread holds the lock (a snapshot, for diagnostics)."""
        return self._owner is not None


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
    _CTYPE = "kb_spinlock_t"
    _c_init = lib.kb_spin_lock_init
    _c_trylock = lib.kb_spin_trylock
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
    _CTYPE = "kb_mutex_t"
    _c_init = lib.kb_mutex_init
    _c_trylock = lib.kb_mutex_trylock
    _c_lock_timeout = lib.kb_mutex_lock_timeout
    _c_unlock = lib.kb_mutex_unlock


@final
class LockGuard(GuardBase, Generic[T]):
    """Proof that the current thread holds a SpinLock or Mutex; the way to its value.

    Rust: ``kernel::sync::Guard<'_, T, B>``.  ``g.value`` reads and assigns the
    protected value while the guard is live; leaving the ``with`` block or
    calling :meth:`unlock` releases the lock.

    Invariants:
        While ``alive``, the creating thread holds the lock.  After unlock
        every access raises LifetimeError; only the creating thread may use
        or unlock it.
    """

    __slots__ = ("_lock",)
    KIND = "LockGuard"

    def __init__(self, lock: _Lock[T], depth: int = 2) -> None:
        super().__init__(depth + 1)
        self._lock = lock
        reg = _tracked
        if reg is not None:
            reg.add(self)  # type: ignore[arg-type]  # variance: the registry only reads

    @property
    def name(self) -> str:
        """``LockGuard#n`` plus the kind of lock it holds."""
        return f"{self.KIND}#{self.number} of {type(self._lock).__name__}"

    @property
    def value(self) -> T:
        """The protected value (only while the guard is live, on its thread)."""
        if self.dropped_at is not None or _tls.me is not self.owner:
            self._refuse("read", "copy what you need out of g.value before the lock is released")
        return self._lock._value

    @value.setter
    def value(self, new: T) -> None:
        if self.dropped_at is not None or _tls.me is not self.owner:
            self._refuse("assign", "assign g.value only inside the with block that holds the lock")
        self._lock._value = new

    def _refuse(self, verb: str, hint: str) -> None:
        """Raise the error for a use of .value on the wrong thread or after unlock."""
        self.check_owner(f"{verb} .value through the guard")
        self.check_alive(f"{verb} .value through {self.name}", hint=hint)

    def unlock(self) -> None:
        """Release the lock now (Rust: ``drop(guard)``).

        Raises:
            GuardError: on another thread (L03) or if already unlocked.
        """
        self._end("")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.dropped_at is None:
            self._end("leaving its with block")

    def _end(self, how: str) -> None:
        if _tls.me is not self.owner or self.dropped_at is not None:
            self.mark_dropped("unlock", depth=3, how=how)  # raises: wrong thread, or twice
        site = Site.here(3, how)
        # From here to the C unlock: stores only, then that one call, so a
        # Ctrl-C cannot land between the guard's end and the lock's release.
        lock = self._lock
        self.dropped_at = site
        lock._guard_num = 0
        lock._owner = None
        lock._holder = None
        lock._c_unlock(lock._lockp)

    def __del__(self) -> None:
        # Also runs for a guard abandoned half-built (Ctrl-C in lock()): it
        # releases only if the lock still records it as the holder.
        try:  # attribute loads, no calls: this runs for every guard
            lock = self._lock
            if lock._guard_num != self.number:
                return
        except AttributeError:
            return
        self.dropped_at = self.created_at
        lock._release()
        warnings.warn(
            GuardLeakWarning(
                f"{self.name} was garbage-collected while still holding the lock; "
                f"kbind released it. The guard was created at {self.created_at}. "
                "Use `with lock.lock() as g:` or call g.unlock()."
            ),
            stacklevel=1,
        )
