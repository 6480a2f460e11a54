"""kernel::revocable::Revocable<T>: a device resource that unbind revokes while readers run.

Rust: ``kernel::revocable::Revocable<T>`` (rust/kernel/revocable.rs, mainline),
mirrored by :mod:`kbind.kernel.revocable` on the merged ``rcu::Guard``.  A
driver's I/O mapping is reached only through ``try_access_with`` (a closure
in a read-side section of its own), ``try_access`` (a guard) or
``try_access_with_guard`` (the caller's guard).  ``revoke()`` makes it
unavailable, waits for the readers (``synchronize_rcu()``) and drops it;
readers then get ``None``.  The script checks each rule; what
``try_access_with`` costs is measured by ``python benchmarks/run.py designs``.

Run: python examples/kernel_revocable.py
"""

from __future__ import annotations

import threading
import time
from typing import Any

from kbind.errors import DeadlockError, LifetimeError
from kbind.kernel.revocable import Revocable
from kbind.kernel.sync import rcu


class IoMem:
    """An I/O mapping (``kernel::io::IoMem``): a base address and a size."""

    __slots__ = ("base", "size")

    def __init__(self, base: int, size: int) -> None:
        self.base = base
        self.size = size


def expect(error: type[BaseException], action: Any, what: str) -> None:
    try:
        action()
    except error as exc:
        print(f"  {what}: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}")
        return
    raise SystemExit(f"FAILED: {what} did not raise {error.__name__}")


def main() -> None:
    bar = Revocable(IoMem(0xFE00_0000, 4096))
    base = bar.try_access_with(lambda io: io.base)
    print(f"try_access_with: base={base:#x}")
    guard = bar.try_access()
    assert guard is not None
    with guard:
        print(f"try_access: size={guard.value.size}")
        expect(DeadlockError, bar.revoke, "revoke() inside the guard")
    expect(LifetimeError, lambda: guard.value.size, "the guard's value after it dropped")
    with rcu.Guard() as g:
        io = bar.try_access_with_guard(g)
        assert io is not None and io.size == 4096
    expect(LifetimeError, lambda: io.size, "a reference kept past its rcu::Guard")

    # unbind() on another thread while a reader is inside its section
    inside, leave = threading.Event(), threading.Event()

    def reader() -> None:
        with rcu.Guard() as g:
            mem = bar.try_access_with_guard(g)
            inside.set()
            leave.wait(10)
            assert mem is not None and mem.base == 0xFE00_0000  # still valid: revoke waits

    t = threading.Thread(target=reader)
    t.start()
    inside.wait(10)
    revoked: list[bool] = []
    unbind = threading.Thread(target=lambda: revoked.append(bar.revoke()))
    unbind.start()
    time.sleep(0.05)
    assert not revoked, "revoke() must wait for the reader"
    leave.set()
    t.join(30)
    unbind.join(30)
    assert revoked == [True] and bar.revoke() is False
    assert bar.try_access_with(lambda io: io.base) is None and bar.try_access() is None
    print("revoke(): waited for the reader, then dropped the mapping; readers now get None")

    print("kernel_revocable OK")


if __name__ == "__main__":
    main()
