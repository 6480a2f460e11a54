"""Design your own guard with kbind.lifetime: a per-domain RCU read guard.

The design (about 25 lines between the markers): values belong to a
*domain*, and a reader takes the guard of one domain (``NetGuard()``), an RCU
read-side section of kbind's engine (the C hooks ``engine="rcu_read"``, the
ones ``RcuReadGuard`` uses).  ``value.read(g)`` (``lifetime.reader``, a C
method like ``Rcu.read``) returns a reference bound to the guard.  The rule
this design adds to RCU's: a guard of one domain does not license reads of
another (Rust: ``fn read<'g>(&self, g: &'g Guard<Net>) -> &'g T`` ties the
guard's type to the domain), checked by the guard's type.

Everything else comes from the toolkit, with kbind's own messages: a
reference dies with its guard (LifetimeError), a guard ends once and on its
own thread (GuardError), references are read-only (ReadOnlyError), and a
poisoned (freed) value raises UseAfterFreeError.  The script triggers each
and checks the error, then times the design against kbind.rcu.RcuReadGuard.

Run: python examples/design_your_own_guard.py
"""

from __future__ import annotations

import threading
import time
from typing import Any

from kbind import GuardError, LifetimeError, ReadOnlyError, UseAfterFreeError, lifetime
from kbind.rcu import Rcu, RcuReadGuard

# ---------------------------------------------------------------- the design


def domain(name: str) -> tuple[type[lifetime.Scope], type[Any]]:
    """A read-guard type and a value type of one domain: values read only under its guards.

    The guard is an RCU read-side section of kbind's engine (the C hooks
    RcuReadGuard uses: ``engine="rcu_read"``); its type names the domain, as
    a Rust guard type would be parameterized by it, so reading a value of
    another domain is refused by the type check of ``read`` (in C).
    """

    class Guard(lifetime.Scope, kind=f"{name.capitalize()}ReadGuard", engine="rcu_read"):
        __slots__ = ()

    class Value:
        __slots__ = ("_cell",)

        def __init__(self, value: object) -> None:
            self._cell = lifetime.Cell(value, f"{name} value")

        def free(self) -> None:
            self._cell.poison()

        read = lifetime.reader(Guard)

    return Guard, Value


NetGuard, NetValue = domain("net")
DiskGuard, DiskValue = domain("disk")

# ------------------------------------------------------------------- lesson


def expect(error: type[BaseException], action: Any, what: str) -> None:
    try:
        action()
    except error as exc:
        print(f"  {what}: {type(exc).__name__}: {str(exc).splitlines()[0]}")
        return
    raise SystemExit(f"FAILED: {what} did not raise {error.__name__}")


def main() -> None:
    net = NetValue({"mtu": 1500, "hosts": ["a", "b"]})
    disk = DiskValue({"block": 4096})

    with NetGuard() as g:
        cfg = net.read(g)
        assert cfg["mtu"] == 1500 and list(cfg["hosts"]) == ["a", "b"]
        print(f"read under {g.name}: mtu={cfg['mtu']} hosts={list(cfg['hosts'])}")
        expect(TypeError, lambda: disk.read(g), "another domain's value")
        expect(ReadOnlyError, lambda: cfg["hosts"].append("c"), "mutation through a reference")
        t = threading.Thread(target=lambda: expect(GuardError, g.end, "drop on another thread"))
        t.start()
        t.join(timeout=30)
    expect(LifetimeError, lambda: cfg["mtu"], "reference after its guard")
    expect(GuardError, g.end, "a second drop")

    with DiskGuard() as g2:
        blk = disk.read(g2)
        disk.free()  # freed by hand while a reader holds it: the bug a busted engine makes
        expect(UseAfterFreeError, lambda: blk["block"], "freed value")

    rcu = Rcu({"mtu": 1500})
    n = 20_000
    t0 = time.perf_counter_ns()
    for _ in range(n):
        with NetGuard() as g:
            net.read(g)["mtu"]
    ours = (time.perf_counter_ns() - t0) / n
    t0 = time.perf_counter_ns()
    for _ in range(n):
        with RcuReadGuard() as rg:
            rcu.read(rg)["mtu"]
    kbinds = (time.perf_counter_ns() - t0) / n
    print(f"guard+read: {NetGuard.KIND} {ours:.0f} ns, RcuReadGuard {kbinds:.0f} ns (this run)")
    print("design_your_own_guard OK")


if __name__ == "__main__":
    main()
