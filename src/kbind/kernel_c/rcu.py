"""The kernel's C RCU API over kbind's engine: the baseline the RCU designs are compared with.

Kernel: include/linux/rcupdate.h (``rcu_read_lock()``, ``rcu_read_unlock()``,
``rcu_dereference()``, ``rcu_assign_pointer()``, ``rcu_replace_pointer()``,
``synchronize_rcu()``, ``call_rcu()``, ``kfree_rcu()``) and ``kfree()``.
Nothing here is a Rust item: this is what a C user writes, and it checks only
what the kernel's own debugging options check at run time, switched like the
Kconfig options in :data:`config`:

* ``PROVE_RCU`` (lockdep-RCU, kernel/rcu/update.c ``lockdep_rcu_suspicious()``):
  ``rcu_dereference()`` outside a read-side section, and
  ``rcu_dereference_protected()`` without the update-side lock, are
  "suspicious RCU usage": kbind raises :class:`~kbind.errors.LifetimeError`
  where the kernel prints a lockdep splat;
* ``PROVE_LOCKING`` (lockdep): ``synchronize_rcu()`` inside a read-side
  section ("Illegal synchronize_rcu() in RCU read-side critical section")
  raises :class:`~kbind.errors.DeadlockError`.  With it off the kernel would
  hang there; kbind still refuses (it never hangs the interpreter) and says
  that the kernel would not have reported it;
* ``DEBUG_ATOMIC_SLEEP``: :func:`kbind.context.might_sleep` checks (a sleeping
  call inside a reader) for ``synchronize_rcu()``.

With the checks off, misuse goes through, as in C: a pointer dereferenced
outside a reader, or an object freed without a grace period, is returned and
used.  What makes the mistake visible is the allocator: :func:`kfree` poisons
an :class:`Allocation`, so a later access raises
:class:`~kbind.errors.UseAfterFreeError` naming where it was freed -- what
KASAN reports in the kernel -- instead of silently reading freed memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar, final

from kbind import context
from kbind._bridge.native import lib
from kbind._bridge.site import Site, user_frame
from kbind.errors import DeadlockError, GuardError, LifetimeError, UseAfterFreeError
from kbind.kernel_c.config import config
from kbind.lifetime import Scope
from kbind.rcu import _runtime as _rt
from kbind.rcu import call_rcu as _call_rcu
from kbind.rcu import synchronize_rcu as _synchronize_rcu
from kbind.rcu.guard import ReadSection, read_leak_hooks

__all__ = [
    "Allocation",
    "RcuPointer",
    "call_rcu",
    "kfree",
    "kfree_rcu",
    "kmalloc",
    "rcu_assign_pointer",
    "rcu_dereference",
    "rcu_dereference_protected",
    "rcu_read_lock",
    "rcu_read_lock_held",
    "rcu_read_unlock",
    "rcu_replace_pointer",
    "synchronize_rcu",
]

T = TypeVar("T")


# ------------------------------------------------------------------ readers

_leaked, _thread_exited = read_leak_hooks(
    "an rcu_read_lock() section", "Pair every rcu_read_lock() with rcu_read_unlock()."
)


@final
class _ReadSection(
    ReadSection, Scope, kind="rcu_read_lock()", engine="rcu_read", on_leak=_leaked,
    on_thread_exit=_thread_exited,
):  # fmt: skip
    """One ``rcu_read_lock()`` of the calling thread (an engine read-side scope)."""

    __slots__ = ()
    _END = "rcu_read_unlock() for"
    _MAKE = "rcu_read_lock()"
    _MAKE_ALSO = "kbind.kernel_c.rcu_read_lock()"


_rt.register_guard_kind(_ReadSection)


class _Nesting(threading.local):
    def __init__(self) -> None:
        self.sections: list[_ReadSection] = []


_tls = _Nesting()


def rcu_read_lock() -> None:
    """Enter a read-side critical section (nests).  Kernel: ``rcu_read_lock()``."""
    _tls.sections.append(_ReadSection())


def rcu_read_unlock() -> None:
    """Leave the innermost read-side critical section.  Kernel: ``rcu_read_unlock()``.

    Raises:
        GuardError: without a matching ``rcu_read_lock()`` on this thread (the
            engine's count would go negative: kbind refuses whatever the options).
    """
    if not _tls.sections:
        raise GuardError(
            "rcu_read_unlock()",
            "rcu_read_unlock() without a matching rcu_read_lock() on this thread",
            sites=[("unlocked at", Site.from_frame(user_frame()))],
            hint="pair each rcu_read_unlock() with an rcu_read_lock() on the same thread",
        )
    _tls.sections.pop().end()


def rcu_read_lock_held() -> bool:
    """Whether this thread is in a read-side section (any design's).  Kernel: same name."""
    return bool(lib.kb_rcu_read_lock_nesting())


# ------------------------------------------------------------- allocations


@final
class Allocation(Generic[T]):
    """A ``kmalloc()``-ed object: its value until :func:`kfree`, then poison.

    Kernel: slab memory; KASAN reports an access after ``kfree()``.  Here any
    access after the free raises :class:`UseAfterFreeError` naming where the
    object was allocated and freed.
    """

    __slots__ = ("_value", "allocated_at", "freed_at")

    def __init__(self, value: T) -> None:
        self._value = value
        self.allocated_at = Site.from_frame(user_frame())
        self.freed_at: Site | None = None

    @property
    def value(self) -> T:
        """The object's contents (UseAfterFreeError once freed)."""
        if self.freed_at is not None:
            raise UseAfterFreeError(
                "read an object's contents",
                "the object was freed (kfree), and this access came after: a use-after-free "
                "(KASAN in the kernel); with RCU, the reader was not protected by a grace period",
                created_at=self.allocated_at,
                freed_at=self.freed_at,
                sites=[("accessed at", Site.from_frame(user_frame()))],
                hint="free only after a grace period (synchronize_rcu() or kfree_rcu()), and "
                "use what rcu_dereference() returned only inside the read-side section",
            )
        return self._value

    @property
    def freed(self) -> bool:
        """Whether :func:`kfree` freed it."""
        return self.freed_at is not None

    def __repr__(self) -> str:
        state = f"freed at {self.freed_at.location}" if self.freed_at else repr(self._value)
        return f"<Allocation {state}>"


def kmalloc(value: T) -> Allocation[T]:
    """Allocate an object holding ``value``.  Kernel: ``kmalloc()`` + initialisation."""
    return Allocation(value)


def kfree(obj: Allocation[Any]) -> None:
    """Free ``obj`` now: every later access raises UseAfterFreeError.  Kernel: ``kfree()``.

    Raises:
        UseAfterFreeError: a double free (KASAN's "double-free").
    """
    _poison(obj, Site.from_frame(user_frame()))


def _poison(obj: Allocation[Any], site: Site) -> None:
    if obj.freed_at is not None:
        raise UseAfterFreeError(
            "kfree()",
            "a double free: the object was freed already",
            created_at=obj.allocated_at,
            freed_at=obj.freed_at,
            sites=[("freed again at", site)],
        )
    obj.freed_at = site
    obj._value = None  # the poison: nothing left to read


# ---------------------------------------------------------------- pointers


@final
class RcuPointer(Generic[T]):
    """An ``__rcu`` pointer: published with rcu_assign_pointer(), read with rcu_dereference()."""

    __slots__ = ("__weakref__", "_p")

    def __init__(self, initial: Allocation[T] | None = None) -> None:
        self._p = initial

    def __repr__(self) -> str:
        return f"<RcuPointer to {self._p!r}>"


def rcu_dereference(p: RcuPointer[T]) -> Allocation[T] | None:
    """Load an ``__rcu`` pointer inside a reader.  Kernel: ``rcu_dereference()``.

    Raises:
        LifetimeError: outside a read-side section, with ``PROVE_RCU`` on
            ("suspicious rcu_dereference() usage"); with it off, the pointer
            is returned and nothing protects what it points to.
    """
    if config.PROVE_RCU and not rcu_read_lock_held():
        raise LifetimeError(
            "rcu_dereference()",
            "suspicious rcu_dereference() usage: called outside an RCU read-side critical "
            "section, so a grace period may end and free the object while it is in use "
            "(CONFIG_PROVE_RCU's lockdep splat)",
            sites=[("dereferenced at", Site.from_frame(user_frame()))],
            hint="call rcu_read_lock() first, or rcu_dereference_protected() under the "
            "update-side lock",
        )
    return p._p


def rcu_dereference_protected(p: RcuPointer[T], held: bool) -> Allocation[T] | None:
    """Load an ``__rcu`` pointer on the update side.  Kernel: ``rcu_dereference_protected(p, c)``.

    ``held`` is the lockdep condition (``lockdep_is_held(&lock)``): with
    ``PROVE_RCU`` on, a false condition raises LifetimeError.
    """
    if config.PROVE_RCU and not held:
        raise LifetimeError(
            "rcu_dereference_protected()",
            "suspicious rcu_dereference_protected() usage: the update-side lock is not held",
            sites=[("dereferenced at", Site.from_frame(user_frame()))],
            hint="hold the lock that serialises updaters",
        )
    return p._p


def rcu_assign_pointer(p: RcuPointer[T], v: Allocation[T] | None) -> None:
    """Publish ``v`` (initialise it first).  Kernel: ``rcu_assign_pointer()`` (a release store)."""
    p._p = v


def rcu_replace_pointer(
    p: RcuPointer[T], v: Allocation[T] | None, held: bool
) -> Allocation[T] | None:
    """Publish ``v`` and return the old pointer.  Kernel: ``rcu_replace_pointer(p, v, c)``.

    ``held`` is the lockdep condition, checked with ``PROVE_RCU`` on.  The
    old object must not be freed before a grace period.
    """
    old = rcu_dereference_protected(p, held)
    p._p = v
    return old


# ------------------------------------------------------------ grace periods


def synchronize_rcu() -> None:
    """Wait for a grace period.  Kernel: ``synchronize_rcu()``.

    Raises:
        DeadlockError: inside a read-side section.  With ``PROVE_LOCKING`` the
            kernel reports it too; without, the kernel hangs (kbind never
            hangs, and says the kernel would not have reported it).
        AtomicContextError: inside another atomic section, with
            ``DEBUG_ATOMIC_SLEEP`` on.
    """
    ts = _rt.current_state()
    if ts is not None and ts.guards:
        name, created_at = ts.oldest_guard()
        reported = (
            'lockdep reports "Illegal synchronize_rcu() in RCU read-side critical section"'
            if config.PROVE_LOCKING
            else "with PROVE_LOCKING off the kernel would hang here, unreported"
        )
        raise DeadlockError(
            "synchronize_rcu()",
            f"R05: a grace period waits for the read-side section this thread is in ({name}), "
            f"so it would wait for itself; {reported}",
            guard=name,
            created_at=created_at,
            sites=[("synchronize_rcu() at", Site.from_frame(user_frame()))],
            hint="rcu_read_unlock() first, or free with kfree_rcu()/call_rcu(), which do not wait",
        )
    if config.DEBUG_ATOMIC_SLEEP:
        context.might_sleep("synchronize_rcu()")
    _synchronize_rcu()


def call_rcu(obj: Allocation[T], func: Callable[[Allocation[T]], object]) -> None:
    """Run ``func(obj)`` after a grace period.  Kernel: ``call_rcu(&obj->rcu, func)``."""
    _call_rcu(lambda: func(obj))


def kfree_rcu(obj: Allocation[Any]) -> None:
    """Free ``obj`` after a grace period, without waiting.  Kernel: ``kfree_rcu()``."""
    site = Site.from_frame(user_frame(), "kfree_rcu(), freed after a grace period")
    _call_rcu(lambda: _poison(obj, site))
