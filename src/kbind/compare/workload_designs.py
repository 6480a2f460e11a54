"""The designs the workload runs (:mod:`kbind.compare.workload`): how each reads, updates, frees.

One :class:`Row` per design and free mode, each using its design as the
design's own examples do (examples/kernel_c_baseline.py,
examples/rcu_deferred_free.py, examples/rfc_rcu_pointer.py,
examples/rfc_rcu_box_and_callback.py, examples/srcu_sleeping_readers.py).
:data:`ROWS` maps a design's name (its module under kbind) to its rows.

This module acts as user code (``KBIND_USER_CODE``): the sites kbind records
(where an object was published, retired, freed) are its lines.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Final

from kbind import kernel_c
from kbind import rcu as proposal
from kbind._bridge.native import lib
from kbind.errors import LifetimeError
from kbind.kernel.sync import rcu as mainline
from kbind.kernel.sync.srcu import Srcu
from kbind.rfc import rcu_pointer
from kbind.rfc.rcu_box import RcuBox, RcuFreeBox

__all__ = ["DESIGNS", "ROWS", "Row", "Value"]

KBIND_USER_CODE = True


class Value:
    """What the workload publishes: a counter ``n`` and a payload of known size."""

    __slots__ = ("n", "payload")

    def __init__(self, n: int, payload: bytes) -> None:
        self.n = n
        self.payload = payload


def _nothing() -> None:
    pass


class Row:
    """How one design publishes, reads, retires and frees, in one free mode."""

    design = "?"
    mode = "?"
    #: The update waits for a grace period (else the free runs in a callback).
    waits = True
    #: Reads that had to load the slot again (see :class:`_RfcBox`).
    retries = 0
    #: What a reader does inside its section after the dereference (``--hold-us``:
    #: ``kb_ndelay()``, a busy wait in C with the GIL released); None: nothing.
    hold: Callable[[], object] | None = None

    def session(self) -> AbstractContextManager[object]:
        """Return the context the whole row runs in (a Kconfig setting, say)."""
        return nullcontext()

    def start(self, first: Value) -> None:
        """Publish ``first``."""
        raise NotImplementedError

    def reader(self) -> Callable[[], int]:
        """Return one read (guard, dereference, read ``n``, drop), made on the reader thread."""
        raise NotImplementedError

    def retire(self, new: Value) -> Any:
        """Publish ``new``; return what owns the old object."""
        raise NotImplementedError

    def free(self, old: Any) -> None:
        """Free (or queue the free of) what :meth:`retire` returned."""
        raise NotImplementedError

    def freed(self, old: Any) -> bool:
        """Whether the object :meth:`retire` unpublished has been freed."""
        return bool(old.freed)

    def grace_periods(self) -> int:
        """Return the grace periods completed so far (the counter this row's updates drive)."""
        return int(lib.kb_rcu_gp_count())

    def stop(self) -> None:
        """Unpublish the last object; its free is flushed with the row's callbacks."""

    @property
    def name(self) -> str:
        """The row's name: ``design (free mode)``."""
        return f"{self.design} ({self.mode})"


class _KernelC(Row):
    """``kbind.kernel_c``: rcu_read_lock(), rcu_dereference(), rcu_replace_pointer()."""

    def __init__(self, debug: bool, waits: bool) -> None:
        self.debug = debug
        self.waits = waits
        self.design = "kernel_c+debug" if debug else "kernel_c"
        self.mode = "synchronize_rcu+kfree" if waits else "kfree_rcu"
        self.gp: kernel_c.RcuPointer[Value] = kernel_c.RcuPointer()

    def session(self) -> AbstractContextManager[object]:
        on = self.debug
        return kernel_c.configured(PROVE_RCU=on, PROVE_LOCKING=on, DEBUG_ATOMIC_SLEEP=on)

    def start(self, first: Value) -> None:
        kernel_c.rcu_assign_pointer(self.gp, kernel_c.kmalloc(first))

    def reader(self) -> Callable[[], int]:
        gp = self.gp
        lock, unlock, deref = (
            kernel_c.rcu_read_lock, kernel_c.rcu_read_unlock, kernel_c.rcu_dereference,
        )  # fmt: skip

        hold = self.hold or _nothing

        def read() -> int:
            lock()
            try:
                p = deref(gp)
                hold()
                return p.value.n if p is not None else -1
            finally:
                unlock()

        return read

    def retire(self, new: Value) -> Any:
        return kernel_c.rcu_replace_pointer(self.gp, kernel_c.kmalloc(new), held=True)

    def free(self, old: Any) -> None:
        if self.waits:
            kernel_c.synchronize_rcu()
            kernel_c.kfree(old)
        else:
            kernel_c.kfree_rcu(old)

    def stop(self) -> None:
        old = kernel_c.rcu_replace_pointer(self.gp, None, held=True)
        if old is not None:
            kernel_c.kfree_rcu(old)


class _Proposal(Row):
    """``kbind.rcu``: ``RcuReadGuard``, ``Rcu[T].read()``, ``replace()`` -> ``RcuDropGuard``."""

    design = "rcu"

    def __init__(self, waits: bool) -> None:
        self.waits = waits
        self.mode = "RcuDropGuard.drop" if waits else "RcuDropGuard.defer"

    def start(self, first: Value) -> None:
        self.slot = proposal.Rcu(first)

    def reader(self) -> Callable[[], int]:
        slot, guard, hold = self.slot, proposal.RcuReadGuard, self.hold or _nothing

        def read() -> int:
            with guard() as g:
                v = slot.read(g)
                hold()
                return v.n

        return read

    def retire(self, new: Value) -> Any:
        return self.slot.replace(new)

    def free(self, old: Any) -> None:
        if self.waits:
            old.drop()
        else:
            old.defer()

    def stop(self) -> None:
        self.slot.replace(Value(-1, b"")).defer()


class _RfcPointer(Row):
    """``kbind.rfc.rcu_pointer``: ``dereference(&Guard)``, ``exclusive().replace()``, ``RcuOld``."""

    design = "rfc.rcu_pointer"
    mode = "RcuOld.drop"

    def start(self, first: Value) -> None:
        self.slot: rcu_pointer.Rcu[Value] = rcu_pointer.Rcu(first)

    def reader(self) -> Callable[[], int]:
        slot, guard, hold = self.slot, mainline.Guard, self.hold or _nothing

        def read() -> int:
            with guard() as g:
                v = slot.dereference(g)
                hold()
                return v.n if v is not None else -1

        return read

    def retire(self, new: Value) -> Any:
        with self.slot.exclusive() as w:  # Pin<&mut Rcu<P>>: held for the publish only
            return w.replace(new)

    def free(self, old: Any) -> None:
        old.drop()

    def stop(self) -> None:
        with self.slot.exclusive() as w:
            old = w.replace(None)
        old.drop()


class _RfcBox(Row):
    """``kbind.rfc.rcu_box``: a slot holding the current box; readers ``borrow(&Guard)``.

    The RFC's boxes live in a structure readers search under the guard
    (``MapleTree::load_rcu()``); here that structure is one attribute,
    stored atomically under the GIL.  ``load_rcu()`` finds and borrows in
    one step; here they are two, and a ``drop()`` between them makes
    ``borrow()`` raise ``LifetimeError`` (the box was unshared): the reader
    then loads the slot again, and counts a retry.
    """

    design = "rfc.rcu_box"
    waits = False

    def __init__(self, box: type[RcuBox[Any]] | type[RcuFreeBox[Any]]) -> None:
        self.box = box
        self.mode = f"{box.__name__}.drop"
        self.retries = 0

    def start(self, first: Value) -> None:
        self.current: RcuBox[Value] | RcuFreeBox[Value] = self.box(first)

    def reader(self) -> Callable[[], int]:
        guard, hold = mainline.Guard, self.hold or _nothing

        def read() -> int:
            with guard() as g:
                while True:
                    try:
                        v = self.current.borrow(g)
                        hold()
                        return v.n
                    except LifetimeError:  # dropped between the load and the borrow
                        self.retries += 1

        return read

    def retire(self, new: Value) -> Any:
        old = self.current
        self.current = self.box(new)
        return old

    def free(self, old: Any) -> None:
        old.drop()

    def stop(self) -> None:
        self.current.drop()


class _Srcu(Row):
    """``kbind.kernel.sync.srcu``: ``read_lock()`` around a plain load; ``synchronize()``, kfree."""

    design = "kernel.sync.srcu"
    mode = "Srcu.synchronize+kfree"

    def start(self, first: Value) -> None:
        self.domain = Srcu()
        self.p = kernel_c.kmalloc(first)

    def reader(self) -> Callable[[], int]:
        domain, hold = self.domain, self.hold or _nothing

        def read() -> int:
            with domain.read_lock():
                v = self.p.value
                hold()
                return v.n

        return read

    def retire(self, new: Value) -> Any:
        old = self.p
        self.p = kernel_c.kmalloc(new)
        return old

    def free(self, old: Any) -> None:
        self.domain.synchronize()
        kernel_c.kfree(old)

    def grace_periods(self) -> int:
        return self.domain.grace_periods()

    def stop(self) -> None:
        self.domain.close()


#: Design name (its module under kbind) -> its rows, in the order they run.
ROWS: Final[dict[str, Callable[[], list[Row]]]] = {
    "kernel_c": lambda: [_KernelC(False, True), _KernelC(False, False)],
    "rcu": lambda: [_Proposal(True), _Proposal(False)],
    "rfc.rcu_pointer": lambda: [_RfcPointer()],
    "rfc.rcu_box": lambda: [_RfcBox(RcuBox), _RfcBox(RcuFreeBox)],
    "kernel.sync.srcu": lambda: [_Srcu()],
    "kernel_c+debug": lambda: [_KernelC(True, True), _KernelC(True, False)],
}

#: The designs a run with no ``designs`` runs, in order (``kernel_c+debug`` only when named).
DESIGNS: Final = ("kernel_c", "rcu", "rfc.rcu_pointer", "rfc.rcu_box", "kernel.sync.srcu")
