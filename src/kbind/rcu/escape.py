"""Keeping an object past its RCU reader, properly: a reference count or the object's own lock.

A reference obtained under a read guard dies with the guard (R01).  The
kernel keeps an object past ``rcu_read_unlock()`` in two ways, and only two
(Documentation/RCU/rcuref.rst, Documentation/RCU/whatisRCU.rst section 5):

* **a reference count** taken inside the reader: ``refcount_inc_not_zero()``
  or ``kref_get_unless_zero()``; zero means the object is already on its way
  to being freed, so the reader treats it as not found.  The last
  ``refcount_dec_and_test()`` frees it after a grace period (``call_rcu()``),
  since readers that found it without a count may still look at it.
  kbind: :class:`RcuRefcounted` (a base for objects that carry their count),
  :func:`try_get` (returns a :class:`Counted` handle, or None), and
  :meth:`Counted.put`.  Rust: ``ARef<T>`` over ``AlwaysRefCounted``
  (rust/kernel/types.rs), ``Arc<T>`` (rust/kernel/sync/arc.rs) over
  ``refcount_t`` (rust/kernel/sync/refcount.rs);
* **the object's own lock** taken inside the reader, then a ``deleted`` flag
  rechecked under that lock (the deleter sets it under the same lock before
  it unpublishes the object): if it is clear, the lock keeps the object in
  existence until it is released.  kbind: :func:`lock_existing` returns the
  reference moved to the lock's guard (:func:`kbind.lifetime.rebind`), or
  None for a deleted object.  Rust: a ``Guard`` of a lock inside the
  object, whose lifetime the reference then borrows.

Anything else is an improper leak, and raises: a reference kept past its
guard (``LifetimeError``, R01/R02, whose hint names these two), a count put
twice (``GuardError``, R28) or never (``CountedLeakWarning``, R28), an
object kept through its lock without the recheck (``LifetimeError``, R27:
its cell was retired), a retired object bound by a reader that began after
the retire (``LifetimeError``: :meth:`kbind.lifetime.Cell.retire`).

Public names are re-exported by :mod:`kbind.rcu`.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar, cast, final

import kbind.rcu._runtime as _rt
from kbind._bridge.guard import Site, capture
from kbind._bridge.native import hot
from kbind.errors import (
    CountedLeakWarning,
    GuardError,
    LifetimeError,
    ReadOnlyError,
    UseAfterFreeError,
)
from kbind.lifetime import Cell, MustUse, Ref, Scope, bind, rebind
from kbind.rcu._callbacks import call_rcu, callbacks
from kbind.rcu.reference import _POLICY, RcuRef, allow_interior_mutability
from kbind.refcount import Kref, Refcount

__all__ = ["Counted", "Held", "RcuRefcounted", "kfree_rcu", "lock_existing", "try_get"]

T = TypeVar("T")

#: The attributes RcuRefcounted keeps in each object (not copied, not pickled).
_OWN: Final = frozenset(
    {"refcount", "_kb_cell", "_kb_pool", "_kb_adopted", "_kb_gen", "_kb_alloc_at", "_kb_freed_at"}
)

allow_interior_mutability(Refcount)  # they synchronize themselves: readers use them as they are
allow_interior_mutability(Kref)


def kfree_rcu(cell: Cell, site: Site | None = None) -> None:
    """Retire ``cell`` now and free (poison) it after a grace period, without waiting.

    Kernel: ``kfree_rcu()`` / ``call_rcu()`` on an object already unpublished.
    The readers open now may keep using it until they end; a reader that
    begins later can no longer bind to it (``LifetimeError``: McKenney's
    "call_rcu() moves the object from its readers to nobody at the end of a
    grace period"); after the grace period every reference into it raises
    ``UseAfterFreeError`` naming ``site`` (default: the caller).

    Context: any, including read-side sections.
    """
    where = site if site is not None else Site.here(2)
    cell.retire(where, _rt.open_guards())
    freed = Site(
        where.filename, where.lineno, where.function, where.thread,
        "freed by the call_rcu callback after a grace period",
    )  # fmt: skip
    call_rcu(lambda: cell.poison(freed), capture(1))


class RcuRefcounted:
    """A base for objects that readers keep past their guard by a reference count.

    Kernel: a structure with a ``refcount_t`` (or ``struct kref``) that RCU
    readers take with ``refcount_inc_not_zero()`` (Documentation/RCU/rcuref.rst).
    Rust: a type implementing ``AlwaysRefCounted`` (rust/kernel/types.rs),
    handled through ``ARef<T>``.

    Every instance carries ``refcount`` (a :class:`kbind.refcount.Refcount`),
    1 when made: the creator's reference, taken over by :meth:`Counted.adopt`,
    and a :class:`kbind.lifetime.Cell` of its own, which the last put retires
    and frees after a grace period.  Both are set by ``__new__``, so a
    subclass (a dataclass too) need not call ``super().__init__()``; copies
    and unpickled objects get counts of their own.

    Rules: counts are taken with :func:`try_get` (under a reader) or
    :meth:`Counted.clone`, and each is put exactly once (R28); the object is
    freed after a grace period when the count reaches zero.
    """

    refcount: Refcount
    _kb_cell: Cell
    _kb_pool: Any
    _kb_adopted: Site | None

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Make the object with its count of one and a cell of its own."""
        obj = super().__new__(cls)
        _setup(obj, Site.here(2))
        return obj

    def __getstate__(self) -> dict[str, Any]:
        """Return the fields to copy or pickle: not the count, nor the cell (copies get theirs)."""
        return {k: v for k, v in self.__dict__.items() if k not in _OWN}


def _setup(obj: RcuRefcounted, site: Site) -> None:
    put = object.__setattr__  # frozen dataclasses too
    put(obj, "refcount", Refcount(1))
    put(obj, "_kb_cell", Cell(obj, f"a counted {type(obj).__name__}", site))
    put(obj, "_kb_pool", None)
    put(obj, "_kb_adopted", None)


def _counted(ref: object, op: str) -> tuple[Any, RcuRefcounted]:
    """Return the scope and the object ``ref`` reaches, after its checks (R01, R13)."""
    if not isinstance(ref, Ref):
        raise TypeError(
            f"{op}: needs the reference a reader got under its guard, not a "
            f"{type(ref).__name__}; an object reached without a guard has no existence "
            "guarantee to keep it by"
        )
    scope, _cell, target = hot.ref_target(ref, op)
    return scope, target


def try_get(ref: T) -> Counted[T] | None:
    """Take a reference count on the object ``ref`` reaches; return its handle, or None.

    Kernel: ``refcount_inc_not_zero()`` / ``kref_get_unless_zero()`` inside
    ``rcu_read_lock()`` (Documentation/RCU/rcuref.rst).  Rust: the
    ``ARef<T>`` an RCU lookup returns.  ``ref`` is a reference obtained under
    a guard (an ``RcuRef``, or any :class:`kbind.lifetime.Ref`: an RCU list's
    element) that is still valid; the object must be an
    :class:`RcuRefcounted`.  The handle is not bound to the guard: it may
    outlive it, on any thread, until :meth:`Counted.put`.  None means the
    count already reached zero: the object is being freed, so treat it as
    not found (or look again).

    Raises:
        LifetimeError: ``ref``'s guard has ended (take the count inside it).
        TypeError: ``ref`` is not a reference, or its object carries no count.
    """
    scope, obj = _counted(ref, "take a reference count on it (try_get())")
    if not isinstance(obj, RcuRefcounted):
        raise TypeError(
            f"try_get(): a {type(obj).__name__} carries no reference count; subclass "
            "kbind.rcu.RcuRefcounted (refcount_t in the object, as in "
            "Documentation/RCU/rcuref.rst)"
        )
    if not obj.refcount.inc_not_zero():
        return None
    pool = obj._kb_pool
    expect = pool._expected(scope, obj) if pool is not None else None
    return Counted(cast(T, obj), Site.here(2, "count taken here"), expect)


@final
class Counted(MustUse, Generic[T]):
    """One reference count on an :class:`RcuRefcounted` object: keeps it past any reader.

    Rust: ``ARef<T>`` (rust/kernel/types.rs) / ``Arc<T>``
    (rust/kernel/sync/arc.rs).  Kernel: the pointer a reader keeps after
    ``refcount_inc_not_zero()``, until its ``refcount_dec_and_test()``.
    Made by :func:`try_get`, :meth:`clone` and :meth:`adopt`.

    Attribute and item reads go through to the object (as ``Deref`` to
    ``&T``), from any thread and after any guard; nothing can be assigned
    through it (``ReadOnlyError``: readers share the object).  What comes out
    is the object's own data: plain values, and the object's attributes as
    they are (like a lock guard's ``value``, a mutable part kept after
    :meth:`put` is not checked; :meth:`borrow` gives a reference that is).
    The handle's own names (``put``, ``clone``, ``borrow``, ``count``,
    ``freed``, ``consumed``...) are the handle's: reach an object attribute of
    the same name through :meth:`borrow`.

    Rules (R28): put exactly once; a second :meth:`put` raises ``GuardError``
    naming where the count was taken and both puts; a handle collected unput
    warns with ``CountedLeakWarning`` (and kbind puts it).  After its put a
    handle holds nothing: using it raises ``LifetimeError``, or
    ``UseAfterFreeError`` once the object was freed.  The last put frees the
    object after a grace period (:func:`kfree_rcu`), or hands it back to its
    :class:`~kbind.rcu.TypesafePool` at once.
    """

    __slots__ = ("_expect", "_obj")
    LEAK_WARNING = CountedLeakWarning

    def __init__(self, obj: T, made_at: Site, expect: tuple[str, object] | None = None) -> None:
        super().__init__(made_at)
        object.__setattr__(self, "_obj", obj)
        object.__setattr__(self, "_expect", expect)

    @classmethod
    def adopt(cls, obj: T) -> Counted[T]:
        """Take over the count of one an :class:`RcuRefcounted` is made with (the creator's).

        Rust: ``ARef::from_raw()`` of a fresh object.  Once per object: a
        second adopt would be two handles for one count (``GuardError``, R28).
        """
        if not isinstance(obj, RcuRefcounted):
            raise TypeError(f"Counted.adopt(): a {type(obj).__name__} carries no count")
        site = Site.here(2, "the first count adopted here")
        with _adopt_lock:
            first = obj._kb_adopted
            if first is None:
                object.__setattr__(obj, "_kb_adopted", site)
        if first is not None:
            raise GuardError(
                f"adopt the first count of {obj._kb_cell.label} again",
                "R28: it was adopted already; two handles for one count would put it twice",
                guard=obj._kb_cell.label, created_at=first, sites=[("second adopt at", site)],
                hint="clone() the handle adopt() returned to take another count",
            )  # fmt: skip
        return cls(obj, site)

    # -- state

    def __repr__(self) -> str:
        cell: Cell = self._obj._kb_cell
        if self.consumed:
            return f"<Counted {cell.label} (put at {self._consumed_at})>"
        return f"<Counted {cell.label}, count {self._obj.refcount.read()}>"

    @property
    def count(self) -> int:
        """The object's count now (a snapshot; kernel: ``refcount_read()``)."""
        return int(self._live("read the count").refcount.read())

    @property
    def freed(self) -> bool:
        """Whether the object was freed (after its last put and a grace period); any time."""
        return bool(self._obj._kb_cell.freed)

    def _live(self, op: str) -> Any:
        obj: Any = self._obj
        cell: Cell = obj._kb_cell
        if self._consumed_at is not None or cell.freed:
            raise self._stale(op, cell)
        return obj

    def _stale(self, op: str, cell: Cell) -> LifetimeError:
        full = f"{op} through a Counted of {cell.label}"
        put = [("this count put at", self._consumed_at)] if self._consumed_at else []
        if cell.freed:
            return UseAfterFreeError(
                full,
                "R28: the object was freed after its last put and a grace period; this handle "
                "no longer holds a count (use after free)",
                guard=cell.label, created_at=cell.published_at, retired_at=cell.retired_at,
                freed_at=cell.freed_at, sites=[("count taken at", self.made_at), *put],
                hint="take a new count (try_get() under a reader) instead of keeping a put one",
            )  # fmt: skip
        return LifetimeError(
            full,
            "R28: this count was put, so the handle holds nothing now; the object lives only "
            "as long as other counts do",
            guard=cell.label, created_at=self.made_at, dropped_at=self._consumed_at,
            hint="put a handle after its last use (or clone() it first to keep another)",
        )  # fmt: skip

    # -- access (Deref to &T)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in _HANDLE:
            raise AttributeError(name)
        obj = self._live(f"read .{name}")
        expect = self._expect
        if expect is not None and name != expect[0] and getattr(obj, expect[0]) != expect[1]:
            raise self._pool_mismatch(obj, name)
        return getattr(obj, name)

    def __getitem__(self, key: object) -> Any:
        obj = self._live(f"read [{key!r}]")
        expect = self._expect
        if expect is not None and getattr(obj, expect[0]) != expect[1]:
            raise self._pool_mismatch(obj, f"[{key!r}]")
        return obj[key]

    def __setattr__(self, name: str, value: object) -> None:
        if name in _HANDLE:
            object.__setattr__(self, name, value)
            return
        cell: Cell = self._obj._kb_cell
        raise ReadOnlyError(
            f"assign .{name} through a Counted of {cell.label}",
            "a count shares the object with every reader (Rust: ARef<T> derefs to &T); fields "
            "that change belong to a lock or an atomic inside it",
            guard=cell.label, created_at=self.made_at,
            hint="keep the changing state in a SpinLock/atomic field, or publish a new object",
        )  # fmt: skip

    def _pool_mismatch(self, obj: Any, name: str) -> LifetimeError:
        field, want = self._expect or ("", None)
        sites = [("count taken at", self.made_at)]
        sites += [(label, s) for label, s in obj._kb_pool._history(obj) if s is not None]
        return LifetimeError(
            f"read {name if name.startswith('[') else '.' + name} through a Counted of "
            f"{obj._kb_cell.label}",
            f"R21: it was looked up as {field}={want!r} but now holds {field}="
            f"{getattr(obj, field)!r}: its SLAB_TYPESAFE_BY_RCU cache freed it and reused it "
            "for another object before the count was taken, and the identity was not "
            "rechecked",
            guard=obj._kb_cell.label, sites=sites,
            hint=f"after try_get(), recheck .{field} and put() and look again on a mismatch "
            "(TypesafePool.get() does both)",
        )  # fmt: skip

    @contextmanager
    def borrow(self) -> Iterator[T]:
        """Return a ``with`` block whose reference to the object is checked like a reader's.

        The reference (an ``RcuRef`` into the object's own cell) dies with
        the block, and what comes out of it is read-only and bound to it.
        """
        self._live("borrow it")
        scope = CountedBorrow()
        try:
            yield cast(T, bind(scope, self._obj._kb_cell, RcuRef, _POLICY))
        finally:
            scope.end("leaving its with block")

    # -- counting

    def clone(self) -> Counted[T]:
        """Take another count (kernel: ``refcount_inc()``; Rust: ``ARef::clone``)."""
        obj = self._live("clone it")
        obj.refcount.inc()
        return Counted(obj, Site.here(2, "count cloned here"), self._expect)

    def put(self) -> None:
        """Drop this count; the last one frees the object after a grace period.

        Kernel: ``if (refcount_dec_and_test(&p->ref)) call_rcu(&p->rcu, free)``
        (``kref_put()``).  Context: any, including read-side sections (it
        never waits).

        Raises:
            GuardError: this handle was put already (R28, naming both puts).
        """
        site = Site.here(2, "put here")
        self._consume("put", site)
        _put(cast(RcuRefcounted, self._obj), site, finalizer=False)

    def _kb_twice(self, how: str, site: Site) -> BaseException:
        cell: Cell = self._obj._kb_cell
        return GuardError(
            f"put a Counted of {cell.label} again",
            "R28: this count was put already; a second put would drop a count another "
            "holder still relies on, and free the object under it",
            guard=cell.label, created_at=self.made_at, dropped_at=self._consumed_at,
            sites=[("second put at", site)], hint="put each handle exactly once",
        )  # fmt: skip

    def _kb_unused(self) -> None:
        # Collected unput (R28): put it now (no locks in a finalizer), and say so.
        obj = cast(RcuRefcounted, self._obj)
        made = self.made_at
        self._consumed_at, self._how = made, "put"
        try:
            _put(obj, made, finalizer=True)
        except Exception:  # interpreter shutdown: nothing can run any more
            return
        warnings.warn(
            CountedLeakWarning(
                f"a Counted of {obj._kb_cell.label}, taken at {made}, was garbage-collected "
                "without put() (R28); kbind put its count. Use `with` or call put()."
            ),
            stacklevel=1,
        )

    def __enter__(self) -> Counted[T]:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self.consumed:
            site = Site.here(2, "leaving its with block")
            self._consume("put", site)
            _put(cast(RcuRefcounted, self._obj), site, finalizer=False)


_adopt_lock = threading.Lock()
#: The handle's own attributes (never the object's).
_HANDLE: Final = frozenset({*Counted.__slots__, *MustUse.__slots__})


class CountedBorrow(Scope, kind="Counted.borrow"):
    """The scope of :meth:`Counted.borrow`'s ``with`` block."""

    __slots__ = ()


def _put(obj: RcuRefcounted, site: Site, *, finalizer: bool) -> None:
    if not obj.refcount.dec_and_test():
        return
    pool = obj._kb_pool
    if pool is not None:
        pool._release(obj, site, finalizer)
        return
    cell = obj._kb_cell
    if not finalizer:
        kfree_rcu(cell, site)
        return
    cell.retire(site, _rt.open_guards())
    callbacks.queue_from_finalizer(lambda: cell.poison(site), capture(1))


# ------------------------------------------------------- existence locks


@final
class Held(Generic[T]):
    """An object kept past its reader by its own lock: the reference and the lock's guard.

    Made by :func:`lock_existing`.  ``with held as obj:`` gives the
    reference (valid until the lock is released) and releases the lock at
    the end of the block; :meth:`unlock` releases it too.
    """

    __slots__ = ("guard", "ref")

    def __init__(self, ref: T, guard: Scope) -> None:
        #: the reference, bound to the lock's guard
        self.ref = ref
        #: the guard of the object's lock (its ``value`` is the lock's data)
        self.guard: Any = guard

    def __repr__(self) -> str:
        return f"<Held {self.ref!r} under {self.guard.name}>"

    def unlock(self) -> None:
        """Release the object's lock; the reference dies with it."""
        self.guard.end()

    def __enter__(self) -> T:
        return self.ref

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.guard.alive:
            self.guard.end("leaving its with block")


def _deleted(obj: object, guard: Any, deleted: str | None) -> bool:
    if deleted is None:
        return bool(guard.value)
    data = guard.value
    if hasattr(data, deleted):
        return bool(getattr(data, deleted))
    if hasattr(obj, deleted):
        return bool(getattr(obj, deleted))
    raise TypeError(
        f"lock_existing(): neither the {type(obj).__name__} nor its lock's data has a "
        f"{deleted!r} flag (pass deleted=None when the lock's data is the flag itself)"
    )


def lock_existing(ref: T, *, lock: str = "lock", deleted: str | None = "deleted") -> Held[T] | None:
    """Take the object's own lock inside the reader; keep the object if it was not deleted.

    Kernel: the existence lock (Documentation/RCU/whatisRCU.rst;
    Documentation/RCU/listRCU.rst, "Avoiding stale data")::

        rcu_read_lock();
        p = search(key);
        spin_lock(&p->lock);
        if (p->deleted) { spin_unlock(&p->lock); p = NULL; }
        rcu_read_unlock();
        ... p is valid until spin_unlock(&p->lock)

    ``ref`` is a reference obtained under a guard that is still open;
    ``getattr(obj, lock)`` is a kbind lock (``kbind.sync`` or
    ``kbind.kernel.sync.lock``); the flag ``deleted`` is read under it,
    from the lock's data if it has that attribute, else from the object
    (``deleted=None``: the lock's data is the flag).  The deleter must set
    it under the same lock before unpublishing the object.  Returns a
    :class:`Held` (the reference moved to the lock's guard,
    :func:`kbind.lifetime.rebind`), or None, unlocked, if it was deleted.

    Raises:
        LifetimeError: ``ref``'s guard has ended (take the lock inside it), or
            the object was retired without its flag set (R27).
    """
    _scope, obj = _counted(ref, "take its lock (lock_existing())")
    guard = getattr(obj, lock).lock()
    try:
        if _deleted(obj, guard, deleted):
            guard.end("it was deleted")
            return None
        moved = rebind(ref, guard)
    except BaseException:
        if guard.alive:
            guard.end("lock_existing() failed")
        raise
    return Held(moved, guard)
