"""kbind.rcu.RcuList and RcuHList: traversal under a guard, updates under the lock, GP freeing.

Every test runs on both RCU backends.  The concurrent tests are bounded in
iterations and joined with a timeout; none depends on timing to pass.
"""

from __future__ import annotations

import copy
import gc
import pathlib
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

import kbind
from kbind import lifetime
from kbind._bridge.native import hot, lib
from kbind.errors import CloneError, GuardError, LifetimeError, ReadOnlyError, UseAfterFreeError
from kbind.kernel.sync.lock import Mutex, SpinLock
from kbind.rcu import RcuDropGuard, RcuHList, RcuList, RcuReadGuard, RcuRef, rcu_barrier
from kbind.rcu import _runtime as rt
from tests.conftest import run_threads

pytestmark = pytest.mark.rcu_backends

JOIN = 10.0


def line_of(marker: str) -> int:
    """The line of this file carrying ``# <marker>`` (so tests assert on real sites)."""
    for number, text in enumerate(pathlib.Path(__file__).read_text().splitlines(), start=1):
        if text.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(marker)


class Item:
    """A list element: an id and a payload (mutable, to try R16)."""

    def __init__(self, id: int, payload: str = "") -> None:
        self.id = id
        self.payload = payload or f"item {id}"

    def __repr__(self) -> str:
        return f"Item({self.id})"


@pytest.fixture(autouse=True)
def _clean_rcu() -> Iterator[None]:
    """Each test starts and ends with no guard open and the real engine; callbacks have run."""
    assert kbind.rcu.read_lock_depth() == 0
    yield
    lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NONE)
    assert kbind.rcu.read_lock_depth() == 0
    assert rcu_barrier(timeout=JOIN)


def ids(lst: RcuList[Item] | RcuHList[Item]) -> list[int]:
    with RcuReadGuard() as g:
        return [ref.id for ref in lst.iter(g)]


# ----------------------------------------------------------------- happy paths


def test_add_add_tail_and_traversal_order() -> None:
    """add() inserts at the head, add_tail() at the tail; iter() and read() walk head to tail."""
    lst = RcuList([Item(1), Item(2)])
    assert not lst.is_empty()
    with lst.update_lock.lock():
        lst.add(Item(0))
        lst.add_tail(Item(3))
    with RcuReadGuard() as g:
        assert [r.id for r in lst.iter(g)] == [0, 1, 2, 3]
        assert [r.id for r in lst.read(g)] == [0, 1, 2, 3]
        first = lst.first(g)
        assert first is not None and first.id == 0
    assert RcuList[int]().is_empty()
    with RcuReadGuard() as g:
        assert RcuList[int]().first(g) is None


def test_element_references_are_lifetime_refs_into_each_elements_cell() -> None:
    """Each element reference is an RcuRef (a kbind.lifetime.Ref) into that element's own Cell."""
    lst = RcuList([Item(1), Item(2)])
    with RcuReadGuard() as g:
        refs = list(lst.iter(g))
        cells = []
        for ref in refs:
            assert type(ref) is RcuRef and isinstance(ref, lifetime.Ref)
            scope, cell, obj = hot.ref_parts(ref)
            assert scope is g and isinstance(cell, lifetime.Cell) and obj is None
            assert cell.label == "RcuList[Item] element"
            cells.append(cell)
        assert cells[0] is not cells[1]
        assert lifetime.bind(g, cells[0]).id == 1  # any lifetime tool reaches the element


def test_lookup_compares_the_keys_of_the_key_function() -> None:
    """lookup(g, key) finds the first element whose key is key, as a reference; None if none."""
    lst = RcuList([Item(i) for i in range(5)], key=lambda it: it.id)
    with RcuReadGuard() as g:
        ref = lst.lookup(g, 3)
        assert ref is not None and ref.payload == "item 3"
        assert lst.lookup(g, 9) is None
    with pytest.raises(TypeError, match=r"key=\.\.\."), RcuReadGuard() as g:
        RcuList([1]).lookup(g, 1)
    with pytest.raises(TypeError, match="immutable"):
        RcuList([Item(1)], key=lambda it: [it.id])


