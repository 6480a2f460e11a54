"""``kernel::sync::barrier``: generic barriers ``smp_mb(Full | Read | Write)``, ``mb``, ``dma_mb``.

Rust: rust/kernel/sync/barrier.rs; the generic form, which takes a marker
type so users state what the barrier orders, replaced the old
``smp_mb()``/``smp_rmb()``/``smp_wmb()`` functions in 2026-08 (the
kernel release that carries it is not confirmed here).

Each call runs the engine's C barrier (csrc/engine/barrier.c, the
instructions of csrc/engine/arch/<arch>.h).  The markers are sealed: ``Full``
is the same marker the atomics take (:data:`kbind.ordering.Full`); ``Read``
and ``Write`` are this module's.  A wrong marker is a mypy error, and at run
time an :class:`~kbind.errors.OrderingError` naming the markers accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, TypeAlias, final

from kbind._bridge.native import lib
from kbind.errors import OrderingError
from kbind.ordering import Full, FullOrdering

__all__ = [
    "BarrierKind",
    "Full",
    "Read",
    "ReadBarrier",
    "Write",
    "WriteBarrier",
    "dma_mb",
    "mb",
    "smp_mb",
]


class _BarrierMarker:
    """Base of the ``Read`` and ``Write`` markers (sealed: no subclasses outside this module)."""

    __slots__ = ()
    name: str = ""

    def __init_subclass__(cls) -> None:
        if cls.__module__ != __name__:
            raise TypeError("barrier markers are sealed: use Full, Read or Write")

    def __repr__(self) -> str:
        return f"kbind.kernel.sync.barrier.{self.name}"

    def __reduce__(self) -> str:
        return self.name


@final
class ReadBarrier(_BarrierMarker):
    """Earlier loads before later loads (kernel: the ``rmb`` family)."""

    __slots__ = ()
    name = "Read"


@final
class WriteBarrier(_BarrierMarker):
    """Earlier stores before later stores (kernel: the ``wmb`` family)."""

    __slots__ = ()
    name = "Write"


Read: Final = ReadBarrier()
Write: Final = WriteBarrier()

#: What the generic barriers accept.
BarrierKind: TypeAlias = FullOrdering | ReadBarrier | WriteBarrier

_ACCEPTED: Final = ("Read", "Write", "Full")  # strongest last, as OrderingError expects


def _pick(op: str, kind: object, fns: dict[type, Callable[[], None]]) -> Callable[[], None]:
    fn = fns.get(type(kind))
    if fn is None:
        raise OrderingError(op, kind, _ACCEPTED)
    return fn


_SMP: Final[dict[type, Callable[[], None]]] = {
    FullOrdering: lib.kb_smp_mb,
    ReadBarrier: lib.kb_smp_rmb,
    WriteBarrier: lib.kb_smp_wmb,
}
_MB: Final[dict[type, Callable[[], None]]] = {
    FullOrdering: lib.kb_mb,
    ReadBarrier: lib.kb_rmb,
    WriteBarrier: lib.kb_wmb,
}
_DMA: Final[dict[type, Callable[[], None]]] = {
    FullOrdering: lib.kb_dma_mb,
    ReadBarrier: lib.kb_dma_rmb,
    WriteBarrier: lib.kb_dma_wmb,
}


def smp_mb(kind: BarrierKind) -> None:
    """Order memory between CPUs: ``Full`` all accesses, ``Read`` loads, ``Write`` stores.

    Rust: ``kernel::sync::barrier::smp_mb(Full | Read | Write)`` (2026-08).
    Kernel: ``smp_mb()`` / ``smp_rmb()`` / ``smp_wmb()``.  C: ``kb_smp_mb()``,
    ``kb_smp_rmb()``, ``kb_smp_wmb()`` (on x86-64 a locked add for Full, compiler
    barriers for Read and Write; on arm64 ``dmb ish``/``ishld``/``ishst``).

    Raises:
        OrderingError: ``kind`` is not Full, Read or Write.

    Examples:
        >>> from kbind.kernel.sync.barrier import Full, Write, smp_mb
        >>> smp_mb(Full)
        >>> smp_mb(Write)
    """
    _pick("smp_mb()", kind, _SMP)()


def mb(kind: BarrierKind) -> None:
    """Order memory with a mandatory barrier, device (MMIO) accesses too.

    Rust: ``kernel::sync::barrier::mb(..)`` (2026-08).  Kernel: ``mb()`` /
    ``rmb()`` / ``wmb()``.  C: ``kb_mb()``, ``kb_rmb()``, ``kb_wmb()`` (x86-64:
    ``mfence``/``lfence``/``sfence``; arm64: ``dsb sy``/``ld``/``st``).

    Raises:
        OrderingError: ``kind`` is not Full, Read or Write.
    """
    _pick("mb()", kind, _MB)()


def dma_mb(kind: BarrierKind) -> None:
    """Order memory shared with a device (coherent DMA buffers).

    Rust: ``kernel::sync::barrier::dma_mb(..)`` (2026-08).  Kernel:
    ``dma_mb()`` / ``dma_rmb()`` / ``dma_wmb()``.  C: ``kb_dma_mb()``,
    ``kb_dma_rmb()``, ``kb_dma_wmb()`` (x86-64: ``mfence`` for Full, compiler
    barriers otherwise; arm64: ``dmb osh``/``oshld``/``oshst``).

    Raises:
        OrderingError: ``kind`` is not Full, Read or Write.
    """
    _pick("dma_mb()", kind, _DMA)()
