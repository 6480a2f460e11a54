"""The RCU designs as adapters: the kernel's C API, the original proposal, mainline.

Each design says how it does each step of
:class:`~kbind.compare.rcu_adapter.RcuAdapter`, or raises
:class:`~kbind.compare.model.NotApplicable` (the design has no such
operation) or :class:`~kbind.compare.model.RuledOut` (the user cannot write
it: the source that would try is checked by mypy).  The designs built on
the merged ``rcu::Guard`` (SRCU, ``kernel::revocable``, the RFC mirrors) are
in :mod:`kbind.compare.rcu_rfc_designs`; :data:`DESIGNS` lists every RCU
column.

This module acts as user code (``KBIND_USER_CODE``): the sites kbind's
errors name are the adapter's lines, so a scenario can check that a message
names both of them (where the guard was created, where it was dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from kbind import kernel_c, lifetime
from kbind import rcu as proposal
from kbind import sync as proposal_sync
from kbind.compare.kit import KernelCOptions
from kbind.compare.model import Design, NotApplicable, RuledOut
from kbind.compare.rcu_adapter import Mainline, RcuAdapter, Value, snippet
from kbind.compare.rcu_rfc_designs import RFC_DESIGNS
from kbind.refcount import Refcount

__all__ = ["DESIGNS", "RcuAdapter", "Value", "snippet"]

KBIND_USER_CODE = True


# ------------------------------------------------------------ the kernel's C API


class KernelC(KernelCOptions, RcuAdapter):
    """``kbind.kernel_c``: include/linux/rcupdate.h, debug options on or off."""

    def block(self) -> None:
        m = kernel_c.Mutex(f"compare mutex {id(self)}")
        kernel_c.mutex_lock(m)  # might_sleep() with DEBUG_ATOMIC_SLEEP
        kernel_c.mutex_unlock(m)

    def new(self, n: int) -> Any:
        return kernel_c.RcuPointer(kernel_c.kmalloc(Value(n)))

    def lock(self) -> Any:
        kernel_c.rcu_read_lock()
        return None

    def unlock(self, section: Any) -> None:
        kernel_c.rcu_read_unlock()

    def deref(self, section: Any, slot: Any) -> Any:
        return kernel_c.rcu_dereference(slot)

    def deref_unguarded(self, slot: Any) -> Any:
        return kernel_c.rcu_dereference(slot)

    def use(self, ref: Any) -> int:
        return int(ref.value.n)

    def mutate(self, ref: Any) -> None:
        ref.value.n = 99

    def replace(self, slot: Any, n: int) -> Any:
        return kernel_c.rcu_replace_pointer(slot, kernel_c.kmalloc(Value(n)), held=True)

    def update_unlocked(self, slot: Any, fn: Callable[[int], int]) -> Any:
        # The lockdep condition names the update-side lock, which this updater does not hold.
        cur = kernel_c.rcu_dereference_protected(slot, held=False)
        assert cur is not None
        new = kernel_c.kmalloc(Value(fn(cur.value.n)))
        return kernel_c.rcu_replace_pointer(slot, new, held=False)

    def free_sync(self, old: Any) -> None:
        kernel_c.synchronize_rcu()
        kernel_c.kfree(old)

    def free_deferred(self, old: Any) -> None:
        kernel_c.kfree_rcu(old)

    def free_now(self, old: Any) -> None:
        kernel_c.kfree(old)

    def drop_waiting(self, old: Any) -> None:
        raise NotApplicable("in C the wait is explicit: synchronize_rcu(); kfree() is R05")

    def probe_freed(self, old: Any) -> Callable[[], int]:
        # An Allocation has no finalizer: holding it changes nothing (C never frees a leak).
        return lambda: int(old.freed)

    def synchronize(self) -> None:
        kernel_c.synchronize_rcu()

    def barrier(self) -> None:
        proposal.rcu_barrier()  # kernel_c has no rcu_barrier(); the engine's is the kernel's

    def call(self, fn: Callable[[], object]) -> None:
        kernel_c.call_rcu(kernel_c.kmalloc(None), lambda _obj: fn())

    # -- keeping an object past its reader (R27, R28): the C patterns, unchecked

    def existing_new(self, n: int) -> Any:
        lock = kernel_c.Spinlock(f"compare element lock {id(self)}")
        return kernel_c.RcuPointer(kernel_c.kmalloc(LockedC(n, lock)))

    def existing_delete(self, slot: Any) -> Any:
        p = kernel_c.rcu_dereference_protected(slot, held=True)
        assert p is not None
        kernel_c.spin_lock(p.value.lock)
        p.value.deleted = True  # under the element's lock, before it is unpublished
        kernel_c.spin_unlock(p.value.lock)
        new = kernel_c.kmalloc(LockedC(0, kernel_c.Spinlock(f"compare element lock {id(p)}")))
        return kernel_c.rcu_replace_pointer(slot, new, held=True)

    def existing_lock(self, ref: Any) -> Any:
        lock = ref.value.lock
        kernel_c.spin_lock(lock)  # inside the reader; p->deleted is not rechecked
        return (ref, lock)

    def existing_use(self, handle: Any) -> int:
        return int(handle[0].value.n)

    def existing_unlock(self, handle: Any) -> None:
        kernel_c.spin_unlock(handle[1])

    def counted_new(self, n: int) -> Any:
        p = kernel_c.kmalloc(CountedC(n))
        return (kernel_c.RcuPointer(p), p)

    def counted_get(self, section: Any, slot: Any) -> Any:
        p = kernel_c.rcu_dereference(slot[0])
        return p if p is not None and p.value.refcount.inc_not_zero() else None

    def counted_put(self, handle: Any) -> None:
        if handle.value.refcount.dec_and_test():
            kernel_c.kfree_rcu(handle)

    def counted_owner_use(self, slot: Any) -> int:
        return int(slot[1].value.n)


# ------------------------------------------------ the original proposal (kbind.rcu)


class Proposal(RcuAdapter):
    """``kbind.rcu``: ``RcuReadGuard``, ``Rcu[T]``, ``RcuDropGuard`` (2019-2021 proposal)."""

    design = "rcu"
    WAITING_DROP = True

    def new(self, n: int) -> Any:
        return proposal.Rcu(Value(n))

    def lock(self) -> Any:
        return proposal.RcuReadGuard()

    def unlock(self, section: Any) -> None:
        section.drop()

    def deref(self, section: Any, slot: Any) -> Any:
        return slot.read(section)

    def deref_unguarded(self, slot: Any) -> Any:
        raise RuledOut(
            "read() takes the guard",
            snippet(
                "from kbind.rcu import Rcu",
                """
                config = Rcu(Value(1))
                config.read()  # misuse
                """,
            ),
        )

    def read_with(self, slot: Any, fn: Callable[[Any], Any]) -> Any:
        return slot.with_read(fn)

    def replace(self, slot: Any, n: int) -> Any:
        return slot.replace(Value(n))

    def update_unlocked(self, slot: Any, fn: Callable[[int], int]) -> Any:
        return slot.update(lambda cur: Value(fn(cur.n)))

    def free_sync(self, old: Any) -> None:
        old.drop()

    def free_deferred(self, old: Any) -> None:
        old.defer()

    def free_now(self, old: Any) -> None:
        raise RuledOut(
            "only an RcuDropGuard frees, after a grace period",
            snippet(
                "from kbind.rcu import Rcu",
                """
                config = Rcu(Value(1))
                old = config.replace(Value(2))
                old.free_now()  # misuse
                """,
            ),
        )

    def probe_freed(self, old: Any) -> Callable[[], int]:
        cell = old._box  # the old value's cell, not its RcuDropGuard
        return lambda: int(cell.freed)

    def synchronize(self) -> None:
        proposal.synchronize_rcu()

    def barrier(self) -> None:
        proposal.rcu_barrier()

    def call(self, fn: Callable[[], object]) -> None:
        proposal.call_rcu(fn)

    def block(self) -> None:
        # The lock that comes with the proposal: kbind.sync.Mutex (the 2021 API).
        m = proposal_sync.Mutex(0)
        m.lock().unlock()

    # -- RCU lists (kbind.rcu.RcuList: include/linux/rculist.h)

    def list_new(self, ns: list[int]) -> Any:
        return proposal.RcuList([Value(n) for n in ns])

    def list_iter(self, section: Any, lst: Any) -> Iterator[Any]:
        return iter(lst.iter(section))

    def list_clear(self, lst: Any) -> list[Any]:
        with lst.update_lock.lock() as held:
            return [lst.remove(ref) for ref in lst.iter(held)]

    def list_update_unlocked(self, lst: Any, n: int) -> None:
        lst.add(Value(n))  # no `with lst.update_lock.lock():` around it

    # -- keeping an object past its reader (R21, R27, R28): kbind.rcu.escape, .typesafe

    def typesafe_cache(self) -> Any:
        return proposal.TypesafePool(Entry, aggressive=True, name="compare_cache")

    def typesafe_insert(self, cache: Any, key: int) -> None:
        cache.publish(cache.alloc(key=key, data=f"data of {key}"))

    def typesafe_lookup(self, section: Any, cache: Any, key: int) -> Any:
        return cache.lookup(section, key)

    def typesafe_delete(self, cache: Any, key: int) -> None:
        cache.unpublish(key).put()

    def typesafe_take(self, ref: Any) -> Any:
        return proposal.try_get(ref)  # and no recheck of .key

    def typesafe_data(self, handle: Any) -> str:
        return str(handle.data)

    def typesafe_put(self, handle: Any) -> None:
        handle.put()

    def existing_new(self, n: int) -> Any:
        return proposal.Rcu(Locked(n))

    def existing_delete(self, slot: Any) -> Any:
        lock = slot.with_read(lambda e: e.lock)
        with lock.lock() as g:
            g.value = True  # deleted, under the element's lock, before it is unpublished
        return slot.replace(Locked(0))

    def existing_lock(self, ref: Any) -> Any:
        guard = ref.lock.lock()  # inside the reader; the deleted flag is not rechecked
        try:
            return (lifetime.rebind(ref, guard), guard)
        except BaseException:
            guard.unlock()
            raise

    def existing_use(self, handle: Any) -> int:
        return int(handle[0].n)

    def existing_unlock(self, handle: Any) -> None:
        handle[1].unlock()

    def counted_new(self, n: int) -> Any:
        value = CountedValue(n)
        mine = proposal.Counted.adopt(value)  # the publisher's count
        self._handles.append(mine)
        return (proposal.Rcu(value), mine)

    def counted_get(self, section: Any, slot: Any) -> Any:
        return proposal.try_get(slot[0].read(section))

    def counted_put(self, handle: Any) -> None:
        handle.put()

    def counted_owner_use(self, slot: Any) -> int:
        return int(slot[1].n)

    def cleanup(self) -> None:
        """Put the publisher's counts the scenario kept, then run the callbacks."""
        for h in self._handles:
            if not h.consumed:
                h.put()
        super().cleanup()

    def __init__(self) -> None:
        self._handles: list[Any] = []


