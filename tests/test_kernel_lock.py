"""kbind.kernel.sync.lock: SpinLock, Mutex, Guard, LockedBy, CondVar, SpinLockIrq (kernel::sync)."""

from __future__ import annotations

import copy
import gc
import threading
import time
import warnings
from collections.abc import Callable

import pytest

from kbind import context
from kbind.errors import (
    AtomicContextError,
    CloneError,
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    ReadOnlyError,
)
from kbind.kernel.sync import rcu
from kbind.kernel.sync.lock import (
    CondVar,
    Guard,
    LocalInterruptDisabled,
    LockedBy,
    Mutex,
    SpinLock,
    SpinLockIrq,
    irqs_disabled,
    local_interrupt_disable,
)
from kbind.rcu import RcuReadGuard


def on_thread(fn: Callable[[], object]) -> BaseException | None:
    """Run ``fn`` on a new thread (bounded); return what it raised, or None."""
    out: list[BaseException | None] = [None]

    def body() -> None:
        try:
            fn()
        except BaseException as exc:
            out[0] = exc

    t = threading.Thread(target=body, name="other")
    t.start()
    t.join(10)
    assert not t.is_alive()
    return out[0]


def sections() -> list[str]:
    """The kinds of the calling thread's open atomic sections."""
    return [what for what, _ in context.atomic_sections()]


# ------------------------------------------------------------ SpinLock / Mutex


def test_spinlock_guard_reads_assigns_and_unlocks() -> None:
    """lock() gives a Guard whose .value reads and assigns; unlock() and the with block release."""
    lock = SpinLock(1)
    with lock.lock() as g:
        assert type(g) is Guard
        g.value += 1
        assert lock.is_locked()
    assert not lock.is_locked()
    g2 = lock.lock()
    assert g2.value == 2
    g2.unlock()
    maybe = lock.try_lock()
    assert maybe is not None and maybe.value == 2
    assert lock.try_lock() is None  # held by this thread: no guard, no deadlock
    maybe.unlock()


def test_spinlock_guard_is_an_atomic_section_until_it_ends() -> None:
    """Holding a SpinLock is an atomic section; it ends with the guard (unlock or with block)."""
    lock = SpinLock(0)
    g = lock.lock()
    assert sections() == ["a SpinLock section"] and context.in_atomic()
    g.unlock()
    assert sections() == []
    with pytest.raises(ValueError), lock.lock():
        assert context.in_atomic()
        raise ValueError
    assert sections() == []


def test_mutex_guard_is_not_atomic_and_may_sleep() -> None:
    """A Mutex guard is no atomic section: sleeping inside it is allowed."""
    m = Mutex([1])
    with m.lock() as g:
        g.value.append(2)
        assert not context.in_atomic()
        context.sleep(0)
    with m.lock() as g:
        assert g.value == [1, 2]


def test_guard_after_unlock_raises_lifetime_error_naming_both_sites() -> None:
    """.value after unlock: LifetimeError naming where the guard was taken and released."""
    g = SpinLock(0).lock()
    g.unlock()
    with pytest.raises(LifetimeError) as err:
        _ = g.value
    assert err.value.created_at is not None and err.value.dropped_at is not None
    assert "test_kernel_lock.py" in str(err.value)


def test_guard_unlocked_twice_raises_guard_error() -> None:
    """A second unlock raises GuardError naming both unlocks and releases nothing."""
    lock = Mutex(0)
    g = lock.lock()
    g.unlock()
    other = lock.lock()
    with pytest.raises(GuardError) as err:
        g.unlock()
    assert "second drop at" in str(err.value) and err.value.dropped_at is not None
    assert lock.is_locked()  # the other guard still holds it
    other.unlock()


def test_guard_on_another_thread_raises_guard_error_naming_both_sites() -> None:
    """Using or unlocking a guard on another thread: GuardError naming its site and the attempt."""
    lock = SpinLock(0)
    g = lock.lock()
    for fn in (lambda: g.value, g.unlock):
        exc = on_thread(fn)
        assert isinstance(exc, GuardError), exc
        assert "!Send" in str(exc) and "attempted at" in str(exc)
        assert exc.created_at is not None
    assert g.alive and lock.is_locked()
    g.unlock()


def test_recursive_lock_raises_deadlock_error() -> None:
    """Locking a lock this thread holds raises DeadlockError naming the live guard's site."""
    for lock in (SpinLock(0), Mutex(0), SpinLockIrq(0)):
        with lock.lock():
            with pytest.raises(DeadlockError) as err:
                lock.lock()
            assert err.value.created_at is not None and "second lock() at" in str(err.value)
    assert sections() == [] and not irqs_disabled()


def test_locks_exclude_each_other_across_threads() -> None:
    """Four threads incrementing under the lock lose no update (contended waits run in cffi)."""
    for lock in (SpinLock(0), Mutex(0), SpinLockIrq(0)):
        start = threading.Barrier(4)

        def work(
            lk: SpinLock[int] | Mutex[int] | SpinLockIrq[int] = lock,
            start: threading.Barrier = start,
        ) -> None:
            start.wait(10)
            for _ in range(500):
                with lk.lock() as g:
                    g.value += 1

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not any(t.is_alive() for t in threads)
        with lock.lock() as g:
            assert g.value == 2000


