"""Type-safe-by-RCU memory: :class:`TypesafePool`, a ``SLAB_TYPESAFE_BY_RCU`` cache.

Kernel: ``kmem_cache_create(name, size, align, SLAB_TYPESAFE_BY_RCU, ctor)``
(include/linux/slab.h).  A freed object of such a cache may be handed out
again *at once*, for another object of the same type, while readers that
found the old one under ``rcu_read_lock()`` still look at it; only the
memory's return to the page allocator (the cache shrinking, or being
destroyed) waits for a grace period.  So a reader is guaranteed that what it
holds is *an object of this type* -- its lock and its reference count are
still a lock and a count -- but not that it is *the object it looked up*:
a type guarantee, not an existence guarantee.  The flag was called
``SLAB_DESTROY_BY_RCU`` until 2017, when it was renamed to say exactly
that (only the destruction of the slab waits for RCU, not the free of an
object).  Readers must take a reference (``refcount_inc_not_zero()``) and
then recheck the identity (a key field) under it, looking again on a
mismatch.  Rust: no counterpart yet.

kbind: the pool's objects are :class:`~kbind.rcu.RcuRefcounted` (each its
count and its cell, "the slab memory"); :meth:`TypesafePool.alloc` reuses a
freed object immediately (``aggressive=True``: the very next allocation
reuses the last free, so a missing recheck fails on the first run of a
test); the cells are poisoned only by :meth:`TypesafePool.shrink` and
:meth:`TypesafePool.close`, after a grace period.  A small index
(:meth:`publish`, :meth:`lookup`, :meth:`unpublish`) plays the RCU hash
table readers search.  With ``checked=True`` a count taken on an object
looked up under one identity refuses reads of its other fields once it holds
another (``LifetimeError``, R21); :meth:`TypesafePool.get` is the correct
reader.  Public names are re-exported by :mod:`kbind.rcu`.
"""

from __future__ import annotations

import collections
import threading
import weakref
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar, cast, final

import kbind.rcu._runtime as _rt
from kbind._bridge.guard import NotClone, Site
from kbind._bridge.native import lib
from kbind.errors import GuardError
from kbind.lifetime import Scope, bind
from kbind.rcu.escape import Counted, RcuRefcounted, try_get
from kbind.rcu.reference import _POLICY, RcuRef

__all__ = ["TypesafePool"]

T = TypeVar("T", bound=RcuRefcounted)


