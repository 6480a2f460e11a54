"""kbind.rcu.escape: keeping an object past its reader by a count (try_get) or its lock.

Every test runs on both RCU backends.  Threads are bounded in time and in
iterations; nothing waits on a sleep to line threads up.
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass

import pytest

from kbind import (
    CountedLeakWarning,
    GuardError,
    LifetimeError,
    ReadOnlyError,
    UseAfterFreeError,
    lifetime,
)
from kbind.kernel.sync import lock as kernel_lock
from kbind.rcu import (
    Counted,
    Rcu,
    RcuReadGuard,
    RcuRefcounted,
    kfree_rcu,
    lock_existing,
    rcu_barrier,
    synchronize_rcu,
    try_get,
)
from kbind.sync import SpinLock

from .conftest import run_threads

pytestmark = pytest.mark.rcu_backends


class Conn(RcuRefcounted):
    def __init__(self, key: int, hosts: list[str] | None = None) -> None:
        self.key = key
        self.hosts = hosts or ["a"]


def _published(key: int = 1) -> tuple[Rcu[Conn], Counted[Conn]]:
    obj = Conn(key)
    return Rcu(obj), Counted.adopt(obj)


# ------------------------------------------------------------ by a count


def test_try_get_keeps_the_object_past_the_guard() -> None:
    """The counted handle outlives the guard; the reader's reference does not."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        ref = slot.read(g)
        c = try_get(ref)
    assert c is not None and c.count == 2
    assert c.key == 1 and c.hosts == ["a"]
    with pytest.raises(LifetimeError):
        _ = ref.key
    c.put()
    mine.put()
    rcu_barrier()


def test_without_a_count_the_reference_dies_with_the_guard_and_the_hint_says_how() -> None:
    """R01 as before, and its hint points at try_get() and lock_existing()."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        ref = slot.read(g)
    with pytest.raises(LifetimeError) as info:
        _ = ref.key
    assert info.value.hint is not None
    assert "try_get" in info.value.hint and "lock_existing" in info.value.hint
    mine.put()


def test_try_get_needs_a_live_reference_to_a_counted_object() -> None:
    """After the guard: LifetimeError; a plain object or a non-reference: TypeError."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        ref = slot.read(g)
    with pytest.raises(LifetimeError):
        try_get(ref)
    with pytest.raises(TypeError, match="needs the reference a reader got"):
        try_get(Conn(2))
    plain = Rcu({"k": 1})
    with RcuReadGuard() as g, pytest.raises(TypeError, match="carries no reference count"):
        try_get(plain.read(g))
    mine.put()


def test_try_get_on_zero_returns_none() -> None:
    """refcount_inc_not_zero(): once the last count is put, a reader gets None."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        ref = slot.read(g)
        mine.put()  # the last count: freed after a grace period (this reader holds it up)
        assert try_get(ref) is None
        assert ref.key == 1  # the reader itself may still look at it
    rcu_barrier()


def test_last_put_frees_after_a_grace_period_and_names_the_put() -> None:
    """The last put retires the object; after the grace period a put handle raises UAF."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        c = try_get(slot.read(g))
    assert c is not None
    mine.put()
    assert c.key == 1  # still counted
    c.put()
    cell = c._obj._kb_cell
    assert cell.retired_at is not None
    rcu_barrier()
    assert cell.freed
    with pytest.raises(UseAfterFreeError) as info:
        _ = c.key
    err = info.value
    assert err.freed_at is not None and err.retired_at is not None
    assert err.retired_at.filename == __file__
    assert "R28" in str(err)


def test_a_put_handle_raises_lifetime_error_while_others_keep_the_object() -> None:
    """A handle used after its own put raises LifetimeError naming where it was put."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        c = try_get(slot.read(g))
    assert c is not None
    c.put()
    with pytest.raises(LifetimeError) as info:
        _ = c.hosts
    assert not isinstance(info.value, UseAfterFreeError)
    assert info.value.dropped_at is not None and info.value.dropped_at.filename == __file__
    mine.put()
    rcu_barrier()


def test_counted_is_read_only_clones_borrows_and_works_as_a_with_block() -> None:
    """Nothing is assigned through a handle; clone() counts; borrow() checks like a reader."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        c = try_get(slot.read(g))
    assert c is not None
    with pytest.raises(ReadOnlyError):
        c.key = 5
    twin = c.clone()
    assert twin.count == 3
    with twin:
        pass
    assert twin.consumed and c.count == 2
    with c.borrow() as obj:
        assert obj.key == 1
        items = obj.hosts
        with pytest.raises(ReadOnlyError):
            items.append("b")
    with pytest.raises(LifetimeError):
        items[0]
    c.put()
    mine.put()
    rcu_barrier()


