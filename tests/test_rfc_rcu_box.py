"""kbind.rfc.rcu_box and kbind.rfc.callback: RcuBox, RcuFreeBox, and call_rcu of data."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterator

import pytest

from kbind import context
from kbind.errors import AtomicContextError, GuardError, LifetimeError
from kbind.kernel.sync import rcu
from kbind.rfc import callback
from kbind.rfc.rcu_box import BoxRef, RcuBox, RcuFreeBox

pytestmark = pytest.mark.rcu_backends


class Fence:
    """A data object whose drop sleeps (the dma_fence bug) or records its context."""

    def __init__(self, sleeps: bool = False) -> None:
        self.sleeps = sleeps
        self.dropped_in: list[tuple[str, bool]] = []

    def __rcu_drop__(self) -> None:
        self.dropped_in.append((threading.current_thread().name, context.in_atomic()))
        if self.sleeps:
            context.sleep(0)


@pytest.fixture
def unraisable() -> Iterator[list[BaseException]]:
    got: list[BaseException] = []
    old = sys.unraisablehook
    sys.unraisablehook = lambda a: got.append(a.exc_value)  # type: ignore[arg-type]
    try:
        yield got
    finally:
        sys.unraisablehook = old


def test_call_rcu_drops_data_after_a_grace_period_in_callback_context() -> None:
    """The data's __rcu_drop__ runs after the readers, on the callback thread, atomic."""
    f = Fence()
    with rcu.Guard():
        callback.call_rcu(f)  # allowed inside a reader: it never waits
        assert f.dropped_in == []
    rcu.rcu_barrier()
    assert f.dropped_in == [("kbind-rcu-callbacks", True)]


def test_a_sleeping_drop_in_callback_context_raises(unraisable: list[BaseException]) -> None:
    """The dma_fence warning: a drop that sleeps in an RCU callback is AtomicContextError."""
    callback.call_rcu(Fence(sleeps=True))
    rcu.rcu_barrier()
    assert len(unraisable) == 1 and isinstance(unraisable[0], AtomicContextError)
    assert "an RCU callback" in str(unraisable[0]) and "queued by call_rcu()" in str(unraisable[0])


def test_r15_callback_data_queued_twice_refused() -> None:
    """Data queued twice, or queued again after its drop while alive, is refused (Rust moves it)."""
    f = Fence()
    callback.call_rcu(f)
    with pytest.raises(GuardError, match="R15: this object was queued already") as info:
        callback.call_rcu(f)
    text = str(info.value)
    assert "first queued at" in text and "queued again at" in text
    rcu.rcu_barrier()
    assert len(f.dropped_in) == 1  # dropped once
    with pytest.raises(GuardError, match="dropped already"):
        callback.call_rcu(f)
    rcu.rcu_barrier()
    assert len(f.dropped_in) == 1
    other = Fence()
    callback.call_rcu(other)  # another object is fine
    rcu.rcu_barrier()
    assert len(other.dropped_in) == 1


def test_call_rcu_takes_data_not_code() -> None:
    """Functions, lambdas, methods and partials are refused (kbind.rcu.call_rcu runs code)."""
    for code in (lambda: None, print, Fence().__rcu_drop__):
        with pytest.raises(TypeError, match="not code"):
            callback.call_rcu(code)


def test_rcu_box_borrow_and_non_blocking_drop(unraisable: list[BaseException]) -> None:
    """RcuBox: borrow under a guard; drop() inside the reader queues the drop and returns."""
    f = Fence()
    box = RcuBox(f)
    with rcu.Guard() as g:
        ref = box.borrow(g)
        assert type(ref) is BoxRef
        box.drop()
        assert ref.dropped_in == [] and not box.freed  # still valid inside the section
        with pytest.raises(LifetimeError, match="dropped"):
            box.borrow(g)
        with pytest.raises(GuardError, match="already dropped"):
            box.drop()
    rcu.rcu_barrier()
    assert box.freed and f.dropped_in == [("kbind-rcu-callbacks", True)]
    with pytest.raises(LifetimeError):
        _ = ref.dropped_in
    assert unraisable == []


def test_rcu_box_drop_that_sleeps_is_caught(unraisable: list[BaseException]) -> None:
    """An RcuBox's value with a sleeping drop: AtomicContextError in the callback; still freed."""
    box = RcuBox(Fence(sleeps=True))
    box.drop()
    rcu.rcu_barrier()
    assert box.freed and isinstance(unraisable[0], AtomicContextError)


def test_rcu_box_refuses_other_guards() -> None:
    """borrow() takes only an open rcu::Guard of this thread."""
    box = RcuBox([1])
    with pytest.raises(TypeError):
        box.borrow(object())  # type: ignore[arg-type]
    box.drop()
    rcu.rcu_barrier()


def test_rcu_free_box_cleans_up_now_and_frees_later() -> None:
    """RcuFreeBox: the drop runs at once in the caller's context; the memory waits for readers."""
    f = Fence(sleeps=True)  # may sleep: it runs here, not in a callback
    box = RcuFreeBox(f)
    entered, release = threading.Event(), threading.Event()
    seen: list[object] = []

    def reader() -> None:
        with rcu.Guard() as g:
            ref = box.borrow(g)
            entered.set()
            release.wait(10)
            seen.append(len(ref.dropped_in))  # the cleaned-up value, still readable

    t = threading.Thread(target=reader)
    t.start()
    assert entered.wait(10)
    box.drop()
    assert f.dropped_in == [("MainThread", False)] and not box.freed
    release.set()
    t.join(timeout=30)
    rcu.rcu_barrier()
    assert seen == [1] and box.freed


def test_collected_boxes_are_dropped_as_rust_drops_them() -> None:
    """A box collected undropped is dropped after a grace period, without a warning."""
    f = Fence()
    RcuBox(f)
    gc.collect()
    rcu.rcu_barrier()
    assert f.dropped_in == [("kbind-rcu-callbacks", True)]
    f2 = Fence()
    RcuFreeBox(f2)
    gc.collect()
    assert f2.dropped_in and f2.dropped_in[0][1] is False
    rcu.rcu_barrier()
