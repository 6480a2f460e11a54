"""The kernel's C locks with lockdep: ``spinlock_t`` and ``struct mutex``, checks like Kconfig.

Kernel: include/linux/spinlock.h (``spin_lock()``, ``spin_unlock()``,
``spin_trylock()``, ``spin_is_locked()``), include/linux/mutex.h
(``mutex_lock()``, ``mutex_unlock()``, ``mutex_trylock()``,
``mutex_is_locked()``), include/linux/lockdep.h (``lockdep_assert_held()``,
``lockdep_is_held()``).  The locks are kbind's C ones (csrc/engine/lock.c:
a test-and-test-and-set spinlock, a futex mutex); waits run in C with the
GIL released, in slices that let Ctrl-C in.  Nothing here is a Rust item:
it is what a C user writes, checked only by the kernel's debugging options
(:mod:`kbind.kernel_c.config`):

* ``PROVE_LOCKING`` -- lockdep (kernel/locking/lockdep.c,
  Documentation/locking/lockdep-design.rst).  Locks belong to *classes*
  (the kernel keys a class by the ``spin_lock_init()`` call site; here by
  ``name``, which defaults to where the lock was made).  Taking a lock of a
  class this thread already holds is "possible recursive locking detected";
  taking B while holding A when B was once held while A was taken (directly
  or through other classes) is "possible circular locking dependency
  detected", reported on the first inverted acquisition even though no
  deadlock happened yet; ``lockdep_assert_held()`` fails without the lock;
  a thread that exits holding a lock warns (``GuardLeakWarning``, the
  kernel's "lock held when returning to user space!");
* ``DEBUG_ATOMIC_SLEEP`` -- ``mutex_lock()`` is ``might_sleep()``: under a
  held ``spinlock_t`` (an atomic section of :mod:`kbind.context`) it raises
  :class:`~kbind.errors.AtomicContextError`;
* ``DEBUG_SPINLOCK`` / ``DEBUG_MUTEXES`` -- an unlock by a thread that is not
  the owner, or of a lock that is not held, raises
  :class:`~kbind.errors.GuardError` (the kernel's ``spin_bug()`` / mutex
  debugging WARN).  Off, the unlock goes through: another thread's lock is
  released under it.

Whatever the options, kbind never hangs the interpreter: re-taking a lock
this thread holds raises :class:`~kbind.errors.DeadlockError` (the kernel
would spin or sleep there forever, and says so only with lockdep), and so
does waiting for a lock whose owner thread exited holding it.
"""

from __future__ import annotations

import threading
import warnings
from typing import Any, Final, final

from kbind import context
from kbind._bridge.native import ffi, lib
from kbind._bridge.site import Site, user_frame
from kbind.errors import DeadlockError, GuardError, GuardLeakWarning
from kbind.kernel_c.config import config

__all__ = [
    "Mutex",
    "Spinlock",
    "lockdep_assert_held",
    "lockdep_is_held",
    "lockdep_reset",
    "mutex_is_locked",
    "mutex_lock",
    "mutex_trylock",
    "mutex_unlock",
    "spin_is_locked",
    "spin_lock",
    "spin_trylock",
    "spin_unlock",
]

#: One C wait's slice before Python checks for Ctrl-C and for an owner that exited.
WAIT_SLICE_NS: Final = 50_000_000


class _Held:
    """One lock a thread holds: the lock, where it was taken, the thread's list it is on."""

    __slots__ = ("lock", "proved", "section", "site", "thread", "where")

    def __init__(self, lock: _Lock, site: Site, where: list[_Held]) -> None:
        self.lock = lock
        #: taken with PROVE_LOCKING on: lockdep tracks it (and reports it at thread exit)
        self.proved = config.PROVE_LOCKING
        self.site = site
        self.where = where
        self.thread = threading.current_thread()
        self.section: context.AtomicSection | None = None


