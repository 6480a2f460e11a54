"""kernel::sync::atomic (kbind.kernel.sync.atomic): Atomic[T] over nine types, AtomicFlag.

Each type and method, wraparound, range errors, cmpxchg's Ok/Err and the
value a failed one reports, orderings refused at run time, the hot path in
C, and threads hammering fetch_add (bounded).
"""

from __future__ import annotations

import copy
import sys
import threading
from typing import Any

import pytest

from kbind import Acquire, CloneError, Full, OrderingError, Relaxed, Release
from kbind.kernel.sync.atomic import (
    I8,
    I16,
    I32,
    I64,
    U32,
    U64,
    Atomic,
    AtomicFlag,
    Bool,
    CmpxchgErr,
    CmpxchgOk,
    Isize,
    Usize,
)

# (marker, min, max)
INTS: list[tuple[Any, int, int]] = [
    (I8, -(2**7), 2**7 - 1), (I16, -(2**15), 2**15 - 1), (I32, -(2**31), 2**31 - 1),
    (I64, -(2**63), 2**63 - 1), (Isize, -(2**63), 2**63 - 1),
    (U32, 0, 2**32 - 1), (U64, 0, 2**64 - 1), (Usize, 0, 2**64 - 1),
]  # fmt: skip
ARITH = [row for row in INTS if row[0] not in (I8, I16)]
ALL = [Relaxed, Acquire, Release, Full]
ids = [t.__name__ for t, _, _ in INTS]


@pytest.mark.parametrize(("t", "lo", "hi"), INTS, ids=ids)
def test_load_store_xchg_hold_every_value_of_the_type(t: Any, lo: int, hi: int) -> None:
    """load/store/xchg keep the extremes exactly, in every ordering each one has."""
    a = Atomic[t](lo)
    assert a.load(Relaxed) == lo and a.load(Acquire) == lo
    a.store(hi, Release)
    assert a.load(Relaxed) == hi
    a.store(0, Relaxed)
    for o in ALL:
        assert a.xchg(hi, o) in (0, lo)
        assert a.xchg(lo, o) == hi
    assert isinstance(a, Atomic) and isinstance(a, Atomic[t])
    assert repr(a) == f"Atomic[{t.__name__}]({lo})"


@pytest.mark.parametrize(("t", "lo", "hi"), INTS, ids=ids)
def test_cmpxchg_returns_ok_with_old_or_err_with_current(t: Any, lo: int, hi: int) -> None:
    """Ok(old) when it stored; Err(current) and nothing stored when it did not."""
    a = Atomic[t](hi)
    for o in ALL:
        r = a.cmpxchg(lo, 0, o)
        assert r == CmpxchgErr(hi) and not r.is_ok()
        assert a.load(Relaxed) == hi
    r = a.cmpxchg(hi, lo, Full)
    assert r == CmpxchgOk(hi) and r.is_ok()
    assert a.load(Relaxed) == lo
    match a.cmpxchg(lo, hi, Acquire):
        case CmpxchgOk(old):
            assert old == lo
        case CmpxchgErr(current):
            pytest.fail(f"unexpected failure, found {current}")


@pytest.mark.parametrize(("t", "lo", "hi"), INTS, ids=ids)
def test_out_of_range_operands_are_refused_and_change_nothing(t: Any, lo: int, hi: int) -> None:
    """An int outside T's range raises OverflowError naming the range; the value stays."""
    a = Atomic[t](1)
    for bad in (lo - 1, hi + 1, 2**200):
        with pytest.raises(
            OverflowError, match=rf"does not fit {t.__name__.lower()} \[{lo}, {hi}\]"
        ):
            a.store(bad, Relaxed)
        with pytest.raises(OverflowError):
            a.xchg(bad, Full)
        with pytest.raises(OverflowError):
            a.cmpxchg(1, bad, Full)
    with pytest.raises(OverflowError):
        Atomic[t](hi + 1)
    with pytest.raises(TypeError, match="must be an int"):
        a.store(1.0, Relaxed)
    assert a.load(Relaxed) == 1