def test_remove_by_reference_or_by_value_unlinks_now_and_frees_after_a_grace_period() -> None:
    """remove() hands back an RcuDropGuard: the element is gone for new readers, freed on drop()."""
    a, b, c = Item(1), Item(2), Item(3)
    lst = RcuList([a, b, c])
    alive = weakref.ref(b)
    with lst.update_lock.lock():
        with RcuReadGuard() as g:
            ref = next(r for r in lst.iter(g) if r.id == 2)
            old = lst.remove(ref)
        removed_c = lst.remove(c)
    assert isinstance(old, RcuDropGuard) and old.pending and not old.freed
    assert ids(lst) == [1]
    del b
    gc.collect()
    assert alive() is not None  # the drop guard's element still owns it
    old.drop()
    removed_c.defer()
    assert rcu_barrier(timeout=JOIN)
    gc.collect()
    assert old.freed and removed_c.freed and alive() is None


def test_replace_by_value_publishes_the_new_element_in_place() -> None:
    """replace(old, new) with the old value itself; a value that is not there is a ValueError."""
    two = Item(2)
    lst = RcuList([Item(1), two, Item(3)])
    with lst.update_lock.lock():
        old = lst.replace(two, Item(20))
        with pytest.raises(ValueError, match="not in the list"):
            lst.replace(two, Item(21))
    assert ids(lst) == [1, 20, 3]
    old.drop()


def test_replace_by_reference_keeps_the_order() -> None:
    """replace(ref, new): the new element is where the old one was; the old is freed on drop()."""
    lst = RcuList([Item(1), Item(2), Item(3)], key=lambda it: it.id)
    with lst.update_lock.lock(), RcuReadGuard() as g:
        old = lst.replace(lst.lookup(g, 2), Item(20))
    assert ids(lst) == [1, 20, 3]
    with old:
        pass
    assert old.freed


def test_elements_are_read_only_through_their_references() -> None:
    """R16: an element is shared with every reader: writes through a reference raise."""
    lst = RcuList([Item(1)])
    with RcuReadGuard() as g:
        ref = lst.first(g)
        assert ref is not None
        with pytest.raises(ReadOnlyError, match="R16"):
            ref.payload = "changed"


def test_the_held_update_lock_also_lets_its_holder_traverse() -> None:
    """list_for_each_entry_rcu(..., lockdep_is_held()): the lock's guard serves as the guard."""
    lst = RcuList([Item(1), Item(2)], key=lambda it: it.id)
    with lst.update_lock.lock() as lg:
        refs = list(lst.iter(lg))
        assert [r.id for r in refs] == [1, 2]
        two = lst.lookup(lg, 2)
        assert two is not None
        lst.remove(two).defer()
        assert [r.id for r in lst.iter(lg)] == [1]
    with pytest.raises(LifetimeError):
        _ = refs[0].id  # bound to the lock's guard: dead once it is released


def test_a_mutex_can_be_the_update_lock() -> None:
    """The lock may be given: a kbind.kernel.sync.lock Mutex (or SpinLock); others are refused."""
    lock = Mutex(None)
    lst = RcuList[int](lock=lock)
    assert lst.update_lock is lock
    with lock.lock():
        lst.add(1)
    assert RcuList[int](lock=SpinLock(0)).update_lock.is_locked() is False
    with pytest.raises(TypeError, match=r"kbind\.kernel\.sync\.lock"):
        RcuList(lock=threading.Lock())  # type: ignore[arg-type]


def test_the_list_is_not_clone() -> None:
    """Copying or pickling an RcuList raises CloneError (it is one list, shared by reference)."""
    with pytest.raises(CloneError):
        copy.copy(RcuList[int]())


# ----------------------------------------------------------------- R20


def test_r20_traversal_without_a_guard_is_refused() -> None:
    """R20: the list is not iterable by itself; iter() needs a read guard (mypy too)."""
    lst = RcuList([Item(1)])
    with pytest.raises(TypeError, match="R20"):
        for _ in lst:  # type: ignore[attr-defined]
            pass
    with pytest.raises(TypeError, match="R20"):
        _ = Item(1) in lst  # type: ignore[operator]
    with pytest.raises(TypeError, match="R20"):
        lst.iter(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="R20"):
        lst.first(object())  # type: ignore[arg-type]