class _ExitCheck:
    """Warns, when its thread's locals go, that the thread exited holding locks."""

    __slots__ = ("held",)

    def __init__(self, held: list[_Held]) -> None:
        self.held = held

    def __del__(self) -> None:
        tracked = [h for h in self.held if h.proved]
        if tracked:
            names = ", ".join(f"{h.lock.name} (taken at {h.site})" for h in tracked)
            warnings.warn(
                GuardLeakWarning(
                    f"lock held when returning to user space: a thread exited holding {names} "
                    "(lockdep); the lock stays held, so the next locker would wait forever "
                    "(kbind raises DeadlockError instead)"
                ),
                stacklevel=1,
            )


class _HeldLocks(threading.local):
    def __init__(self) -> None:
        self.locks: list[_Held] = []
        self.check = _ExitCheck(self.locks)


_tls: Final = _HeldLocks()


class _Lockdep:
    """The lock-class dependency graph: edge A -> B when B was taken while A was held."""

    def __init__(self) -> None:
        self.mutex = threading.Lock()
        self.after: dict[str, dict[str, tuple[Site, Site]]] = {}

    def path(self, src: str, dst: str) -> list[tuple[str, str, Site, Site]] | None:
        """Return the recorded chain of edges from class ``src`` to ``dst``, if there is one."""
        seen = {src}
        frontier: list[tuple[str, list[tuple[str, str, Site, Site]]]] = [(src, [])]
        while frontier:
            node, chain = frontier.pop(0)
            for nxt, (held_at, taken_at) in self.after.get(node, {}).items():
                step = [*chain, (node, nxt, held_at, taken_at)]
                if nxt == dst:
                    return step
                if nxt not in seen:
                    seen.add(nxt)
                    frontier.append((nxt, step))
        return None

    def acquire(self, held: list[_Held], lock: _Lock, op: str, site: Site) -> None:
        """Check taking ``lock`` with ``held`` held; record the new dependencies."""
        with self.mutex:
            for h in held:
                if h.lock.name == lock.name:
                    raise DeadlockError(
                        op,
                        f"possible recursive locking detected (lockdep): {lock.name} is of the "
                        f"class of {h.lock.name}, which this thread holds",
                        sites=[("the held lock taken at", h.site), ("this lock taken at", site)],
                        hint="give the two locks different names (classes), as "
                        "spin_lock_nested() or a second lock_class_key would",
                    )
                chain = self.path(lock.name, h.lock.name)
                if chain is not None:
                    sites = []
                    for a, b, held_at, taken_at in chain:
                        sites += [(f"earlier: {a} held at", held_at), (f"{b} taken at", taken_at)]
                    sites.append((f"now: {h.lock.name} held at", h.site))
                    sites.append((f"{lock.name} taken at", site))
                    raise DeadlockError(
                        op,
                        "possible circular locking dependency detected (lockdep): "
                        f"{lock.name} was taken while holding {h.lock.name}, but earlier "
                        f"{h.lock.name} was taken (directly or through other locks) while "
                        f"{lock.name} was held; two threads doing the two at once deadlock (ABBA)",
                        sites=sites,
                        hint="take the locks in one order everywhere",
                    )
            for h in held:
                self.after.setdefault(h.lock.name, {}).setdefault(lock.name, (h.site, site))

    def reset(self) -> None:
        """Forget every recorded dependency."""
        with self.mutex:
            self.after.clear()


_lockdep: Final = _Lockdep()