@pytest.mark.parametrize(("t", "lo", "hi"), ARITH, ids=[r[0].__name__ for r in ARITH])
def test_arithmetic_wraps_at_the_width(t: Any, lo: int, hi: int) -> None:
    """fetch_add/fetch_sub/add wrap like the machine, in every ordering they have."""
    a = Atomic[t](hi)
    for o in ALL:
        assert a.fetch_add(1, o) == hi
        assert a.load(Relaxed) == lo
        assert a.fetch_sub(1, o) == lo
        assert a.load(Relaxed) == hi
    a.add(1, Relaxed)
    assert a.load(Relaxed) == lo
    a.add(5, Relaxed)
    assert a.load(Relaxed) == lo + 5


@pytest.mark.parametrize("t", [I8, I16, Bool])
def test_types_without_atomic_add_have_no_arithmetic(t: Any) -> None:
    """Atomic[I8]/[I16]/[Bool] have no add/fetch_add/fetch_sub (Rust: no AtomicAdd impl)."""
    a = Atomic[t](False if t is Bool else 0)
    for op in ("add", "fetch_add", "fetch_sub"):
        assert not hasattr(a, op)
        with pytest.raises(AttributeError, match="AtomicAdd"):
            getattr(a, op)(1, Relaxed)
    for op in ("inc", "fetch_and", "add_return", "try_cmpxchg"):  # C-only operations
        assert not hasattr(a, op) and not hasattr(Atomic[I32](0), op)


def test_orderings_refused_at_run_time() -> None:
    """load(Release), store(Acquire), add(Full)... raise OrderingError and change nothing."""
    a = Atomic[I32](3)
    refused = [
        (lambda: a.load(Release), "Relaxed, kbind.Acquire"),
        (lambda: a.load(Full), "Relaxed, kbind.Acquire"),
        (lambda: a.store(1, Acquire), "Relaxed, kbind.Release"),
        (lambda: a.add(1, Full), "only kbind.Relaxed"),
        (lambda: a.add(1, Acquire), "only kbind.Relaxed"),
        (lambda: a.fetch_add(1, "Full"), "Relaxed, kbind.Acquire, kbind.Release, kbind.Full"),
        (lambda: a.cmpxchg(3, 4, None), "Full"),
    ]
    for call, allowed in refused:
        with pytest.raises(OrderingError, match=allowed):
            call()
    assert a.load(Relaxed) == 3
    with pytest.raises(OrderingError):
        AtomicFlag(True).load(Release)


def test_bool_and_flag_take_bools_only() -> None:
    """Atomic[Bool] and AtomicFlag hold True/False; ints are refused (TypeError)."""
    for a in (Atomic[Bool](True), AtomicFlag(True)):
        assert a.load(Acquire) is True
        assert a.xchg(False, Full) is True
        assert a.cmpxchg(True, True, Full) == CmpxchgErr(False)
        assert a.cmpxchg(False, True, Release) == CmpxchgOk(False)
        a.store(False, Release)
        assert a.load(Relaxed) is False
        with pytest.raises(TypeError, match="must be a bool, not int"):
            a.store(1, Relaxed)
        with pytest.raises(TypeError):
            a.cmpxchg(0, True, Full)
    assert repr(AtomicFlag(True)) == "AtomicFlag(True)"
    assert not hasattr(AtomicFlag(False), "fetch_add")


def test_keyword_calls_and_wrong_arity_go_through_the_typed_method() -> None:
    """Keyword arguments work; a missing ordering is Python's TypeError (no default ordering)."""
    a = Atomic[U64](1)
    assert a.load(ordering=Relaxed) == 1
    assert a.cmpxchg(old=1, new=2, ordering=Full) == CmpxchgOk(1)
    assert a.fetch_add(v=1, ordering=Full) == 2
    with pytest.raises(TypeError):
        a.load()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        a.fetch_add(1)  # type: ignore[call-arg]


