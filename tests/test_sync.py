"""Tests for kbind.sync: SpinLock/Mutex guards, exactness under threads, every lock misuse row."""

from __future__ import annotations

import gc
import sys
import threading

import pytest

from kbind import DeadlockError, GuardError, GuardLeakWarning, LifetimeError, Mutex, SpinLock

from .conftest import run_threads

LOCKS = [SpinLock, Mutex]


@pytest.mark.parametrize("cls", LOCKS)
def test_lock_guard_value_reads_and_writes(cls: type) -> None:
    """g.value reads and assigns the protected value while the guard is live."""
    lock = cls({"n": 1})
    with lock.lock() as g:
        g.value["n"] += 1
        g.value = {"n": g.value["n"] * 10}
    with lock.lock() as g:
        assert g.value == {"n": 20}
    assert not lock.is_locked()


@pytest.mark.parametrize("cls", LOCKS)
def test_lock_counter_from_threads_stays_exact(cls: type) -> None:
    """A counter updated under the lock by several threads loses no update."""
    lock = cls(0)
    threads, per = 4, 5_000

    def work(i: int) -> None:
        for _ in range(per):
            with lock.lock() as g:
                v = g.value
                g.value = v + 1

    run_threads(threads, work)
    with lock.lock() as g:
        assert g.value == threads * per


@pytest.mark.parametrize("cls", LOCKS)
def test_lock_contended_waiter_releases_gil(cls: type) -> None:
    """While a thread waits in C for a held lock, other Python threads keep running.

    The holder releases only when this (main) thread tells it to, after it has
    seen the waiter inside lock()'s C wait and run Python code meanwhile; if
    the waiter held the GIL, this thread could not run and the holder's wait
    would time out instead.
    """
    lock = cls(0)
    holder_has_it = threading.Event()
    release = threading.Event()
    told: list[bool] = []
    order: list[str] = []

    def holder() -> None:
        with lock.lock() as g:
            holder_has_it.set()
            told.append(release.wait(timeout=30))
            g.value = 1
            order.append("holder")

    def waiter() -> None:
        holder_has_it.wait(timeout=30)
        with lock.lock() as g:
            order.append(f"waiter saw {g.value}")

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter, name="waiter")]
    for t in threads:
        t.start()
    waiter_ident = threads[1].ident
    assert holder_has_it.wait(timeout=30)
    for _ in range(100_000):  # bounded: until the waiter is in lock()'s wait loop
        frame = sys._current_frames().get(waiter_ident)  # type: ignore[arg-type]
        if frame is not None and frame.f_code.co_name == "lock":
            break
    else:
        pytest.fail("the waiter never reached lock()")
    sum(range(10_000))  # Python work while the waiter waits in C
    release.set()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()
    assert told == [True]
    assert order == ["holder", "waiter saw 1"]


@pytest.mark.parametrize("cls", LOCKS)
def test_try_lock_busy_returns_none(cls: type) -> None:
    """try_lock returns None while another thread holds the lock, a guard once it is free."""
    lock = cls(0)
    held = threading.Event()
    done = threading.Event()
    results: list[object] = []

    def other() -> None:
        with lock.lock():
            held.set()
            done.wait(timeout=30)

    t = threading.Thread(target=other)
    t.start()
    assert held.wait(timeout=30)
    results.append(lock.try_lock())
    done.set()
    t.join(timeout=30)
    g = lock.try_lock()
    assert results == [None]
    assert g is not None
    assert lock.try_lock() is None  # held by this thread: no second guard
    g.unlock()


@pytest.mark.parametrize("cls", LOCKS)
def test_l02_guard_used_after_unlock_raises_lifetime_error_with_both_sites(cls: type) -> None:
    """A guard used after unlock raises LifetimeError naming where it was created and dropped."""
    lock = cls([1, 2])
    g = lock.lock()
    g.unlock()
    with pytest.raises(LifetimeError) as info:
        _ = g.value
    err = info.value
    assert err.created_at is not None and err.dropped_at is not None
    assert err.created_at.filename == __file__
    assert err.dropped_at.lineno == err.created_at.lineno + 1
    text = str(err)
    assert f"test_sync.py:{err.created_at.lineno}" in text
    assert f"test_sync.py:{err.dropped_at.lineno}" in text
    assert "MainThread" in text and "hint:" in text
    with pytest.raises(LifetimeError):
        g.value = [3]
    with lock.lock() as g2:
        assert g2.value == [1, 2]