@final
class TypesafePool(NotClone, Generic[T]):
    """A cache of ``T`` objects whose frees are reused at once: ``SLAB_TYPESAFE_BY_RCU``.

    Kernel: ``kmem_cache_create(..., SLAB_TYPESAFE_BY_RCU, ctor)``,
    ``kmem_cache_alloc()``, ``kmem_cache_free()``, ``kmem_cache_shrink()``,
    ``kmem_cache_destroy()`` (include/linux/slab.h; SLAB_DESTROY_BY_RCU
    until its 2017 rename).  Rust: none yet.

    ``cls`` subclasses :class:`~kbind.rcu.RcuRefcounted`; ``ctor(obj)`` runs
    once per object, when it is first made, never on reuse (initialize its
    lock there); ``alloc(**fields)`` sets the fields it is given, then the
    count to one (``refcount_set_release()``), and returns the handle of that
    count.  The last put frees the object back to the pool at once, no grace
    period; the next allocation may reuse it (FIFO behind ``slack`` other
    frees; ``aggressive=True``: LIFO, always).  ``identity`` names the field
    readers recheck (the index's key).

    Rules: a reader takes a count (:func:`~kbind.rcu.try_get`) and then
    rechecks ``identity``, putting and looking again on a mismatch (R21;
    :meth:`get` does it).  ``checked=True`` catches the missing recheck: a
    count taken on an object looked up as one identity and now holding
    another refuses every read but the identity (``LifetimeError``).  Only
    :meth:`shrink`/:meth:`close` free memory, after a grace period; then the
    objects' cells are poisoned (``UseAfterFreeError``).  :meth:`close` with
    objects still allocated raises ``GuardError``.
    """

    __slots__ = (
        "_closed", "_ctor", "_free", "_index", "_late", "_lock", "_looked", "aggressive",
        "allocated", "checked", "cls", "identity", "name", "recycled", "slack",
    )  # fmt: skip
    _CLONE_ROLE = "owner"

    def __init__(
        self,
        cls: type[T],
        *,
        identity: str = "key",
        ctor: Callable[[T], object] | None = None,
        aggressive: bool = False,
        checked: bool = False,
        slack: int = 8,
        name: str = "",
    ) -> None:
        if not (isinstance(cls, type) and issubclass(cls, RcuRefcounted)):
            raise TypeError(f"TypesafePool({cls!r}): the type must subclass RcuRefcounted")
        self.cls = cls
        self.identity = identity
        self.name = name or f"{cls.__name__}_cache"
        self.aggressive = aggressive
        self.checked = checked
        self.slack = 0 if aggressive else slack
        self._ctor = ctor
        self._lock = threading.Lock()
        self._free: collections.deque[T] = collections.deque()
        #: frees made by finalizers (which take no locks), adopted by the next alloc
        self._late: collections.deque[T] = collections.deque()
        self._index: dict[Hashable, T] = {}
        self._looked: weakref.WeakKeyDictionary[Scope, dict[int, object]] = (
            weakref.WeakKeyDictionary()
        )
        self._closed: Site | None = None
        #: objects made, and allocations that reused a freed object
        self.allocated = 0
        self.recycled = 0

    def __repr__(self) -> str:
        return f"<TypesafePool {self.name}: {self.in_use} in use, {len(self._free)} free>"

    @property
    def in_use(self) -> int:
        """Objects allocated and not yet freed back."""
        return self.allocated - len(self._free) - len(self._late)

    # -- allocation

    def alloc(self, **fields: object) -> Counted[T]:
        """Return the count of a fresh or reused object with ``fields`` set.

        Kernel: ``kmem_cache_alloc()``.
        A reused object keeps the values of fields not given (the memory is
        not zeroed) and its lock (the ctor does not run again).

        Raises:
            GuardError: the pool was closed.
        """
        site = Site.here(2, "allocated here")
        with self._lock:
            if self._closed is not None:
                raise GuardError(
                    f"allocate from {self.name}",
                    "the cache was destroyed (kmem_cache_destroy())",
                    guard=self.name, created_at=self._closed, sites=[("alloc at", site)],
                    hint="allocate before close()",
                )  # fmt: skip
            while self._late:
                self._free.append(self._late.popleft())
            obj: T | None = None
            if self._free and len(self._free) > self.slack:
                obj = self._free.pop() if self.aggressive else self._free.popleft()
                self.recycled += 1
        if obj is None:
            obj = self.cls.__new__(self.cls)
            object.__setattr__(obj, "_kb_pool", self)
            object.__setattr__(obj, "_kb_gen", 0)
            obj._kb_cell.label = f"a {self.cls.__name__} of {self.name}"
            obj.refcount.set(0)
            if self._ctor is not None:
                self._ctor(obj)
            with self._lock:
                self.allocated += 1
        for k, v in fields.items():
            object.__setattr__(obj, k, v)
        object.__setattr__(obj, "_kb_gen", obj._kb_gen + 1)  # type: ignore[attr-defined]
        object.__setattr__(obj, "_kb_alloc_at", site)
        obj.refcount.set(1)  # refcount_set_release(): the fields above are visible first
        return Counted(obj, site)

    def _release(self, obj: T, site: Site, finalizer: bool) -> None:
        object.__setattr__(obj, "_kb_freed_at", site)
        if finalizer:
            self._late.append(obj)  # no locks in a finalizer
            return
        with self._lock:
            self._free.append(obj)

    def _history(self, obj: Any) -> list[tuple[str, Site | None]]:
        return [
            ("freed back to the cache at", getattr(obj, "_kb_freed_at", None)),
            ("reallocated at", getattr(obj, "_kb_alloc_at", None)),
        ]

    # -- the index readers search (an RCU hash table in miniature)

    def publish(self, counted: Counted[T]) -> None:
        """Insert the object under its identity; the index takes over ``counted``'s count.

        Kernel: ``hlist_add_head_rcu()`` under the update-side lock.

        Raises:
            GuardError: another object is published under that identity.
        """
        obj = cast(T, counted._live("publish it"))
        key = getattr(obj, self.identity)
        site = Site.here(2, "published here")
        with self._lock:
            if key in self._index:
                raise GuardError(
                    f"publish {obj._kb_cell.label} as {self.identity}={key!r}",
                    "another object is published under that identity",
                    guard=self.name, sites=[("publish at", site)],
                    hint="unpublish the other one first",
                )  # fmt: skip
            counted._consume("publish", site)  # moved into the index
            self._index[key] = obj

    def unpublish(self, key: Hashable) -> Counted[T] | None:
        """Remove the object published under ``key``; return the index's count (put it).

        Kernel: ``hlist_del_rcu()``; readers that found it may still hold it.
        """
        with self._lock:
            obj = self._index.pop(key, None)
        if obj is None:
            return None
        return Counted(obj, Site.here(2, "unpublished here (the index's count)"))

    def lookup(self, guard: Scope, key: Hashable) -> T | None:
        """Return a reference, bound to ``guard``, to the object published under ``key``.

        Kernel: an RCU hash lookup.  The object found may be freed and
        reused for another identity at any moment: take a count
        (:func:`~kbind.rcu.try_get`), then recheck ``identity`` (R21).

        Raises:
            TypeError: ``guard`` is not an RCU read guard (R04).
            LifetimeError: ``guard`` has ended.
        """
        if type(guard) not in _rt.GUARD_KINDS:
            raise TypeError(
                f"TypesafePool.lookup() needs an RCU read guard, not {type(guard).__name__} "
                "(R04: no lookup without a reader)"
            )
        obj = self._index.get(key)  # one dict read: atomic under the GIL (rcu_dereference())
        if obj is None:
            return None
        ref = cast(T, bind(guard, obj._kb_cell, RcuRef, _POLICY))
        if self.checked:
            self._looked.setdefault(guard, {})[id(obj)] = key
        return ref

    def _expected(self, scope: Any, obj: T) -> tuple[str, object] | None:
        if not self.checked:
            return None
        try:
            key = self._looked[scope][id(obj)]
        except (KeyError, TypeError):
            return None
        return (self.identity, key)

    def get(self, guard: Scope, key: Hashable, *, tries: int = 100) -> Counted[T] | None:
        """Find ``key`` and return a count on it, the correct way; None if it is not there.

        Kernel: the SLAB_TYPESAFE_BY_RCU lookup loop -- look up, take a
        count (``refcount_inc_not_zero()``), recheck the identity; on a zero
        count or a mismatch (the object was freed, perhaps reused), put what
        was taken and look again (at most ``tries`` times).
        """
        for _ in range(tries):
            ref = self.lookup(guard, key)
            if ref is None:
                return None
            counted = try_get(ref)
            if counted is None:
                continue
            if getattr(counted, self.identity) == key:
                return counted
            counted.put()  # reused for another identity: drop it, look again
        return None

    # -- returning memory (waits for a grace period)

    def shrink(self) -> int:
        """Return the free objects' memory: wait for a grace period, then poison them.

        Kernel: ``kmem_cache_shrink()``: the slab's pages go back only after
        a grace period, so readers that found a free object can still read
        it until they end; afterwards every reference raises
        ``UseAfterFreeError``.  Returns how many objects were released.

        Raises:
            DeadlockError: inside a read-side critical section (R05).
        """
        site = Site.here(2, "its cache shrank here, after a grace period")
        ts = _rt.current_state()
        if ts is not None and ts.guards:
            _rt.raise_in_reader(f"shrink {self.name} (it waits for a grace period)", ts)
        with self._lock:
            gone = [*self._free, *self._late]
            self._free.clear()
            self._late.clear()
            self.allocated -= len(gone)
        _rt.wait_gp(int(lib.kb_get_state_synchronize_rcu()), 2)  # synchronize_rcu()
        for obj in gone:
            obj._kb_cell.retire(site)
            obj._kb_cell.poison(site)
        return len(gone)

    def close(self) -> None:
        """Destroy the cache: all objects back, then :meth:`shrink` (``kmem_cache_destroy()``).

        Raises:
            GuardError: objects are still allocated (the kernel: "objects
                remaining on __kmem_cache_shutdown()").
        """
        site = Site.here(2, "closed here")
        if self.in_use:
            raise GuardError(
                f"destroy {self.name}",
                f"{self.in_use} object(s) are still allocated (kmem_cache_destroy(): objects "
                "remaining); they would be freed under their holders",
                guard=self.name, sites=[("close at", site)],
                hint="unpublish and put every object first",
            )  # fmt: skip
        self.shrink()
        self._closed = site
