"""kbind.rcu.TypesafePool: SLAB_TYPESAFE_BY_RCU memory, readers that recheck identity.

Every test runs on both RCU backends; the aggressive mode makes a missing
recheck fail on the first run instead of once in a while.
"""

from __future__ import annotations

import threading

import pytest

from kbind import DeadlockError, GuardError, LifetimeError, UseAfterFreeError
from kbind._bridge.native import hot
from kbind.lifetime import Cell, bind
from kbind.rcu import Counted, RcuReadGuard, RcuRefcounted, TypesafePool, try_get
from kbind.sync import SpinLock

from .conftest import run_threads

pytestmark = pytest.mark.rcu_backends


class Sock(RcuRefcounted):
    """A socket-like object: its identity ``key``, its ``data``, a lock the ctor makes."""

    key: int
    data: str
    lock: SpinLock[int]


def _ctor(s: Sock) -> None:
    s.lock = SpinLock(0)


def _pool(**kw: object) -> TypesafePool[Sock]:
    return TypesafePool(Sock, ctor=_ctor, name="sock_cache", **kw)  # type: ignore[arg-type]


def _insert(pool: TypesafePool[Sock], key: int) -> None:
    pool.publish(pool.alloc(key=key, data=f"data of {key}"))


def _delete(pool: TypesafePool[Sock], key: int) -> None:
    c = pool.unpublish(key)
    assert c is not None
    c.put()


def test_a_free_is_reused_at_once_for_the_same_type() -> None:
    """No grace period before reuse: the freed object comes back from the next alloc; the
    ctor ran once, its lock survived; fields not given keep their old values."""
    pool = _pool(aggressive=True)
    a = pool.alloc(key=1, data="one")
    first = a._obj
    lock = first.lock
    a.put()
    b = pool.alloc(key=2)
    assert b._obj is first and b.key == 2 and b.data == "one" and b.lock is lock
    assert pool.recycled == 1 and pool.allocated == 1
    b.put()
    pool.close()


def test_default_mode_reuses_only_behind_slack_frees() -> None:
    """Without aggressive, a free waits behind `slack` others (FIFO) before it is reused."""
    pool = _pool(slack=2)
    objs = [pool.alloc(key=k) for k in range(3)]
    for c in objs:
        c.put()
    again = pool.alloc(key=9)
    assert again._obj is objs[0]._obj  # the oldest free, once more than two wait
    fresh = pool.alloc(key=10)
    assert fresh._obj not in {c._obj for c in objs}
    again.put()
    fresh.put()
    pool.close()


def _racy_lookup(pool: TypesafePool[Sock]) -> Counted[Sock] | None:
    """A reader finds key 1; meanwhile key 1 is freed and its object reused for key 2."""
    with RcuReadGuard() as g:
        ref = pool.lookup(g, 1)
        assert ref is not None
        _delete(pool, 1)
        _insert(pool, 2)
        return try_get(ref)


def test_r21_missing_recheck_reads_another_object_in_aggressive_mode() -> None:
    """Skipping the identity recheck after the count: the reader reads key 2's data."""
    pool = _pool(aggressive=True)
    _insert(pool, 1)
    c = _racy_lookup(pool)
    assert c is not None
    assert c.data == "data of 2"  # another object's data: the bug, let through
    c.put()
    _delete(pool, 2)
    pool.close()


def test_r21_checked_pool_refuses_reads_without_recheck() -> None:
    """checked=True: reading anything but the key of a recycled object raises LifetimeError
    naming where the count was taken, where it was freed and where it was reallocated."""
    pool = _pool(aggressive=True, checked=True)
    _insert(pool, 1)
    c = _racy_lookup(pool)
    assert c is not None
    assert c.key == 2  # the recheck itself is allowed: it shows the mismatch
    with pytest.raises(LifetimeError) as info:
        _ = c.data
    err = info.value
    assert "R21" in str(err) and "key=1" in str(err)
    labels = [label for label, _ in err.sites]
    assert labels == ["count taken at", "freed back to the cache at", "reallocated at"]
    c.put()
    _delete(pool, 2)
    pool.close()


