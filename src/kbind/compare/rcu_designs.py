"""The RCU designs as adapters: how each reads, updates and frees.

Every RCU scenario (:mod:`kbind.compare.rcu_scenarios`) is written once
against :class:`RcuAdapter`; each design below says how it does each step,
or raises :class:`~kbind.compare.model.NotApplicable` (the design has no
such operation) or :class:`~kbind.compare.model.RuledOut` (the user cannot
write it: the source that would try is checked by mypy).

This module acts as user code (``KBIND_USER_CODE``): the sites kbind's
errors name are the adapter's lines, so a scenario can check that a message
names both of them (where the guard was created, where it was dropped).
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from kbind import kernel_c
from kbind import rcu as proposal
from kbind.compare.model import Adapter, Design, NotApplicable, RuledOut
from kbind.kernel.sync import rcu as mainline

__all__ = ["DESIGNS", "RcuAdapter", "Value", "snippet"]

KBIND_USER_CODE = True


class Value:
    """What the scenarios publish: one integer field, ``n`` (mutable, to try R16)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __repr__(self) -> str:
        return f"Value({self.n})"


def snippet(imports: str, body: str) -> str:
    """Return a module for mypy: ``Value`` defined, ``imports`` and ``body`` below it."""
    head = (
        "from __future__ import annotations\n"
        f"{textwrap.dedent(imports).strip()}\n\n\n"
        "class Value:\n"
        "    def __init__(self, n: int) -> None:\n"
        "        self.n = n\n\n\n"
    )
    return head + textwrap.dedent(body).strip() + "\n"


class RcuAdapter(Adapter):
    """The steps of an RCU design.  Handles (``slot``, ``section``, ``ref``, ``old``) are opaque.

    * ``new(n)`` publishes ``Value(n)``; returns the slot (the ``__rcu`` pointer).
    * ``lock()`` / ``unlock(section)``: a read-side critical section.
    * ``reader()``: the same as a ``with`` block.
    * ``deref(section, slot)``: the reference a reader gets; ``use(ref)`` reads its ``n``.
    * ``deref_unguarded(slot)``: a dereference with no reader.
    * ``replace(slot, n)`` publishes ``Value(n)`` and returns what owns the old one.
    * ``free_sync(old)``: free after waiting for a grace period (``RcuDropGuard.drop``,
      ``RcuOld`` drop, ``synchronize_rcu(); kfree()``).
    * ``free_deferred(old)``: free by callback after a grace period (``defer``, ``kfree_rcu``).
    * ``free_now(old)``: free with no grace period (``kfree``).
    * ``synchronize()``, ``barrier()``, ``call(fn)``: the grace-period primitives.
    """

    design = "?"

    def _none(self, what: str) -> NotApplicable:
        return NotApplicable(f"{self.design} has no {what}")

    def new(self, n: int) -> Any:
        """Publish ``Value(n)``; return the slot."""
        raise self._none("RCU-protected pointer")

    def lock(self) -> Any:
        """Enter a read-side critical section; return its handle."""
        raise self._none("read-side critical section")

    def unlock(self, section: Any) -> None:
        """End the read-side critical section ``section``."""
        raise self._none("read-side critical section")

    @contextmanager
    def reader(self) -> Iterator[Any]:
        """Run a ``with`` block as a read-side critical section."""
        section = self.lock()
        try:
            yield section
        finally:
            self.unlock(section)

    def deref(self, section: Any, slot: Any) -> Any:
        """Return the reader's reference to the slot's value."""
        raise self._none("RCU-protected pointer")

    def deref_unguarded(self, slot: Any) -> Any:
        """Dereference the slot with no reader."""
        raise self._none("RCU-protected pointer")

    def use(self, ref: Any) -> int:
        """Read the referenced value's ``n``."""
        return int(ref.n)

    def replace(self, slot: Any, n: int) -> Any:
        """Publish ``Value(n)``; return what owns the old value."""
        raise self._none("update of an RCU-protected pointer")

    def free_sync(self, old: Any) -> None:
        """Free ``old`` after waiting for a grace period."""
        raise self._none("free that waits for a grace period")

    def free_deferred(self, old: Any) -> None:
        """Free ``old`` by callback after a grace period."""
        raise self._none("free by callback after a grace period")

    def free_now(self, old: Any) -> None:
        """Free ``old`` with no grace period."""
        raise self._none("free without a grace period")

    def synchronize(self) -> None:
        """Wait for a grace period."""
        raise self._none("synchronize_rcu()")

    def barrier(self) -> None:
        """Wait for every queued callback."""
        raise self._none("rcu_barrier()")

    def call(self, fn: Callable[[], object]) -> None:
        """Queue ``fn`` to run after a grace period."""
        raise self._none("call_rcu()")


# ------------------------------------------------------------ the kernel's C API


