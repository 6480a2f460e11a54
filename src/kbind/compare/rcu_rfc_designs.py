"""The RCU designs on the merged guard: SRCU, ``kernel::revocable`` and the RFC mirrors.

* ``kernel.sync.srcu`` (rust/kernel/sync/srcu.rs): an ``Srcu`` domain, its
  ``Guard``, ``synchronize()``, ``check(guard)``;
* ``kernel.revocable`` (rust/kernel/revocable.rs): ``Revocable<T>``,
  ``try_access_with_guard()``, ``try_access_with()``, ``revoke()``;
* ``rfc.rcu_pointer`` (Boqun Feng, RFC v3, April 2025): ``Rcu<P>``,
  ``exclusive()``, ``RcuOld``;
* ``rfc.rcu_box`` (Alice Ryhl, January 2026): ``RcuBox<T>``, ``borrow()``,
  ``drop()``;
* ``rfc.callback`` (Philipp Stanner, May 2026): ``call_rcu(data)``.

The last four read under ``kernel::sync::rcu::Guard``, so their adapters
extend :class:`~kbind.compare.rcu_adapter.Mainline`: a user of one of them
has the merged guard, ``synchronize_rcu()`` and ``rcu_barrier()`` too.

Acts as user code (``KBIND_USER_CODE``), like the other adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kbind.compare.model import Design, NotApplicable, RuledOut
from kbind.compare.rcu_adapter import Mainline, RcuAdapter, Value, snippet
from kbind.kernel import revocable
from kbind.kernel.sync import rcu as mainline
from kbind.kernel.sync import srcu
from kbind.rfc import callback, rcu_box, rcu_pointer

__all__ = ["RFC_DESIGNS"]

KBIND_USER_CODE = True


class _Work:
    """Data whose drop runs ``fn``: how code runs after a grace period in the data-only designs."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.fn = fn

    def __rcu_drop__(self) -> None:
        self.fn()


class _Owned:
    """Data handed to ``rcu::Callback``'s ``call_rcu()``; its drop counts how often it ran."""

    def __init__(self, value: Value) -> None:
        self.value = value
        self.drops = 0

    def __rcu_drop__(self) -> None:
        self.drops += 1


# ------------------------------------------------------------ kernel::sync::srcu


class Srcu(RcuAdapter):
    """``kbind.kernel.sync.srcu``: one ``Srcu`` domain per cell; readers may sleep."""

    design = "kernel.sync.srcu"

    def __init__(self) -> None:
        self._domains: list[srcu.Srcu] = []
        self._main: srcu.Srcu | None = None

    def cleanup(self) -> None:
        for d in self._domains:
            if not d.readers_active():
                d.close()
        super().cleanup()

    def _dom(self) -> srcu.Srcu:
        if self._main is None:
            self._main = self.domain()
        return self._main

    def new(self, n: int) -> Any:
        raise NotApplicable("kernel::sync::srcu has no srcu_dereference() or pointer type yet")

    def lock(self) -> Any:
        return self._dom().read_lock()

    def unlock(self, section: Any) -> None:
        section.unlock()

    def synchronize(self) -> None:
        self._dom().synchronize()

    def barrier(self) -> None:
        raise NotApplicable("kernel::sync::srcu has no call_srcu(), so nothing to wait for")

    def call(self, fn: Callable[[], object]) -> None:
        raise NotApplicable("kernel::sync::srcu has no call_srcu()")

    def block(self) -> None:
        raise NotApplicable("SRCU readers may sleep (Documentation/RCU/checklist.rst item 13)")

    def domain(self) -> Any:
        d = srcu.Srcu()
        self._domains.append(d)
        return d

    def lock_in(self, domain: Any) -> Any:
        return domain.read_lock()

    def use_in(self, domain: Any, section: Any) -> None:
        domain.check(section)


# -------------------------------------------------------------- kernel::revocable