class _Lock:
    """What ``spinlock_t`` and ``struct mutex`` share: the C lock, its class, its holder."""

    __slots__ = ("__weakref__", "_c", "_holder", "created_at", "name")

    _CTYPE = ""
    _KIND = ""
    _SLEEPS = False

    def __init__(self, name: str | None = None) -> None:
        self.created_at = Site.from_frame(user_frame())
        self.name: str = name if name is not None else f"{self._KIND} at {self.created_at.location}"
        self._c: Any = ffi.new(self._CTYPE)
        self._holder: _Held | None = None
        self._init()

    def _init(self) -> None:
        raise NotImplementedError

    def _trylock(self) -> bool:
        raise NotImplementedError

    def _lock_slice(self) -> bool:
        raise NotImplementedError

    def _unlock(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        state = f"held by {self._holder.thread.name!r}" if self._holder else "unlocked"
        return f"<{type(self).__name__} {self.name!r} {state}>"


def _acquire(lock: _Lock, op: str) -> None:
    site = Site.from_frame(user_frame())
    if lock._SLEEPS and config.DEBUG_ATOMIC_SLEEP:
        context.might_sleep(f"{op}()")
    held = _tls.locks
    for h in held:
        if h.lock is lock:
            said = (
                "lockdep reports possible recursive locking"
                if config.PROVE_LOCKING
                else "with PROVE_LOCKING off the kernel would deadlock here, unreported"
            )
            raise DeadlockError(
                f"{op}()",
                f"{lock.name} is already held by this thread, which would wait for itself; {said}",
                sites=[("first taken at", h.site), ("taken again at", site)],
                hint="unlock it first, or restructure so one path takes it once",
            )
    if config.PROVE_LOCKING:
        _lockdep.acquire(held, lock, f"{op}()", site)
    if not lock._trylock():
        while not lock._lock_slice():
            owner = lock._holder
            if owner is not None and not owner.thread.is_alive():
                raise DeadlockError(
                    f"{op}()",
                    f"{lock.name} is held by thread {owner.thread.name!r}, which exited holding "
                    "it: this wait would never end (the kernel would spin or sleep forever)",
                    sites=[("taken at", owner.site), ("waiting at", site)],
                )
    _hold(lock, site, held)


def _hold(lock: _Lock, site: Site, held: list[_Held]) -> None:
    """Record that this thread now holds ``lock`` (a spinlock also opens an atomic section)."""
    mine = _Held(lock, site, held)
    if not lock._SLEEPS:
        mine.section = context.enter_atomic(f"a {lock._KIND} section ({lock.name})", site)
    lock._holder = mine
    held.append(mine)


def _release(lock: _Lock, op: str, debug: bool) -> None:
    site = Site.from_frame(user_frame())
    h = lock._holder
    if h is None:
        if debug:
            raise GuardError(
                f"{op}()",
                f"{lock.name} is not locked: an unlock without a lock (bad unlock balance)",
                sites=[("unlocked at", site)],
                hint="pair every unlock with the lock before it, on the same thread",
            )
        return  # the C unlock of an unlocked lock stores 0 again: nothing visible
    if h.thread is not threading.current_thread() and debug:
        raise GuardError(
            f"{op}()",
            f"{lock.name} is held by thread {h.thread.name!r}, not by the thread unlocking it "
            "(wrong owner)",
            sites=[("locked at", h.site), ("unlocked at", site)],
            hint="unlock on the thread that locked it",
        )
    if h in h.where:
        h.where.remove(h)
    if h.section is not None:
        h.section.close()
    lock._holder = None
    lock._unlock()


@final
class Spinlock(_Lock):
    """A ``spinlock_t``.  Kernel: ``DEFINE_SPINLOCK()`` / ``spin_lock_init()``.

    Rules (checked only as the options say; see the module): one holder,
    released by its holder (``DEBUG_SPINLOCK``), never re-taken by it
    (``DeadlockError`` always), taken in one order with other locks
    (``PROVE_LOCKING``); holding it is an atomic section (nothing may sleep:
    ``DEBUG_ATOMIC_SLEEP``).  ``name`` is its lockdep class.
    """

    __slots__ = ()
    _CTYPE = "kb_spinlock_t *"
    _KIND = "spinlock_t"

    def _init(self) -> None:
        lib.kb_spin_lock_init(self._c)

    def _trylock(self) -> bool:
        return bool(lib.kb_spin_trylock(self._c))

    def _lock_slice(self) -> bool:
        return bool(lib.kb_spin_lock_timeout(self._c, WAIT_SLICE_NS) == lib.KB_OK)

    def _unlock(self) -> None:
        lib.kb_spin_unlock(self._c)


@final
class Mutex(_Lock):
    """A ``struct mutex``.  Kernel: ``DEFINE_MUTEX()`` / ``mutex_init()``.

    Rules as :class:`Spinlock` (``DEBUG_MUTEXES`` for the owner checks), but
    taking it may sleep: ``mutex_lock()`` in an atomic section raises
    ``AtomicContextError`` with ``DEBUG_ATOMIC_SLEEP``.
    """

    __slots__ = ()
    _CTYPE = "kb_mutex_t *"
    _KIND = "struct mutex"
    _SLEEPS = True

    def _init(self) -> None:
        lib.kb_mutex_init(self._c)

    def _trylock(self) -> bool:
        return bool(lib.kb_mutex_trylock(self._c))

    def _lock_slice(self) -> bool:
        return bool(lib.kb_mutex_lock_timeout(self._c, WAIT_SLICE_NS) == lib.KB_OK)

    def _unlock(self) -> None:
        lib.kb_mutex_unlock(self._c)


def spin_lock(lock: Spinlock) -> None:
    """Take ``lock``, spinning while another thread holds it.  Kernel: ``spin_lock()``."""
    _acquire(lock, "spin_lock")


def spin_trylock(lock: Spinlock) -> bool:
    """Take ``lock`` if it is free; return whether it was taken.  Kernel: ``spin_trylock()``."""
    return _try(lock, "spin_trylock")


def spin_unlock(lock: Spinlock) -> None:
    """Release ``lock``.  Kernel: ``spin_unlock()`` (owner checks with ``DEBUG_SPINLOCK``)."""
    _release(lock, "spin_unlock", config.DEBUG_SPINLOCK)


def spin_is_locked(lock: Spinlock) -> bool:
    """Return whether some thread holds ``lock``.  Kernel: ``spin_is_locked()``."""
    return bool(lib.kb_spin_is_locked(lock._c))


def mutex_lock(lock: Mutex) -> None:
    """Take ``lock``, sleeping while another thread holds it.  Kernel: ``mutex_lock()``."""
    _acquire(lock, "mutex_lock")


def mutex_trylock(lock: Mutex) -> bool:
    """Take ``lock`` if it is free; return whether it was taken.  Kernel: ``mutex_trylock()``."""
    return _try(lock, "mutex_trylock")


def mutex_unlock(lock: Mutex) -> None:
    """Release ``lock``.  Kernel: ``mutex_unlock()`` (owner checks with ``DEBUG_MUTEXES``)."""
    _release(lock, "mutex_unlock", config.DEBUG_MUTEXES)


def mutex_is_locked(lock: Mutex) -> bool:
    """Return whether some thread holds ``lock``.  Kernel: ``mutex_is_locked()``."""
    return bool(lib.kb_mutex_is_locked(lock._c))


def _try(lock: _Lock, op: str) -> bool:
    h = lock._holder
    if h is not None and h.thread is threading.current_thread():
        return False  # held by this thread: the C trylock fails, as in the kernel
    site = Site.from_frame(user_frame())
    if not lock._trylock():
        return False
    _hold(lock, site, _tls.locks)
    return True


def lockdep_is_held(lock: Spinlock | Mutex) -> bool:
    """Return whether this thread holds ``lock``.  Kernel: ``lockdep_is_held()``.

    The condition ``rcu_dereference_protected(p, lockdep_is_held(&lock))`` takes.
    """
    h = lock._holder
    return h is not None and h.thread is threading.current_thread()


def lockdep_assert_held(lock: Spinlock | Mutex) -> None:
    """Check that this thread holds ``lock``.  Kernel: ``lockdep_assert_held()``.

    Raises:
        GuardError: it does not, with ``PROVE_LOCKING`` on (the kernel's WARN);
            with it off, nothing is checked.
    """
    if config.PROVE_LOCKING and not lockdep_is_held(lock):
        raise GuardError(
            "lockdep_assert_held()",
            f"{lock.name} is not held by this thread, and the code here relies on it "
            "(lockdep's assertion)",
            sites=[("asserted at", Site.from_frame(user_frame()))],
            hint="take the lock before touching what it protects",
        )


def lockdep_reset() -> None:
    """Forget every recorded lock-order dependency (the kernel resets lockdep between selftests)."""
    _lockdep.reset()