def test_try_get_works_on_any_lifetime_reference() -> None:
    """A kbind.lifetime Ref bound to an RCU reader (an RCU list element's) counts too."""
    node = Conn(7)
    mine = Counted.adopt(node)
    cell = lifetime.Cell(node, "a list element")
    with RcuReadGuard() as g:
        c = try_get(lifetime.bind(g, cell))
    assert c is not None and c.key == 7
    c.put()
    mine.put()
    rcu_barrier()


def test_a_handle_moves_between_threads() -> None:
    """A Counted is Send (Rust: ARef<T> is Send for Sync T): another thread reads and puts it."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        c = try_get(slot.read(g))
    assert c is not None
    seen: list[int] = []
    run_threads(1, lambda i: (seen.append(c.key), c.put()), timeout=30)
    assert seen == [1] and c.consumed
    mine.put()
    rcu_barrier()


def test_r28_counted_put_twice_raises_naming_both_puts() -> None:
    """A second put raises GuardError naming where the count was taken and both puts."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        c = try_get(slot.read(g))
    assert c is not None
    c.put()
    with pytest.raises(GuardError) as info:
        c.put()
    err = info.value
    assert "R28" in str(err)
    assert err.created_at is not None and err.dropped_at is not None
    assert err.created_at.lineno != err.dropped_at.lineno
    assert [label for label, _ in err.sites] == ["second put at"]
    assert mine.count == 1  # the refused put changed nothing
    mine.put()
    rcu_barrier()


def test_r28_counted_collected_unput_warns_and_puts() -> None:
    """A handle collected unput warns CountedLeakWarning (where it was taken) and is put."""
    slot, mine = _published()
    with RcuReadGuard() as g:
        c = try_get(slot.read(g))
    assert c is not None
    with pytest.warns(CountedLeakWarning, match="R28"):
        del c
        gc.collect()
    assert mine.count == 1
    mine.put()
    rcu_barrier()


def test_adopt_takes_the_first_count_once() -> None:
    """Counted.adopt() twice on one object would be two handles for one count."""
    obj = Conn(1)
    first = Counted.adopt(obj)
    with pytest.raises(GuardError, match="R28"):
        Counted.adopt(obj)
    first.put()
    rcu_barrier()


def test_copies_of_a_counted_object_get_counts_of_their_own() -> None:
    """copy.copy() of a counted object (or of a reader's reference) is a new object, count 1."""
    import copy

    slot, mine = _published()
    with RcuReadGuard() as g:
        twin = copy.copy(slot.read(g))
    assert twin.refcount.read() == 1 and twin._kb_cell is not mine._obj._kb_cell
    mine.put()
    rcu_barrier()


def test_readers_keep_counts_while_an_updater_replaces_and_puts() -> None:
    """Readers on threads take counts, use them after their guards and put them, while the
    updater replaces the object and puts its count: no count ever sees a freed object."""
    slot, mine = _published(0)
    handles: dict[int, Counted[Conn]] = {0: mine}
    stop = threading.Event()
    used: list[int] = []

    def reader(i: int) -> None:
        for _ in range(300):
            with RcuReadGuard() as g:
                c = try_get(slot.read(g))
            if c is None:
                continue
            used.append(c.key)  # after the guard
            c.put()

    def updater(i: int) -> None:
        for k in range(1, 40):
            obj = Conn(k)
            handles[k] = Counted.adopt(obj)
            slot.replace(obj).defer()
            handles.pop(k - 1).put()
        stop.set()

    run_threads(4, lambda i: updater(i) if i == 0 else reader(i), timeout=60)
    assert stop.is_set() and used
    handles.popitem()[1].put()
    rcu_barrier()


# --------------------------------------------------- by the object's lock


@dataclass
class Element:
    n: int
    lock: SpinLock[bool]  # its data: the deleted flag


def _element(n: int = 1) -> Rcu[Element]:
    return Rcu(Element(n, SpinLock(False)))


def _delete(slot: Rcu[Element]) -> None:
    lock = slot.with_read(lambda e: e.lock)
    with lock.lock() as g:
        g.value = True  # marked under its lock, then unpublished
    slot.replace(Element(0, SpinLock(False))).defer()


def test_lock_existing_keeps_the_element_until_unlock() -> None:
    """The lock taken inside the reader keeps the element after it, until the unlock."""
    slot = _element()
    with RcuReadGuard() as g:
        held = lock_existing(slot.read(g), deleted=None)
    assert held is not None
    with held as e:
        assert e.n == 1 and held.guard.value is False
        with pytest.raises(ReadOnlyError):
            e.n = 2
    with pytest.raises(LifetimeError):
        _ = e.n
    assert not slot.with_read(lambda x: x.lock).is_locked()


def test_r27_lock_existing_returns_none_for_deleted_element() -> None:
    """The deleter marked it under its lock: lock_existing() gives None and releases the lock."""
    slot = _element()
    with RcuReadGuard() as g:
        ref = slot.read(g)
        lock = ref.lock
        run_threads(1, lambda i: _delete(slot), timeout=30)
        assert lock_existing(ref, deleted=None) is None
        assert not lock.is_locked()
    rcu_barrier()


