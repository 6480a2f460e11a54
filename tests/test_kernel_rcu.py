"""kbind.kernel.sync.rcu, the merged ``kernel::sync::rcu``: Guard, read_lock, synchronize."""

from __future__ import annotations

import gc
import threading
import warnings

import pytest

import kbind
from kbind.errors import DeadlockError, GuardError, GuardLeakWarning
from kbind.kernel.sync import rcu
from kbind.rcu import Rcu, RcuReadGuard, read_lock_depth

pytestmark = pytest.mark.rcu_backends


def test_guard_enters_and_unlock_leaves_the_section() -> None:
    """Guard() and read_lock() enter a read-side section; unlock() or the with block leaves it."""
    g = rcu.Guard()
    assert g.alive and read_lock_depth() == 1
    g.unlock()
    assert not g.alive and read_lock_depth() == 0
    with rcu.read_lock() as g2:
        assert read_lock_depth() == 1
    assert not g2.alive and read_lock_depth() == 0


def test_guards_of_both_designs_nest_and_grace_periods_wait_for_both() -> None:
    """rcu::Guard and RcuReadGuard are sections of one engine: they nest; a GP waits for each."""
    cfg = Rcu({"v": 1})
    with rcu.Guard():
        with RcuReadGuard() as g:
            assert cfg.read(g)["v"] == 1
            assert read_lock_depth() == 2
        with pytest.raises(DeadlockError):
            kbind.synchronize_rcu()  # the original design sees the merged design's reader
    started, done = threading.Event(), threading.Event()

    def waiter() -> None:
        started.set()
        rcu.synchronize_rcu()
        done.set()

    g = rcu.Guard()
    t = threading.Thread(target=waiter)
    t.start()
    assert started.wait(10)
    assert not done.wait(0.2), "the grace period ended under an open rcu::Guard"
    g.unlock()
    assert done.wait(10)
    t.join(10)


def test_second_unlock_names_both_sites() -> None:
    """A guard is released once (R10); the error names where it was made and released."""
    g = rcu.read_lock()
    g.unlock()
    with pytest.raises(GuardError, match="R10") as info:
        g.unlock()
    msg = str(info.value)
    assert "created at" in msg and "dropped at" in msg and "second drop at" in msg


def test_guard_is_not_send() -> None:
    """Unlocking on another thread raises (Rust: Guard is !Send); the owner can still unlock."""
    g = rcu.Guard()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            g.unlock()
        except GuardError as e:
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join(10)
    assert errors and "R08" in str(errors[0]) and "!Send" in str(errors[0])
    assert g.alive
    g.unlock()


def test_leaked_guard_warns_and_ends_the_section() -> None:
    """A guard dropped on the floor ends its section with a GuardLeakWarning naming it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rcu.Guard()
        gc.collect()
    assert read_lock_depth() == 0
    assert any(
        issubclass(w.category, GuardLeakWarning) and "an rcu::Guard" in str(w.message)
        for w in caught
    )


def test_rcu_barrier_runs_queued_callbacks() -> None:
    """rcu_barrier() returns after every callback queued before it ran."""
    ran: list[int] = []
    for i in range(5):
        kbind.call_rcu(lambda i=i: ran.append(i))
    rcu.rcu_barrier()
    assert ran == [0, 1, 2, 3, 4]
    with rcu.Guard(), pytest.raises(DeadlockError, match="R07"):
        rcu.rcu_barrier()
