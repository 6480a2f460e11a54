"""``kernel::sync::atomic`` (merged): ``Atomic<T>`` over nine types, ``AtomicFlag``.

Rust: rust/kernel/sync/atomic.rs.  The ``Atomic<T>`` framework entered the
kernel in Linux 6.18; more types (i8, i16, bool among them) and
``AtomicFlag`` followed in 2026 (``AtomicFlag``: the patch "rust: sync:
atomic: Add performance-optimal Flag type for atomic booleans", posted in
Boqun Feng's series of March 2026; releases inferred from commit dates).
``T`` is written with a marker class: ``Atomic[I32](0)`` is
``Atomic::<i32>::new(0)``.

Rules (Rust checks them at compile time; kbind with mypy *and* at run time):

* Only Rust's method set: ``load``, ``store``, ``xchg``, ``cmpxchg`` for every
  ``T``; ``add``, ``fetch_add``, ``fetch_sub`` only for the ``T`` that
  implement ``AtomicAdd`` (i32, i64, isize, u32, u64, usize).  ``Atomic[Bool]``,
  ``Atomic[I8]`` and ``Atomic[I16]`` have no arithmetic: mypy rejects the call
  ("Invalid self argument") and at run time the attribute does not exist.
  No bitwise operations, inc/dec, ``*_return``, ``*_and_test``, ``*_unless``.
* Each operation takes an explicit ordering, only one Rust has for it:
  ``load`` Relaxed/Acquire, ``store`` Relaxed/Release, ``add`` Relaxed,
  the others any of the four (:class:`kbind.OrderingError` otherwise, the
  same table as :mod:`kbind.atomic`).
* Values are values of ``T``: an int out of ``T``'s range raises
  ``OverflowError`` and changes nothing; ``Atomic[Bool]`` and ``AtomicFlag``
  take ``True``/``False`` only (``TypeError``).  Arithmetic wraps at ``T``'s
  width, as the machine does (Rust: "wrapping").
* ``cmpxchg`` returns :class:`CmpxchgOk` with the old value when it stored,
  or :class:`CmpxchgErr` with the value it found (Rust's ``Ok(old)`` /
  ``Err(current)``); a failed ``cmpxchg`` is a relaxed load: it orders nothing.

The value lives in C memory, in the object (the engine's ``kb_atomic*_t``
cell: u32/u64/usize share the bits of the signed cells, bool uses the 8-bit
cell, as Rust's ``Repr`` of bool is i8), and each operation is one C method
(kbind._bridge._hotpath, csrc/pyext/kernel_atomic.c) calling the engine's
function for that operation and ordering (csrc/engine/atomic.c), as
:mod:`kbind.atomic` does.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, Literal, NoReturn, TypeVar, final

from kbind._bridge.guard import NotClone
from kbind._bridge.native import ffi, hot
from kbind.atomic import _OPS as _KERNEL_OPS
from kbind.errors import OrderingError
from kbind.ordering import (
    ALL_ORDERINGS,
    AcquireOrRelaxed,
    AnyOrdering,
    Relaxed,
    RelaxedOrdering,
    ReleaseOrRelaxed,
)

__all__ = [
    "I8", "I16", "I32", "I64", "U32", "U64", "Atomic", "AtomicAdd", "AtomicFlag", "AtomicType",
    "Bool", "Cmpxchg", "CmpxchgErr", "CmpxchgOk", "Isize", "Usize",
]  # fmt: skip

V = TypeVar("V")
T_co = TypeVar("T_co", bound="AtomicType[Any]", covariant=True)

#: Rust's operations and, per operation, the orderings it takes (kbind.atomic's table).
_BASIC: Final = ("load", "store", "xchg", "cmpxchg")
_ARITH: Final = ("add", "fetch_add", "fetch_sub")
_ALLOWED: Final = {op: _KERNEL_OPS[op] for op in _BASIC + _ARITH}


class AtomicType(Generic[V]):
    """A type ``Atomic`` can hold, with ``V`` its Python value type (sealed).

    Rust: ``kernel::sync::atomic::AtomicType`` (an unsafe trait; here only
    this module's markers implement it).  Markers are never instantiated.
    """

    __slots__ = ()
    _KIND: ClassVar[str]  # the hot path's name: "i32", "bool", ...
    _MIN: ClassVar[int]
    _MAX: ClassVar[int]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ != __name__:
            raise TypeError(f"{cls.__name__}: kernel::sync::atomic's types are sealed")

    def __new__(cls) -> AtomicType[V]:
        """Refuse: a marker is written as a type argument (``Atomic[I32](0)``)."""
        raise TypeError(f"{cls.__name__} is a type marker: write Atomic[{cls.__name__}](v)")


class AtomicAdd(AtomicType[int]):
    """A type with ``add``, ``fetch_add`` and ``fetch_sub``.

    Rust: ``kernel::sync::atomic::AtomicAdd`` (i32, i64, isize, u32, u64, usize).
    """

    __slots__ = ()


#: Bits of a C long (isize, usize; 64 on kbind's platforms).
_LONG_BITS: Final = 8 * int(ffi.sizeof("long"))


@final
class I8(AtomicType[int]):
    """Rust ``i8``: load, store, xchg, cmpxchg; no arithmetic.  C: ``kb_atomic_i8_*()``."""

    __slots__ = ()
    _KIND = "i8"
    _MIN, _MAX = -(2**7), 2**7 - 1


@final
class I16(AtomicType[int]):
    """Rust ``i16``: load, store, xchg, cmpxchg; no arithmetic.  C: ``kb_atomic_i16_*()``."""

    __slots__ = ()
    _KIND = "i16"
    _MIN, _MAX = -(2**15), 2**15 - 1


@final
class I32(AtomicAdd):
    """Rust ``i32``.  Kernel: ``atomic_t``; C: ``kb_atomic_*()``."""

    __slots__ = ()
    _KIND = "i32"
    _MIN, _MAX = -(2**31), 2**31 - 1


@final
class I64(AtomicAdd):
    """Rust ``i64``.  Kernel: ``atomic64_t``; C: ``kb_atomic64_*()``."""

    __slots__ = ()
    _KIND = "i64"
    _MIN, _MAX = -(2**63), 2**63 - 1


@final
class Isize(AtomicAdd):
    """Rust ``isize`` (pointer-sized).  Kernel: ``atomic_long_t``; C: ``kb_atomic_long_*()``."""

    __slots__ = ()
    _KIND = "isize"
    _MIN, _MAX = -(2 ** (_LONG_BITS - 1)), 2 ** (_LONG_BITS - 1) - 1


@final
class U32(AtomicAdd):
    """Rust ``u32``: the bits of ``atomic_t``, read as unsigned (wraps at 2**32)."""

    __slots__ = ()
    _KIND = "u32"
    _MIN, _MAX = 0, 2**32 - 1


@final
class U64(AtomicAdd):
    """Rust ``u64``: the bits of ``atomic64_t``, read as unsigned (wraps at 2**64)."""

    __slots__ = ()
    _KIND = "u64"
    _MIN, _MAX = 0, 2**64 - 1


@final
class Usize(AtomicAdd):
    """Rust ``usize``: the bits of ``atomic_long_t``, read as unsigned."""

    __slots__ = ()
    _KIND = "usize"
    _MIN, _MAX = 0, 2**_LONG_BITS - 1


@final
class Bool(AtomicType[bool]):
    """Rust ``bool`` (its ``Repr`` is i8): load, store, xchg, cmpxchg; no arithmetic."""

    __slots__ = ()
    _KIND = "bool"
    _MIN, _MAX = 0, 1


@final
class CmpxchgOk(Generic[V]):
    """``cmpxchg`` stored: ``value`` is the old value.  Rust: ``Ok(old)``.

    Match on it: ``case CmpxchgOk(old):``.
    """

    __slots__ = ("value",)
    __match_args__ = ("value",)
    value: V

    def __init__(self, value: V) -> None:
        self.value = value

    def is_ok(self) -> Literal[True]:
        """Return True (Rust: ``Result::is_ok``)."""
        return True

    def __eq__(self, other: object) -> bool:
        return type(other) is CmpxchgOk and other.value == self.value

    def __hash__(self) -> int:
        return hash((CmpxchgOk, self.value))

    def __repr__(self) -> str:
        return f"CmpxchgOk({self.value!r})"


@final
class CmpxchgErr(Generic[V]):
    """``cmpxchg`` did not store: ``value`` is the value found.  Rust: ``Err(current)``.

    A failed ``cmpxchg`` is a relaxed load: it orders nothing, whatever ordering was asked for.
    """

    __slots__ = ("value",)
    __match_args__ = ("value",)
    value: V

    def __init__(self, value: V) -> None:
        self.value = value

    def is_ok(self) -> Literal[False]:
        """Return False (Rust: ``Result::is_ok``)."""
        return False

    def __eq__(self, other: object) -> bool:
        return type(other) is CmpxchgErr and other.value == self.value

    def __hash__(self) -> int:
        return hash((CmpxchgErr, self.value))

    def __repr__(self) -> str:
        return f"CmpxchgErr({self.value!r})"


#: What ``cmpxchg`` returns: Rust's ``Result<T, T>``.
Cmpxchg = CmpxchgOk[V] | CmpxchgErr[V]


def _reject(
    self: Any, t: type[AtomicType[Any]], op: str, ordering: object, *values: object
) -> Exception:
    """Build the error of a refused call (called from C for a refused ordering or operand)."""
    name = f"{type(self).__name__}.{op}"
    allowed = _ALLOWED[op]
    if not any(ordering is o for o in allowed):
        return OrderingError(name, ordering, [o.name for o in allowed])
    for v in values:
        if t is Bool:
            if not isinstance(v, bool):
                return TypeError(f"{name}: operand must be a bool, not {type(v).__name__}")
            continue
        if not isinstance(v, int):
            return TypeError(f"{name}: operand must be an int, not {type(v).__name__}")
        if not t._MIN <= v <= t._MAX:
            return OverflowError(
                f"{name}: operand {v} does not fit {t.__name__.lower()} "
                f"[{t._MIN}, {t._MAX}]; nothing was changed"
            )
    raise AssertionError("unreachable: _reject called for a valid call")


class Atomic(NotClone, Generic[T_co]):
    """A memory location that may be accessed from several threads at once.

    Rust: ``kernel::sync::atomic::Atomic<T>`` (Linux 6.18; more ``T`` in 2026).
    ``Atomic[I32](0)`` is ``Atomic::<i32>::new(0)``; ``T`` is one of
    ``I8, I16, I32, I64, Isize, U32, U64, Usize, Bool``.  ``Atomic[T]`` is a
    real class at run time (``isinstance(a, Atomic[I32])`` works).

    Like every kbind primitive it refuses ``copy``/``pickle`` (``CloneError``).

    Examples:
        >>> from kbind.kernel.sync.atomic import Atomic, I32, CmpxchgOk
        >>> from kbind import Full, Relaxed
        >>> a = Atomic[I32](2**31 - 1)
        >>> a.fetch_add(1, Full)
        2147483647
        >>> a.load(Relaxed)
        -2147483648
        >>> a.cmpxchg(-2**31, 7, Full)
        CmpxchgOk(-2147483648)
        >>> a.cmpxchg(0, 1, Full)
        CmpxchgErr(7)
    """

    __slots__ = ()
    _CLONE_ROLE = "owner"
    _T: ClassVar[type[AtomicType[Any]]]

    if not TYPE_CHECKING:

        def __class_getitem__(cls, item):
            """``Atomic[I32]``: the class of atomics of that type."""
            if cls is Atomic and item in _CLASSES:
                return _CLASSES[item]
            names = ", ".join(t.__name__ for t in _CLASSES)
            raise TypeError(f"Atomic[{item!r}]: T must be one of {names}")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__ != __name__:
            raise TypeError("cannot subclass kbind.kernel.sync.atomic.Atomic: it is final")

    def __new__(cls, *args: object, **kwargs: object) -> Atomic[T_co]:
        """Refuse ``Atomic(v)``: the type must be said, ``Atomic[I32](v)``."""
        raise TypeError(
            "Atomic(v) needs its type: write Atomic[I32](v) (Rust: Atomic::<i32>::new(v))"
        )

    def __init__(self, v: int) -> None:
        """Make an atomic holding ``v`` (Rust: ``Atomic::new(v)``); ``v`` must fit ``T``."""
        self.store(v, Relaxed)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.load(Relaxed)!r})"

    def _reject(self, op: str, ordering: object, *values: object) -> Exception:
        return _reject(self, self._T, op, ordering, *values)

    # Each body below runs only for a call C handed back (keyword arguments or
    # a wrong number of them): ``self.<op>(...)`` there is the C method.

    def load(self: Atomic[AtomicType[V]], ordering: AcquireOrRelaxed) -> V:
        """Return the value.  Rust: ``Atomic::load``; ordering Relaxed or Acquire.

        Kernel: ``READ_ONCE()`` / ``smp_load_acquire()`` (``atomic_read*()``).
        """
        return self.load(ordering)

    def store(self: Atomic[AtomicType[V]], v: V, ordering: ReleaseOrRelaxed) -> None:
        """Set the value.  Rust: ``Atomic::store``; ordering Relaxed or Release.

        Kernel: ``WRITE_ONCE()`` / ``smp_store_release()`` (``atomic_set*()``).
        """
        self.store(v, ordering)

    def xchg(self: Atomic[AtomicType[V]], v: V, ordering: AnyOrdering) -> V:
        """Store ``v``; return the old value.  Rust: ``Atomic::xchg``; any ordering."""
        return self.xchg(v, ordering)

    def cmpxchg(
        self: Atomic[AtomicType[V]], old: V, new: V, ordering: AnyOrdering
    ) -> CmpxchgOk[V] | CmpxchgErr[V]:
        """Store ``new`` if the value is ``old``.  Rust: ``Atomic::cmpxchg``; any ordering.

        Returns ``CmpxchgOk(old)`` if it stored, else ``CmpxchgErr(current)``
        (Rust: ``Ok(old)`` / ``Err(current)``); a failure is a relaxed load.
        """
        return self.cmpxchg(old, new, ordering)

    def add(self: Atomic[AtomicAdd], v: int, ordering: RelaxedOrdering) -> None:
        """Add ``v``, wrapping.  Rust: ``Atomic::add``; ordering Relaxed only.

        Only for the ``AtomicAdd`` types.  Kernel: ``atomic_add()``.
        """
        self.add(v, ordering)

    def fetch_add(self: Atomic[AtomicAdd], v: int, ordering: AnyOrdering) -> int:
        """Add ``v``, wrapping; return the old value.  Rust: ``Atomic::fetch_add``.

        Only for the ``AtomicAdd`` types; any ordering.  Kernel: ``atomic_fetch_add*()``.
        """
        return self.fetch_add(v, ordering)

    def fetch_sub(self: Atomic[AtomicAdd], v: int, ordering: AnyOrdering) -> int:
        """Subtract ``v``, wrapping; return the old value.  Rust: ``Atomic::fetch_sub``.

        Only for the ``AtomicAdd`` types; any ordering.  Kernel: ``atomic_fetch_sub*()``.
        """
        return self.fetch_sub(v, ordering)


class _NoArithmetic:
    """In ``Atomic[I8]``, ``Atomic[I16]``, ``Atomic[Bool]``: the arithmetic methods do not exist."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: object, owner: type | None = None) -> NoReturn:
        raise AttributeError(
            f"{getattr(owner, '__name__', 'Atomic')} has no {self.name}(): in Rust only "
            "i32, i64, isize, u32, u64 and usize implement AtomicAdd"
        )


def _concrete(t: type[AtomicType[Any]]) -> type:
    name = f"Atomic[{t.__name__}]"
    ns: dict[str, Any] = {"__slots__": (), "__module__": __name__, "__qualname__": name, "_T": t}
    if not issubclass(t, AtomicAdd):
        ns.update({op: _NoArithmetic() for op in _ARITH})
    cls = type(name, (hot.KernelAtomic, Atomic), ns)
    cls.__doc__ = f"Rust: ``kernel::sync::atomic::Atomic<{t.__name__.lower()}>``.  {t.__doc__}"
    return cls


_CLASSES: Final[dict[type[AtomicType[Any]], type]] = {
    t: _concrete(t) for t in (I8, I16, I32, I64, Isize, U32, U64, Usize, Bool)
}


if TYPE_CHECKING:

    class _Cell:
        """For mypy: not the untyped C type, so unknown attributes are errors."""

        __slots__ = ()

else:
    _Cell = hot.KernelAtomic


@final
class AtomicFlag(_Cell, NotClone):
    """A boolean flag made for ``xchg``/``cmpxchg``.

    Rust: ``kernel::sync::atomic::AtomicFlag`` (2026): preferable to
    ``Atomic<bool>`` when read-modify-write operations are used, since on
    architectures without byte-sized RMW instructions it is a 32-bit word.
    On x86-64 and arm64 (kbind's platforms) it is a byte, as in Rust, over
    the engine's 8-bit cell.  Methods: ``load``, ``store``, ``xchg``,
    ``cmpxchg``, with the orderings of :class:`Atomic`; values ``True``/``False``
    only.

    Examples:
        >>> from kbind.kernel.sync.atomic import AtomicFlag
        >>> from kbind import Acquire, Full
        >>> f = AtomicFlag(False)
        >>> f.xchg(True, Full)
        False
        >>> f.load(Acquire)
        True
    """

    __slots__ = ()
    _CLONE_ROLE = "owner"

    def __init__(self, b: bool) -> None:
        """Make a flag holding ``b`` (Rust: ``AtomicFlag::new(b)``)."""
        self.store(b, Relaxed)

    def __repr__(self) -> str:
        return f"AtomicFlag({self.load(Relaxed)!r})"

    def _reject(self, op: str, ordering: object, *values: object) -> Exception:
        return _reject(self, Bool, op, ordering, *values)

    def load(self, ordering: AcquireOrRelaxed) -> bool:
        """Return the flag.  Rust: ``AtomicFlag::load``; ordering Relaxed or Acquire."""
        return self.load(ordering)

    def store(self, b: bool, ordering: ReleaseOrRelaxed) -> None:
        """Set the flag.  Rust: ``AtomicFlag::store``; ordering Relaxed or Release."""
        self.store(b, ordering)

    def xchg(self, b: bool, ordering: AnyOrdering) -> bool:
        """Set the flag to ``b``; return the old one.  Rust: ``AtomicFlag::xchg``."""
        return self.xchg(b, ordering)

    def cmpxchg(
        self, old: bool, new: bool, ordering: AnyOrdering
    ) -> CmpxchgOk[bool] | CmpxchgErr[bool]:
        """Set the flag to ``new`` if it is ``old``.  Rust: ``AtomicFlag::cmpxchg``.

        ``CmpxchgOk(old)`` if it stored, else ``CmpxchgErr(current)``; a failure is a relaxed load.
        """
        return self.cmpxchg(old, new, ordering)


def _c_doc(name: str) -> str:
    """Return the C method's documentation: its text signature (for ``inspect``), then its doc."""
    fn = getattr(Atomic, name)
    params = ", ".join(["$self", *list(inspect.signature(fn).parameters)[1:]])
    return f"{name}({params})\n--\n\n{fn.__doc__}"


# The C methods go into the classes (csrc/pyext/kernel_atomic.c, bind_kernel_atomics()).
hot.bind_kernel_atomics(
    ALL_ORDERINGS,
    {name: (getattr(Atomic, name), _c_doc(name)) for name in _BASIC + _ARITH},
    (*((cls, t._KIND) for t, cls in _CLASSES.items()), (AtomicFlag, "bool")),
    (CmpxchgOk, CmpxchgErr),
)