def test_mutex_lock_in_atomic_context_raises_naming_both_sites() -> None:
    """Mutex.lock() in a SpinLock, an RCU reader (both designs) or irqs-off: AtomicContextError."""
    m = Mutex(0)
    spin = SpinLock(0)
    openers: list[tuple[Callable[[], object], str]] = [
        (spin.lock, "a SpinLock section"),
        (rcu.Guard, "rcu"),
        (RcuReadGuard, "rcu"),
        (local_interrupt_disable, "interrupt-disabled"),
        (SpinLockIrq(0).lock, "interrupts disabled"),
    ]
    for opener, what in openers:
        section = opener()
        with pytest.raises(AtomicContextError) as err:
            m.lock()
        text = str(err.value)
        assert what in text.lower() or what in text, text
        assert "entered at" in text and "sleeping call at" in text
        section.unlock() if hasattr(section, "unlock") else section.drop()  # type: ignore[attr-defined]
    assert not m.is_locked() and sections() == []
    with spin.lock():
        g = m.try_lock()  # never sleeps: allowed in atomic context
        assert g is not None
        g.unlock()


def test_leaked_spinlock_guard_warns_releases_and_ends_its_section() -> None:
    """A held guard collected (on any thread) warns, releases the lock and ends its section."""
    lock = SpinLock(0)
    g = lock.lock()
    with pytest.warns(GuardLeakWarning, match="created at"):
        del g
        gc.collect()
    assert not lock.is_locked() and sections() == []
    # Collected on another thread: the owner's section still ends.
    box = [lock.lock()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GuardLeakWarning)
        assert on_thread(lambda: (box.clear(), gc.collect())) is None
    assert not lock.is_locked() and sections() == []


def test_locks_and_guards_refuse_copying() -> None:
    """Locks and guards are not Clone: copy and pickle raise CloneError."""
    lock = SpinLock(0)
    with lock.lock() as g, pytest.raises(CloneError):
        copy.copy(g)
    with pytest.raises(CloneError):
        copy.deepcopy(lock)


# ------------------------------------------------------------ LockedBy


def test_locked_by_access_with_the_owner_guard() -> None:
    """access() reads (read-only, dies with the guard); access_mut() reads and assigns."""
    owner = Mutex("owner")
    items = LockedBy(owner, [1])
    with owner.lock() as g:
        items.access_mut(g).value = [1, 2]
        ref = items.access(g)
        assert list(ref) == [1, 2]
        with pytest.raises(ReadOnlyError):
            ref.append(3)
        handle = items.access_mut(g)
    with pytest.raises(LifetimeError):
        len(ref)
    with pytest.raises(LifetimeError):
        _ = handle.value


def test_locked_by_wrong_owner_raises_guard_error_naming_both_sites() -> None:
    """A guard of another lock: GuardError naming where the LockedBy was made and the access."""
    owner, other = SpinLock(0), SpinLock(0)
    data = LockedBy(owner, 5)
    with other.lock() as g:
        for fn in (data.access, data.access_mut):
            with pytest.raises(GuardError) as err:
                fn(g)
            text = str(err.value)
            assert "LockedBy made at" in text and "access attempted at" in text
            assert "owner pointer comparison" in text


def test_locked_by_dead_or_foreign_guard_is_refused() -> None:
    """Released guard: LifetimeError; another thread's: GuardError; not a guard: TypeError."""
    owner = SpinLock(0)
    data = LockedBy(owner, 1)
    g = owner.lock()
    assert isinstance(on_thread(lambda: data.access(g)), GuardError)
    g.unlock()
    with pytest.raises(LifetimeError) as err:
        data.access(g)
    assert err.value.created_at is not None and err.value.dropped_at is not None
    with pytest.raises(TypeError):
        data.access(object())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        LockedBy(object(), 1)  # type: ignore[arg-type]


# ------------------------------------------------------------ CondVar


