"""kbind.context: what may sleep where (the kernel's might_sleep()), on both RCU backends."""

from __future__ import annotations

import threading

import pytest

from kbind import context
from kbind.errors import AtomicContextError, DeadlockError
from kbind.kernel.sync import rcu as krcu
from kbind.rcu import RcuReadGuard

pytestmark = pytest.mark.rcu_backends


def test_sleep_outside_any_section_sleeps() -> None:
    """Outside every atomic section a sleeping call goes through."""
    assert not context.in_atomic()
    context.might_sleep("Mutex.lock()")
    context.sleep(0)


@pytest.mark.parametrize("make", [RcuReadGuard, krcu.Guard], ids=["RcuReadGuard", "rcu::Guard"])
def test_sleeping_in_an_rcu_reader_names_both_sites(make: type) -> None:
    """Every RCU design's reader is atomic: the error names the section's site and the call's."""
    with make() as g:
        assert context.in_atomic()
        with pytest.raises(AtomicContextError) as info:
            context.sleep(0.01)
    msg = str(info.value)
    assert g.name in msg and "read-side critical section" in msg
    assert "entered at" in msg and "sleeping call at" in msg
    assert msg.count("test_context.py") == 2
    assert not context.in_atomic()


def test_an_atomic_section_refuses_sleep_until_it_ends() -> None:
    """A section a design opens (a spinlock, interrupts off) refuses sleep until it ends."""
    outer = context.enter_atomic("a SpinLock section")
    inner = context.enter_atomic("an interrupt-disabled section")
    context.exit_atomic(outer)  # out of order is fine
    with pytest.raises(AtomicContextError, match="inside an interrupt-disabled section"):
        context.might_sleep("CondVar.wait()")
    assert [w for w, _ in context.atomic_sections()] == ["an interrupt-disabled section"]
    context.exit_atomic(inner)
    context.might_sleep("CondVar.wait()")
    with pytest.raises(ValueError, match="not open on this thread"):
        context.exit_atomic(inner)


def test_sections_are_per_thread() -> None:
    """Another thread's atomic section does not stop this thread from sleeping."""
    entered, leave = threading.Event(), threading.Event()

    def other() -> None:
        s = context.enter_atomic("a SpinLock section")
        entered.set()
        leave.wait(10)
        context.exit_atomic(s)

    t = threading.Thread(target=other)
    t.start()
    try:
        assert entered.wait(10)
        context.might_sleep("Mutex.lock()")
        assert not context.in_atomic()
    finally:
        leave.set()
        t.join(10)


def test_grace_period_wait_in_a_reader_is_the_deadlock_error() -> None:
    """synchronize_rcu() in a reader is the more specific DeadlockError (R05), of either design."""
    with krcu.Guard(), pytest.raises(DeadlockError, match="R05"):
        krcu.synchronize_rcu()
    s = context.enter_atomic("a SpinLock section")
    try:
        with pytest.raises(AtomicContextError, match="SpinLock section"):
            krcu.synchronize_rcu()
        with pytest.raises(AtomicContextError, match="SpinLock section"):
            krcu.rcu_barrier()
    finally:
        context.exit_atomic(s)
