"""kbind.rcu.RcuHashTable: lookups under a guard, per-bucket locked updates, GP freeing.

Every test runs on both RCU backends.  The concurrent tests are bounded in
iterations and joined with a timeout; none depends on timing to pass.
"""

from __future__ import annotations

import pathlib
import threading
import weakref
from collections.abc import Iterator

import pytest

import kbind
from kbind import lifetime
from kbind._bridge.native import hot, lib
from kbind.errors import GuardError, LifetimeError, ReadOnlyError, UseAfterFreeError
from kbind.rcu import RcuDropGuard, RcuHashTable, RcuList, RcuReadGuard, RcuRef, rcu_barrier
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


class Entry:
    """A table value (mutable, to try R16)."""

    def __init__(self, n: int) -> None:
        self.n = n


@pytest.fixture(autouse=True)
def _clean_rcu() -> Iterator[None]:
    """Each test starts and ends with no guard open and the real engine; callbacks have run."""
    assert kbind.rcu.read_lock_depth() == 0
    yield
    lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NONE)
    assert kbind.rcu.read_lock_depth() == 0
    assert rcu_barrier(timeout=JOIN)


def snapshot(table: RcuHashTable[int, Entry]) -> dict[int, int]:
    with RcuReadGuard() as g:
        return {k: v.n for k, v in table.items(g)}


# ----------------------------------------------------------------- happy paths


def test_insert_lookup_replace_delete() -> None:
    """insert() adds a key once; lookup() finds it; replace() and delete() hand back drop guards."""
    table: RcuHashTable[str, Entry] = RcuHashTable(buckets=8)
    assert table.buckets == 8
    assert table.insert("a", Entry(1)) is True
    assert table.insert("a", Entry(2)) is False  # -EEXIST: nothing changed
    with RcuReadGuard() as g:
        ref = table.lookup(g, "a")
        assert ref is not None and ref.n == 1
        assert table.lookup(g, "b") is None
    old = table.replace("a", Entry(3))
    assert isinstance(old, RcuDropGuard) and not old.freed
    old.drop()
    assert old.freed
    with RcuReadGuard() as g:
        ref = table.lookup(g, "a")
        assert ref is not None and ref.n == 3
    table.delete("a").defer()
    with RcuReadGuard() as g:
        assert table.lookup(g, "a") is None
    with pytest.raises(KeyError):
        table.delete("a")
    with pytest.raises(KeyError):
        table.replace("a", Entry(4))
    assert table.insert("a", Entry(5))  # the key may come back


def test_one_bucket_chains_every_key_and_traversals_see_each_once() -> None:
    """Keys that share a bucket chain in its RcuHList; items(), keys(), values() see each once."""
    table: RcuHashTable[int, Entry] = RcuHashTable(buckets=1)
    for k in range(20):
        assert table.insert(k, Entry(k * 10))
    with RcuReadGuard() as g:
        assert sorted(table.keys(g)) == list(range(20))
        assert sorted(v.n for v in table.values(g)) == [k * 10 for k in range(20)]
        for k in range(20):
            ref = table.lookup(g, k)
            assert ref is not None and ref.n == k * 10
    for k in range(0, 20, 2):
        table.delete(k).defer()
    assert snapshot(table) == {k: k * 10 for k in range(1, 20, 2)}


def test_values_are_lifetime_refs_and_read_only() -> None:
    """A lookup gives an RcuRef (a kbind.lifetime.Ref) into the entry's Cell; writes raise (R16)."""
    table: RcuHashTable[int, Entry] = RcuHashTable()
    table.insert(1, Entry(1))
    with RcuReadGuard() as g:
        ref = table.lookup(g, 1)
        assert type(ref) is RcuRef and isinstance(ref, lifetime.Ref)
        assert isinstance(hot.ref_parts(ref)[1], lifetime.Cell)
        with pytest.raises(ReadOnlyError, match="R16"):
            ref.n = 2