def test_r20_iterator_used_after_its_guard_raises_naming_both_sites() -> None:
    """R20: the iterator dies with the guard; the error names where it was created and dropped."""
    lst = RcuList([Item(1), Item(2)])
    g = RcuReadGuard()  # r20-created
    it = lst.iter(g)
    assert next(it).id == 1
    g.drop()  # r20-dropped
    with pytest.raises(LifetimeError, match="R20") as info:
        next(it)
    err = info.value
    assert err.created_at is not None and err.created_at.lineno == line_of("r20-created")
    assert err.dropped_at is not None and err.dropped_at.lineno == line_of("r20-dropped")


def test_r20_iterator_started_after_its_guard_raises_even_on_an_empty_list() -> None:
    """A fresh iterator stepped once the guard is gone raises, with or without an element."""
    for lst in (RcuList([Item(1)]), RcuList[Item]()):
        with RcuReadGuard() as g:
            it = lst.iter(g)
        with pytest.raises(LifetimeError, match="R20"):
            next(it)


def test_r01_element_reference_after_the_guard_raises_naming_both_sites() -> None:
    """An element reference kept past its guard raises LifetimeError naming both sites."""
    lst = RcuList([Item(1)])
    with RcuReadGuard() as g:  # r01-list-guard
        ref = lst.first(g)
    assert ref is not None
    with pytest.raises(LifetimeError) as info:
        _ = ref.payload
    err = info.value
    assert err.created_at is not None and err.created_at.lineno == line_of("r01-list-guard")
    assert err.dropped_at is not None


def test_r20_dropped_guard_or_another_threads_guard_refused() -> None:
    """A dropped guard raises LifetimeError; another thread's GuardError (R08)."""
    lst = RcuList([Item(1)])
    g = RcuReadGuard()
    g.drop()
    with pytest.raises(LifetimeError, match="R20"):
        lst.iter(g)
    g = RcuReadGuard()
    raised: list[BaseException] = []

    def other() -> None:
        try:
            lst.iter(g)
        except BaseException as exc:
            raised.append(exc)

    t = threading.Thread(target=other)
    t.start()
    t.join(JOIN)
    g.drop()
    assert len(raised) == 1 and isinstance(raised[0], GuardError) and "R08" in str(raised[0])


def test_r20_guard_of_another_lock_refused() -> None:
    """Holding another lock protects nothing the traversal reads: GuardError naming both."""
    lst = RcuList([Item(1)])
    other = SpinLock(None)
    with other.lock() as lg, pytest.raises(GuardError, match="R20") as info:
        lst.iter(lg)
    assert "RcuList made at" in str(info.value)


# ----------------------------------------------------------------- R26


@pytest.mark.parametrize("op", ["add", "add_tail", "remove", "replace"])
def test_r26_update_without_the_lock_raises_naming_both_sites(op: str) -> None:
    """R26: every update asserts the update-side lock (lockdep_assert_held()): GuardError."""
    item = Item(1)
    lst = RcuList([item])  # r26-made
    calls = {
        "add": lambda: lst.add(Item(2)),  # r26-add
        "add_tail": lambda: lst.add_tail(Item(2)),  # r26-add_tail
        "remove": lambda: lst.remove(item),  # r26-remove
        "replace": lambda: lst.replace(item, Item(2)),  # r26-replace
    }
    with pytest.raises(GuardError, match="R26") as info:
        calls[op]()
    err = info.value
    assert "lockdep_assert_held()" in err.rule and "no thread holds it" in err.rule
    assert err.created_at is not None and err.created_at.lineno == line_of("r26-made")
    assert [s.lineno for _, s in err.sites] == [line_of(f"r26-{op}")]
    assert ids(lst) == [1]  # nothing changed


