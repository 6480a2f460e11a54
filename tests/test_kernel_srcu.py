"""kbind.kernel.sync.srcu: the merged ``kernel::sync::srcu`` (Srcu, Guard) and its C engine."""

from __future__ import annotations

import copy
import gc
import threading
import time

import pytest

from kbind import context
from kbind._bridge.native import ffi, lib
from kbind.errors import (
    AtomicContextError,
    CloneError,
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    SrcuActiveReadersWarning,
)
from kbind.kernel.sync import rcu
from kbind.kernel.sync.srcu import Guard, Srcu

pytestmark = pytest.mark.rcu_backends

JOIN = 10.0


# ------------------------------------------------------------------ the engine


def new_domain() -> object:
    d = ffi.new("kb_srcu_t *")
    assert lib.kb_srcu_init(d) == lib.KB_OK
    return d


def test_engine_read_lock_counts_and_synchronize_completes_a_grace_period() -> None:
    """read_lock returns the index and counts a reader; synchronize ends a grace period."""
    d = new_domain()
    assert not lib.kb_srcu_readers_active(d)
    idx = lib.kb_srcu_read_lock(d)
    assert idx in (0, 1) and lib.kb_srcu_readers_active(d)
    assert lib.kb_srcu_read_unlock(d, idx) == lib.KB_OK
    assert not lib.kb_srcu_readers_active(d)
    assert lib.kb_srcu_read_unlock(d, 2) == lib.KB_EINVAL
    lib.kb_synchronize_srcu(d)
    lib.kb_synchronize_srcu_expedited(d)
    assert lib.kb_srcu_gp_count(d) == 2
    assert lib.kb_cleanup_srcu_struct(d) == lib.KB_OK


def test_engine_flip_moves_new_readers_to_the_other_index() -> None:
    """After a grace period, new readers use the other index (the two-index flip)."""
    d = new_domain()
    before = lib.kb_srcu_read_lock(d)
    lib.kb_srcu_read_unlock(d, before)
    lib.kb_synchronize_srcu(d)
    after = lib.kb_srcu_read_lock(d)
    lib.kb_srcu_read_unlock(d, after)
    assert after == 1 - before


def test_engine_wait_times_out_on_a_reader_and_keeps_its_progress() -> None:
    """A held reader times the wait out (ETIMEDOUT); after unlock the same cookie completes."""
    d = new_domain()
    idx = lib.kb_srcu_read_lock(d)
    cookie = lib.kb_get_state_synchronize_srcu(d)
    assert lib.kb_srcu_wait_gp(d, cookie, 5_000_000, False) == lib.KB_ETIMEDOUT
    assert lib.kb_srcu_wait_gp(d, cookie, 5_000_000, True) == lib.KB_ETIMEDOUT
    assert not lib.kb_poll_state_synchronize_srcu(d, cookie)
    assert lib.kb_cleanup_srcu_struct(d) == lib.KB_EBUSY
    lib.kb_srcu_read_unlock(d, idx)
    assert lib.kb_srcu_wait_gp(d, cookie, 1_000_000_000, False) == lib.KB_OK
    assert lib.kb_poll_state_synchronize_srcu(d, cookie)
    assert lib.kb_srcu_barrier_timeout(d, 1_000_000_000) == lib.KB_OK


def test_engine_reader_of_a_new_grace_period_does_not_hold_up_an_old_cookie() -> None:
    """A cookie whose grace period ended is satisfied at once, even with a reader inside."""
    d = new_domain()
    cookie = lib.kb_get_state_synchronize_srcu(d)
    assert lib.kb_srcu_wait_gp(d, cookie, 1_000_000_000, False) == lib.KB_OK
    # Already satisfied cookies return at once, even with a reader inside now.
    idx = lib.kb_srcu_read_lock(d)
    assert lib.kb_srcu_wait_gp(d, cookie, 0, False) == lib.KB_OK
    lib.kb_srcu_read_unlock(d, idx)


