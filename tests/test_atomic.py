"""Tests for kbind.atomic: every operation, every ordering rule, wrap-around, threads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import kbind
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
from kbind.ordering import ALL_ORDERINGS, Ordering

from .conftest import run_threads

CLASSES = [AtomicI32, AtomicI64, AtomicUsize]
BITS = {AtomicI32: 32, AtomicI64: 64, AtomicUsize: 64}


def wrap(cls: type, x: int) -> int:
    """Reduce x to the class's value range the way the hardware does."""
    bits = BITS[cls]
    x &= (1 << bits) - 1
    if cls is not AtomicUsize and x >= 1 << (bits - 1):
        x -= 1 << bits
    return x


def neg(cls: type, x: int) -> bool:
    """Whether x has the sign bit set at the class's width."""
    return bool((x >> (BITS[cls] - 1)) & 1)


# op -> (allowed orderings, args, model(cls, old, *args) -> (return value, new value))
Model = Callable[..., tuple[Any, int]]
NONE = ()
ANY = ALL_ORDERINGS
OPS: dict[str, tuple[tuple[Ordering, ...], tuple[int, ...], Model]] = {
    "load": ((Relaxed, Acquire), NONE, lambda c, o: (o, o)),
    "store": ((Relaxed, Release), (7,), lambda c, o, v: (None, v)),
    "add": ((Relaxed,), (5,), lambda c, o, v: (None, wrap(c, o + v))),
    "sub": ((Relaxed,), (5,), lambda c, o, v: (None, wrap(c, o - v))),
    "inc": ((Relaxed,), NONE, lambda c, o: (None, wrap(c, o + 1))),
    "dec": ((Relaxed,), NONE, lambda c, o: (None, wrap(c, o - 1))),
    "add_return": (ANY, (5,), lambda c, o, v: (wrap(c, o + v), wrap(c, o + v))),
    "sub_return": (ANY, (5,), lambda c, o, v: (wrap(c, o - v), wrap(c, o - v))),
    "inc_return": (ANY, NONE, lambda c, o: (wrap(c, o + 1), wrap(c, o + 1))),
    "dec_return": (ANY, NONE, lambda c, o: (wrap(c, o - 1), wrap(c, o - 1))),
    "fetch_add": (ANY, (5,), lambda c, o, v: (o, wrap(c, o + v))),
    "fetch_sub": (ANY, (5,), lambda c, o, v: (o, wrap(c, o - v))),
    "fetch_inc": (ANY, NONE, lambda c, o: (o, wrap(c, o + 1))),
    "fetch_dec": (ANY, NONE, lambda c, o: (o, wrap(c, o - 1))),
    "fetch_and": (ANY, (0b0110,), lambda c, o, v: (o, wrap(c, o & v))),
    "fetch_or": (ANY, (0b0110,), lambda c, o, v: (o, wrap(c, o | v))),
    "fetch_xor": (ANY, (0b0110,), lambda c, o, v: (o, wrap(c, o ^ v))),
    "fetch_andnot": (ANY, (0b0110,), lambda c, o, v: (o, wrap(c, o & ~v))),
    "xchg": (ANY, (9,), lambda c, o, v: (o, v)),
    "cmpxchg": (ANY, (3, 9), lambda c, o, old, new: (o, new if o == old else o)),
    "try_cmpxchg": (
        ANY,
        (3, 9),
        lambda c, o, old, new: ((o == old, o), new if o == old else o),
    ),
    "add_negative": (ANY, (-5,), lambda c, o, v: (neg(c, o - 5), wrap(c, o - 5))),
    "sub_and_test": ((Full,), (3,), lambda c, o, v: (wrap(c, o - v) == 0, wrap(c, o - v))),
    "dec_and_test": ((Full,), NONE, lambda c, o: (wrap(c, o - 1) == 0, wrap(c, o - 1))),
    "inc_and_test": ((Full,), NONE, lambda c, o: (wrap(c, o + 1) == 0, wrap(c, o + 1))),
    "fetch_add_unless": (
        (Full,),
        (4, 3),
        lambda c, o, a, u: (o, o if o == u else wrap(c, o + a)),
    ),
    "add_unless": (
        (Full,),
        (4, 3),
        lambda c, o, a, u: (o != u, o if o == u else wrap(c, o + a)),
    ),
    "inc_not_zero": ((Full,), NONE, lambda c, o: (o != 0, o if o == 0 else wrap(c, o + 1))),
}