class Revocable(Mainline):
    """``kbind.kernel.revocable``: a ``Revocable`` per slot, read under ``rcu::Guard``."""

    design = "kernel.revocable"
    WAITING_DROP = True

    def new(self, n: int) -> Any:
        return revocable.Revocable(Value(n))

    def deref(self, section: Any, slot: Any) -> Any:
        ref = slot.try_access_with_guard(section)
        if ref is None:
            raise RuledOut(
                "try_access_with_guard() returns None once revoked (Option<&T>)",
                snippet(
                    """
                    from kbind.kernel.revocable import Revocable
                    from kbind.kernel.sync import rcu
                    """,
                    """
                    res = Revocable(Value(1))
                    res.revoke()
                    with rcu.Guard() as g:
                        print(res.try_access_with_guard(g).n)  # misuse
                    """,
                ),
            )
        return ref

    def deref_unguarded(self, slot: Any) -> Any:
        raise RuledOut(
            "try_access_with_guard() takes the guard; try_access() makes its own",
            snippet(
                "from kbind.kernel.revocable import Revocable",
                """
                res = Revocable(Value(1))
                res.try_access_with_guard()  # misuse
                """,
            ),
        )

    def read_with(self, slot: Any, fn: Callable[[Any], Any]) -> Any:
        return slot.try_access_with(fn)

    def replace(self, slot: Any, n: int) -> Any:
        raise NotApplicable("a Revocable has no update: revoke() ends it")

    def retire(self, slot: Any, n: int) -> Any:
        return slot  # revoke() unpublishes it

    def update_unlocked(self, slot: Any, fn: Callable[[int], int]) -> Any:
        raise NotApplicable("a Revocable has no update: revoke() ends it")

    def free_sync(self, old: Any) -> None:
        old.revoke()

    def free_deferred(self, old: Any) -> None:
        raise NotApplicable("a Revocable has no deferred revoke: revoke() waits")

    def free_now(self, old: Any) -> None:
        raise RuledOut(
            "revoke_nosync() is unsafe in Rust and not offered",
            snippet(
                "from kbind.kernel.revocable import Revocable",
                """
                res = Revocable(Value(1))
                res.revoke_nosync()  # misuse
                """,
            ),
        )

    def probe_freed(self, old: Any) -> Callable[[], int]:
        cell = old._data  # the value's cell (unset once revoked)
        return lambda: int(cell.freed)

    def abandon(self, old: Any) -> Callable[[], int]:
        raise NotApplicable("a Revocable has no drop guard: revoke() unpublishes, waits, frees")

    def revoked(self, n: int) -> Any:
        slot = self.new(n)
        slot.revoke()
        return slot


# ----------------------------------------------------------- the Rcu<P> RFC


class RfcPointer(Mainline):
    """``kbind.rfc.rcu_pointer``: ``Rcu<P>``, ``exclusive()`` updaters, ``RcuOld``."""

    design = "rfc.rcu_pointer"
    WAITING_DROP = True

    def new(self, n: int) -> Any:
        return rcu_pointer.Rcu(Value(n))

    def deref(self, section: Any, slot: Any) -> Any:
        return slot.dereference(section)

    def deref_unguarded(self, slot: Any) -> Any:
        raise RuledOut(
            "dereference() takes the guard",
            snippet(
                "from kbind.rfc.rcu_pointer import Rcu",
                """
                p = Rcu(Value(1))
                p.dereference()  # misuse
                """,
            ),
        )

    def replace(self, slot: Any, n: int) -> Any:
        with slot.exclusive() as w:
            return w.replace(Value(n))

    def update_unlocked(self, slot: Any, fn: Callable[[int], int]) -> Any:
        with slot.exclusive() as w:
            return w.read_copy_update(lambda cur: Value(fn(cur.n)))

    def free_sync(self, old: Any) -> None:
        old.drop()

    def free_deferred(self, old: Any) -> None:
        raise NotApplicable("an RcuOld only frees by waiting (call_rcu is open in the RFC)")

    def free_now(self, old: Any) -> None:
        raise RuledOut(
            "only dropping the RcuOld frees, after a grace period",
            snippet(
                "from kbind.rfc.rcu_pointer import Rcu",
                """
                p = Rcu(Value(1))
                with p.exclusive() as w:
                    old = w.replace(Value(2))
                old.free_now()  # misuse
                """,
            ),
        )

    def probe_freed(self, old: Any) -> Callable[[], int]:
        cell = old._box  # the old pointee's cell, not its RcuOld
        return lambda: int(cell.freed)

    def call(self, fn: Callable[[], object]) -> None:
        raise NotApplicable("the Rcu<P> RFC leaves call_rcu() open (see rfc.callback)")


