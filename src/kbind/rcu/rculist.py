"""RCU-protected lists: :class:`RcuList` (``list_head``) and :class:`RcuHList` (``hlist_head``).

Kernel: include/linux/rculist.h (``list_add_rcu()``, ``list_add_tail_rcu()``,
``list_del_rcu()``, ``list_replace_rcu()``, ``list_for_each_entry_rcu()`` and
the ``hlist_*_rcu()`` forms), used as Documentation/RCU/listRCU.rst and
Documentation/RCU/whatisRCU.rst teach: readers traverse inside
``rcu_read_lock()``, updaters change the links under a lock of their own
(``spin_lock(&mylock)``, which ``lockdep_assert_held()`` checks) and free a
removed element only after a grace period.  Rust: Rust-for-Linux has no RCU
list yet; kbind gives it the shape of :class:`kbind.rcu.Rcu`: a traversal
borrows the guard, so its iterator and every element reference die with it.

The structure: each element is a node that is a :class:`kbind.lifetime.Cell`
(what a reader's :class:`~kbind.rcu.RcuRef` reaches), linked by ``next``
(what readers follow) and ``prev`` (the updaters' link).  Every link update
is one attribute store, atomic under the GIL, made in the kernel's order:
a new node is initialised first, then published by the one store that makes
it reachable; a removed node keeps its ``next``, so a reader standing on it
goes on to the rest of the list.  Readers on other threads therefore see a
consistent list at every instant, and never take a lock.

Rules (rule codes of docs/misuse.md):

* R20: a traversal needs a read guard (``lst.iter(guard)``; mypy rejects a
  call without one, ``for x in lst`` raises ``TypeError``); the iterator and
  every element reference die with the guard: ``LifetimeError`` naming where
  it was created and dropped.  The list's own update-side lock, held, also
  lets its holder traverse (``list_for_each_entry_rcu(..., lockdep_is_held())``).
* R26: an update without the list's update-side lock held by the calling
  thread raises ``GuardError`` naming where the list was made and the update.
* R13/R14: a removed or replaced element is freed (its cell poisoned) only by
  the :class:`~kbind.rcu.RcuDropGuard` that ``remove()``/``replace()``
  return, after a grace period (``drop()``: ``synchronize_rcu(); kfree()``;
  ``defer()``: ``kfree_rcu()``); a later access through a stale reference
  raises ``UseAfterFreeError`` naming where it was removed and freed.
* R15: one object in two places (added twice, or to two lists), or one
  element removed twice, raises ``GuardError``.
* R16: element references are read-only (``ReadOnlyError``).

Public names are re-exported by :mod:`kbind.rcu`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, NoReturn, TypeVar, cast, final

import kbind.rcu._runtime as _rt
from kbind._bridge.guard import NotClone, Site, user_frame
from kbind._bridge.native import hot, lib
from kbind.errors import GuardError, LifetimeError
from kbind.kernel.sync.lock import Guard as LockGuard
from kbind.kernel.sync.lock import Lock, Mutex, SpinLock, SpinLockIrq
from kbind.rcu._callbacks import callbacks
from kbind.rcu.drop import RcuDropGuard
from kbind.rcu.guard import RcuReadGuard
from kbind.rcu.reference import _POLICY, RcuRef, _Box, _copy_refs_out, _is_plain

__all__ = ["RcuHList", "RcuList"]

T = TypeVar("T")

_bind = hot.bind
_bind_open = hot.bind_open
_ref_parts = hot.ref_parts
_current_thread = hot.current_thread

#: What a traversal may be given: a read guard, or a held guard of the list's update lock.
Traversal = RcuReadGuard | LockGuard[Any]
#: The update-side locks a list may be given (``kbind.kernel.sync.lock``'s).
UpdateLock = SpinLock[Any] | Mutex[Any] | SpinLockIrq[Any]


class _Poison:
    """A link that must never be followed (the kernel's ``LIST_POISON2``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: ``prev`` of a removed node: removed already (``list_del_rcu()`` writes LIST_POISON2).
_UNLINKED: Final = _Poison("LIST_POISON2")
#: The key of a node of a list without a key function (never equal to a key looked up).
_NOKEY: Final = _Poison("no key")


class _Head:
    """A list head (``struct list_head`` / ``struct hlist_head``).

    ``next`` is the first node: for an :class:`RcuList` the head itself when
    the circular list is empty (``prev`` is then the last node), for an
    :class:`RcuHList` None.
    """

    __slots__ = ("next", "prev")

    def __init__(self, circular: bool) -> None:
        self.next: Any = self if circular else None
        self.prev: Any = self if circular else None

    def __repr__(self) -> str:
        return "<list head>"


class _Node(_Box):
    """One element: the cell its readers' references reach, its links and its key.

    A :class:`kbind.lifetime.Cell` (through the RCU box, so one object is owned
    by one live element, R15): poisoned once an ``RcuDropGuard`` frees it.
    ``next`` is what readers follow; ``prev`` is the predecessor whose ``next``
    is this node (``_UNLINKED`` once removed); ``owner`` is the head of the
    list it was added to; ``key`` what :meth:`lookup` compares.
    """

    __slots__ = ("key", "next", "owner", "prev")
    key: object
    next: Any
    prev: Any
    owner: _Head


def make_node(kind: str, value: object, key: object, head: _Head, site: Site) -> _Node:
    """Return the unlinked node of ``value`` (its references copied out, R02) in ``head``'s list."""
    label = f"{kind}[{type(value).__name__}] element"
    node = _Node(_copy_refs_out(value, label), label, site)
    node.key = key
    node.owner = head
    node.next = node.prev = None
    return node


def retire(node: _Node, site: Site) -> RcuDropGuard[Any]:
    """Return the drop guard that frees ``node`` after a grace period (it was just unlinked).

    The grace period's cookie is taken after the unlink: it waits for every
    reader that could have reached the node.
    """
    tr = _rt.tracer
    t_retire = tr._stamp() if tr is not None else 0
    cookie = int(lib.kb_get_state_synchronize_rcu())  # full barrier, then the GP to wait
    if tr is not None:
        tr._retire(cookie, t_retire)
    node.retired_at = site
    callbacks.ensure_thread()  # so a leaked drop guard can still be freed later
    return RcuDropGuard(node, cookie, site)


def refuse_step(guard: Any, kind: str, op: str) -> NoReturn:
    """Raise the error for a traversal step under a guard that is not open on this thread."""
    if guard.begun and not guard.alive:
        raise LifetimeError(
            f"{op} an {kind} under {guard.name}",
            f"R20: {guard.name} was dropped, so the list's elements may already be freed; "
            "an RCU list is traversed only inside a read-side critical section, and its "
            "iterator dies with the guard (list_for_each_entry_rcu() outside "
            "rcu_read_lock(): CONFIG_PROVE_RCU_LIST reports it)",
            guard=guard.name,
            created_at=guard.created_at,
            dropped_at=guard.dropped_at,
            hint="finish the traversal inside the guard's with block; copy out what you need",
        )
    if type(guard) is RcuReadGuard and guard.begun:
        guard._refuse_thread(f"{op} an {kind} under {guard.name}", user_frame())
    guard.check_alive(f"{op} an {kind}")
    guard.check_owner(f"{op} an {kind} under {guard.name}")
    raise RuntimeError(f"kbind: refused {guard!r} without an error")  # pragma: no cover


def walk(guard: Any, head: _Head, end: object, kind: str) -> Iterator[Any]:
    """Yield a reference to each element, bound to ``guard`` (``list_for_each_entry_rcu()``).

    The first link is read at the first step (inside the section); each step
    binds in C, which checks that the guard is open on this thread.
    """
    bind_open, ref_type, pol = _bind_open, RcuRef, _POLICY
    node = head.next
    while node is not end:
        ref = bind_open(ref_type, pol, guard, node)
        if ref is None:
            refuse_step(guard, kind, "continue traversing")
        yield ref
        node = node.next
    if not (guard.alive and guard._is_mine()):
        refuse_step(guard, kind, "finish traversing")


class _ListBase(NotClone, Generic[T]):
    """What :class:`RcuList` and :class:`RcuHList` share: the lock rules, traversal, removal."""

    __slots__ = ("__weakref__", "_end", "_head", "_key", "_lock", "_made_at", "_word")
    _CLONE_ROLE = "owner"
    KIND: ClassVar[str] = "RCU list"
    _ADD: ClassVar[str] = "add"
    #: a circular list_head (True) or a None-terminated hlist_head (False)
    _CIRCULAR: ClassVar[bool] = True

    def __init__(
        self,
        values: Iterable[T] = (),
        *,
        lock: UpdateLock | None = None,
        key: Callable[[T], object] | None = None,
    ) -> None:
        circular = self._CIRCULAR
        if lock is None:
            lock = SpinLock(None)
        elif not isinstance(lock, Lock):
            raise TypeError(
                f"{self.KIND}(lock=...): the update-side lock must be a kbind.kernel.sync.lock "
                f"SpinLock or Mutex, not {type(lock).__name__}"
            )
        if key is not None and not callable(key):
            raise TypeError(f"{self.KIND}(key=...): key must be a function of an element")
        self._lock = lock
        self._word = lock._word
        self._key = key
        self._made_at = Site.here(2)
        self._head = _Head(circular)
        self._end = self._head if circular else None
        for value in values:  # not yet shared: no reader, no other updater
            self._link_last(self._node(value, self._made_at))

    def __repr__(self) -> str:
        return f"<{self.KIND} made at {self._made_at}>"

    @property
    def update_lock(self) -> UpdateLock:
        """The update-side lock: hold it around every update (``spin_lock(&mylock)``)."""
        return self._lock

    def is_empty(self) -> bool:
        """Whether the list has no element (a snapshot: ``list_empty()``; any context)."""
        return self._head.next is self._end

    # -- readers

    def iter(self, guard: Traversal) -> Iterator[T]:
        """Traverse the list: a read-only reference to each element, bound to ``guard``.

        Kernel: ``list_for_each_entry_rcu(pos, head, member)`` (or
        ``hlist_for_each_entry_rcu()``), inside ``rcu_read_lock()``; with the
        list's update-side lock held instead, ``..._rcu(..., lockdep_is_held(&lock))``.
        Rust: an iterator borrowing ``&'g Guard``.  Statically each reference
        is the ``T`` it forwards to (as :meth:`kbind.rcu.Rcu.read`).

        Elements added or removed meanwhile by updaters on other threads may
        or may not be seen; every element seen stays readable until the
        guard is dropped.

        Raises:
            TypeError: ``guard`` is neither an RcuReadGuard nor a guard of
                this list's update-side lock (R20).
            LifetimeError: ``guard`` was dropped, now or at a later step (R20).
            GuardError: ``guard`` belongs to another thread (R08), or holds
                another lock (R20).
        """
        self._check_traversal(guard, "traverse")
        return walk(guard, self._head, self._end, self.KIND)

    def read(self, guard: Traversal) -> Iterator[T]:
        """Traverse the list as :meth:`iter` does: ``for ref in lst.read(g):``."""
        self._check_traversal(guard, "traverse")
        return walk(guard, self._head, self._end, self.KIND)

    def first(self, guard: Traversal) -> T | None:
        """Return a reference to the first element, bound to ``guard``, or None if empty.

        Kernel: ``list_first_or_null_rcu()``.  Raises as :meth:`iter`.
        """
        node = self._head.next
        if node is self._end:
            self._check_traversal(guard, "read the first element of")
            return None
        return self._bind(guard, node, "read the first element of")

    def lookup(self, guard: Traversal, key: object) -> T | None:
        """Return a reference to the first element whose key is ``key``, or None.

        The list's key function (``key=`` when it was made) gives each
        element's key when it is added; elements are read-only while
        published, so it cannot change (as rhashtable's ``key_offset``).
        Kernel: ``list_for_each_entry_rcu()`` comparing each entry's key.
        The scan compares the keys and binds a reference only to the match.

        Raises:
            TypeError: the list has no key function, or as :meth:`iter`.
        """
        if self._key is None:
            raise TypeError(
                f"{self.KIND}.lookup() compares the keys a key function gives: make the list "
                f"with {self.KIND}(key=...), or traverse it with iter(guard)"
            )
        node = self._head.next
        end = self._end
        while node is not end:
            if node.key == key:
                return self._bind(guard, node, "look up an element of")
            node = node.next
        self._check_traversal(guard, "look up an element of")
        return None

    if not TYPE_CHECKING:  # so that mypy rejects ``for ref in lst`` too

        def __iter__(self) -> NoReturn:
            raise TypeError(
                f"R20: an {self.KIND} is traversed only inside a read-side critical section, "
                f"so it is not iterable by itself: `for ref in lst.iter(guard):` inside `with "
                "RcuReadGuard() as guard:` (kernel: list_for_each_entry_rcu() outside "
                "rcu_read_lock(), which CONFIG_PROVE_RCU_LIST reports)"
            )

        def __contains__(self, item: object) -> NoReturn:
            self.__iter__()

    def _bind(self, guard: Any, node: _Node, op: str) -> T:
        # The fast path binds to an open RcuReadGuard of this thread in one C call.
        ref = _bind_open(RcuRef, _POLICY, guard, node, RcuReadGuard)
        if ref is None:
            self._check_traversal(guard, op)  # raises unless it is the held update lock
            ref = _bind(RcuRef, _POLICY, guard, node)
        return cast(T, ref)

    def _check_traversal(self, guard: object, op: str) -> None:
        """Raise unless ``guard`` lets the calling thread traverse this list now (R20)."""
        t = type(guard)
        if t is RcuReadGuard:
            assert isinstance(guard, RcuReadGuard)
            if guard.alive and guard._is_mine():
                return
            refuse_step(guard, self.KIND, op)
        if t is LockGuard:
            assert isinstance(guard, LockGuard)
            if guard._data is self._word:
                if guard.alive and guard._is_mine():
                    return
                refuse_step(guard, self.KIND, op)
            raise GuardError(
                f"{op} an {self.KIND} under {guard.name}",
                f"R20: {guard.name} holds another lock than this list's update-side lock, "
                "so it protects nothing the traversal reads (lockdep_is_held() names the "
                "list's own lock)",
                guard=guard.name,
                created_at=guard.created_at,
                sites=[(f"the {self.KIND} made at", self._made_at)],
                hint="traverse inside `with RcuReadGuard() as g:`, or under lst.update_lock",
            )
        raise TypeError(
            f"{self.KIND}: {op} needs the RcuReadGuard of a read-side critical section (or a "
            f"held guard of the list's update_lock), not {t.__name__} (R20: an RCU list is "
            "traversed only inside a reader; CONFIG_PROVE_RCU_LIST)"
        )

    # -- updaters

    def _node(self, value: T, site: Site) -> _Node:
        key: object = _NOKEY
        if self._key is not None:
            key = self._key(value)
            if not _is_plain(key):
                raise TypeError(
                    f"{self.KIND}: the key function returned a {type(key).__name__}; keys "
                    "must be immutable (numbers, strings, tuples of them), as they cannot "
                    "change while the element is published"
                )
        return make_node(self.KIND, value, key, self._head, site)

    def _assert_held(self, op: str, site: Site) -> None:
        """``lockdep_assert_held(&lock)``: raise unless this thread holds the update lock (R26)."""
        if self._word.owner is not _current_thread():
            holder = self._word.holder
            if holder is None:
                state = "no thread holds it"
                sites = [("update attempted at", site)]
            else:
                state = f"thread {holder.created_at.thread!r} holds it"
                sites = [("the lock taken at", holder.created_at), ("update attempted at", site)]
            raise GuardError(
                f"{op} an {self.KIND}",
                "R26: an RCU list's links are changed only by the holder of its update-side "
                f"lock (its {self._lock.KIND}), and {state}; readers take no lock, but two "
                "updaters at once would corrupt the links they follow (kernel: list_add_rcu() "
                "under spin_lock(&lock), which lockdep_assert_held() checks)",
                guard=f"the {self.KIND}",
                created_at=self._made_at,
                sites=sites,
                hint=f"take the lock around the update: `with lst.update_lock.lock(): "
                f"lst.{self._ADD}(value)`",
            )

    def _element(self, element: object, op: str, site: Site) -> _Node:
        """Return the node of ``element``: a reference to it, or its value (an updater's)."""
        if isinstance(element, hot.Ref):
            _, cell, obj = _ref_parts(element)
            if type(cell) is not _Node or cell.owner is not self._head or obj is not None:
                raise ValueError(
                    f"{op} an element of an {self.KIND}: {element!r} is not a reference to an "
                    "element of this list"
                )
            node: _Node = cell
            if node.prev is _UNLINKED:
                raise GuardError(
                    f"{op} an element of an {self.KIND}",
                    "R15: it was removed already; an element is removed, and freed, once "
                    "(list_del_rcu() twice is a double free)",
                    guard=f"the {node.label}",
                    created_at=node.published_at,
                    sites=[
                        *([("removed at", node.retired_at)] if node.retired_at else []),
                        (f"{op} attempted at", site),
                    ],
                    hint="remove each element once",
                )
            return node
        plain = _is_plain(element)
        cur = self._head.next
        while cur is not self._end:
            v = cur.value
            if v is element or (plain and v == element):
                found: _Node = cur
                return found
            cur = cur.next
        raise ValueError(f"{op} an element of an {self.KIND}: {element!r} is not in the list")

    def remove(self, element: T) -> RcuDropGuard[T]:
        """Unlink ``element`` now; return the drop guard that frees it after a grace period.

        Kernel: ``list_del_rcu()`` / ``hlist_del_rcu()`` under the update-side
        lock, then ``synchronize_rcu(); kfree()`` (the guard's ``drop()``,
        outside the lock: it waits) or ``kfree_rcu()`` (``defer()``).  Readers
        that reached the element before keep reading it until their guards
        end.  ``element`` is a reference to it (from :meth:`iter`,
        :meth:`lookup`) or its value (the first element that is it).

        Raises:
            GuardError: this thread does not hold the update-side lock (R26),
                or the element was removed already (R15).
            ValueError: no such element in this list.
        """
        site = Site.here(2)
        self._assert_held("remove an element from", site)
        node = self._element(element, "remove", site)
        self._unlink(node)
        return retire(node, site)

    def replace(self, old: T, new: T) -> RcuDropGuard[T]:
        """Put ``new`` in ``old``'s place in one step; return the drop guard that frees ``old``.

        Kernel: ``list_replace_rcu()`` / ``hlist_replace_rcu()``: the new
        element is initialised, then published where the old one was, so a
        reader sees one or the other, never neither.  ``old`` as for
        :meth:`remove`.

        Raises:
            GuardError: as :meth:`remove`, or ``new`` is already in a list (R15).
            ValueError: ``old`` is not in this list.
        """
        site = Site.here(2)
        self._assert_held("replace an element of", site)
        node = self._element(old, "replace", site)
        self._swap(node, self._node(new, site))
        return retire(node, site)

    # -- the links (each subclass's): called with the update lock held

    def _link_last(self, node: _Node) -> None:
        raise NotImplementedError

    def _unlink(self, node: _Node) -> None:
        raise NotImplementedError

    def _swap(self, old: _Node, new: _Node) -> None:
        raise NotImplementedError


@final
class RcuList(_ListBase[T]):
    """A doubly linked RCU list: readers traverse under a guard, updaters hold its lock.

    Kernel: ``struct list_head`` with include/linux/rculist.h
    (Documentation/RCU/listRCU.rst).  Rust: no RCU list in Rust-for-Linux
    yet; this is the shape of :class:`kbind.rcu.Rcu` for a list.

    ``RcuList(values=(), *, lock=None, key=None)``: the initial elements (in
    order), the update-side lock (a ``kbind.kernel.sync.lock`` ``SpinLock``
    or ``Mutex``; by default a ``SpinLock`` of its own) and a key function
    for :meth:`lookup`.

    Rules: see :mod:`kbind.rcu.rculist` (R20 traversal under a guard, R26
    updates under the lock, R13 freeing after a grace period, R15, R16).

    Examples:
        >>> from kbind.rcu import RcuList, RcuReadGuard
        >>> lst = RcuList([1, 2])
        >>> with lst.update_lock.lock():
        ...     lst.add(0)
        >>> with RcuReadGuard() as g:
        ...     [int(ref) for ref in lst.iter(g)]
        [0, 1, 2]
        >>> with lst.update_lock.lock():
        ...     old = lst.remove(1)
        >>> old.drop()   # after a grace period: freed
    """

    __slots__ = ()
    KIND = "RcuList"
    _CIRCULAR = True

    def add(self, value: T) -> None:
        """Insert ``value`` at the head (kernel: ``list_add_rcu()``).

        Raises:
            GuardError: this thread does not hold the update-side lock (R26),
                or the object is already in a list (R15).
            TypeError: ``value`` is a reference (R02), or its key is mutable.
        """
        site = Site.here(2)
        self._assert_held("add to", site)
        head = self._head
        self._link(self._node(value, site), head, head.next)

    def add_tail(self, value: T) -> None:
        """Insert ``value`` at the tail (kernel: ``list_add_tail_rcu()``); raises as :meth:`add`."""
        site = Site.here(2)
        self._assert_held("add to", site)
        self._link_last(self._node(value, site))

    @staticmethod
    def _link(node: _Node, prev: Any, nxt: Any) -> None:
        # __list_add_rcu(): initialise, then publish (one store), then the back link.
        node.next = nxt
        node.prev = prev
        prev.next = node  # rcu_assign_pointer(): readers may reach it from now on
        nxt.prev = node

    def _link_last(self, node: _Node) -> None:
        head = self._head
        self._link(node, head.prev, head)

    def _unlink(self, node: _Node) -> None:
        # list_del_rcu(): node.next stays, so a reader standing on the node goes on.
        prev, nxt = node.prev, node.next
        nxt.prev = prev
        prev.next = nxt  # unpublished: no new reader reaches it
        node.prev = _UNLINKED

    def _swap(self, old: _Node, new: _Node) -> None:
        # list_replace_rcu(): initialise, then publish in old's place.
        new.next = old.next
        new.prev = old.prev
        new.prev.next = new  # rcu_assign_pointer()
        new.next.prev = new
        old.prev = _UNLINKED


@final
class RcuHList(_ListBase[T]):
    """A hash-chain RCU list (one head pointer, ``None``-terminated): the hlist forms.

    Kernel: ``struct hlist_head`` with ``hlist_add_head_rcu()``,
    ``hlist_del_rcu()``, ``hlist_replace_rcu()`` and
    ``hlist_for_each_entry_rcu()`` (include/linux/rculist.h): the buckets
    of RCU hash tables (:class:`kbind.rcu.RcuHashTable`).  Same arguments and
    rules as :class:`RcuList`.

    Examples:
        >>> from kbind.rcu import RcuHList, RcuReadGuard
        >>> chain = RcuHList(key=lambda kv: kv[0])
        >>> with chain.update_lock.lock():
        ...     chain.add_head(("a", 1))
        >>> with RcuReadGuard() as g:
        ...     chain.lookup(g, "a")[1]
        1
    """

    __slots__ = ()
    KIND = "RcuHList"
    _ADD = "add_head"
    _CIRCULAR = False

    def add_head(self, value: T) -> None:
        """Insert ``value`` first (kernel: ``hlist_add_head_rcu()``).

        Raises:
            GuardError: this thread does not hold the update-side lock (R26),
                or the object is already in a list (R15).
            TypeError: ``value`` is a reference (R02), or its key is mutable.
        """
        site = Site.here(2)
        self._assert_held("add to", site)
        self._link_first(self._node(value, site))

    def _link_first(self, node: _Node) -> None:
        # hlist_add_head_rcu(): initialise, publish, then the old first's back link.
        head = self._head
        first = head.next
        node.next = first
        node.prev = head
        head.next = node  # rcu_assign_pointer()
        if first is not None:
            first.prev = node

    def _link_last(self, node: _Node) -> None:
        last: Any = self._head
        while last.next is not None:
            last = last.next
        node.next = None
        node.prev = last
        last.next = node  # hlist_add_tail_rcu()

    def _unlink(self, node: _Node) -> None:
        # hlist_del_rcu(): node.next stays for readers standing on it.
        nxt, pprev = node.next, node.prev
        pprev.next = nxt
        if nxt is not None:
            nxt.prev = pprev
        node.prev = _UNLINKED

    def _swap(self, old: _Node, new: _Node) -> None:
        # hlist_replace_rcu()
        nxt = old.next
        new.next = nxt
        new.prev = old.prev
        new.prev.next = new  # rcu_assign_pointer()
        if nxt is not None:
            nxt.prev = new
        old.prev = _UNLINKED

    def _find_key(self, key: object) -> _Node | None:
        """Return the node whose key is ``key`` (the update lock is held), or None."""
        node = self._head.next
        while node is not None:
            if node.key == key:
                found: _Node = node
                return found
            node = node.next
        return None