CASES = [
    (cls, op, o, start)
    for cls in CLASSES
    for op, (allowed, _, _) in OPS.items()
    for o in allowed
    for start in (0, 1, 3, 6)
]


def fix_args(cls: type, args: tuple[int, ...]) -> tuple[int, ...]:
    """AtomicUsize operands are unsigned: use the two's complement bit pattern."""
    return tuple(wrap(cls, a) for a in args)


@pytest.mark.parametrize(("cls", "op", "ordering", "start"), CASES)
def test_operation_each_ordering_matches_kernel_model(
    cls: type, op: str, ordering: Ordering, start: int
) -> None:
    """Every operation at every allowed ordering returns and stores what the kernel's would."""
    a = cls(start)
    _, args, model = OPS[op]
    args = fix_args(cls, args)
    expected_ret, expected_new = model(cls, start, *args)
    if op == "try_cmpxchg" and not expected_ret[0]:
        expected_ret = (False, start)
    elif op == "try_cmpxchg":
        expected_ret = (True, args[0])
    ret = getattr(a, op)(*args, ordering)
    assert ret == expected_ret
    assert a.load(Relaxed) == expected_new


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("op", list(OPS))
def test_a01_disallowed_ordering_raises_and_changes_nothing(cls: type, op: str) -> None:
    """Each ordering the kernel lacks for an op raises OrderingError naming the allowed ones."""
    allowed, args, _ = OPS[op]
    for ordering in set(ALL_ORDERINGS) - set(allowed):
        a = cls(3)
        with pytest.raises(OrderingError) as info:
            getattr(a, op)(*fix_args(cls, args), ordering)
        err = info.value
        assert isinstance(err, ValueError)
        assert err.ordering is ordering
        assert set(err.allowed) == {o.name for o in allowed}
        for o in allowed:
            assert f"kbind.{o.name}" in str(err)
        assert a.load(Relaxed) == 3


@pytest.mark.parametrize("bad", ["Relaxed", None, 0, object(), []])
def test_a02_non_ordering_argument_raises_ordering_error(bad: object) -> None:
    """Strings, None and other objects are not orderings: OrderingError, not a crash."""
    a = AtomicI64(1)
    with pytest.raises(OrderingError):
        a.fetch_add(1, bad)  # type: ignore[arg-type]
    with pytest.raises(OrderingError):
        a.load(bad)  # type: ignore[arg-type]
    assert a.load(Relaxed) == 1


def test_a02_ordering_argument_is_required() -> None:
    """No operation has a default ordering (Rust-for-Linux makes it explicit)."""
    a = AtomicI64(1)
    with pytest.raises(TypeError):
        a.load()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        a.fetch_add(1)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("cls", "lo", "hi"),
    [
        (AtomicI32, -(2**31), 2**31 - 1),
        (AtomicI64, -(2**63), 2**63 - 1),
        (AtomicUsize, 0, 2**64 - 1),
    ],
)
def test_wraparound_each_width_like_kernel(cls: type, lo: int, hi: int) -> None:
    """Arithmetic wraps at the type's width in both directions."""
    a = cls(hi)
    assert a.fetch_add(1, Full) == hi
    assert a.load(Relaxed) == lo
    assert a.sub_return(1, Relaxed) == hi
    a.store(lo, Relaxed)
    a.dec(Relaxed)
    assert a.load(Relaxed) == hi
    assert a.add_return(hi, Acquire) == wrap(cls, 2 * hi)


@pytest.mark.parametrize(
    ("cls", "bad"),
    [
        (AtomicI32, 2**31),
        (AtomicI32, -(2**31) - 1),
        (AtomicI64, 2**63),
        (AtomicI64, -(2**63) - 1),
        (AtomicUsize, -1),
        (AtomicUsize, 2**64),
    ],
)
def test_a03_operand_out_of_range_raises_overflow_and_changes_nothing(cls: type, bad: int) -> None:
    """An operand that does not fit the type raises OverflowError; the value is untouched."""
    a = cls(5)
    for call in (
        lambda: a.fetch_add(bad, Full),
        lambda: a.store(bad, Relaxed),
        lambda: a.add(bad, Relaxed),
        lambda: a.xchg(bad, Full),
        lambda: a.cmpxchg(5, bad, Full),
        lambda: a.cmpxchg(bad, 1, Full),
        lambda: a.try_cmpxchg(5, bad, Full),
        lambda: a.add_unless(bad, 0, Full),
    ):
        with pytest.raises(OverflowError, match="does not fit"):
            call()
    assert a.load(Relaxed) == 5
    with pytest.raises(OverflowError):
        cls(bad)