def test_condvar_producer_consumer_bounded_in_time() -> None:
    """A consumer waits on a CondVar under a Mutex; a notify wakes it with the lock held."""
    queue: Mutex[list[int]] = Mutex([])
    ready = CondVar()
    got: list[int] = []

    def consumer() -> None:
        deadline = time.monotonic() + 10
        while len(got) < 50 and time.monotonic() < deadline:
            with queue.lock() as g:
                while not g.value and time.monotonic() < deadline:
                    ready.wait_timeout(g, 1.0)
                    assert queue.is_locked() and g.alive  # retaken before returning
                got.extend(g.value)
                g.value.clear()

    def producer() -> None:
        for i in range(50):
            with queue.lock() as g:
                g.value.append(i)
                ready.notify_one()

    threads = [threading.Thread(target=consumer), threading.Thread(target=producer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads)
    assert got == list(range(50))


def test_condvar_wait_releases_a_spinlock_and_retakes_its_section() -> None:
    """Waiting with a SpinLock guard releases the lock and its section, then takes both back."""
    lock = SpinLock(0)
    cv = CondVar()
    started = threading.Event()

    def waiter() -> None:
        with lock.lock() as g:
            started.set()
            while g.value == 0:
                assert cv.wait_timeout(g, 5.0) or g.value
            assert sections() == ["a SpinLock section"]

    t = threading.Thread(target=waiter)
    t.start()
    assert started.wait(10)
    deadline = time.monotonic() + 10
    while True:  # the waiter released the lock while waiting
        g = lock.try_lock()
        if g is not None or time.monotonic() > deadline:
            break
        time.sleep(0.001)
    assert g is not None
    g.value = 1
    cv.notify_all()
    g.unlock()
    t.join(10)
    assert not t.is_alive()


def test_condvar_wait_timeout_times_out_with_the_lock_held() -> None:
    """wait_timeout() returns False after its timeout, the guard holding the lock again."""
    m = Mutex(0)
    cv = CondVar()
    with m.lock() as g:
        t0 = time.monotonic()
        assert cv.wait_timeout(g, 0.05) is False
        assert time.monotonic() - t0 >= 0.04
        assert m.is_locked() and g.value == 0
    assert not m.is_locked()


def test_condvar_wait_in_another_atomic_section_raises() -> None:
    """Waiting under another spinlock or an RCU reader: AtomicContextError, nothing released."""
    m, spin, cv = Mutex(0), SpinLock(0), CondVar()
    with m.lock() as g:
        for opener in (spin.lock, rcu.Guard):
            section = opener()
            with pytest.raises(AtomicContextError) as err:
                cv.wait_timeout(g, 0.01)
            assert "entered at" in str(err.value) and "sleeping call at" in str(err.value)
            section.unlock()
            assert m.is_locked()
    with local_interrupt_disable() as token:
        irq = SpinLockIrq(0)
        with irq.lock_with(token) as g2, pytest.raises(AtomicContextError):
            cv.wait_timeout(g2, 0.01)  # interrupts stay off: the token's section remains


def test_condvar_refuses_dead_or_foreign_guards() -> None:
    """A released guard: LifetimeError; another thread's guard: GuardError (both sites)."""
    m, cv = Mutex(0), CondVar()
    g = m.lock()
    exc = on_thread(lambda: cv.wait_timeout(g, 0.01))
    assert isinstance(exc, GuardError) and "attempted at" in str(exc)
    g.unlock()
    with pytest.raises(LifetimeError):
        cv.wait(g)
    with pytest.raises(TypeError):
        cv.wait(object())  # type: ignore[arg-type]


def test_notify_without_waiters_is_harmless() -> None:
    """notify_one() and notify_all() with nobody waiting do nothing."""
    cv = CondVar()
    cv.notify_one()
    cv.notify_all()
    assert "0 waiter" in repr(cv)


# ------------------------------------------------------------ SpinLockIrq


def test_spinlock_irq_lock_counts_interrupt_disabling() -> None:
    """lock() disables interrupts (counted, nested) until the guard ends."""
    a, b = SpinLockIrq(0), SpinLockIrq(0)
    assert not irqs_disabled()
    with a.lock():
        assert irqs_disabled()
        with b.lock():
            assert sections() == ["a SpinLockIrq section (interrupts disabled)"] * 2
        assert irqs_disabled()
    assert not irqs_disabled() and sections() == []
    g = a.try_lock()
    assert g is not None and irqs_disabled()
    g.unlock()
    assert not irqs_disabled()


def test_lock_with_takes_a_live_token_of_this_thread() -> None:
    """lock_with(token) works under its token; a dropped, foreign or non-token token raises."""
    lock = SpinLockIrq(0)
    with local_interrupt_disable() as token:
        assert type(token) is LocalInterruptDisabled and irqs_disabled()
        with lock.lock_with(token) as g:
            g.value = 7
        exc = on_thread(lambda: lock.lock_with(token))
        assert isinstance(exc, GuardError) and "attempted at" in str(exc)
    assert not irqs_disabled() and sections() == []
    with pytest.raises(LifetimeError) as err:
        lock.lock_with(token)
    assert err.value.created_at is not None and err.value.dropped_at is not None
    with pytest.raises(TypeError):
        lock.lock_with(object())  # type: ignore[arg-type]
    assert not lock.is_locked()


def test_token_cannot_be_dropped_while_its_guard_is_held() -> None:
    """Dropping the token under a lock_with guard: GuardError naming the token, guard and drop."""
    lock = SpinLockIrq(0)
    token = local_interrupt_disable()
    g = lock.lock_with(token)
    with pytest.raises(GuardError) as err:
        token.drop()
    text = str(err.value)
    assert "guard taken at" in text and "token dropped at" in text
    assert token.alive and irqs_disabled()
    g.unlock()
    token.drop()
    assert not irqs_disabled()
    with pytest.raises(GuardError):
        token.drop()


def test_leaked_token_warns_and_enables_interrupts() -> None:
    """A token collected while alive warns and ends its interrupt-disabled section."""
    token = local_interrupt_disable()
    with pytest.warns(GuardLeakWarning, match="interrupts"):
        del token
        gc.collect()
    assert not irqs_disabled() and sections() == []
