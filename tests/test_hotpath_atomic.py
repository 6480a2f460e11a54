"""The atomics' hot path in C (kbind._bridge._hotpath, csrc/pyext/atomic_type.c): where calls go,
that the cell is the engine's, and that no path leaks a reference or memory."""

from __future__ import annotations

import functools
import gc
import inspect
import types
import weakref
from collections.abc import Callable
from enum import IntEnum

import pytest

from kbind import (
    Acquire,
    AtomicI32,
    AtomicI64,
    AtomicUsize,
    Full,
    OrderingError,
    Relaxed,
    Release,
)
from kbind._bridge.native import ffi, hot, lib
from kbind.atomic import _OPS, _Atomic
from kbind.ordering import ALL_ORDERINGS
from tests.support import growth

CLASSES = [AtomicI32, AtomicI64, AtomicUsize]
C_TYPES = {AtomicI32: hot.Atomic32, AtomicI64: hot.Atomic64, AtomicUsize: hot.AtomicULong}
PREFIX = {AtomicI32: "kb_atomic", AtomicI64: "kb_atomic64", AtomicUsize: "kb_atomic_long"}


def operand_count(op: str) -> int:
    """How many operands ``op`` takes before its ordering."""
    return len(inspect.signature(getattr(_Atomic, op)).parameters) - 2


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_operation_is_a_c_method_of_the_public_class(cls: type) -> None:
    """Each operation is a method descriptor of the class itself (so CPython specialises the
    call), documented and signed like the typed Python method it stands for."""
    assert cls.__mro__[1] is C_TYPES[cls]
    for op in _OPS:
        c_method = cls.__dict__[op]
        assert isinstance(c_method, types.MethodDescriptorType), op
        assert c_method.__objclass__ is cls
        py_method = getattr(_Atomic, op)
        assert c_method.__doc__ == py_method.__doc__
        params = list(inspect.signature(c_method).parameters)
        assert params == list(inspect.signature(py_method).parameters)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_cell_is_the_engines_atomic(cls: type) -> None:
    """The value lives in the object as the engine's cell: C code reaching it through
    ``_ptr`` (cffi) and the methods see the same atomic."""
    a = cls(40)
    assert getattr(lib, f"{PREFIX[cls]}_fetch_add")(2, a._ptr) == 40
    assert a.load(Relaxed) == 42
    a.store(7, Release)
    assert getattr(lib, f"{PREFIX[cls]}_read")(a._ptr) == 7
    assert int(ffi.cast("uintptr_t", a._ptr)) == a._address


def test_keyword_and_unbound_calls_behave_as_python_methods() -> None:
    """Keyword arguments reach the typed Python method, which calls C positionally; a wrong
    call raises Python's own TypeError for that signature."""
    a = AtomicI64(1)
    assert a.fetch_add(v=2, ordering=Full) == 1
    assert a.cmpxchg(3, ordering=Relaxed, new=5) == 3
    assert AtomicI64.load(a, Acquire) == 5
    assert a.try_cmpxchg(old=5, new=6, ordering=Full) == (True, 5)
    with pytest.raises(TypeError, match=r"^_Atomic\.load\(\) missing 1 required positional"):
        a.load()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="unexpected keyword argument 'x'"):
        a.inc(Relaxed, x=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes 3 positional arguments but 4 were given"):
        a.fetch_add(1, 2, Full)  # type: ignore[call-arg]
    with pytest.raises(OrderingError):
        a.load(ordering=Release)  # type: ignore[arg-type]
    assert a.load(Relaxed) == 6


def test_c_types_are_private_halves() -> None:
    """The C types cannot be used on their own, and the binding happens once."""
    for c_type in C_TYPES.values():
        with pytest.raises(TypeError, match="cannot create"):
            c_type()
    with pytest.raises(RuntimeError, match="bound already"):
        hot.bind_atomics(ALL_ORDERINGS, {}, ())
    a = AtomicUsize(3)
    ref = weakref.ref(a)
    del a
    gc.collect()
    assert ref() is None


def test_a_refused_load_or_fetch_add_ordering_is_raised_from_none() -> None:
    """As the Python implementation did: ``raise ... from None`` for a refused ordering of
    load and fetch_add, a plain raise otherwise (both keep the message)."""
    a = AtomicI64(0)
    for call in (lambda: a.load(Full), lambda: a.fetch_add(1, None)):  # type: ignore[arg-type]
        with pytest.raises(OrderingError) as info:
            call()
        assert info.value.__suppress_context__ and info.value.__cause__ is None
    with pytest.raises(OverflowError) as over:
        a.fetch_add(2**63, Full)
    assert not over.value.__suppress_context__


class Small(IntEnum):
    """An int subclass operand."""

    THREE = 3


def refused(error: type[Exception], method: Callable[..., object], *args: object,
            **kwargs: object) -> Callable[[], None]:  # fmt: skip
    """A call that must raise ``error``."""

    def call() -> None:
        try:
            method(*args, **kwargs)
        except error:
            return
        raise AssertionError(f"{method.__name__}{args} did not raise {error.__name__}")

    return call


def every_call(a: AtomicI32 | AtomicI64 | AtomicUsize) -> list[Callable[[], object]]:
    """One call of each operation at each ordering it has, then its refusals and slow paths
    (a refused ordering, a non-int operand, one out of range, keywords, a missing argument)."""
    cls = type(a)
    big = cls._MAX - 1  # not a cached small int
    calls: list[Callable[[], object]] = [lambda: repr(a)]
    for op, allowed in _OPS.items():
        method = getattr(a, op)
        good = (big, Small.THREE)[: operand_count(op)]
        calls += [functools.partial(method, *good, o) for o in allowed]
        bad_orderings = [*[o for o in ALL_ORDERINGS if o not in allowed][:1], None, []]
        calls += [refused(OrderingError, method, *good, o) for o in bad_orderings]
        if good:
            calls.append(refused(OverflowError, method, *good[:-1], cls._MAX + 1, allowed[0]))
            calls.append(refused(TypeError, method, "1", *good[1:], allowed[0]))
        calls.append(functools.partial(method, *good, ordering=allowed[-1]))
        calls.append(refused(TypeError, method))
    return calls


def run(calls: list[Callable[[], object]], rounds: int) -> None:
    for _ in range(rounds):
        for call in calls:
            call()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_path_keeps_references_and_memory_flat(cls: type) -> None:
    """Every operation, its refusals and its slow path, many times: the reference counts of
    what the calls touch, and the memory blocks allocated (or, in a debug build of Python,
    the total reference count), end where they started."""
    a = cls(0)
    calls = every_call(a)
    watched = [a, *ALL_ORDERINGS, cls._MAX - 1, Small.THREE, True, False, OrderingError]
    refs, blocks, total = growth(lambda n: run(calls, n), watched, 20, 200)
    assert refs == [0] * len(watched)
    # A leak of one object per call of any single path would be 200 blocks or references.
    assert blocks < 50, blocks
    assert total < 50, total
