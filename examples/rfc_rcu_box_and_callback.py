"""RcuBox, RcuFreeBox and rcu::Callback: where the drop runs, and why it matters.

Three pending RFCs free after a grace period without waiting (mirrored by
:mod:`kbind.rfc.rcu_box` and :mod:`kbind.rfc.callback`):

* ``RcuBox<T>`` (Alice Ryhl, January 2026): the value is dropped in an RCU
  callback, ``kfree_rcu()`` style; dropping the box never blocks.
* ``RcuFreeBox<T>`` (Boqun Feng, June 2026): "clean up and unshare now, free
  after a grace period": the drop runs in the caller's context.
* ``rcu::Callback`` (Philipp Stanner, May 2026): ``call_rcu()`` takes data,
  dropped after a grace period, not code.

A drop that runs in callback context runs in an atomic section: the
dma_fence series (May 2026) warns that such a drop can deadlock.  kbind's
context model catches it: a sleeping drop there raises AtomicContextError
(reported through sys.unraisablehook, as any failing callback).

Run: python examples/rfc_rcu_box_and_callback.py
"""

from __future__ import annotations

import sys
from typing import Any

from kbind import context
from kbind.errors import AtomicContextError, LifetimeError
from kbind.kernel.sync import rcu
from kbind.rfc import callback
from kbind.rfc.rcu_box import RcuBox, RcuFreeBox


class Fence:
    """A dma_fence-like object whose drop signals waiters; one version sleeps to do it."""

    def __init__(self, name: str, sleeps: bool) -> None:
        self.name = name
        self.sleeps = sleeps
        self.signalled = False

    def __rcu_drop__(self) -> None:
        if self.sleeps:
            context.sleep(0)  # e.g. takes a mutex: fine in process context, a bug in a callback
        self.signalled = True


def main() -> None:
    failures: list[BaseException] = []

    def hook(args: Any) -> None:
        failures.append(args.exc_value)

    sys.unraisablehook = hook

    box = RcuBox(Fence("rcubox", sleeps=False))
    with rcu.Guard() as g:
        fence = box.borrow(g)
        box.drop()  # inside the reader: fine, it never waits
        assert not fence.signalled  # the value lives until the reader is done
        try:
            box.borrow(g)
            raise SystemExit("FAILED: borrow after drop")
        except LifetimeError as exc:
            print(f"  borrow after drop: LifetimeError: {str(exc).splitlines()[0][:80]}")
    rcu.rcu_barrier()
    assert box.freed and not failures
    print("RcuBox: dropped in an RCU callback after the reader left; the drop did not sleep")

    sleepy = RcuBox(Fence("sleepy", sleeps=True))
    sleepy.drop()
    rcu.rcu_barrier()
    assert len(failures) == 1 and isinstance(failures[0], AtomicContextError)
    print(f"RcuBox with a sleeping drop: {type(failures[0]).__name__}: "
          f"{str(failures[0]).splitlines()[0][:80]}")  # fmt: skip

    free_box = RcuFreeBox(Fence("freebox", sleeps=True))
    free_box.drop()  # the drop runs here, in process context: it may sleep
    assert not free_box.freed  # the memory waits for a grace period
    rcu.rcu_barrier()
    assert free_box.freed and len(failures) == 1
    print("RcuFreeBox: cleaned up at once (it slept, legally), memory freed after a grace period")

    data = Fence("callback", sleeps=False)
    callback.call_rcu(data)
    try:
        callback.call_rcu(lambda: None)
        raise SystemExit("FAILED: call_rcu accepted code")
    except TypeError as exc:
        print(f"  rcu::Callback given code: TypeError: {str(exc)[:70]}")
    rcu.rcu_barrier()
    assert data.signalled
    print("rcu::Callback: the data was dropped after a grace period")
    sys.unraisablehook = sys.__unraisablehook__
    print("rfc_rcu_box_and_callback OK")


if __name__ == "__main__":
    main()