@pytest.mark.parametrize("bad", [1.0, "1", None, b"\x01"])
def test_operand_wrong_type_raises_type_error(bad: object) -> None:
    """Non-integer operands are refused with a TypeError naming the operation."""
    a = AtomicI64(5)
    with pytest.raises(TypeError, match="fetch_add"):
        a.fetch_add(bad, Full)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        a.store(bad, Release)  # type: ignore[arg-type]
    assert a.load(Relaxed) == 5


@pytest.mark.parametrize("cls", CLASSES)
def test_cmpxchg_success_and_failure(cls: type) -> None:
    """cmpxchg returns the value found; it stores only when that equals old."""
    a = cls(10)
    assert a.cmpxchg(10, 20, Full) == 10
    assert a.load(Relaxed) == 20
    assert a.cmpxchg(10, 30, Acquire) == 20
    assert a.load(Relaxed) == 20
    assert a.try_cmpxchg(20, 1, Release) == (True, 20)
    assert a.try_cmpxchg(20, 2, Relaxed) == (False, 1)
    assert a.load(Relaxed) == 1


def test_conditional_ops_edge_values() -> None:
    """inc_not_zero, add_unless and the *_and_test family at their boundaries."""
    a = AtomicI32(0)
    assert a.inc_not_zero(Full) is False
    assert a.load(Relaxed) == 0
    assert a.add_unless(5, 0, Full) is False
    a.store(-1, Relaxed)
    assert a.inc_and_test(Full) is True
    a.store(1, Relaxed)
    assert a.dec_and_test(Full) is True
    assert a.dec_and_test(Full) is False
    assert a.load(Relaxed) == -1
    assert a.add_negative(1, Full) is False
    assert a.add_negative(-1, Relaxed) is True


@pytest.mark.parametrize("cls", CLASSES)
def test_fetch_add_from_threads_reaches_exact_total(cls: type) -> None:
    """Several Python threads incrementing one atomic lose no update."""
    a = cls(0)
    threads, per = 4, 10_000

    def work(i: int) -> None:
        for _ in range(per):
            a.fetch_add(1, Full)
            a.inc(Relaxed)
            a.fetch_sub(1, Relaxed)

    run_threads(threads, work)
    assert a.load(Acquire) == threads * per


def test_cmpxchg_loop_from_threads_is_exact() -> None:
    """A cmpxchg retry loop (the kernel's idiom) from threads loses no update."""
    a = AtomicI64(0)
    threads, per = 4, 5_000

    def work(i: int) -> None:
        for _ in range(per):
            ok, cur = False, a.load(Relaxed)
            while not ok:
                ok, cur = a.try_cmpxchg(cur, cur + 3, Full)

    run_threads(threads, work)
    assert a.load(Relaxed) == 3 * threads * per


def test_repr_shows_value_and_type() -> None:
    """repr shows the class and current value."""
    assert repr(AtomicI32(-4)) == "AtomicI32(-4)"
    assert repr(AtomicUsize(2**64 - 1)) == f"AtomicUsize({2**64 - 1})"


def test_orderings_are_singletons_reexported_from_kbind() -> None:
    """The markers are importable from kbind and from kbind.ordering, and are singletons."""
    from kbind import ordering

    assert kbind.Relaxed is ordering.Relaxed is type(ordering.Relaxed)()
    assert [o.suffix for o in ALL_ORDERINGS] == ["_relaxed", "_acquire", "_release", ""]
    with pytest.raises(TypeError):
        Ordering()


def test_bool_operand_counts_as_int() -> None:
    """bool is an int subclass; it is accepted as 0/1 the way Python arithmetic treats it."""
    a = AtomicI64(1)
    assert a.fetch_add(True, Full) == 1
    assert a.add_return(False, Full) == 2
