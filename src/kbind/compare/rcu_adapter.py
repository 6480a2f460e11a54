"""The steps an RCU design is asked to do, and the merged guard the newer designs share.

Every RCU scenario (:mod:`kbind.compare.rcu_scenarios`) is written once
against :class:`RcuAdapter`; each design (:mod:`kbind.compare.rcu_designs`,
:mod:`kbind.compare.rcu_rfc_designs`) says how it does each step, or
raises :class:`~kbind.compare.model.NotApplicable` (the design has no such
operation) or :class:`~kbind.compare.model.RuledOut` (the user cannot
write it: the source that would try is checked by mypy).

:class:`Mainline` is ``kernel::sync::rcu`` (rust/kernel/sync/rcu.rs): its
``Guard``, ``synchronize_rcu()`` and ``rcu_barrier()`` are what
``kernel::revocable`` and the RFC mirrors take, so their adapters build on
it.

This module acts as user code (``KBIND_USER_CODE``): the sites kbind's
errors name are the adapter's lines, so a scenario can check that a message
names both of them (where the guard was created, where it was dropped).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from kbind import kernel_c
from kbind import rcu as proposal
from kbind.compare import kit
from kbind.compare.model import Adapter, NotApplicable
from kbind.kernel.sync import lock as kernel_lock
from kbind.kernel.sync import rcu as mainline

__all__ = ["Mainline", "RcuAdapter", "Value", "snippet"]

KBIND_USER_CODE = True


class Value:
    """What the scenarios publish: one integer field, ``n`` (mutable, to try R16)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"Value({self.n})"


def snippet(imports: str, body: str) -> str:
    """Return a module for mypy: ``Value`` defined, ``imports`` and ``body`` below it."""
    return kit.snippet(imports, body, _VALUE)


_VALUE = """
class Value:
    def __init__(self, n: int) -> None:
        self.n = n
"""