#: The RCU columns, in order.
DESIGNS: list[Design] = [
    Design("kernel_c", "rcu", "the kernel's C API, debug options off", lambda: KernelC(False)),
    Design(
        "kernel_c+debug",
        "rcu",
        "the kernel's C API with PROVE_RCU, PROVE_LOCKING, DEBUG_ATOMIC_SLEEP",
        lambda: KernelC(True),
    ),
    Design("rcu", "rcu", "RcuReadGuard, Rcu<T>, RcuDropGuard (proposal)", Proposal),
    Design("kernel.sync.rcu", "rcu", "kernel::sync::rcu::Guard (mainline)", Mainline),
    *RFC_DESIGNS,
]


# ------------------------------------- the objects of rows R21, R27 and R28


class Entry(proposal.RcuRefcounted):
    """An object of a SLAB_TYPESAFE_BY_RCU cache: its identity ``key`` and its ``data``."""

    key: int
    data: str


class Locked:
    """A published object with a lock of its own, whose data is its ``deleted`` flag (R27)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.lock = proposal_sync.SpinLock(False)


class CountedValue(proposal.RcuRefcounted):
    """A published object readers keep by a reference count (R28)."""

    def __init__(self, n: int) -> None:
        self.n = n


class LockedC:
    """The C element of row R27: ``n``, a ``spinlock_t`` and a ``deleted`` flag under it."""

    def __init__(self, n: int, lock: kernel_c.Spinlock) -> None:
        self.n = n
        self.lock = lock
        self.deleted = False


class CountedC:
    """The C element of row R28: ``n`` and a ``refcount_t``."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.refcount = Refcount(1)