@pytest.mark.parametrize("cls", LOCKS)
def test_l02_guard_escaping_with_block_raises_lifetime_error(cls: type) -> None:
    """A guard kept after its with block is dead (the reference escaped)."""
    lock = cls(5)
    with lock.lock() as g:
        pass
    with pytest.raises(LifetimeError, match="was dropped"):
        _ = g.value


@pytest.mark.parametrize("cls", LOCKS)
def test_l03_unlock_on_other_thread_raises_guard_error(cls: type) -> None:
    """Unlocking or using a guard on another thread raises GuardError; the lock stays held."""
    lock = cls(0)
    g = lock.lock()
    errors: list[BaseException] = []

    def other() -> None:
        for action in (g.unlock, lambda: g.value):
            try:
                action()
            except GuardError as exc:
                errors.append(exc)

    t = threading.Thread(target=other, name="intruder")
    t.start()
    t.join(timeout=30)
    assert len(errors) == 2
    assert "intruder" in str(errors[0]) and "MainThread" in str(errors[0])
    assert errors[0].created_at is g.created_at
    assert "tried at" in str(errors[0]) and "on thread 'intruder'" in str(errors[0])
    assert lock.is_locked()
    g.unlock()
    assert not lock.is_locked()


@pytest.mark.parametrize("cls", LOCKS)
def test_l04_relock_on_owner_thread_raises_deadlock_error(cls: type) -> None:
    """Locking again on the owning thread raises DeadlockError naming the first guard's site."""
    lock = cls(0)
    with lock.lock() as g:
        with pytest.raises(DeadlockError) as info:
            lock.lock()
        assert info.value.created_at is g.created_at
        assert "second lock() at" in str(info.value)
        assert g.value == 0  # the first guard is still fine
    with lock.lock():
        pass


@pytest.mark.parametrize("cls", LOCKS)
def test_double_unlock_raises_guard_error(cls: type) -> None:
    """A guard is dropped exactly once; the second unlock raises GuardError and frees nothing."""
    lock = cls(0)
    g = lock.lock()
    g.unlock()
    other = lock.lock()
    with pytest.raises(GuardError, match="already dropped"):
        g.unlock()
    assert lock.is_locked()  # the second guard still holds it
    other.unlock()


@pytest.mark.parametrize("cls", LOCKS)
def test_unlock_inside_with_block_then_exit_is_fine(cls: type) -> None:
    """Dropping early with unlock() and then leaving the with block does not double-unlock."""
    lock = cls(0)
    with lock.lock() as g:
        g.unlock()
    assert not lock.is_locked()


@pytest.mark.parametrize("cls", LOCKS)
def test_l10_leaked_guard_warns_with_creation_site_and_releases(cls: type) -> None:
    """A guard collected while held warns naming where it was taken, and the lock is freed."""
    lock = cls(0)
    g = lock.lock()
    line = g.created_at.lineno
    with pytest.warns(GuardLeakWarning, match=rf"test_sync\.py:{line}"):
        del g
        gc.collect()
    assert not lock.is_locked()
    again = lock.try_lock()
    assert again is not None
    again.unlock()


def test_exception_in_with_block_releases_lock() -> None:
    """An exception leaving the with block still releases the lock."""
    lock = SpinLock(0)
    with pytest.raises(KeyError), lock.lock():
        raise KeyError("x")
    assert not lock.is_locked()


@pytest.mark.parametrize("cls", LOCKS)
def test_blocked_lock_is_interruptible_by_ctrl_c(cls: type) -> None:
    """A main thread waiting for a held lock still gets KeyboardInterrupt, and nothing is held."""
    import _thread

    lock = cls(0)
    holding = threading.Event()
    waiting = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with lock.lock():
            holding.set()
            if waiting.wait(timeout=30):
                _thread.interrupt_main()  # Ctrl-C while the main thread waits below
            release.wait(timeout=30)

    t = threading.Thread(target=holder)
    t.start()
    assert holding.wait(timeout=30)
    with pytest.raises(KeyboardInterrupt):
        waiting.set()
        for _ in range(1000):  # bounded: the interrupt arrives within one wait slice
            lock.lock().unlock()
    release.set()
    t.join(timeout=30)
    assert not t.is_alive()
    with lock.lock() as g:  # nothing leaked: the lock is free for this thread
        assert g.value == 0