# ------------------------------------------------------------ RcuBox<T> RFC


class RfcBox(Mainline):
    """``kbind.rfc.rcu_box``: an ``RcuBox`` per slot; dropping it frees in a callback."""

    design = "rfc.rcu_box"

    def new(self, n: int) -> Any:
        return rcu_box.RcuBox(Value(n))

    def deref(self, section: Any, slot: Any) -> Any:
        return slot.borrow(section)

    def deref_unguarded(self, slot: Any) -> Any:
        raise RuledOut(
            "borrow() takes the guard",
            snippet(
                "from kbind.rfc.rcu_box import RcuBox",
                """
                b = RcuBox(Value(1))
                b.borrow()  # misuse
                """,
            ),
        )

    def replace(self, slot: Any, n: int) -> Any:
        raise NotApplicable("an RcuBox is not a pointer: its owner (a MapleTree) replaces it")

    def retire(self, slot: Any, n: int) -> Any:
        return slot  # drop() unshares it

    def update_unlocked(self, slot: Any, fn: Callable[[int], int]) -> Any:
        raise NotApplicable("an RcuBox is not a pointer: its owner (a MapleTree) replaces it")

    def drop_waiting(self, old: Any) -> None:
        raise NotApplicable("an RcuBox's drop never waits: it frees in a callback")

    def free_deferred(self, old: Any) -> None:
        old.drop()

    def free_sync(self, old: Any) -> None:
        raise NotApplicable("an RcuBox never waits: drop() frees in a callback")

    def free_now(self, old: Any) -> None:
        raise RuledOut(
            "only drop() frees, after a grace period",
            snippet(
                "from kbind.rfc.rcu_box import RcuBox",
                """
                b = RcuBox(Value(1))
                b.free_now()  # misuse
                """,
            ),
        )

    def reclaim(self, old: Any) -> None:
        old.drop()
        mainline.rcu_barrier()  # the callback that frees it has run

    def probe_freed(self, old: Any) -> Callable[[], int]:
        cell = old._cell  # the value's cell (unset once dropped)
        return lambda: int(cell.freed)

    def call(self, fn: Callable[[], object]) -> None:
        rcu_box.RcuBox(_Work(fn)).drop()


# ------------------------------------------------------ rcu::Callback RFC


class RfcCallback(Mainline):
    """``kbind.rfc.callback``: ``call_rcu(data)``; the data's drop runs in callback context."""

    design = "rfc.callback"

    def new(self, n: int) -> Any:
        raise NotApplicable("rcu::Callback is call_rcu() only: no RCU-protected pointer")

    def make_old(self, n: int) -> Any:
        return _Owned(Value(n))

    def free_deferred(self, old: Any) -> None:
        callback.call_rcu(old)

    def drop_waiting(self, old: Any) -> None:
        raise NotApplicable("call_rcu(data) never waits: the data is dropped in a callback")

    def probe_freed(self, old: Any) -> Callable[[], int]:
        return lambda: int(old.drops)

    def abandon(self, old: Any) -> Callable[[], int]:
        raise NotApplicable("rcu::Callback has no drop guard: the data is handed to call_rcu()")

    def call(self, fn: Callable[[], object]) -> None:
        callback.call_rcu(_Work(fn))


RFC_DESIGNS: list[Design] = [
    Design("kernel.sync.srcu", "rcu", "kernel::sync::srcu::Srcu and Guard (mainline)", Srcu),
    Design("kernel.revocable", "rcu", "kernel::revocable::Revocable<T> (mainline)", Revocable),
    Design("rfc.rcu_pointer", "rcu", "Rcu<P>, RcuOld<P> (Boqun Feng, RFC v3)", RfcPointer),
    Design("rfc.rcu_box", "rcu", "RcuBox<T> (Alice Ryhl, January 2026)", RfcBox),
    Design("rfc.callback", "rcu", "rcu::Callback (Philipp Stanner, May 2026)", RfcCallback),
]
