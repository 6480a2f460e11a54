"""LKMM atomics: ``AtomicI32``, ``AtomicI64``, ``AtomicUsize``.

Mirrors Rust-for-Linux ``kernel::sync::atomic::Atomic<i32/i64/usize>`` over
the kernel's ``atomic_t``, ``atomic64_t`` and ``atomic_long_t``.  The value
lives in C memory and every operation is one call into csrc/atomic.c, which
executes a real hardware atomic (``lock xadd``, ``ldxr/stxr``...), never
Python arithmetic under a lock.

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

from collections.abc import Callable
from typing import ClassVar, Final, final

from kbind._guard import NotClone
from kbind._native import ffi, lib
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

_CFn = Callable[..., int]

#: Python operation -> {ordering: C operation name (without the kb_atomic* prefix)}.
_OPS: Final[dict[str, dict[Ordering, str]]] = {
    "load": {Relaxed: "read", Acquire: "read_acquire"},
    "store": {Relaxed: "set", Release: "set_release"},
    **{op: {Relaxed: op} for op in ("add", "sub", "inc", "dec")},
    **{
        op: {o: op + o.suffix for o in ALL_ORDERINGS}
        for op in (
            "add_return", "sub_return", "inc_return", "dec_return",
            "fetch_add", "fetch_sub", "fetch_inc", "fetch_dec",
            "fetch_and", "fetch_or", "fetch_xor", "fetch_andnot",
            "xchg", "cmpxchg", "try_cmpxchg", "add_negative",
        )
    },
    **{
        op: {Full: op}
        for op in (
            "sub_and_test", "dec_and_test", "inc_and_test",
            "fetch_add_unless", "add_unless", "inc_not_zero",
        )
    },
}  # fmt: skip


class _Atomic(NotClone):
    """Shared implementation; the public classes fix the C type and width.

    Invariants:
        ``_fns[(op, ordering)]`` is the C function for that operation and
        ordering, taking and returning values in the Python range
        ``[_MIN, _MAX]``; the hot path is one dict lookup, one range check and
        one cffi call.
    """

    __slots__ = ("__weakref__", "_ptr")
    _CLONE_ROLE = "owner"

    _PREFIX: ClassVar[str]  # "kb_atomic64"
    _CTYPE: ClassVar[str]  # "kb_atomic64_t"
    _VTYPE: ClassVar[str]  # "int64_t"
    _SIGNED: ClassVar[bool] = True
    _BITS: ClassVar[int]
    _MIN: ClassVar[int]
    _MAX: ClassVar[int]
    _fns: ClassVar[dict[tuple[str, Ordering], _CFn]]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        c_bits = 8 * int(ffi.sizeof(cls._VTYPE))
        cls._BITS = c_bits
        if cls._SIGNED:
            cls._MIN, cls._MAX = -(2 ** (c_bits - 1)), 2 ** (c_bits - 1) - 1
        else:
            cls._MIN, cls._MAX = 0, 2**c_bits - 1
        cls._fns = {
            (op, o): cls._wrap(getattr(lib, f"{cls._PREFIX}_{c_name}"))
            for op, table in _OPS.items()
            for o, c_name in table.items()
        }

    @classmethod
    def _wrap(cls, fn: _CFn) -> _CFn:
        """Adapt a C function to Python values (only unsigned types need it)."""
        if cls._SIGNED:
            return fn
        to_c, from_c = cls._to_c, cls._from_c

        def unsigned(*args: object) -> int:
            # isinstance, not type(a) is int: an int subclass (an IntEnum, a
            # user's int type) is converted to the C value too.
            r = fn(*(to_c(int(a)) if isinstance(a, int) else a for a in args))
            return from_c(r) if type(r) is int else r

        return unsigned

    @classmethod
    def _to_c(cls, v: int) -> int:
        """Python value (already range-checked) -> C value."""
        return v if cls._SIGNED or v <= cls._MAX >> 1 else v - (1 << cls._BITS)

    @classmethod
    def _from_c(cls, r: int) -> int:
        """C value -> Python value."""
        return r if cls._SIGNED else r & cls._MAX

    def __init__(self, value: int = 0) -> None:
        self._ptr = ffi.new(f"{self._CTYPE} *")
        self.store(value, Relaxed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.load(Relaxed)})"

    def _reject(self, op: str, ordering: object, *values: object) -> Exception:
        """Build the error for a call whose ordering or operand was refused."""
        name = f"{type(self).__name__}.{op}"
        try:
            known = (op, ordering) in self._fns
        except TypeError:  # unhashable "ordering"
            known = False
        if not known:
            return OrderingError(name, ordering, [o.name for o in _OPS[op]])
        for v in values:
            if not isinstance(v, int):
                return TypeError(f"{name}: operand must be an int, not {type(v).__name__}")
            if not self._MIN <= v <= self._MAX:
                return OverflowError(
                    f"{name}: operand {v} does not fit {type(self).__name__} "
                    f"[{self._MIN}, {self._MAX}]; nothing was changed"
                )
        raise AssertionError("unreachable: _reject called for a valid call")

    def _check(self, op: str, ordering: object, *values: int) -> _CFn:
        """Return the C function for ``op`` at ``ordering``, after checking ``values`` fit."""
        try:
            fn = self._fns.get((op, ordering))  # type: ignore[arg-type]
            if fn is not None:
                lo, hi = self._MIN, self._MAX
                for v in values:
                    if not lo <= v <= hi or not isinstance(v, int):
                        break
                else:
                    return fn
        except TypeError:
            pass
        raise self._reject(op, ordering, *values)

    # -- load / store ---------------------------------------------------------
    def load(self, ordering: AcquireOrRelaxed) -> int:
        """Return the value.  Kernel: ``atomic_read()``/``atomic_read_acquire()``.

        Ordering: Relaxed or Acquire (pairs with a Release store).
        """
        try:
            return self._fns[("load", ordering)](self._ptr)
        except (KeyError, TypeError):  # not an ordering load accepts (or unhashable)
            raise self._reject("load", ordering) from None

    def store(self, v: int, ordering: ReleaseOrRelaxed) -> None:
        """Set the value.  Kernel: ``atomic_set()``/``atomic_set_release()``.

        Ordering: Relaxed or Release (pairs with an Acquire load).
        """
        self._check("store", ordering, v)(self._ptr, v)

    # -- void RMW (unordered, as in the kernel) ------------------------------
    def add(self, v: int, ordering: RelaxedOrdering) -> None:
        """Add ``v`` atomically.  Kernel: ``atomic_add()``.  Ordering: Relaxed only."""
        self._check("add", ordering, v)(v, self._ptr)

    def sub(self, v: int, ordering: RelaxedOrdering) -> None:
        """Subtract ``v`` atomically.  Kernel: ``atomic_sub()``.  Ordering: Relaxed only."""
        self._check("sub", ordering, v)(v, self._ptr)

    def inc(self, ordering: RelaxedOrdering) -> None:
        """Add one atomically.  Kernel: ``atomic_inc()``.  Ordering: Relaxed only."""
        self._check("inc", ordering)(self._ptr)

    def dec(self, ordering: RelaxedOrdering) -> None:
        """Subtract one atomically.  Kernel: ``atomic_dec()``.  Ordering: Relaxed only."""
        self._check("dec", ordering)(self._ptr)

    # -- value-returning RMW (any ordering) ----------------------------------
    def add_return(self, v: int, ordering: AnyOrdering) -> int:
        """Add ``v``; return the new value.  Kernel: ``atomic_add_return*()``."""
        return self._check("add_return", ordering, v)(v, self._ptr)

    def sub_return(self, v: int, ordering: AnyOrdering) -> int:
        """Subtract ``v``; return the new value.  Kernel: ``atomic_sub_return*()``."""
        return self._check("sub_return", ordering, v)(v, self._ptr)

    def inc_return(self, ordering: AnyOrdering) -> int:
        """Add one; return the new value.  Kernel: ``atomic_inc_return*()``."""
        return self._check("inc_return", ordering)(self._ptr)

    def dec_return(self, ordering: AnyOrdering) -> int:
        """Subtract one; return the new value.  Kernel: ``atomic_dec_return*()``."""
        return self._check("dec_return", ordering)(self._ptr)

    def fetch_add(self, v: int, ordering: AnyOrdering) -> int:
        """Add ``v``; return the old value.  Kernel: ``atomic_fetch_add*()``.

        Rust: ``Atomic::fetch_add(v, ordering)``.
        """
        try:
            fn = self._fns[("fetch_add", ordering)]
        except (KeyError, TypeError):  # not an ordering (or unhashable)
            raise self._reject("fetch_add", ordering, v) from None
        if not isinstance(v, int) or not self._MIN <= v <= self._MAX:
            raise self._reject("fetch_add", ordering, v)
        return fn(v, self._ptr)

    def fetch_sub(self, v: int, ordering: AnyOrdering) -> int:
        """Subtract ``v``; return the old value.  Kernel: ``atomic_fetch_sub*()``."""
        return self._check("fetch_sub", ordering, v)(v, self._ptr)

    def fetch_inc(self, ordering: AnyOrdering) -> int:
        """Add one; return the old value.  Kernel: ``atomic_fetch_inc*()``."""
        return self._check("fetch_inc", ordering)(self._ptr)

    def fetch_dec(self, ordering: AnyOrdering) -> int:
        """Subtract one; return the old value.  Kernel: ``atomic_fetch_dec*()``."""
        return self._check("fetch_dec", ordering)(self._ptr)

    def fetch_and(self, v: int, ordering: AnyOrdering) -> int:
        """AND with ``v``; return the old value.  Kernel: ``atomic_fetch_and*()``."""
        return self._check("fetch_and", ordering, v)(v, self._ptr)

    def fetch_or(self, v: int, ordering: AnyOrdering) -> int:
        """OR with ``v``; return the old value.  Kernel: ``atomic_fetch_or*()``."""
        return self._check("fetch_or", ordering, v)(v, self._ptr)

    def fetch_xor(self, v: int, ordering: AnyOrdering) -> int:
        """XOR with ``v``; return the old value.  Kernel: ``atomic_fetch_xor*()``."""
        return self._check("fetch_xor", ordering, v)(v, self._ptr)

    def fetch_andnot(self, v: int, ordering: AnyOrdering) -> int:
        """Clear the bits of ``v``; return the old value.  Kernel: ``atomic_fetch_andnot*()``."""
        return self._check("fetch_andnot", ordering, v)(v, self._ptr)

    def xchg(self, v: int, ordering: AnyOrdering) -> int:
        """Store ``v``; return the old value.  Kernel: ``atomic_xchg*()``."""
        return self._check("xchg", ordering, v)(self._ptr, v)

    def cmpxchg(self, old: int, new: int, ordering: AnyOrdering) -> int:
        """Store ``new`` if the value is ``old``; return the value found.

        It succeeded iff the result equals ``old``; a failure orders nothing.
        Kernel: ``atomic_cmpxchg*()``.  Rust: ``Atomic::cmpxchg(old, new, ordering)``.
        """
        return self._check("cmpxchg", ordering, old, new)(self._ptr, old, new)

    def try_cmpxchg(self, old: int, new: int, ordering: AnyOrdering) -> tuple[bool, int]:
        """Store ``new`` if the value is ``old``.

        Return ``(True, old)`` on success, ``(False, found)`` on failure; a
        failure orders nothing.  Kernel: ``atomic_try_cmpxchg*()`` (which
        updates ``*old`` on failure, as the second element does here).
        """
        fn = self._check("try_cmpxchg", ordering, old, new)
        cell = ffi.new(f"{self._VTYPE} *", self._to_c(old))
        ok = bool(fn(self._ptr, cell, new))
        return ok, self._from_c(cell[0])

    def add_negative(self, v: int, ordering: AnyOrdering) -> bool:
        """Add ``v``; return whether the result is negative (sign bit set).

        Kernel: ``atomic_add_negative*()``.
        """
        return bool(self._check("add_negative", ordering, v)(v, self._ptr))

    # -- conditional RMW (fully ordered, as in the kernel) -------------------
    def sub_and_test(self, v: int, ordering: FullOrdering) -> bool:
        """Subtract ``v``; return whether the result is zero.  Kernel: ``atomic_sub_and_test()``."""
        return bool(self._check("sub_and_test", ordering, v)(v, self._ptr))

    def dec_and_test(self, ordering: FullOrdering) -> bool:
        """Subtract one; return whether the result is zero.  Kernel: ``atomic_dec_and_test()``."""
        return bool(self._check("dec_and_test", ordering)(self._ptr))

    def inc_and_test(self, ordering: FullOrdering) -> bool:
        """Add one; return whether the result is zero.  Kernel: ``atomic_inc_and_test()``."""
        return bool(self._check("inc_and_test", ordering)(self._ptr))

    def fetch_add_unless(self, a: int, u: int, ordering: FullOrdering) -> int:
        """Add ``a`` unless the value is ``u``; return the old value.

        Kernel: ``atomic_fetch_add_unless()``; ordered only when it adds.
        """
        return self._check("fetch_add_unless", ordering, a, u)(self._ptr, a, u)

    def add_unless(self, a: int, u: int, ordering: FullOrdering) -> bool:
        """Add ``a`` unless the value is ``u``; return whether it added.

        Kernel: ``atomic_add_unless()``.
        """
        return bool(self._check("add_unless", ordering, a, u)(self._ptr, a, u))

    def inc_not_zero(self, ordering: FullOrdering) -> bool:
        """Add one unless the value is zero; return whether it added.

        Kernel: ``atomic_inc_not_zero()`` (the refcount "tryget").
        """
        return bool(self._check("inc_not_zero", ordering)(self._ptr))


@final
class AtomicI32(_Atomic):
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
    _PREFIX = "kb_atomic"
    _CTYPE = "kb_atomic_t"
    _VTYPE = "int32_t"


@final
class AtomicI64(_Atomic):
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
    _PREFIX = "kb_atomic64"
    _CTYPE = "kb_atomic64_t"
    _VTYPE = "int64_t"


@final
class AtomicUsize(_Atomic):
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
    _PREFIX = "kb_atomic_long"
    _CTYPE = "kb_atomic_long_t"
    _VTYPE = "long"
    _SIGNED = False
