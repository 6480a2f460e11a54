"""LKMM atomics: ``AtomicI32``, ``AtomicI64``, ``AtomicUsize``.

Mirrors Rust-for-Linux ``kernel::sync::atomic::Atomic<i32/i64/usize>`` over
the kernel's ``atomic_t``, ``atomic64_t`` and ``atomic_long_t``.  The value
lives in C memory (the engine's cell, inside the object) and every operation
is one C method (kbind._bridge._hotpath, csrc/pyext/atomic_type.c) calling
csrc/engine/atomic.c, which executes a real hardware atomic (``lock xadd``,
``ldxr/stxr``...), never Python arithmetic under a lock.

Rules enforced (Rust-for-Linux enforces them with types; kbind with types
*and* at run time):

* Every operation takes an explicit ordering (no defaults), and only the
  orderings the kernel has for it: ``load`` Relaxed/Acquire, ``store``
  Relaxed/Release, the void RMWs (``add``, ``sub``, ``inc``, ``dec``)
  Relaxed, value-returning RMWs any of the four, the conditional ones
  (``add_unless``, ``inc_not_zero``, ``*_and_test``) Full.  Anything else
  raises :class:`kbind.OrderingError`.
* Operands must fit the type (``OverflowError``, nothing is changed);
  results wrap around at the type's width like the kernel's.
* A failed ``cmpxchg``/``try_cmpxchg`` provides no ordering (kernel rule).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, ClassVar, Final, final

from kbind._bridge.guard import NotClone
from kbind._bridge.native import ffi, hot
from kbind.errors import OrderingError
from kbind.ordering import (
    ALL_ORDERINGS,
    Acquire,
    AcquireOrRelaxed,
    AnyOrdering,
    Full,
    FullOrdering,
    Ordering,
    Relaxed,
    RelaxedOrdering,
    Release,
    ReleaseOrRelaxed,
)

__all__ = ["AtomicI32", "AtomicI64", "AtomicUsize"]

#: Python operation -> the orderings it accepts (the kernel's), in ALL_ORDERINGS order.
_OPS: Final[dict[str, tuple[Ordering, ...]]] = {
    "load": (Relaxed, Acquire),
    "store": (Relaxed, Release),
    **{op: (Relaxed,) for op in ("add", "sub", "inc", "dec")},
    **{
        op: ALL_ORDERINGS
        for op in (
            "add_return", "sub_return", "inc_return", "dec_return",
            "fetch_add", "fetch_sub", "fetch_inc", "fetch_dec",
            "fetch_and", "fetch_or", "fetch_xor", "fetch_andnot",
            "xchg", "cmpxchg", "try_cmpxchg", "add_negative",
        )
    },
    **{
        op: (Full,)
        for op in (
            "sub_and_test", "dec_and_test", "inc_and_test",
            "fetch_add_unless", "add_unless", "inc_not_zero",
        )
    },
}  # fmt: skip


class _Atomic(NotClone):
    """Shared implementation; the public classes fix the C type and width.

    Each public class also derives from its C type in kbind._bridge._hotpath
    (``AtomicI64(hot.Atomic64, _Atomic)``): the value lives in that object,
    as the engine's cell (``kb_atomic64_t``...), and every operation is a C
    method that ``hot.bind_atomics()`` puts in the public class at import,
    so it is found before the Python one below.  It recognises the ordering
    by identity, checks the operands fit, and calls the engine's function
    for that operation and ordering (csrc/engine/atomic.c) without releasing the GIL.

    The typed methods below are the operations' signatures and
    documentation (what mypy and ``help()`` see); at run time they run only
    for the calls C hands back: keyword arguments or a wrong number of
    arguments.  They bind the arguments as Python does (its TypeErrors)
    and call the C method positionally (``self.load(ordering)`` is C's).
    A refused ordering or operand is reported by :meth:`_reject`, called
    from C, so every message is built here.

    Invariants:
        The C methods accept exactly the orderings of ``_OPS[op]`` and
        operands that are ints in ``[_MIN, _MAX]``; everything else is
        refused with the exception :meth:`_reject` returns.
    """

    __slots__ = ()
    _CLONE_ROLE = "owner"

    _CTYPE: ClassVar[str]  # "kb_atomic64_t"
    _VTYPE: ClassVar[str]  # "int64_t"
    _SIGNED: ClassVar[bool] = True
    _BITS: ClassVar[int]
    _MIN: ClassVar[int]
    _MAX: ClassVar[int]
    if TYPE_CHECKING:

        @property
        def _address(self) -> int:
            """The C type's: the address of the cell inside the object."""
            ...

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        c_bits = 8 * int(ffi.sizeof(cls._VTYPE))
        cls._BITS = c_bits
        if cls._SIGNED:
            cls._MIN, cls._MAX = -(2 ** (c_bits - 1)), 2 ** (c_bits - 1) - 1
        else:
            cls._MIN, cls._MAX = 0, 2**c_bits - 1

    def __init__(self, value: int = 0) -> None:
        self.store(value, Relaxed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.load(Relaxed)})"

    @property
    def _ptr(self) -> object:
        """The cell as a cffi pointer (``kb_atomic64_t *``...), for C code called through cffi.

        Borrowed: it points into this object, so it is valid while the atomic is alive.
        """
        return ffi.cast(f"{self._CTYPE} *", self._address)

    def _reject(self, op: str, ordering: object, *values: object) -> Exception:
        """Build the error for a call whose ordering or operand was refused (called from C)."""
        name = f"{type(self).__name__}.{op}"
        allowed = _OPS[op]
        if not any(ordering is o for o in allowed):
            return OrderingError(name, ordering, [o.name for o in allowed])
        for v in values:
            if not isinstance(v, int):
                return TypeError(f"{name}: operand must be an int, not {type(v).__name__}")
            if not self._MIN <= v <= self._MAX:
                return OverflowError(
                    f"{name}: operand {v} does not fit {type(self).__name__} "
                    f"[{self._MIN}, {self._MAX}]; nothing was changed"
                )
        raise AssertionError("unreachable: _reject called for a valid call")

    # Each body below runs only for a call C handed back (see the class
    # docstring); there, ``self.<op>(...)`` is the C method, called positionally.

    # -- load / store ---------------------------------------------------------
    def load(self, ordering: AcquireOrRelaxed) -> int:
        """Return the value.  Kernel: ``atomic_read()``/``atomic_read_acquire()``.

        Ordering: Relaxed or Acquire (pairs with a Release store).
        """
        return self.load(ordering)

    def store(self, v: int, ordering: ReleaseOrRelaxed) -> None:
        """Set the value.  Kernel: ``atomic_set()``/``atomic_set_release()``.

        Ordering: Relaxed or Release (pairs with an Acquire load).
        """
        self.store(v, ordering)

    # -- void RMW (unordered, as in the kernel) ------------------------------
    def add(self, v: int, ordering: RelaxedOrdering) -> None:
        """Add ``v`` atomically.  Kernel: ``atomic_add()``.  Ordering: Relaxed only."""
        self.add(v, ordering)

    def sub(self, v: int, ordering: RelaxedOrdering) -> None:
        """Subtract ``v`` atomically.  Kernel: ``atomic_sub()``.  Ordering: Relaxed only."""
        self.sub(v, ordering)

    def inc(self, ordering: RelaxedOrdering) -> None:
        """Add one atomically.  Kernel: ``atomic_inc()``.  Ordering: Relaxed only."""
        self.inc(ordering)

    def dec(self, ordering: RelaxedOrdering) -> None:
        """Subtract one atomically.  Kernel: ``atomic_dec()``.  Ordering: Relaxed only."""
        self.dec(ordering)

    # -- value-returning RMW (any ordering) ----------------------------------
    def add_return(self, v: int, ordering: AnyOrdering) -> int:
        """Add ``v``; return the new value.  Kernel: ``atomic_add_return*()``."""
        return self.add_return(v, ordering)

    def sub_return(self, v: int, ordering: AnyOrdering) -> int:
        """Subtract ``v``; return the new value.  Kernel: ``atomic_sub_return*()``."""
        return self.sub_return(v, ordering)

    def inc_return(self, ordering: AnyOrdering) -> int:
        """Add one; return the new value.  Kernel: ``atomic_inc_return*()``."""
        return self.inc_return(ordering)

    def dec_return(self, ordering: AnyOrdering) -> int:
        """Subtract one; return the new value.  Kernel: ``atomic_dec_return*()``."""
        return self.dec_return(ordering)

    def fetch_add(self, v: int, ordering: AnyOrdering) -> int:
        """Add ``v``; return the old value.  Kernel: ``atomic_fetch_add*()``.

        Rust: ``Atomic::fetch_add(v, ordering)``.
        """
        return self.fetch_add(v, ordering)

    def fetch_sub(self, v: int, ordering: AnyOrdering) -> int:
        """Subtract ``v``; return the old value.  Kernel: ``atomic_fetch_sub*()``."""
        return self.fetch_sub(v, ordering)

    def fetch_inc(self, ordering: AnyOrdering) -> int:
        """Add one; return the old value.  Kernel: ``atomic_fetch_inc*()``."""
        return self.fetch_inc(ordering)

    def fetch_dec(self, ordering: AnyOrdering) -> int:
        """Subtract one; return the old value.  Kernel: ``atomic_fetch_dec*()``."""
        return self.fetch_dec(ordering)

    def fetch_and(self, v: int, ordering: AnyOrdering) -> int:
        """AND with ``v``; return the old value.  Kernel: ``atomic_fetch_and*()``."""
        return self.fetch_and(v, ordering)

    def fetch_or(self, v: int, ordering: AnyOrdering) -> int:
        """OR with ``v``; return the old value.  Kernel: ``atomic_fetch_or*()``."""
        return self.fetch_or(v, ordering)

    def fetch_xor(self, v: int, ordering: AnyOrdering) -> int:
        """XOR with ``v``; return the old value.  Kernel: ``atomic_fetch_xor*()``."""
        return self.fetch_xor(v, ordering)

    def fetch_andnot(self, v: int, ordering: AnyOrdering) -> int:
        """Clear the bits of ``v``; return the old value.  Kernel: ``atomic_fetch_andnot*()``."""
        return self.fetch_andnot(v, ordering)

    def xchg(self, v: int, ordering: AnyOrdering) -> int:
        """Store ``v``; return the old value.  Kernel: ``atomic_xchg*()``."""
        return self.xchg(v, ordering)

    def cmpxchg(self, old: int, new: int, ordering: AnyOrdering) -> int:
        """Store ``new`` if the value is ``old``; return the value found.

        It succeeded iff the result equals ``old``; a failure orders nothing.
        Kernel: ``atomic_cmpxchg*()``.  Rust: ``Atomic::cmpxchg(old, new, ordering)``.
        """
        return self.cmpxchg(old, new, ordering)

    def try_cmpxchg(self, old: int, new: int, ordering: AnyOrdering) -> tuple[bool, int]:
        """Store ``new`` if the value is ``old``.

        Return ``(True, old)`` on success, ``(False, found)`` on failure; a
        failure orders nothing.  Kernel: ``atomic_try_cmpxchg*()`` (which
        updates ``*old`` on failure, as the second element does here).
        """
        return self.try_cmpxchg(old, new, ordering)

    def add_negative(self, v: int, ordering: AnyOrdering) -> bool:
        """Add ``v``; return whether the result is negative (sign bit set).

        Kernel: ``atomic_add_negative*()``.
        """
        return self.add_negative(v, ordering)

    # -- conditional RMW (fully ordered, as in the kernel) -------------------
    def sub_and_test(self, v: int, ordering: FullOrdering) -> bool:
        """Subtract ``v``; return whether the result is zero.  Kernel: ``atomic_sub_and_test()``."""
        return self.sub_and_test(v, ordering)

    def dec_and_test(self, ordering: FullOrdering) -> bool:
        """Subtract one; return whether the result is zero.  Kernel: ``atomic_dec_and_test()``."""
        return self.dec_and_test(ordering)

    def inc_and_test(self, ordering: FullOrdering) -> bool:
        """Add one; return whether the result is zero.  Kernel: ``atomic_inc_and_test()``."""
        return self.inc_and_test(ordering)

    def fetch_add_unless(self, a: int, u: int, ordering: FullOrdering) -> int:
        """Add ``a`` unless the value is ``u``; return the old value.

        Kernel: ``atomic_fetch_add_unless()``; ordered only when it adds.
        """
        return self.fetch_add_unless(a, u, ordering)

    def add_unless(self, a: int, u: int, ordering: FullOrdering) -> bool:
        """Add ``a`` unless the value is ``u``; return whether it added.

        Kernel: ``atomic_add_unless()``.
        """
        return self.add_unless(a, u, ordering)

    def inc_not_zero(self, ordering: FullOrdering) -> bool:
        """Add one unless the value is zero; return whether it added.

        Kernel: ``atomic_inc_not_zero()`` (the refcount "tryget").
        """
        return self.inc_not_zero(ordering)