def test_keys_must_be_immutable_and_values_not_references() -> None:
    """A mutable key is refused (it could change while published); so is a reference value (R02)."""
    table: RcuHashTable[object, object] = RcuHashTable()
    with pytest.raises(TypeError, match="immutable"):
        table.insert(Entry(0), Entry(1))  # hashable, but it may change
    with pytest.raises(TypeError):
        table.insert([1], Entry(1))  # unhashable
    src = RcuList([Entry(1)])
    with RcuReadGuard() as g, pytest.raises(TypeError, match="R02"):
        table.insert(1, src.first(g))
    assert table.insert((1, "a"), 5)
    with RcuReadGuard() as g:
        assert table.lookup(g, (1, "a")) == 5


def test_r15_one_value_object_in_two_places_refused() -> None:
    """A value object is in one table or list at a time (freed once)."""
    e = Entry(1)
    t1: RcuHashTable[int, Entry] = RcuHashTable()
    t1.insert(1, e)
    with pytest.raises(GuardError, match="R15"):
        t1.insert(2, e)
    with pytest.raises(GuardError, match="R15"):
        RcuHashTable[int, Entry]().insert(1, e)


# ----------------------------------------------------------------- R20, R01


def test_r20_reading_without_a_guard_is_refused() -> None:
    """R20: lookup() and the traversals need a read guard; the table is not iterable by itself."""
    table: RcuHashTable[int, Entry] = RcuHashTable()
    table.insert(1, Entry(1))
    for call in (
        lambda: table.lookup(None, 1),  # type: ignore[arg-type]
        lambda: table.lookup(None, 2),  # type: ignore[arg-type]
        lambda: table.items(object()),  # type: ignore[arg-type]
        lambda: list(table),  # type: ignore[call-overload]
        lambda: 1 in table,  # type: ignore[operator]
    ):
        with pytest.raises(TypeError, match="R20"):
            call()
    lst = RcuList[int]()
    with lst.update_lock.lock() as lg, pytest.raises(TypeError, match="R20"):
        table.lookup(lg, 1)  # type: ignore[arg-type]


def test_r01_reference_and_iterator_die_with_the_guard_naming_both_sites() -> None:
    """A value reference and an items() iterator used after the guard raise LifetimeError."""
    table: RcuHashTable[int, Entry] = RcuHashTable()
    table.insert(1, Entry(1))
    table.insert(2, Entry(2))
    g = RcuReadGuard()  # hash-created
    ref = table.lookup(g, 1)
    it = table.items(g)
    next(it)
    g.drop()  # hash-dropped
    for use in (lambda: ref.n, lambda: next(it)):  # type: ignore[union-attr]
        with pytest.raises(LifetimeError) as info:
            use()
        err = info.value
        assert err.created_at is not None and err.created_at.lineno == line_of("hash-created")
        assert err.dropped_at is not None and err.dropped_at.lineno == line_of("hash-dropped")


def test_r20_dropped_or_foreign_guard_refused_on_a_hit_and_on_a_miss() -> None:
    """A dropped guard raises LifetimeError, another thread's GuardError, found or not."""
    table: RcuHashTable[int, Entry] = RcuHashTable()
    table.insert(1, Entry(1))
    g = RcuReadGuard()
    g.drop()
    for key in (1, 2):
        with pytest.raises(LifetimeError, match="R20"):
            table.lookup(g, key)
    g = RcuReadGuard()
    raised: list[BaseException] = []

    def other() -> None:
        for key in (1, 2):
            try:
                table.lookup(g, key)
            except BaseException as exc:
                raised.append(exc)

    t = threading.Thread(target=other)
    t.start()
    t.join(JOIN)
    g.drop()
    assert [type(e) for e in raised] == [GuardError, GuardError]
    assert all("R08" in str(e) for e in raised)


# -------------------------------------------------------- grace-period freeing