class RcuAdapter(Adapter):
    """The steps of an RCU design.  Handles (``slot``, ``section``, ``ref``, ``old``) are opaque.

    * ``new(n)`` publishes ``Value(n)``; returns the slot (the ``__rcu`` pointer).
    * ``lock()`` / ``unlock(section)``: a read-side critical section.
    * ``reader()``: the same as a ``with`` block.
    * ``deref(section, slot)``: the reference a reader gets; ``use(ref)`` reads its ``n``.
    * ``deref_unguarded(slot)``: a dereference with no reader.
    * ``read_with(slot, fn)``: ``fn(ref)`` in a reader of its own (the closure form).
    * ``replace(slot, n)`` publishes ``Value(n)`` and returns what owns the old one;
      ``retire(slot, n)`` unpublishes the current value the design's way.
    * ``free_sync(old)``: free after waiting for a grace period (``RcuDropGuard.drop``,
      ``RcuOld`` drop, ``synchronize_rcu(); kfree()``).
    * ``free_deferred(old)``: free by callback after a grace period (``defer``, ``kfree_rcu``).
    * ``free_now(old)``: free with no grace period (``kfree``).
    * ``reclaim(old)`` and ``dispose(old)``: free after a grace period the design's
      way, waiting for the free, or not.
    * ``synchronize()``, ``barrier()``, ``call(fn)``: the grace-period primitives.

    The other steps each serve a row or two; their docstrings say which.
    """

    design = "?"
    #: Whether the design has a drop that waits for a grace period by itself
    #: (:meth:`drop_waiting`): an ``RcuDropGuard``, an ``RcuOld``, ``revoke()``.
    WAITING_DROP: ClassVar[bool] = False

    def _none(self, what: str) -> NotApplicable:
        return NotApplicable(f"no {what}")

    def cleanup(self) -> None:
        """Run the callbacks the cell queued (outside a reader), so none reaches the next cell."""
        if not kernel_c.rcu_read_lock_held():
            proposal.rcu_barrier(5.0)

    # -- readers

    def new(self, n: int) -> Any:
        """Publish ``Value(n)``; return the slot."""
        raise self._none("RCU-protected pointer")

    def lock(self) -> Any:
        """Enter a read-side critical section; return its handle."""
        raise self._none("read-side critical section")

    def unlock(self, section: Any) -> None:
        """End the read-side critical section ``section``."""
        raise self._none("read-side critical section")

    @contextmanager
    def reader(self) -> Iterator[Any]:
        """Run a ``with`` block as a read-side critical section."""
        section = self.lock()
        try:
            yield section
        finally:
            self.unlock(section)

    def deref(self, section: Any, slot: Any) -> Any:
        """Return the reader's reference to the slot's value."""
        raise self._none("RCU-protected pointer")

    def deref_unguarded(self, slot: Any) -> Any:
        """Dereference the slot with no reader."""
        raise self._none("RCU-protected pointer")

    def read_with(self, slot: Any, fn: Callable[[Any], Any]) -> Any:
        """Return ``fn(ref)`` run in a reader of its own (the closure form where there is one)."""
        with self.reader() as section:
            return fn(self.deref(section, slot))

    def use(self, ref: Any) -> int:
        """Read the referenced value's ``n``."""
        return int(ref.n)

    def mutate(self, ref: Any) -> None:
        """Write the referenced value's ``n`` in place (R16)."""
        ref.n = 99

    def duplicate(self, obj: Any) -> Any:
        """Return ``copy.copy(obj)``: a second pointer, guard or owner (R23)."""
        return copy.copy(obj)

    # -- updaters

    def replace(self, slot: Any, n: int) -> Any:
        """Publish ``Value(n)``; return what owns the old value."""
        raise self._none("update of an RCU-protected pointer")

    def retire(self, slot: Any, n: int) -> Any:
        """Unpublish the slot's value the design's way; return the owner."""
        return self.replace(slot, n)

    def make_old(self, n: int) -> Any:
        """Return the owner of an unpublished ``Value(n)``, as an updater holds it."""
        return self.retire(self.new(n), n + 1)

    def update_unlocked(self, slot: Any, fn: Callable[[int], int]) -> Any:
        """Publish ``Value(fn(n))`` taking no update-side lock of the caller's own (R12).

        Returns what owns the old value.
        """
        raise self._none("read-copy update of an RCU-protected pointer")

    # -- reclaiming

    def free_sync(self, old: Any) -> None:
        """Free ``old`` after waiting for a grace period."""
        raise self._none("free that waits for a grace period")

    def free_deferred(self, old: Any) -> None:
        """Free ``old`` by callback after a grace period."""
        raise self._none("free by callback after a grace period")

    def free_now(self, old: Any) -> None:
        """Free ``old`` with no grace period."""
        raise self._none("free without a grace period")

    def drop_waiting(self, old: Any) -> None:
        """Drop ``old`` where the drop itself waits for a grace period (R06, R22, R24)."""
        if not self.WAITING_DROP:
            raise self._none("drop that waits for a grace period by itself")
        self.free_sync(old)

    def reclaim(self, old: Any) -> None:
        """Free ``old`` after a grace period and return once it is freed."""
        self.free_sync(old)

    def dispose(self, old: Any) -> None:
        """Free ``old`` after a grace period the plainest way: deferred where the design can."""
        try:
            self.free_deferred(old)
        except NotApplicable:
            self.free_sync(old)

    def probe_freed(self, old: Any) -> Callable[[], int]:
        """Return how to ask how many times the design freed ``old``'s value (holding no owner)."""
        raise self._none("owner of an old value")

    def abandon(self, old: Any) -> Callable[[], int]:
        """Return :meth:`probe_freed` for an owner the scenario then drops unfreed (R14)."""
        return self.probe_freed(old)

    def revoked(self, n: int) -> Any:
        """Return a ``kernel::revocable`` slot of ``Value(n)``, already revoked (R25)."""
        raise self._none("Revocable (kernel::revocable)")

    # -- grace periods, callbacks, sleeping

    def synchronize(self) -> None:
        """Wait for a grace period."""
        raise self._none("synchronize_rcu()")

    def barrier(self) -> None:
        """Wait for every queued callback."""
        raise self._none("rcu_barrier()")

    def call(self, fn: Callable[[], object]) -> None:
        """Queue ``fn`` to run after a grace period."""
        raise self._none("call_rcu()")

    def block(self) -> None:
        """Make a call that may sleep, not a grace-period wait: the design's sleeping lock (R07)."""
        raise self._none("sleeping lock (mutex_lock())")

    # -- SRCU domains (R17)

    def domain(self) -> Any:
        """Return a new SRCU domain."""
        raise NotApplicable("one RCU domain, no SRCU domains (srcu_struct)")

    def lock_in(self, domain: Any) -> Any:
        """Enter a read-side section of ``domain``; return its guard."""
        raise NotApplicable("one RCU domain, no SRCU domains (srcu_struct)")

    def use_in(self, domain: Any, section: Any) -> None:
        """Read ``domain``'s data under ``section`` (the check an SRCU dereference makes)."""
        raise NotApplicable("one RCU domain, no SRCU domains (srcu_struct)")

    # -- a type-safe-by-RCU cache (R21)

    def typesafe_cache(self) -> Any:
        """Return a SLAB_TYPESAFE_BY_RCU cache that reuses every free at once (R21)."""
        raise NotApplicable("no SLAB_TYPESAFE_BY_RCU cache (kmem_cache_create())")

    # -- keeping an object past its reader (R21, R27, R28)

    def typesafe_insert(self, cache: Any, key: int) -> None:
        """Allocate an object of ``cache`` for ``key`` (data ``f"data of {key}"``); publish it."""
        raise NotApplicable("no SLAB_TYPESAFE_BY_RCU cache (kmem_cache_create())")

    def typesafe_lookup(self, section: Any, cache: Any, key: int) -> Any:
        """Return the reader's reference to the object published for ``key``."""
        raise NotApplicable("no SLAB_TYPESAFE_BY_RCU cache (kmem_cache_create())")

    def typesafe_delete(self, cache: Any, key: int) -> None:
        """Unpublish ``key``'s object and drop its reference: it is free (and reusable) at once."""
        raise NotApplicable("no SLAB_TYPESAFE_BY_RCU cache (kmem_cache_create())")

    def typesafe_take(self, ref: Any) -> Any:
        """Take a reference count on what ``ref`` reaches, without rechecking its identity."""
        raise NotApplicable("no SLAB_TYPESAFE_BY_RCU cache (kmem_cache_create())")

    def typesafe_data(self, handle: Any) -> str:
        """Read the data field through a counted handle."""
        raise NotApplicable("no SLAB_TYPESAFE_BY_RCU cache (kmem_cache_create())")

    def typesafe_put(self, handle: Any) -> None:
        """Drop a counted handle's reference."""
        raise NotApplicable("no SLAB_TYPESAFE_BY_RCU cache (kmem_cache_create())")

    def existing_new(self, n: int) -> Any:
        """Publish ``Value(n)`` with a lock of its own and a ``deleted`` flag under it (R27)."""
        raise NotApplicable("no lock inside an RCU-protected object to keep it by")

    def existing_delete(self, slot: Any) -> Any:
        """Mark the slot's object deleted under its lock, unpublish it; return its owner."""
        raise NotApplicable("no lock inside an RCU-protected object to keep it by")

    def existing_lock(self, ref: Any) -> Any:
        """Take the object's lock inside the reader, keep it past the reader, no recheck."""
        raise NotApplicable("no lock inside an RCU-protected object to keep it by")

    def existing_use(self, handle: Any) -> int:
        """Read the kept object's ``n`` under its lock, after the reader."""
        raise NotApplicable("no lock inside an RCU-protected object to keep it by")

    def existing_unlock(self, handle: Any) -> None:
        """Release the kept object's lock."""
        raise NotApplicable("no lock inside an RCU-protected object to keep it by")

    def counted_new(self, n: int) -> Any:
        """Publish a reference-counted ``Value(n)``, the publisher keeping the first count (R28)."""
        raise NotApplicable("no reference-counted RCU object (refcount_inc_not_zero())")

    def counted_get(self, section: Any, slot: Any) -> Any:
        """Take a count of the reader's own on the published object; return its handle."""
        raise NotApplicable("no reference-counted RCU object (refcount_inc_not_zero())")

    def counted_put(self, handle: Any) -> None:
        """Drop one count (the last one frees the object after a grace period)."""
        raise NotApplicable("no reference-counted RCU object (refcount_inc_not_zero())")

    def counted_owner_use(self, slot: Any) -> int:
        """Read ``n`` through the publisher's own count."""
        raise NotApplicable("no reference-counted RCU object (refcount_inc_not_zero())")

    # -- RCU lists (R20, R26): include/linux/rculist.h

    def _no_list(self) -> NotApplicable:
        return NotApplicable(
            "no RCU list type (include/linux/rculist.h's list_head; kbind.rcu.RcuList is the "
            "proposal design's)"
        )

    def list_new(self, ns: list[int]) -> Any:
        """Return an RCU list of ``Value(n)`` for each ``n``, in order."""
        raise self._no_list()

    def list_iter(self, section: Any, lst: Any) -> Iterator[Any]:
        """Return the iterator of a traversal in ``section`` (``list_for_each_entry_rcu()``)."""
        raise self._no_list()

    def list_clear(self, lst: Any) -> list[Any]:
        """Remove every element under the update-side lock; return what owns each (R20)."""
        raise self._no_list()

    def list_update_unlocked(self, lst: Any, n: int) -> None:
        """Add ``Value(n)`` to the list without taking its update-side lock (R26)."""
        raise self._no_list()


