"""kbind.kernel_c: the C RCU API on kbind's engine, with the kernel's debug options on and off."""

from __future__ import annotations

import threading

import pytest

from kbind import context
from kbind import kernel_c as c
from kbind.errors import (
    AtomicContextError,
    DeadlockError,
    GuardError,
    LifetimeError,
    UseAfterFreeError,
)
from kbind.kernel.sync import rcu as krcu

pytestmark = pytest.mark.rcu_backends


def test_publish_read_replace_and_free_after_a_grace_period() -> None:
    """The correct C pattern: readers see the new or old object, freed only after a grace period."""
    gp: c.RcuPointer[dict[str, int]] = c.RcuPointer(c.kmalloc({"v": 1}))
    c.rcu_read_lock()
    obj = c.rcu_dereference(gp)
    assert obj is not None and obj.value["v"] == 1
    c.rcu_read_unlock()
    old = c.rcu_replace_pointer(gp, c.kmalloc({"v": 2}), held=True)
    c.synchronize_rcu()
    assert old is not None
    c.kfree(old)
    c.rcu_read_lock()
    new = c.rcu_dereference(gp)
    c.rcu_read_unlock()
    assert new is not None and new.value == {"v": 2}


def test_prove_rcu_catches_a_dereference_outside_a_reader() -> None:
    """PROVE_RCU: rcu_dereference() outside a reader is 'suspicious RCU usage' (LifetimeError)."""
    gp = c.RcuPointer(c.kmalloc(1))
    with pytest.raises(LifetimeError, match="suspicious rcu_dereference") as info:
        c.rcu_dereference(gp)
    assert "test_kernel_c.py" in str(info.value)
    with pytest.raises(LifetimeError, match="update-side lock is not held"):
        c.rcu_dereference_protected(gp, held=False)


def test_with_checks_off_misuse_goes_through_and_the_free_shows_later() -> None:
    """PROVE_RCU off: the dereference goes through; freeing without a grace period shows as
    UseAfterFreeError at the next access, naming where the object was freed."""
    gp = c.RcuPointer(c.kmalloc([1, 2, 3]))
    with c.configured(PROVE_RCU=False):
        obj = c.rcu_dereference(gp)  # outside any reader: let through, as in C
        assert obj is not None
        old = c.rcu_replace_pointer(gp, c.kmalloc([4]), held=False)
        assert old is obj
        c.kfree(old)  # no grace period: a bug the checks cannot see
    with pytest.raises(UseAfterFreeError) as info:
        _ = obj.value
    msg = str(info.value)
    assert "freed at" in msg and "accessed at" in msg
    assert c.config.PROVE_RCU  # restored


def test_kfree_rcu_frees_after_a_grace_period() -> None:
    """kfree_rcu() does not wait; after rcu_barrier() the object is freed."""
    obj = c.kmalloc("payload")
    c.rcu_read_lock()
    c.kfree_rcu(obj)
    assert obj.value == "payload"  # the reader still holds it: not freed yet
    c.rcu_read_unlock()
    krcu.rcu_barrier()
    assert obj.freed
    with pytest.raises(UseAfterFreeError, match="double free"):
        c.kfree(obj)


def test_call_rcu_runs_the_function_after_a_grace_period() -> None:
    """call_rcu(obj, func) calls func(obj) on the callback thread after a grace period."""
    seen: list[object] = []
    done = threading.Event()
    obj = c.kmalloc(7)
    c.call_rcu(obj, lambda o: (seen.append(o.value), done.set()))
    assert done.wait(10)
    assert seen == [7]


def test_synchronize_in_a_reader_is_refused_with_or_without_lockdep() -> None:
    """PROVE_LOCKING reports it; without it the kernel would hang, and kbind still refuses."""
    c.rcu_read_lock()
    try:
        with pytest.raises(DeadlockError, match="lockdep reports"):
            c.synchronize_rcu()
        with c.configured(PROVE_LOCKING=False), pytest.raises(DeadlockError, match="would hang"):
            c.synchronize_rcu()
    finally:
        c.rcu_read_unlock()
    s = context.enter_atomic("a SpinLock section")
    try:
        with pytest.raises(AtomicContextError):
            c.synchronize_rcu()
    finally:
        context.exit_atomic(s)


def test_unbalanced_unlock_and_nesting() -> None:
    """Sections nest; an unlock without a lock is refused (the engine's count stays >= 0)."""
    c.rcu_read_lock()
    c.rcu_read_lock()
    assert c.rcu_read_lock_held()
    c.rcu_read_unlock()
    c.rcu_read_unlock()
    assert not c.rcu_read_lock_held()
    with pytest.raises(GuardError, match="without a matching rcu_read_lock"):
        c.rcu_read_unlock()


def test_configured_refuses_unknown_options() -> None:
    """An unknown option name is a TypeError listing the real ones; nothing changes."""
    with pytest.raises(TypeError, match="PROVE_RCU"), c.configured(PROVE_RCUU=False):
        pass
    assert c.config == c.Config()


def test_r24_kernel_c_synchronize_in_any_callback_raises_with_debug_atomic_sleep() -> None:
    """Callbacks run in callback context (the kernel: softirq): a wait there is refused."""
    import sys

    from kbind import context, rcu
    from kbind.errors import AtomicContextError

    got: list[BaseException] = []
    seen: list[bool] = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda a: got.append(a.exc_value)  # type: ignore[arg-type]
    try:
        c.call_rcu(c.kmalloc(1), lambda _o: seen.append(context.in_atomic()))
        c.call_rcu(c.kmalloc(1), lambda _o: c.synchronize_rcu())
        rcu.rcu_barrier()
        with c.configured(DEBUG_ATOMIC_SLEEP=False):
            c.call_rcu(c.kmalloc(1), lambda _o: c.synchronize_rcu())  # production: it waits
            rcu.rcu_barrier()
    finally:
        sys.unraisablehook = old
    assert seen == [True]
    assert len(got) == 1 and isinstance(got[0], AtomicContextError), got
    assert "an RCU callback" in str(got[0]) and "test_kernel_c.py" in str(got[0])