class KernelC(RcuAdapter):
    """``kbind.kernel_c``: include/linux/rcupdate.h, debug options on or off."""

    def __init__(self, checks: bool) -> None:
        self.checks = checks
        self.design = "kernel_c+debug" if checks else "kernel_c"

    def session(self) -> AbstractContextManager[object]:
        on = self.checks
        return kernel_c.configured(PROVE_RCU=on, PROVE_LOCKING=on, DEBUG_ATOMIC_SLEEP=on)

    def new(self, n: int) -> Any:
        return kernel_c.RcuPointer(kernel_c.kmalloc(Value(n)))

    def lock(self) -> Any:
        kernel_c.rcu_read_lock()
        return None

    def unlock(self, section: Any) -> None:
        kernel_c.rcu_read_unlock()

    def deref(self, section: Any, slot: Any) -> Any:
        return kernel_c.rcu_dereference(slot)

    def deref_unguarded(self, slot: Any) -> Any:
        return kernel_c.rcu_dereference(slot)

    def use(self, ref: Any) -> int:
        return int(ref.value.n)

    def replace(self, slot: Any, n: int) -> Any:
        return kernel_c.rcu_replace_pointer(slot, kernel_c.kmalloc(Value(n)), held=True)

    def free_sync(self, old: Any) -> None:
        kernel_c.synchronize_rcu()
        kernel_c.kfree(old)

    def free_deferred(self, old: Any) -> None:
        kernel_c.kfree_rcu(old)

    def free_now(self, old: Any) -> None:
        kernel_c.kfree(old)

    def synchronize(self) -> None:
        kernel_c.synchronize_rcu()

    def barrier(self) -> None:
        proposal.rcu_barrier()  # kernel_c has no rcu_barrier(); the engine's is the kernel's

    def call(self, fn: Callable[[], object]) -> None:
        kernel_c.call_rcu(kernel_c.kmalloc(None), lambda _obj: fn())


# ------------------------------------------------ the original proposal (kbind.rcu)


class Proposal(RcuAdapter):
    """``kbind.rcu``: ``RcuReadGuard``, ``Rcu[T]``, ``RcuDropGuard`` (2019-2021 proposal)."""

    design = "rcu"

    def new(self, n: int) -> Any:
        return proposal.Rcu(Value(n))

    def lock(self) -> Any:
        return proposal.RcuReadGuard()

    def unlock(self, section: Any) -> None:
        section.drop()

    def deref(self, section: Any, slot: Any) -> Any:
        return slot.read(section)

    def deref_unguarded(self, slot: Any) -> Any:
        raise RuledOut(
            "read() takes the guard",
            snippet(
                "from kbind.rcu import Rcu",
                """
                config = Rcu(Value(1))
                config.read()  # misuse
                """,
            ),
        )

    def replace(self, slot: Any, n: int) -> Any:
        return slot.replace(Value(n))

    def free_sync(self, old: Any) -> None:
        old.drop()

    def free_deferred(self, old: Any) -> None:
        old.defer()

    def free_now(self, old: Any) -> None:
        raise RuledOut(
            "only an RcuDropGuard frees, after a grace period",
            snippet(
                "from kbind.rcu import Rcu",
                """
                config = Rcu(Value(1))
                old = config.replace(Value(2))
                old.free_now()  # misuse
                """,
            ),
        )

    def synchronize(self) -> None:
        proposal.synchronize_rcu()

    def barrier(self) -> None:
        proposal.rcu_barrier()

    def call(self, fn: Callable[[], object]) -> None:
        proposal.call_rcu(fn)


# ------------------------------------------------- mainline kernel::sync::rcu


class Mainline(RcuAdapter):
    """``kbind.kernel.sync.rcu``: ``Guard``, ``synchronize_rcu``, ``rcu_barrier`` (rcu.rs)."""

    design = "kernel.sync.rcu"

    def _no_pointer(self) -> NotApplicable:
        return NotApplicable(
            "kernel::sync::rcu has no RCU-protected pointer type (the Rcu<P> RFC adds one)"
        )

    def new(self, n: int) -> Any:
        raise self._no_pointer()

    def lock(self) -> Any:
        return mainline.Guard()

    def unlock(self, section: Any) -> None:
        section.unlock()

    def synchronize(self) -> None:
        mainline.synchronize_rcu()

    def barrier(self) -> None:
        mainline.rcu_barrier()


#: The RCU columns, in order.
DESIGNS: list[Design] = [
    Design("kernel_c", "rcu", "the kernel's C API, debug options off", lambda: KernelC(False)),
    Design(
        "kernel_c+debug",
        "rcu",
        "the kernel's C API with PROVE_RCU, PROVE_LOCKING, DEBUG_ATOMIC_SLEEP",
        lambda: KernelC(True),
    ),
    Design("rcu", "rcu", "RcuReadGuard, Rcu<T>, RcuDropGuard (proposal)", Proposal),
    Design("kernel.sync.rcu", "rcu", "kernel::sync::rcu::Guard (mainline)", Mainline),
]