def test_r26_update_while_another_thread_holds_the_lock_names_the_holder() -> None:
    """The lock held by another thread is not this updater's: the error names the holder's site."""
    lst = RcuHList[Item]()
    held, release = threading.Event(), threading.Event()

    def holder() -> None:
        with lst.update_lock.lock():  # r26-holder
            held.set()
            release.wait(JOIN)

    t = threading.Thread(target=holder, name="holder")
    t.start()
    try:
        assert held.wait(JOIN)
        with pytest.raises(GuardError, match="thread 'holder' holds it") as info:
            lst.add_head(Item(1))
    finally:
        release.set()
        t.join(JOIN)
    labels = {label: site.lineno for label, site in info.value.sites}
    assert labels["the lock taken at"] == line_of("r26-holder")


# ----------------------------------------------------------------- R15, R02


def test_r15_one_object_in_two_places_or_removed_twice_refused() -> None:
    """An object is in one list at a time (a double list_add); an element is removed once."""
    item = Item(1)
    lst = RcuList([item])
    with lst.update_lock.lock(), pytest.raises(GuardError, match="R15"):
        lst.add(item)
    other = RcuHList[Item]()
    with other.update_lock.lock(), pytest.raises(GuardError, match="R15"):
        other.add_head(item)
    with RcuReadGuard() as g:
        ref = lst.first(g)
        assert ref is not None
        with lst.update_lock.lock():
            old = lst.remove(ref)  # r15-removed
            with pytest.raises(GuardError, match="removed already") as info:
                lst.remove(ref)
    old.drop()
    assert dict(info.value.sites)["removed at"].lineno == line_of("r15-removed")
    with lst.update_lock.lock():
        lst.add(item)  # freed now: the object may be published again
        with pytest.raises(ValueError, match="not in the list"):
            lst.remove(Item(9))


def test_r02_a_reference_is_not_published_into_a_list() -> None:
    """Adding a reference (to another list's element) is refused: it dies with its guard."""
    src, dst = RcuList([Item(1)]), RcuList[Item]()
    with RcuReadGuard() as g, dst.update_lock.lock():
        ref = src.first(g)
        assert ref is not None
        with pytest.raises(TypeError, match="R02"):
            dst.add(ref)
        with pytest.raises(ValueError, match="not a reference to an element of this list"):
            dst.remove(ref)


# -------------------------------------------------------- grace-period freeing


def test_removed_element_stays_readable_by_an_earlier_reader_until_it_ends() -> None:
    """A reader that began before the removal keeps the element; drop() waits for it, then frees."""
    lst = RcuList([Item(1, "kept"), Item(2)], key=lambda it: it.id)
    g = RcuReadGuard()
    ref = lst.lookup(g, 1)
    assert ref is not None
    dropped = threading.Event()
    olds: list[RcuDropGuard[Item]] = []

    def updater() -> None:
        with lst.update_lock.lock() as lg:
            olds.append(lst.remove(lst.lookup(lg, 1)))  # type: ignore[arg-type]
        olds[0].drop()  # synchronize_rcu(), then free
        dropped.set()

    t = threading.Thread(target=updater)
    t.start()
    try:
        assert not dropped.wait(0.2), "the element was freed under an open reader"
        assert ref.payload == "kept" and not olds[0].freed
        assert [r.id for r in lst.iter(g)] == [2]  # gone for traversals that start now
    finally:
        g.drop()
    assert dropped.wait(JOIN)
    t.join(JOIN)
    assert olds[0].freed


def test_r13_busted_engine_stale_reference_raises_use_after_free_naming_removal() -> None:
    """With grace periods that do not wait, a reader's element reference reaches a freed cell."""
    lst = RcuList([Item(1)])  # r13-list-added
    with rt.busted_engine(lib.KB_RCU_BUSTED_NO_WAIT):
        g = RcuReadGuard()
        ref = lst.first(g)
        assert ref is not None
        with lst.update_lock.lock():
            old = lst.remove(ref)  # r13-list-removed
        t = threading.Thread(target=old.drop)  # the drop must not come from the reader
        t.start()
        t.join(JOIN)
        assert old.freed
        with pytest.raises(UseAfterFreeError) as info:
            _ = ref.payload
        g.drop()
    err = info.value
    assert err.created_at is not None and err.created_at.lineno == line_of("r13-list-added")
    assert err.retired_at is not None and err.retired_at.lineno == line_of("r13-list-removed")
    assert err.freed_at is not None