def test_construction_needs_a_type_and_markers_are_sealed() -> None:
    """Atomic(v) and unknown T are refused; markers are not instantiated or extended."""
    with pytest.raises(TypeError, match=r"Atomic\[I32\]\(v\)"):
        Atomic(0)
    with pytest.raises(TypeError, match="T must be one of"):
        Atomic[int]  # type: ignore[type-var]
    with pytest.raises(TypeError, match="type marker"):
        I32()
    with pytest.raises(TypeError):

        class Mine(I32):  # type: ignore[misc]
            pass

    with pytest.raises(TypeError):

        class MyAtomic(Atomic[I32]):  # type: ignore[misc]
            pass


def test_atomics_are_not_clone() -> None:
    """copy/deepcopy/pickle are refused (Rust: Atomic<T> is not Clone)."""
    import pickle

    for a in (Atomic[I16](1), AtomicFlag(False)):
        for op in (copy.copy, copy.deepcopy, pickle.dumps):
            with pytest.raises(CloneError):
                op(a)


def test_the_operations_are_c_methods() -> None:
    """Every operation of every class is a C method (the hot path), with its documentation."""
    for cls in [Atomic[t] for t, _, _ in INTS] + [Atomic[Bool], AtomicFlag]:
        for op in ("load", "store", "xchg", "cmpxchg"):
            assert type(cls.__dict__[op]).__name__ == "method_descriptor", (cls, op)
        assert "Rust" in (cls.__dict__["load"].__doc__ or "")
    assert type(Atomic[I32].__dict__["fetch_add"]).__name__ == "method_descriptor"


def test_cells_are_the_engine_widths() -> None:
    """The object holds the engine cell; its bytes are the value's (little-endian machine)."""
    import ctypes

    if sys.byteorder != "little":
        pytest.skip("checks little-endian byte layout")
    for t, value, ctype in ((I8, -2, ctypes.c_int8), (I16, -3, ctypes.c_int16),
                            (U32, 2**32 - 1, ctypes.c_uint32), (U64, 2**64 - 1, ctypes.c_uint64),
                            (Bool, True, ctypes.c_int8)):  # fmt: skip
        a = Atomic[t](value)
        assert ctype.from_address(a._address).value == value  # type: ignore[attr-defined]


def test_threads_hammering_fetch_add_lose_nothing() -> None:
    """4 threads x 20000 fetch_add(1, Relaxed) on Atomic[U32]: the sum is exact (bounded)."""
    a = Atomic[U32](0)
    n, per = 4, 20_000
    seen: list[list[int]] = [[] for _ in range(n)]
    barrier = threading.Barrier(n, timeout=10)

    def work(i: int) -> None:
        barrier.wait()
        out = seen[i]
        for _ in range(per):
            out.append(a.fetch_add(1, Relaxed))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
        assert not t.is_alive()
    assert a.load(Acquire) == n * per
    assert sorted(v for s in seen for v in s) == list(range(n * per))  # each value once


def test_flag_cmpxchg_elects_exactly_one_winner() -> None:
    """Threads racing cmpxchg(False, True) on an AtomicFlag: exactly one gets CmpxchgOk."""
    for _ in range(20):
        flag = AtomicFlag(False)
        wins: list[object] = []
        barrier = threading.Barrier(4, timeout=10)

        def race(flag: AtomicFlag, wins: list[object], barrier: threading.Barrier) -> None:
            barrier.wait()
            wins.append(flag.cmpxchg(False, True, Full))

        threads = [threading.Thread(target=race, args=(flag, wins, barrier)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert [w for w in wins if isinstance(w, CmpxchgOk)] == [CmpxchgOk(False)]
        assert wins.count(CmpxchgErr(True)) == 3