@final
class AtomicI32(hot.Atomic32, _Atomic):
    """A 32-bit signed atomic in C memory.

    Kernel: ``atomic_t``.  Rust: ``kernel::sync::atomic::Atomic<i32>``.
    C: ``kb_atomic_t`` and the ``kb_atomic_*()`` functions.

    Examples:
        >>> from kbind import AtomicI32, Full, Relaxed
        >>> a = AtomicI32(2**31 - 1)
        >>> a.fetch_add(1, Full)
        2147483647
        >>> a.load(Relaxed)
        -2147483648
    """

    __slots__ = ()
    _CTYPE = "kb_atomic_t"
    _VTYPE = "int32_t"


@final
class AtomicI64(hot.Atomic64, _Atomic):
    """A 64-bit signed atomic in C memory.

    Kernel: ``atomic64_t``.  Rust: ``kernel::sync::atomic::Atomic<i64>``.
    C: ``kb_atomic64_t`` and the ``kb_atomic64_*()`` functions.

    Examples:
        >>> from kbind import AtomicI64, Acquire, Full
        >>> a = AtomicI64(5)
        >>> a.cmpxchg(5, 7, Full)
        5
        >>> a.load(Acquire)
        7
    """

    __slots__ = ()
    _CTYPE = "kb_atomic64_t"
    _VTYPE = "int64_t"


