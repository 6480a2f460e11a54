"""An RCU hash table: :class:`RcuHashTable`, a fixed array of :class:`~kbind.rcu.RcuHList` buckets.

Kernel: the RCU hash tables built from ``hlist_head`` buckets
(include/linux/rculist.h, Documentation/RCU/listRCU.rst) and the kernel's
rhashtable (include/linux/rhashtable.h: ``rhashtable_lookup()`` inside
``rcu_read_lock()``, ``rhashtable_insert_fast()``, ``rhashtable_remove_fast()``,
``rhashtable_replace_fast()``, each taking its bucket's lock); liburcu's
rculfhash (``cds_lfht_lookup()`` under ``rcu_read_lock()``) is the
userspace counterpart.  Rust: none in Rust-for-Linux yet.

What it is and is not:

* The bucket count is fixed when the table is made: no resizing (rhashtable
  and rculfhash resize while readers run; kbind's table does not, so a
  bucket's chain grows with the load).
* Per-bucket update locks: each bucket is an :class:`~kbind.rcu.RcuHList`
  with a ``SpinLock`` of its own, which :meth:`RcuHashTable.insert`,
  :meth:`~RcuHashTable.delete` and :meth:`~RcuHashTable.replace` take
  themselves (as rhashtable's bucket locks), so updaters of different
  buckets never wait for each other and an update without its lock (R26)
  cannot be written.
* Readers take no lock: :meth:`~RcuHashTable.lookup` and the traversals take
  an :class:`~kbind.rcu.RcuReadGuard` and return references bound to it
  (R20; ``LifetimeError`` once it is dropped, R01).
* A deleted or replaced value is freed only by the
  :class:`~kbind.rcu.RcuDropGuard` the update returns, after a grace period (R13).
* Keys are immutable values (numbers, strings, tuples of them: what can
  neither change nor hold a reference while the entry is published); each
  key is in the table at most once.

Public names are re-exported by :mod:`kbind.rcu`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final, Generic, NoReturn, TypeVar, final

from kbind._bridge.guard import NotClone, Site
from kbind._bridge.native import hot
from kbind.kernel.sync.lock import SpinLock
from kbind.rcu.drop import RcuDropGuard
from kbind.rcu.guard import RcuReadGuard
from kbind.rcu.rculist import RcuHList, _Head, _Node, make_node, refuse_step, retire
from kbind.rcu.reference import _POLICY, RcuRef, _is_plain

__all__ = ["RcuHashTable"]

K = TypeVar("K")
V = TypeVar("V")

_bind_open = hot.bind_open

#: The label of the table in messages.
_KIND: Final = "RcuHashTable"


@final
class RcuHashTable(NotClone, Generic[K, V]):
    """A hash table of ``K -> V`` for RCU readers: lookups under a guard, locked updates.

    Kernel: a fixed array of ``hlist_head`` buckets searched with
    ``hlist_for_each_entry_rcu()`` (the shape of rhashtable without its
    resizing; liburcu's rculfhash).  ``RcuHashTable(buckets=64)``: the
    number of buckets, fixed for the table's life (no resizing).

    Rules: readers pass an open :class:`~kbind.rcu.RcuReadGuard` of their
    thread (R20; ``TypeError`` otherwise) and get read-only references
    (R16) that die with it (R01: ``LifetimeError``); updaters need no lock
    of their own: each update takes its bucket's ``SpinLock``; a deleted or
    replaced value is freed by the returned ``RcuDropGuard`` after a grace
    period (R13), and a value object is in one table or list at a time (R15).

    Examples:
        >>> from kbind.rcu import RcuHashTable, RcuReadGuard
        >>> table = RcuHashTable[str, int](buckets=8)
        >>> table.insert("a", 1)
        True
        >>> with RcuReadGuard() as g:
        ...     table.lookup(g, "a") == 1, table.lookup(g, "b")
        (True, None)
        >>> table.delete("a").drop()
    """

    __slots__ = ("__weakref__", "_buckets", "_heads", "_made_at", "_n")
    _CLONE_ROLE = "owner"

    def __init__(self, buckets: int = 64) -> None:
        n = operator.index(buckets)
        if n < 1:
            raise ValueError(f"RcuHashTable(buckets={buckets!r}): at least one bucket")
        self._made_at = Site.here(2)
        self._buckets: tuple[RcuHList[V], ...] = tuple(
            RcuHList(lock=SpinLock(None)) for _ in range(n)
        )
        self._heads: tuple[_Head, ...] = tuple(b._head for b in self._buckets)
        self._n = n

    def __repr__(self) -> str:
        return f"<RcuHashTable of {self._n} buckets made at {self._made_at}>"

    @property
    def buckets(self) -> int:
        """The number of buckets (fixed: the table never resizes)."""
        return self._n

    # -- readers

    def lookup(self, guard: RcuReadGuard, key: K) -> V | None:
        """Return a read-only reference to ``key``'s value, bound to ``guard``, or None.

        Kernel: ``rhashtable_lookup()`` / ``cds_lfht_lookup()`` inside
        ``rcu_read_lock()``: the bucket's chain is walked comparing keys, and
        only the match gets a reference.  Statically the reference is the
        ``V`` it forwards to.

        Raises:
            TypeError: ``guard`` is not an RcuReadGuard (R20), or ``key`` is unhashable.
            LifetimeError: ``guard`` was dropped.
            GuardError: ``guard`` belongs to another thread (R08).
        """
        node = self._heads[hash(key) % self._n].next
        while node is not None:
            if node.key == key:
                ref = _bind_open(RcuRef, _POLICY, guard, node, RcuReadGuard)
                if ref is None:
                    self._refuse(guard, "look up a key of")
                return ref  # type: ignore[no-any-return]
            node = node.next
        if type(guard) is not RcuReadGuard or not (guard.alive and guard._is_mine()):
            self._refuse(guard, "look up a key of")
        return None

    def items(self, guard: RcuReadGuard) -> Iterator[tuple[K, V]]:
        """Traverse every entry: ``(key, reference to its value)`` pairs, bound to ``guard``.

        Bucket by bucket (``hlist_for_each_entry_rcu()`` on each); entries
        added or deleted meanwhile may or may not be seen.  The iterator dies
        with the guard (``LifetimeError`` at its next step).  Raises as
        :meth:`lookup`.
        """
        self._check(guard, "traverse")
        return self._walk(guard, True)

    def values(self, guard: RcuReadGuard) -> Iterator[V]:
        """Traverse every value (references bound to ``guard``); as :meth:`items`."""
        self._check(guard, "traverse")
        return self._walk(guard, False)

    def keys(self, guard: RcuReadGuard) -> Iterator[K]:
        """Traverse every key (plain values: they outlive the guard); as :meth:`items`."""
        self._check(guard, "traverse")
        return (k for k, _ in self._walk(guard, True))

    def _walk(self, guard: RcuReadGuard, pairs: bool) -> Iterator[Any]:
        bind_open, ref_type, pol = _bind_open, RcuRef, _POLICY
        for head in self._heads:
            node = head.next
            while node is not None:
                ref = bind_open(ref_type, pol, guard, node)
                if ref is None:
                    refuse_step(guard, _KIND, "continue traversing")
                yield (node.key, ref) if pairs else ref
                node = node.next
        if not (guard.alive and guard._is_mine()):
            refuse_step(guard, _KIND, "finish traversing")

    if not TYPE_CHECKING:  # so that mypy rejects ``for key in table`` and ``key in table``

        def __iter__(self) -> NoReturn:
            raise TypeError(
                "R20: an RcuHashTable is read only inside a read-side critical section: "
                "`table.items(g)`, `table.keys(g)`, `table.values(g)` or `table.lookup(g, key)` "
                "inside `with RcuReadGuard() as g:`"
            )

        def __contains__(self, item: object) -> NoReturn:
            self.__iter__()

    def _check(self, guard: object, op: str) -> None:
        if type(guard) is RcuReadGuard:
            assert isinstance(guard, RcuReadGuard)
            if guard.alive and guard._is_mine():
                return
        self._refuse(guard, op)

    def _refuse(self, guard: object, op: str) -> NoReturn:
        if not isinstance(guard, RcuReadGuard):
            raise TypeError(
                f"RcuHashTable: {op} it needs the RcuReadGuard of a read-side critical "
                f"section, not {type(guard).__name__} (R20: readers traverse only inside a "
                "reader; the table's updates take its bucket locks themselves)"
            )
        refuse_step(guard, _KIND, op)

    # -- updaters (each takes its bucket's lock)

    def _bucket(self, key: object) -> RcuHList[V]:
        return self._buckets[hash(key) % self._n]

    def _node(self, bucket: RcuHList[V], key: K, value: V, site: Site) -> _Node:
        # Built before the bucket lock is taken (kmalloc() before spin_lock()).
        if not _is_plain(key):
            raise TypeError(
                f"RcuHashTable: a key must be immutable (numbers, strings, tuples of them), "
                f"not a {type(key).__name__}: a key cannot change while its entry is published"
            )
        return make_node(_KIND, value, key, bucket._head, site)

    def insert(self, key: K, value: V) -> bool:
        """Add ``key -> value`` unless ``key`` is in the table; return whether it was added.

        Kernel: ``rhashtable_lookup_insert_fast()`` (``-EEXIST`` when the key
        is there): under the bucket's lock, ``hlist_add_head_rcu()``.

        Raises:
            TypeError: ``key`` is mutable or unhashable, or ``value`` is a reference (R02).
            GuardError: the value object is already in a table or list (R15).
        """
        site = Site.here(2)
        bucket = self._bucket(key)
        node = self._node(bucket, key, value, site)
        with bucket._lock.lock():
            if bucket._find_key(key) is None:
                bucket._link_first(node)
                return True
        node.free(site)  # never published: no reader can hold it
        return False

    def delete(self, key: K) -> RcuDropGuard[V]:
        """Remove ``key``'s entry now; return the drop guard that frees its value after a GP.

        Kernel: ``rhashtable_remove_fast()`` (``hlist_del_rcu()`` under the
        bucket's lock), then ``synchronize_rcu(); kfree()`` (``drop()``) or
        ``kfree_rcu()`` (``defer()``).  Readers that found the entry before
        keep reading it until their guards end.

        Raises:
            KeyError: ``key`` is not in the table.
        """
        site = Site.here(2)
        bucket = self._bucket(key)
        with bucket._lock.lock():
            node = bucket._find_key(key)
            if node is None:
                raise KeyError(key)
            bucket._unlink(node)
        return retire(node, site)

    def replace(self, key: K, value: V) -> RcuDropGuard[V]:
        """Publish ``value`` for ``key`` in one step; return the drop guard of the old value.

        Kernel: ``rhashtable_replace_fast()`` (``hlist_replace_rcu()`` under
        the bucket's lock): a reader finds the old value or the new one.

        Raises:
            KeyError: ``key`` is not in the table.
            TypeError, GuardError: as :meth:`insert`.
        """
        site = Site.here(2)
        bucket = self._bucket(key)
        node = self._node(bucket, key, value, site)
        with bucket._lock.lock():
            old = bucket._find_key(key)
            if old is not None:
                bucket._swap(old, node)
        if old is None:
            node.free(site)
            raise KeyError(key)
        return retire(old, site)
