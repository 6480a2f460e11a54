"""A shared 64-bit machine word and the kernel's marked accesses to it.

``READ_ONCE``/``WRITE_ONCE`` and ``smp_load_acquire``/``smp_store_release``
mirror the kernel macros of the same names (Rust-for-Linux: ``read_volatile``
based ``READ_ONCE`` helpers and ``Atomic::load(Acquire)``/``store(Release)``).
The word lives in C memory, so C threads (torture and litmus tests) and
Python threads can share it; every access is a single, untorn machine access.
"""

from __future__ import annotations

from typing import Final, final

from kbind._bridge.guard import NotClone
from kbind._bridge.native import ffi, lib

__all__ = ["READ_ONCE", "WRITE_ONCE", "Word", "smp_load_acquire", "smp_store_release"]

_MIN: Final = -(2**63)
_MAX: Final = 2**63 - 1


def _check_value(v: int, what: str) -> int:
    if not isinstance(v, int):
        raise TypeError(f"{what} must be an int, not {type(v).__name__}")
    if not _MIN <= v <= _MAX:
        raise OverflowError(f"{what} {v} does not fit a 64-bit signed word [{_MIN}, {_MAX}]")
    return v


@final
class Word(NotClone):
    """One 64-bit signed word in C memory, shared between threads.

    Rule: the value is reachable only through the marked-access functions
    (:func:`READ_ONCE`, :func:`WRITE_ONCE`, :func:`smp_load_acquire`,
    :func:`smp_store_release`); there is no plain attribute to read racily.
    Kernel: a ``long`` accessed with ``READ_ONCE()``/``WRITE_ONCE()``.
    C: ``kb_word_t``.
    """

    __slots__ = ("_cell",)
    _CLONE_ROLE = "owner"

    def __init__(self, value: int = 0) -> None:
        self._cell = ffi.new("kb_word_t *")
        lib.kb_word_write_once(self._cell, _check_value(value, "Word value"))

    def __repr__(self) -> str:
        return f"Word({lib.kb_word_read_once(self._cell)})"

    @property
    def address(self) -> int:
        """The word's address in C memory (for passing to C code)."""
        return int(ffi.cast("uintptr_t", self._cell))


def _cell(w: Word) -> object:
    if not isinstance(w, Word):
        raise TypeError(f"expected a kbind.Word, not {type(w).__name__}")
    return w._cell


def READ_ONCE(w: Word) -> int:
    """Load ``w`` once, untorn, with no ordering.  Kernel: ``READ_ONCE(x)``."""
    return int(lib.kb_word_read_once(_cell(w)))


def WRITE_ONCE(w: Word, v: int) -> None:
    """Store ``v`` into ``w`` once, untorn, with no ordering.  Kernel: ``WRITE_ONCE(x, v)``.

    Raises:
        OverflowError: ``v`` does not fit 64 signed bits (nothing is stored).
    """
    lib.kb_word_write_once(_cell(w), _check_value(v, "value"))


def smp_load_acquire(w: Word) -> int:
    """Load ``w``; later accesses stay after it.  Kernel: ``smp_load_acquire(&x)``.

    Ordering: acquire; pairs with :func:`smp_store_release` in the writer.
    """
    return int(lib.kb_word_load_acquire(_cell(w)))


def smp_store_release(w: Word, v: int) -> None:
    """Store ``v``; earlier accesses stay before it.  Kernel: ``smp_store_release(&x, v)``.

    Ordering: release; pairs with :func:`smp_load_acquire` in the reader.
    """
    lib.kb_word_store_release(_cell(w), _check_value(v, "value"))