def test_engine_busted_mode_is_per_domain_and_validated() -> None:
    """kb_srcu_set_busted() rejects unknown modes; a domain keeps the mode it was made with."""
    assert lib.kb_srcu_set_busted(99) == lib.KB_EINVAL
    assert lib.kb_srcu_set_busted(lib.KB_SRCU_BUSTED_NO_FLIP) == lib.KB_OK
    try:
        d = new_domain()
    finally:
        lib.kb_srcu_set_busted(lib.KB_SRCU_BUSTED_NONE)
    assert lib.kb_srcu_get_busted() == lib.KB_SRCU_BUSTED_NONE
    idx = lib.kb_srcu_read_lock(d)
    # The busted domain's grace period does not wait for the reader.
    assert lib.kb_synchronize_srcu_timeout(d, 1_000_000_000) == lib.KB_OK
    lib.kb_srcu_read_unlock(d, idx)


# ----------------------------------------------------------------- Python API


def test_guard_read_lock_and_unlock_count_a_reader() -> None:
    """read_lock() enters the domain's read side; unlock() or the with block leaves it."""
    d = Srcu()
    g = d.read_lock()
    assert isinstance(g, Guard) and g.alive and d.readers_active()
    assert g.domain is d
    g.unlock()
    assert not g.alive and not d.readers_active()
    with d.read_lock() as g2:
        d.check(g2)
    assert not g2.alive and not d.readers_active()
    d.close()


def test_guard_unlocked_on_another_thread_raises_naming_both_sites() -> None:
    """unlock() on another thread raises GuardError (R08, !Send) naming both threads' sites."""
    d = Srcu()
    g = d.read_lock()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            g.unlock()
        except GuardError as e:
            errors.append(e)

    t = threading.Thread(target=other, name="srcu-other")
    t.start()
    t.join(JOIN)
    assert len(errors) == 1
    msg = str(errors[0])
    assert "R08" in msg and "MainThread" in msg and "srcu-other" in msg
    assert "test_kernel_srcu.py" in msg and "attempted at" in msg
    assert g.alive
    g.unlock()
    d.close()


def test_guard_second_unlock_raises_naming_both_sites() -> None:
    """A second unlock() raises GuardError (R10) naming where it was created and first dropped."""
    d = Srcu()
    g = d.read_lock()
    g.unlock()
    with pytest.raises(GuardError) as info:
        g.unlock()
    msg = str(info.value)
    assert "R10" in msg and "created at" in msg and "second drop at" in msg
    assert not d.readers_active()


def test_guard_collected_while_held_warns_and_unlocks() -> None:
    """A guard collected while held warns GuardLeakWarning (its site) and unlocks the reader."""
    d = Srcu()

    def leak() -> None:
        d.read_lock()

    with pytest.warns(GuardLeakWarning, match="srcu::Guard"):
        leak()
        gc.collect()
    assert not d.readers_active()
    d.synchronize()


def test_r17_guard_of_another_domain_refused() -> None:
    """Srcu.check() with another domain's guard: GuardError naming both domains and the guard."""
    a, b = Srcu(), Srcu()
    with a.read_lock() as g:
        a.check(g)
        with pytest.raises(GuardError) as info:
            b.check(g)
    msg = str(info.value)
    assert "R17" in msg and a.name in msg and b.name in msg
    assert msg.count("test_kernel_srcu.py") >= 3  # the guard, both domains, the attempt
    with pytest.raises(LifetimeError):
        a.check(g)  # unlocked by now
    with pytest.raises(TypeError):
        a.check(object())  # type: ignore[arg-type]


def test_closed_domain_refuses_readers_waits_and_guards_naming_both_sites() -> None:
    """After close(): read_lock, synchronize, check, Guard.domain raise LifetimeError."""
    d = Srcu()
    g = d.read_lock()
    g.unlock()
    d.close()
    d.close()  # a second close does nothing
    for action in (d.read_lock, d.synchronize, d.synchronize_expedited, lambda: d.check(g)):
        with pytest.raises(LifetimeError) as info:
            action()
        msg = str(info.value)
        assert "closed" in msg and "domain closed at" in msg and "created at" in msg
    with pytest.raises(LifetimeError) as dinfo:
        _ = g.domain
    assert "domain closed at" in str(dinfo.value)


def test_domain_is_not_clone() -> None:
    """Copying or pickling a domain or a guard raises CloneError."""
    d = Srcu()
    with pytest.raises(CloneError):
        copy.copy(d)
    with d.read_lock() as g, pytest.raises(CloneError):
        copy.copy(g)
    d.close()


# ------------------------------------------------------ grace periods, context