@final
class AtomicUsize(hot.AtomicULong, _Atomic):
    """A pointer-sized unsigned atomic in C memory (wraps at 2**64 on 64-bit).

    Kernel: ``atomic_long_t`` (sign-agnostic bits; ``add_negative`` reports the
    top bit).  Rust: ``kernel::sync::atomic::Atomic<usize>``.
    C: ``kb_atomic_long_t`` and the ``kb_atomic_long_*()`` functions.

    Examples:
        >>> from kbind import AtomicUsize, Full, Relaxed
        >>> a = AtomicUsize(0)
        >>> a.fetch_sub(1, Full)
        0
        >>> a.load(Relaxed) == 2**64 - 1
        True
    """

    __slots__ = ()
    _CTYPE = "kb_atomic_long_t"
    _VTYPE = "long"
    _SIGNED = False


def _c_doc(name: str) -> str:
    """Return the C method's documentation: its text signature (for ``inspect``), then its doc."""
    fn = getattr(_Atomic, name)
    params = ", ".join(["$self", *list(inspect.signature(fn).parameters)[1:]])
    return f"{name}({params})\n--\n\n{fn.__doc__}"


# The C methods go into the public classes (csrc/pyext/atomic_type.c, bind_atomics()).
hot.bind_atomics(
    ALL_ORDERINGS,
    {name: (getattr(_Atomic, name), _c_doc(name)) for name in _OPS},
    (AtomicI32, AtomicI64, AtomicUsize),
)
