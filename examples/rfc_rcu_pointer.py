"""The RFC Rcu<P>/RcuOld<P> (Boqun Feng, RFC v3, April 2025): readers, exclusive updaters.

:mod:`kbind.rfc.rcu_pointer` mirrors it on the merged ``rcu::Guard``.
Readers ``dereference(&guard)`` (None when null); updaters need
``Pin<&mut Self>``, here an exclusive handle (``with p.exclusive() as w:``)
or the guard of the lock that owns the Rcu; each update returns an
``RcuOld`` whose drop waits for a grace period, then frees.  The script
checks each rule; what ``dereference`` costs is measured by ``python
benchmarks/run.py designs``.

Run: python examples/rfc_rcu_pointer.py
"""

from __future__ import annotations

from typing import Any

from kbind.errors import DeadlockError, GuardError, LifetimeError
from kbind.kernel.sync import rcu
from kbind.rfc.rcu_pointer import Rcu
from kbind.sync import Mutex


class Route:
    """A routing entry readers look up under RCU."""

    __slots__ = ("dev", "mtu")

    def __init__(self, dev: str, mtu: int) -> None:
        self.dev = dev
        self.mtu = mtu


def expect(error: type[BaseException], action: Any, what: str) -> None:
    try:
        action()
    except error as exc:
        print(f"  {what}: {type(exc).__name__}: {str(exc).splitlines()[0][:90]}")
        return
    raise SystemExit(f"FAILED: {what} did not raise {error.__name__}")


def main() -> None:
    route: Rcu[Route] = Rcu.null()
    with rcu.Guard() as g:
        assert route.dereference(g) is None
    print("Rcu::null(): dereference() gives None")

    with route.exclusive() as w:
        w.replace(Route("eth0", 1500)).drop()  # the old pointer was null: nothing to wait for
        expect(GuardError, route.exclusive, "a second exclusive handle")
    with rcu.Guard() as g:
        r = route.dereference(g)
        assert r is not None and r.mtu == 1500
        print(f"dereference(): dev={r.dev} mtu={r.mtu}")
        with route.exclusive() as w:
            old = w.read_copy_update(lambda cur: Route(cur.dev if cur else "lo", 9000))
        expect(DeadlockError, old.drop, "RcuOld.drop() inside the reader")
        assert r.mtu == 1500  # the old route stays valid for this reader
    old.drop()  # waits for a grace period, then frees the old route
    expect(LifetimeError, lambda: r.mtu, "a Borrowed kept past its guard")

    # The lock that owns the Rcu (Rust: Mutex<Rcu<P>>) also proves exclusivity.
    table = Mutex(route)
    with table.lock() as lg, route.exclusive(lg) as w:
        w.replace(Route("eth1", 1500)).drop()
    with rcu.Guard() as g:
        cur = route.dereference(g)
        assert cur is not None and cur.dev == "eth1"
    print("update under the owning Mutex's guard: ok")

    print("rfc_rcu_pointer OK")


if __name__ == "__main__":
    main()
