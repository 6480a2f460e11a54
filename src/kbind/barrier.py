"""Memory barriers: ``smp_mb()`` and friends, executed by the C core.

Mirrors the kernel's ``include/asm-generic/barrier.h`` and each
architecture's ``asm/barrier.h``.  Each function runs the real instruction
sequence from csrc/engine/arch/ (on x86-64 ``smp_mb()`` is a locked add on the
stack, like the kernel; on arm64 ``dmb ish``).

From Python these matter for what they order in C memory (:class:`kbind.Word`,
the atomics): the interpreter itself takes and releases the GIL between
bytecodes, which orders more than any of these does.  They are here so
designs can be written down with the kernel's vocabulary, and so their cost
can be measured (benchmarks/).
"""

from __future__ import annotations

from kbind._bridge.native import ffi, lib

__all__ = [
    "arch",
    "barrier",
    "smp_mb",
    "smp_mb__after_atomic",
    "smp_mb__before_atomic",
    "smp_rmb",
    "smp_wmb",
]


def arch() -> str:
    """Return which barrier header of csrc/engine/arch/ was compiled: x86_64, aarch64 or generic."""
    return str(ffi.string(lib.kb_arch_name()).decode())


def barrier() -> None:
    """Compiler barrier only; orders nothing on the CPU.  Kernel: ``barrier()``. C: kb_barrier()."""
    lib.kb_barrier()


def smp_mb() -> None:
    """Full barrier: all earlier loads and stores before all later ones.

    Kernel: ``smp_mb()``.  C: kb_smp_mb().
    """
    lib.kb_smp_mb()


def smp_rmb() -> None:
    """Read barrier: earlier loads before later loads.  Kernel: ``smp_rmb()``. C: kb_smp_rmb."""
    lib.kb_smp_rmb()


def smp_wmb() -> None:
    """Write barrier: earlier stores before later stores.  Kernel: ``smp_wmb()``. C: kb_smp_wmb."""
    lib.kb_smp_wmb()


def smp_mb__before_atomic() -> None:
    """Make the following unordered atomic RMW fully ordered before it.

    Kernel: ``smp_mb__before_atomic()``.  C: kb_smp_mb__before_atomic().
    """
    lib.kb_smp_mb__before_atomic()


def smp_mb__after_atomic() -> None:
    """Make the preceding unordered atomic RMW fully ordered after it.

    Kernel: ``smp_mb__after_atomic()``.  C: kb_smp_mb__after_atomic().
    """
    lib.kb_smp_mb__after_atomic()