def test_r21_correct_reader_rechecks_and_retries() -> None:
    """TypesafePool.get(): count, recheck, put and look again; finds the right one or None."""
    pool = _pool(aggressive=True, checked=True)
    _insert(pool, 1)
    _insert(pool, 3)
    with RcuReadGuard() as g:
        ref = pool.lookup(g, 1)
        assert ref is not None
        _delete(pool, 1)
        _insert(pool, 2)  # reuses key 1's object
        c = try_get(ref)
        assert c is not None
        if c.key != 1:  # the recheck
            c.put()
            c = pool.get(g, 1)
        assert c is None
        three = pool.get(g, 3)
    assert three is not None and three.data == "data of 3"
    three.put()
    for k in (2, 3):
        _delete(pool, k)
    pool.close()


def test_shrink_waits_for_a_grace_period_then_poisons() -> None:
    """A reader that found a free object reads it until it ends; shrink() waits for it, and
    afterwards the memory has left the type: references raise UseAfterFreeError."""
    pool = _pool(aggressive=True)
    _insert(pool, 1)
    inside, leave = threading.Event(), threading.Event()
    cells: list[Cell] = []
    results: list[object] = []

    def reader() -> None:
        with RcuReadGuard() as g:
            ref = pool.lookup(g, 1)
            assert ref is not None
            cells.append(hot.ref_parts(ref)[1])  # type: ignore[arg-type]
            inside.set()
            leave.wait(30)
            results.append(ref.data)  # still the type's memory: readable

    t = threading.Thread(target=reader)
    t.start()
    assert inside.wait(30)
    _delete(pool, 1)
    with RcuReadGuard(), pytest.raises(DeadlockError):
        pool.shrink()
    timer = threading.Timer(0.05, leave.set)
    timer.start()
    assert pool.shrink() == 1  # returns only after the reader left
    t.join(30)
    timer.cancel()
    assert results == ["data of 1"]
    cell = cells[0]
    assert cell.freed
    with RcuReadGuard() as g, pytest.raises(UseAfterFreeError):
        _ = bind(g, cell).data
    pool.close()


def test_close_refuses_objects_still_allocated_and_lookup_needs_a_reader() -> None:
    """kmem_cache_destroy() with objects left: GuardError; a lookup without a guard: TypeError."""
    pool = _pool()
    c = pool.alloc(key=1)
    with pytest.raises(GuardError, match="still allocated"):
        pool.close()
    with pytest.raises(TypeError, match="R04"):
        pool.lookup(object(), 1)  # type: ignore[arg-type]
    pool.publish(c.clone())
    extra = c.clone()
    with pytest.raises(GuardError, match="another object"):
        pool.publish(extra)
    extra.put()  # a refused publish leaves the count with its caller
    leftover = pool.unpublish(1)
    assert leftover is not None
    leftover.put()
    c.put()
    pool.close()
    with pytest.raises(GuardError, match="destroyed"):
        pool.alloc(key=2)
    with pytest.raises(TypeError):
        TypesafePool(dict)  # type: ignore[type-var]


def test_concurrent_readers_with_recheck_never_see_the_wrong_object() -> None:
    """Readers look keys up with get() while an updater deletes and reinserts them through an
    aggressive pool: every count a reader keeps has the key it asked for."""
    pool = _pool(aggressive=True, checked=True)
    for k in range(4):
        _insert(pool, k)
    wrong: list[tuple[int, int]] = []
    found = [0]

    def reader(i: int) -> None:
        for n in range(400):
            key = n % 4
            with RcuReadGuard() as g:
                c = pool.get(g, key)
            if c is None:
                continue
            if c.key != key or c.data != f"data of {key}":
                wrong.append((key, c.key))
            found[0] += 1
            c.put()

    def updater(i: int) -> None:
        for n in range(200):
            key = n % 4
            _delete(pool, key)
            _insert(pool, key)

    run_threads(4, lambda i: updater(i) if i == 0 else reader(i), timeout=60)
    assert wrong == [] and found[0] > 0
    assert pool.recycled > 0
    for k in range(4):
        _delete(pool, k)
    pool.close()