def test_synchronize_inside_own_reader_raises_deadlock_error_naming_both_sites() -> None:
    """synchronize(), its expedited form and close() in a reader of the domain: DeadlockError."""
    d = Srcu()
    with d.read_lock():
        for action in (d.synchronize, d.synchronize_expedited, d.close):
            with pytest.raises(DeadlockError) as info:
                action()
            msg = str(info.value)
            assert "R05" in msg and "srcu::Guard" in msg
            assert msg.count("test_kernel_srcu.py") >= 2  # the guard's site and the call's
    assert not d.closed
    d.synchronize()
    d.close()


def test_synchronize_inside_reader_of_another_domain_is_allowed() -> None:
    """A reader of one domain may wait for another domain's grace period (and may sleep)."""
    a, b = Srcu(), Srcu()
    with a.read_lock():
        b.synchronize()
        b.synchronize_expedited()
        context.sleep(0.001)  # SRCU readers may sleep: not an atomic section
        assert not context.in_atomic()
    assert b.grace_periods() == 2
    a.close()
    b.close()


def test_synchronize_in_an_rcu_reader_raises_atomic_context_error() -> None:
    """synchronize() may sleep: inside an RCU read-side section it raises AtomicContextError."""
    d = Srcu()
    with rcu.read_lock(), pytest.raises(AtomicContextError):
        d.synchronize()
    d.close()


def test_synchronize_waits_for_a_sleeping_reader() -> None:
    """A reader that sleeps holds up synchronize() until it unlocks."""
    d = Srcu()
    entered = threading.Event()
    released = threading.Event()
    left: list[float] = []

    def reader() -> None:
        with d.read_lock():
            entered.set()
            released.wait(JOIN)
            time.sleep(0.05)  # sleeps inside the section: SRCU allows it
            left.append(time.monotonic())

    t = threading.Thread(target=reader)
    t.start()
    assert entered.wait(JOIN)
    released.set()
    d.synchronize()
    done = time.monotonic()
    t.join(JOIN)
    assert left and left[0] <= done
    d.close()


def test_synchronize_releases_the_gil_while_it_waits() -> None:
    """While synchronize() waits for a reader, another Python thread keeps running."""
    d = Srcu()
    entered = threading.Event()
    stop = threading.Event()
    ticks: list[int] = []

    def reader() -> None:
        with d.read_lock():
            entered.set()
            stop.wait(JOIN)

    def ticker() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            if n % 1000 == 0:
                ticks.append(n)
            if len(ticks) >= 50:
                stop.set()  # enough: release the reader

    r = threading.Thread(target=reader)
    r.start()
    assert entered.wait(JOIN)
    k = threading.Thread(target=ticker)
    k.start()
    d.synchronize()  # returns only after the ticker ran while we waited
    r.join(JOIN)
    k.join(JOIN)
    assert len(ticks) >= 50
    d.close()


def test_close_with_active_reader_warns_and_waits() -> None:
    """close() while another thread reads warns (SrcuActiveReadersWarning), then waits."""
    d = Srcu()
    entered = threading.Event()
    left: list[float] = []

    def reader() -> None:
        with d.read_lock():
            entered.set()
            time.sleep(0.1)
            left.append(time.monotonic())

    t = threading.Thread(target=reader, name="srcu-reader")
    t.start()
    assert entered.wait(JOIN)
    with pytest.warns(SrcuActiveReadersWarning) as info:
        d.close()
    closed = time.monotonic()
    t.join(JOIN)
    assert left and left[0] <= closed
    msg = str(info[0].message)
    assert d.name in msg and "srcu-reader" in msg and "srcu_barrier" in msg
    assert d.closed and not d.readers_active()


def test_collected_domain_with_active_reader_warns_and_waits() -> None:
    """A domain collected while another thread reads warns, waits for the reader, then goes."""
    holder = {"d": Srcu()}
    entered = threading.Event()
    done: list[bool] = []

    def reader() -> None:
        g = holder["d"].read_lock()  # the guard holds its domain weakly
        entered.set()
        time.sleep(0.1)
        done.append(True)
        g.unlock()  # the C domain outlives the Python one while guards hold it

    t = threading.Thread(target=reader)
    t.start()
    assert entered.wait(JOIN)
    with pytest.warns(SrcuActiveReadersWarning, match="garbage-collected"):
        del holder["d"]  # the last reference: the drop warns and waits
    assert done == [True]
    t.join(JOIN)