class Mainline(RcuAdapter):
    """``kbind.kernel.sync.rcu``: ``Guard``, ``synchronize_rcu``, ``rcu_barrier`` (rcu.rs).

    The designs on the merged guard (``kernel::revocable``, the RFC mirrors)
    subclass it: their readers take this ``Guard``.
    """

    design = "kernel.sync.rcu"

    def _no_pointer(self) -> NotApplicable:
        return NotApplicable(
            "kernel::sync::rcu has no RCU-protected pointer type (the Rcu<P> RFC adds one)"
        )

    def new(self, n: int) -> Any:
        """Refuse: rcu.rs has no pointer type."""
        raise self._no_pointer()

    def lock(self) -> Any:
        """Return ``rcu::Guard::new()``."""
        return mainline.Guard()

    def unlock(self, section: Any) -> None:
        """Call ``Guard::unlock(self)``."""
        section.unlock()

    def synchronize(self) -> None:
        """Call ``rcu::synchronize_rcu()``."""
        mainline.synchronize_rcu()

    def barrier(self) -> None:
        """Call ``rcu::rcu_barrier()``."""
        mainline.rcu_barrier()

    def call(self, fn: Callable[[], object]) -> None:
        """Refuse: rcu.rs has no ``call_rcu``."""
        raise NotApplicable("kernel::sync::rcu has no call_rcu() (the rcu::Callback RFC adds one)")

    def block(self) -> None:
        """Take and release a ``kernel::sync::Mutex`` (``Mutex::lock()`` may sleep)."""
        m = kernel_lock.Mutex(0)
        m.lock().unlock()