def test_deleted_value_stays_readable_by_an_earlier_reader_then_is_freed() -> None:
    """A reader that found the entry before delete() keeps it; drop() waits for it, then frees."""
    table: RcuHashTable[int, Entry] = RcuHashTable()
    e = Entry(7)
    alive = weakref.ref(e)
    table.insert(1, e)
    del e
    g = RcuReadGuard()
    ref = table.lookup(g, 1)
    assert ref is not None
    done = threading.Event()
    olds: list[RcuDropGuard[Entry]] = []

    def updater() -> None:
        olds.append(table.delete(1))
        olds[0].drop()
        done.set()

    t = threading.Thread(target=updater)
    t.start()
    try:
        assert not done.wait(0.2), "the value was freed under an open reader"
        assert ref.n == 7
        assert table.lookup(g, 1) is None  # gone for lookups that start now
    finally:
        g.drop()
    assert done.wait(JOIN)
    t.join(JOIN)
    del ref
    assert olds[0].freed and alive() is None


def test_r13_busted_engine_stale_reference_raises_use_after_free_naming_delete() -> None:
    """With grace periods that do not wait, a reader's value reference reaches a freed cell."""
    table: RcuHashTable[int, Entry] = RcuHashTable()
    table.insert(1, Entry(1))  # hash-inserted
    with rt.busted_engine(lib.KB_RCU_BUSTED_NO_WAIT):
        g = RcuReadGuard()
        ref = table.lookup(g, 1)
        assert ref is not None
        old = table.delete(1)  # hash-deleted
        t = threading.Thread(target=old.drop)
        t.start()
        t.join(JOIN)
        assert old.freed
        with pytest.raises(UseAfterFreeError) as info:
            _ = ref.n
        g.drop()
    err = info.value
    assert err.created_at is not None and err.created_at.lineno == line_of("hash-inserted")
    assert err.retired_at is not None and err.retired_at.lineno == line_of("hash-deleted")
    assert err.freed_at is not None


# ----------------------------------------------------------------- concurrency


def test_updaters_of_one_bucket_serialize_on_its_lock() -> None:
    """Four threads insert into a one-bucket table: the bucket's lock loses no insert."""
    table: RcuHashTable[int, Entry] = RcuHashTable(buckets=1)

    def body(i: int) -> None:
        for k in range(i * 100, i * 100 + 100):
            assert table.insert(k, Entry(k))
            if k % 3 == 0:
                table.replace(k, Entry(-k)).defer()

    run_threads(4, body, timeout=60)
    got = snapshot(table)
    assert sorted(got) == list(range(400))
    assert all(v == (-k if k % 3 == 0 else k) for k, v in got.items())


def test_concurrent_readers_always_find_the_stable_keys() -> None:
    """Readers look up and traverse while an updater inserts, replaces and deletes other keys.

    Invariants: every stable key is found, with its value, by every lookup and
    every traversal; no key is seen twice in one traversal; every value seen
    is readable (never freed).  Bounded in iterations, joined with a timeout.
    """
    table: RcuHashTable[int, Entry] = RcuHashTable(buckets=4)
    stable = range(-8, 0)
    for k in stable:
        table.insert(k, Entry(k))
    stop = threading.Event()

    def reader() -> None:
        n = 0
        while n < 20_000 and not (stop.is_set() and n > 10):
            with RcuReadGuard() as g:
                for k in stable:
                    ref = table.lookup(g, k)
                    assert ref is not None and ref.n == k
                seen = [(k, v.n) for k, v in table.items(g)]
            keys = [k for k, _ in seen]
            assert len(set(keys)) == len(keys), seen
            assert set(stable) <= set(keys), seen
            n += 1

    def updater() -> None:
        try:
            for n in range(300):
                table.insert(n, Entry(n))
                if n % 2:
                    table.replace(n - 1, Entry(n * 100)).defer()
                if n >= 3:
                    old = table.delete(n - 3)
                    old.drop() if n % 5 else old.defer()
        finally:
            stop.set()

    run_threads(4, lambda i: updater() if i == 3 else reader(), timeout=60)
    assert {k for k, _ in snapshot(table).items()} == set(stable) | {297, 298, 299}
