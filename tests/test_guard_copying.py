"""Guards, locks, Rcu, seqlocks and atomics are not Clone: copying or pickling them is refused.

A copy of a guard could unlock a lock another thread
holds, a copy of an Rcu could free what readers of the original hold, a
copied drop guard dropped twice.  Every such object refuses copy.copy,
copy.deepcopy and pickle with kbind.CloneError (a GuardError and a
TypeError), naming the rule.
"""

from __future__ import annotations

import copy
import pickle
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

import kbind
from kbind import (
    AtomicI32,
    AtomicI64,
    AtomicUsize,
    CloneError,
    GuardError,
    Mutex,
    Rcu,
    RcuReadGuard,
    Relaxed,
    SeqLatch,
    SeqLock,
    SpinLock,
    Word,
)

COPIERS: dict[str, Callable[[object], object]] = {
    "copy": copy.copy,
    "deepcopy": copy.deepcopy,
    "pickle": lambda o: pickle.dumps(o),
    "pickle-0": lambda o: pickle.dumps(o, protocol=0),
}


@contextmanager
def _objects() -> Iterator[dict[str, object]]:
    """Yield one live instance of each guard, owner and capability kbind has."""
    lock = SpinLock(1)
    mutex = Mutex([1])
    rcu = Rcu({"a": 1})
    _split, writer = Rcu.init({"b": 2})
    seq = SeqLock(x=1)
    latch = SeqLatch(y=2)
    objs: dict[str, object] = {
        "SpinLock": lock,
        "Mutex": mutex,
        "Rcu": rcu,
        "RcuWrite": writer,
        "SeqLock": seq,
        "SeqLatch": latch,
        "AtomicI32": AtomicI32(1),
        "AtomicI64": AtomicI64(1),
        "AtomicUsize": AtomicUsize(1),
        "Word": Word(1),
    }
    drop = rcu.replace({"a": 2})
    objs["RcuDropGuard"] = drop
    token = seq.read_begin()
    objs["SeqReadToken"] = token
    with lock.lock() as lg, RcuReadGuard() as rg:
        objs["LockGuard"] = lg
        objs["RcuReadGuard"] = rg
        yield objs
    seq.read_retry(token)
    drop.drop()


NAMES = [
    "SpinLock", "Mutex", "Rcu", "RcuWrite", "SeqLock", "SeqLatch", "AtomicI32", "AtomicI64",
    "AtomicUsize", "Word", "RcuDropGuard", "SeqReadToken", "LockGuard", "RcuReadGuard",
]  # fmt: skip


@pytest.mark.parametrize("how", sorted(COPIERS))
@pytest.mark.parametrize("name", NAMES)
def test_guards_and_owners_copy_or_pickle_raises_clone_error(name: str, how: str) -> None:
    """copy.copy, copy.deepcopy and pickle of each guard/owner raise CloneError naming the rule."""
    with _objects() as objs:
        obj = objs[name]
        with pytest.raises(CloneError) as exc:
            COPIERS[how](obj)
    err = exc.value
    assert isinstance(err, GuardError)
    assert isinstance(err, TypeError)  # what copy/pickle users catch
    assert "cannot be duplicated" in err.rule
    assert "not Clone/Copy" in err.rule
    assert err.hint


@pytest.mark.parametrize("how", sorted(COPIERS))
def test_seq_write_guard_copy_raises_clone_error(how: str) -> None:
    """A SeqWriteGuard refuses copying with CloneError (it raised a raw AttributeError)."""
    seq = SeqLock(x=1)
    with seq.write() as w:
        with pytest.raises(CloneError):
            COPIERS[how](w)
        w.x = 2
    assert seq.snapshot() == {"x": 2}


@pytest.mark.parametrize("how", sorted(COPIERS))
def test_seq_views_copy_raises_clone_error(how: str) -> None:
    """Views handed to SeqLock.read, SeqLatch.read and SeqLatch.write refuse copying."""
    seq = SeqLock(x=1)
    latch = SeqLatch(y=2)

    def try_copy(v: object) -> str:
        try:
            COPIERS[how](v)
        except CloneError:
            return "refused"
        return "copied"

    assert seq.read(try_copy) == "refused"
    assert latch.read(try_copy) == "refused"
    seen: list[str] = []
    latch.write(lambda w: seen.append(try_copy(w)))
    assert seen == ["refused", "refused"]


def test_copied_lock_guard_cannot_unlock_a_lock_another_thread_holds() -> None:
    """The scenario of the issue: a copy of a guard must not release the lock a second time."""
    lock = SpinLock(0)
    g = lock.lock()
    with pytest.raises(CloneError):
        copy.copy(g)
    g.unlock()
    taken = threading.Event()
    release = threading.Event()

    def other() -> None:
        with lock.lock():
            taken.set()
            release.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert taken.wait(10)
    assert lock.try_lock() is None  # still excluded: nothing released it behind its back
    release.set()
    t.join(10)
    assert not t.is_alive()


def test_copied_rcu_cannot_free_what_readers_of_the_original_hold() -> None:
    """Copying an Rcu is refused, so no second owner can retire the value readers still read."""
    rcu = Rcu({"k": 1})
    with RcuReadGuard() as g:
        ref = rcu.read(g)
        with pytest.raises(CloneError):
            copy.copy(rcu)
        assert ref["k"] == 1


def test_read_guard_copy_refused_and_original_still_works() -> None:
    """A refused copy leaves the original read guard usable and droppable once."""
    rcu = Rcu({"k": 1})
    g = RcuReadGuard()
    with pytest.raises(CloneError):
        copy.copy(g)
    assert rcu.read(g)["k"] == 1
    g.drop()
    with pytest.raises(GuardError):
        g.drop()


def test_drop_guard_copy_refused_so_the_old_value_is_freed_once() -> None:
    """A drop guard cannot be copied, so the old value is retired exactly once."""
    rcu = Rcu({"k": 1})
    d = rcu.replace({"k": 2})
    with pytest.raises(CloneError):
        copy.copy(d)
    d.drop()
    assert d.freed


def test_deep_copy_of_a_value_holding_primitives_still_shares_them() -> None:
    """Copy-on-write (deep_clone) shares locks, atomics and seqlocks instead of copying them."""
    lock = SpinLock(0)
    counter = AtomicI64(5)
    seq = SeqLock(x=1)
    rcu = Rcu({"lock": lock, "counter": counter, "seq": seq, "data": [1, 2]})
    with RcuReadGuard() as g:
        out = copy.deepcopy(rcu.read(g))
    assert out["lock"] is lock
    assert out["counter"] is counter
    assert out["seq"] is seq
    assert out["data"] == [1, 2]
    counter.store(7, Relaxed)
    assert out["counter"].load(Relaxed) == 7


def test_clone_error_is_exported_and_explained() -> None:
    """CloneError is public and has a long explanation."""
    assert kbind.CloneError is CloneError
    assert "Clone" in CloneError.explain()
