"""kbind.kernel_c's locks: spinlock_t and struct mutex with lockdep, checks on and off."""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Iterator

import pytest

from kbind import kernel_c as c
from kbind.errors import AtomicContextError, DeadlockError, GuardError, GuardLeakWarning

OFF = {"PROVE_LOCKING": False, "DEBUG_ATOMIC_SLEEP": False, "DEBUG_SPINLOCK": False,
       "DEBUG_MUTEXES": False}  # fmt: skip


@pytest.fixture(autouse=True)
def fresh_lockdep() -> Iterator[None]:
    c.lockdep_reset()
    yield
    c.lockdep_reset()


def _in_thread(fn: object) -> None:
    t = threading.Thread(target=fn)  # type: ignore[arg-type]
    t.start()
    t.join(10)
    assert not t.is_alive()


def test_spinlock_excludes_other_threads() -> None:
    lock = c.Spinlock("counter")
    count = [0]

    def work() -> None:
        for _ in range(2000):
            c.spin_lock(lock)
            v = count[0]
            count[0] = v + 1
            c.spin_unlock(lock)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert count[0] == 6000 and not c.spin_is_locked(lock)


@pytest.mark.parametrize("checks", [True, False], ids=["debug", "production"])
def test_l04_relocking_raises_deadlock_error_whatever_the_options(checks: bool) -> None:
    lock = c.Spinlock("relocked")
    with c.configured(**({} if checks else OFF)):
        c.spin_lock(lock)
        with pytest.raises(DeadlockError) as info:
            c.spin_lock(lock)
        c.spin_unlock(lock)
    text = str(info.value)
    assert "first taken at" in text and "taken again at" in text
    assert ("recursive locking" in text) is checks
    assert not c.spin_is_locked(lock)


def test_l05_lock_order_inversion_reported_before_any_deadlock() -> None:
    a, b = c.Spinlock("A"), c.Mutex("B")
    c.spin_lock(a)
    c.lockdep_reset()  # order recorded below, not here
    c.spin_unlock(a)
    c.mutex_lock(b)
    c.spin_lock(a)  # B -> A
    c.spin_unlock(a)
    c.mutex_unlock(b)

    def inverted() -> None:
        c.spin_lock(a)
        try:
            with (
                pytest.raises(DeadlockError, match="circular locking dependency") as info,
                c.configured(DEBUG_ATOMIC_SLEEP=False),
            ):
                c.mutex_lock(b)  # A -> B: the inversion
            text = str(info.value)
            assert "earlier: B held at" in text and "now: A held at" in text
        finally:
            c.spin_unlock(a)

    _in_thread(inverted)


def test_l05_inversion_through_a_third_lock_and_not_with_prove_locking_off() -> None:
    x, y, z = c.Spinlock("X"), c.Spinlock("Y"), c.Spinlock("Z")
    for first, second in ((x, y), (y, z)):
        c.spin_lock(first)
        c.spin_lock(second)
        c.spin_unlock(second)
        c.spin_unlock(first)
    c.spin_lock(z)
    with pytest.raises(DeadlockError, match="circular"):
        c.spin_lock(x)  # Z -> X closes X -> Y -> Z
    with c.configured(PROVE_LOCKING=False):
        c.spin_lock(x)  # production kernel: nothing says no
        c.spin_unlock(x)
    c.spin_unlock(z)


def test_two_locks_of_one_class_are_recursive_locking_for_lockdep() -> None:
    one, two = c.Spinlock("bucket"), c.Spinlock("bucket")
    c.spin_lock(one)
    with pytest.raises(DeadlockError, match="recursive locking"):
        c.spin_lock(two)
    c.spin_unlock(one)


@pytest.mark.parametrize("checks", [True, False], ids=["debug", "production"])
def test_l03_unlock_on_another_thread(checks: bool) -> None:
    lock = c.Mutex("owned")
    c.mutex_lock(lock)
    seen: list[BaseException | None] = []

    def other() -> None:
        try:
            c.mutex_unlock(lock)
            seen.append(None)
        except GuardError as exc:
            seen.append(exc)

    with c.configured(**({} if checks else OFF)):
        _in_thread(other)
    if checks:
        assert isinstance(seen[0], GuardError) and "wrong owner" in str(seen[0])
        assert c.mutex_is_locked(lock)
        c.mutex_unlock(lock)
    else:
        assert seen == [None] and not c.mutex_is_locked(lock)  # released under its owner


def test_unlock_without_lock_checked_only_with_debug_spinlock() -> None:
    lock = c.Spinlock("never taken")
    with pytest.raises(GuardError, match="not locked"):
        c.spin_unlock(lock)
    with c.configured(DEBUG_SPINLOCK=False):
        c.spin_unlock(lock)
    assert not c.spin_is_locked(lock)


def test_l06_mutex_under_a_spinlock_is_atomic_context_with_debug_atomic_sleep() -> None:
    spin, mutex = c.Spinlock("outer"), c.Mutex("inner")
    c.spin_lock(spin)
    try:
        with pytest.raises(AtomicContextError, match="spinlock_t section"):
            c.mutex_lock(mutex)
        with c.configured(DEBUG_ATOMIC_SLEEP=False):
            c.mutex_lock(mutex)
            c.mutex_unlock(mutex)
    finally:
        c.spin_unlock(spin)
    c.mutex_lock(mutex)  # fine outside the spinlock
    c.mutex_unlock(mutex)


def test_l01_lockdep_assert_held_and_rcu_dereference_protected() -> None:
    lock = c.Mutex("update side")
    gp = c.RcuPointer(c.kmalloc(1))
    with pytest.raises(GuardError, match="not held by this thread"):
        c.lockdep_assert_held(lock)
    c.mutex_lock(lock)
    c.lockdep_assert_held(lock)
    got = c.rcu_dereference_protected(gp, c.lockdep_is_held(lock))
    assert got is not None and got.value == 1
    c.mutex_unlock(lock)
    with c.configured(PROVE_LOCKING=False):
        c.lockdep_assert_held(lock)  # nothing checked


def test_l10_thread_exiting_with_a_lock_warns_and_waiters_do_not_hang() -> None:
    lock = c.Spinlock("leaked")

    def leak() -> None:
        c.spin_lock(lock)

    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _in_thread(leak)
        gc.collect()
    assert any(issubclass(w.category, GuardLeakWarning) for w in seen), seen
    with pytest.raises(DeadlockError, match="exited holding"):
        c.spin_lock(lock)


def test_trylock_fails_on_a_held_lock_and_succeeds_on_a_free_one() -> None:
    lock = c.Mutex("try")
    assert c.mutex_trylock(lock)
    assert not c.mutex_trylock(lock)
    c.mutex_unlock(lock)
    assert not c.mutex_is_locked(lock)