def test_r27_rebind_without_recheck_refuses_retired_element() -> None:
    """Moving the reference to its lock without the recheck is refused once it was retired."""
    slot = _element()
    with RcuReadGuard() as g:
        ref = slot.read(g)
        run_threads(1, lambda i: _delete(slot), timeout=30)
        guard = ref.lock.lock()
        with pytest.raises(LifetimeError) as info:
            lifetime.rebind(ref, guard)
        guard.unlock()
    err = info.value
    assert [label for label, _ in err.sites] == ["retired at"]
    assert err.created_at is not None and "lock_existing" in (err.hint or "")
    rcu_barrier()


class Session:
    """An element whose deleted flag is an attribute beside a kernel::sync lock."""

    def __init__(self) -> None:
        self.lock = kernel_lock.SpinLock(0)
        self.deleted = False


def test_lock_existing_reads_the_flag_from_the_object_with_a_kernel_lock() -> None:
    """deleted="deleted" falls back to the object's attribute; kernel::sync locks work too."""
    slot = Rcu(Session())
    with RcuReadGuard() as g:
        held = lock_existing(slot.read(g))
    assert held is not None
    assert held.ref.deleted is False
    held.unlock()
    with RcuReadGuard() as g, pytest.raises(TypeError, match="has a 'gone' flag"):
        lock_existing(slot.read(g), deleted="gone")


def test_lock_existing_after_the_guard_raises() -> None:
    """The lock must be taken inside the reader: after it, LifetimeError."""
    slot = _element()
    with RcuReadGuard() as g:
        ref = slot.read(g)
    with pytest.raises(LifetimeError):
        lock_existing(ref, deleted=None)


def test_rebind_needs_an_open_scope_of_this_thread() -> None:
    """kbind.lifetime.rebind(): an ended scope raises LifetimeError; a non-scope TypeError."""
    slot = _element()
    lock = SpinLock(0)
    with RcuReadGuard() as g:
        ref = slot.read(g)
        guard = lock.lock()
        guard.unlock()
        with pytest.raises(LifetimeError):
            lifetime.rebind(ref, guard)
        with pytest.raises(TypeError):
            lifetime.rebind(ref, object())  # type: ignore[arg-type]
        with lock.lock() as held:
            moved = lifetime.rebind(ref, held)
            assert type(moved) is type(ref) and moved.n == 1
        with pytest.raises(LifetimeError):
            _ = moved.n


# ----------------------------------- wish 1: the retire moves ownership


def test_kfree_rcu_old_readers_keep_it_new_readers_are_refused_then_freed() -> None:
    """After the retire, a reader that began before may bind and use the object until it
    ends; one that began after is refused; after the grace period it is poisoned."""
    cell = lifetime.Cell({"v": 1}, "a retired dict")
    with RcuReadGuard() as old:
        early = lifetime.bind(old, cell)
        kfree_rcu(cell)
        with RcuReadGuard() as nested:  # the same section, still open since before
            assert lifetime.bind(nested, cell)["v"] == 1
        refused: list[BaseException] = []

        def later_reader(i: int) -> None:
            with RcuReadGuard() as g:
                try:
                    lifetime.bind(g, cell)
                except LifetimeError as e:
                    refused.append(e)

        run_threads(1, later_reader, timeout=30)
        assert early["v"] == 1 and len(refused) == 1
        assert "retired" in str(refused[0]) and "retired at" in str(refused[0])
    with RcuReadGuard() as g, pytest.raises(LifetimeError):
        lifetime.bind(g, cell)  # this thread's section ended: a new one cannot bind
    synchronize_rcu()
    rcu_barrier()
    assert cell.freed


class _Plain(lifetime.Scope, kind="PlainScope"):
    """A scope of the toolkit's own, for rebind() outside RCU."""

    __slots__ = ()


def test_rebind_is_a_toolkit_primitive_for_any_scope() -> None:
    """rebind() on plain toolkit scopes: the child object stays, the moved reference lives
    with its new scope, the old one dies with its own; another thread's scope: GuardError."""
    cell = lifetime.Cell({"items": [1, 2]}, "a dict")
    with _Plain() as a:
        child = lifetime.bind(a, cell)["items"]
        b = _Plain()
        moved = lifetime.rebind(child, b)
        assert list(moved) == [1, 2]
    assert list(moved) == [1, 2]  # outlives a
    with pytest.raises(LifetimeError):
        _ = child[0]
    other: list[lifetime.Scope] = []
    started, done = threading.Event(), threading.Event()

    def owner() -> None:
        with _Plain() as s:
            other.append(s)
            started.set()
            done.wait(30)

    t = threading.Thread(target=owner)
    t.start()
    assert started.wait(30)
    try:
        with pytest.raises(GuardError):
            lifetime.rebind(moved, other[0])
    finally:
        done.set()
        t.join(30)
    b.end()
    with pytest.raises(LifetimeError):
        _ = moved[0]