# ----------------------------------------------------------------- hlists


def test_hlist_add_head_remove_replace_and_traversal() -> None:
    """RcuHList: add_head() inserts first; remove() and replace() as RcuList's; None-terminated."""
    chain = RcuHList([Item(1), Item(2)], key=lambda it: it.id)
    with chain.update_lock.lock():
        chain.add_head(Item(0))
    assert ids(chain) == [0, 1, 2]
    with chain.update_lock.lock(), RcuReadGuard() as g:
        chain.replace(chain.lookup(g, 1), Item(10)).defer()  # type: ignore[arg-type]
        chain.remove(chain.lookup(g, 0)).defer()  # type: ignore[arg-type]
        last = chain.remove(chain.lookup(g, 2))  # type: ignore[arg-type]
    assert ids(chain) == [10]
    last.drop()
    with chain.update_lock.lock() as lg:
        old = chain.remove(chain.lookup(lg, 10))  # type: ignore[arg-type]
    old.drop()
    assert chain.is_empty() and ids(chain) == []


def test_hlist_refuses_traversal_without_guard_and_updates_without_lock() -> None:
    """The hlist forms follow the same rules: R20 and R26."""
    chain = RcuHList([Item(1)])
    with pytest.raises(TypeError, match="R20"):
        iter(chain)  # type: ignore[call-overload]
    with pytest.raises(GuardError, match="R26") as info:
        chain.add_head(Item(2))
    assert "lst.add_head(value)" in str(info.value)


# ----------------------------------------------------------------- concurrency

PERMANENT = [-5, -4, -3, -2, -1]  # the updater's ids are >= 0


@pytest.mark.parametrize("kind", [RcuList, RcuHList])
def test_concurrent_readers_always_see_a_consistent_list(kind: Any) -> None:
    """Readers on 3 threads traverse while an updater adds, removes and replaces around them.

    Invariants of every traversal: it ends; it sees the permanent elements,
    in order, each once; every element it sees is readable (never freed).
    Bounded: a fixed number of traversals and updates, joined with a timeout.
    """
    lst: Any = kind([Item(i) for i in PERMANENT], key=lambda it: it.id)
    add = lst.add if kind is RcuList else lst.add_head
    stop = threading.Event()
    traversals = [0] * 3
    updates = 400

    def reader(i: int) -> None:
        for n in range(20_000):
            with RcuReadGuard() as g:
                seen = [(r.id, r.payload) for r in lst.iter(g)]
            perm = [x for x, _ in seen if x in PERMANENT]
            assert perm == PERMANENT, seen
            assert len({x for x, _ in seen}) == len(seen), seen
            traversals[i] = n + 1
            if stop.is_set() and n > 10:
                break

    def updater() -> None:
        olds = []
        try:
            for n in range(updates):
                with lst.update_lock.lock(), RcuReadGuard() as g:
                    add(Item(n))
                    if kind is RcuList and n % 3 == 0:
                        lst.add_tail(Item(n + 10_000))
                    if n % 2 == 1:
                        victim = lst.lookup(g, n - 1)
                        olds.append(lst.replace(victim, Item(n + 20_000)))
                    if n >= 4:
                        gone = lst.lookup(g, n - 4 + 20_000)
                        if gone is None:
                            gone = lst.lookup(g, n - 4)
                        if gone is not None:
                            olds.append(lst.remove(gone))
                    tail = lst.lookup(g, n - 6 + 10_000) if kind is RcuList else None
                    if tail is not None:
                        olds.append(lst.remove(tail))
                for old in olds:
                    old.defer() if n % 2 else old.drop()
                olds.clear()
                if n % 50 == 0:
                    time.sleep(0)  # let readers in
        finally:
            stop.set()

    def body(i: int) -> None:
        if i == 3:
            updater()
        else:
            reader(i)

    run_threads(4, body, timeout=60)
    assert all(n > 10 for n in traversals)
    final = ids(lst)
    assert [x for x in final if x in PERMANENT] == PERMANENT
