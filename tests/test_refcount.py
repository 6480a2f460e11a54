"""kbind.refcount: refcount_t's semantics (include/linux/refcount.h, lib/refcount.c) and kref."""

from __future__ import annotations

import copy
import warnings

import pytest

from kbind import CloneError, RefcountWarning
from kbind.refcount import REFCOUNT_MAX, REFCOUNT_SATURATED, Kref, Refcount

from .conftest import run_threads


def _warns(fn: object) -> list[RefcountWarning]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        fn()  # type: ignore[operator]
    return [w.message for w in seen if isinstance(w.message, RefcountWarning)]


def test_counting_happy_path() -> None:
    """inc, inc_not_zero, dec_and_test and read/set behave as the kernel's, with no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = Refcount()
        assert r.read() == 1
        r.inc()
        assert r.inc_not_zero() is True
        r.add(2)
        assert r.read() == 5
        r.dec()
        assert [r.dec_and_test() for _ in range(4)] == [False, False, False, True]
        assert r.read() == 0 and not r.saturated
        assert r.inc_not_zero() is False and r.read() == 0
        r.set(3)
        assert r.sub_and_test(3) is True
        assert repr(Refcount(2)) == "Refcount(2)"


def test_a07_increment_from_zero_warns_and_saturates() -> None:
    """refcount_inc() on zero: 'addition on 0; use-after-free', the count saturated, sites named."""
    r = Refcount(1)
    assert r.dec_and_test()
    got = _warns(r.inc)
    assert len(got) == 1
    w = got[0]
    text = str(w)
    assert "addition on 0; use-after-free" in text and "A07" in text
    assert w.where is not None and w.where.filename == __file__
    labels = [label for label, _ in w.sites]
    assert labels == ["refcount made at", "the count last reached 0 at"]
    assert r.read() == REFCOUNT_SATURATED and r.saturated
    # saturated for good: more increments and decrements never bring it back to zero
    later: list[bool] = []
    _warns(lambda: ([r.inc() for _ in range(3)], later.append(r.dec_and_test())))
    assert later == [False] and r.saturated


def test_a07_underflow_warns_naming_where_it_reached_zero() -> None:
    """A dec_and_test() at zero warns 'underflow; use-after-free' and names the first zero."""
    r = Refcount(1)
    assert r.dec_and_test()
    got: list[bool] = []
    ws = _warns(lambda: got.append(r.dec_and_test()))
    assert got == [False] and len(ws) == 1
    assert "underflow; use-after-free" in str(ws[0])
    zero = dict(ws[0].sites)["the count last reached 0 at"]
    assert zero.filename == __file__
    assert r.read() == REFCOUNT_SATURATED


def test_dec_to_zero_warns_leak_and_overflow_saturates() -> None:
    """refcount_dec() to zero leaks ('decrement hit 0'); an increment past INT_MAX saturates."""
    r = Refcount(1)
    assert "decrement hit 0; leaking memory" in str(_warns(r.dec)[0])
    big = Refcount(REFCOUNT_MAX)
    assert "saturated; leaking memory" in str(_warns(big.inc)[0])
    assert big.read() == REFCOUNT_SATURATED
    top = Refcount(REFCOUNT_MAX)
    ws = _warns(lambda: top.inc_not_zero())
    assert ws and top.read() == REFCOUNT_SATURATED


def test_warns_once_per_refcount_and_kind() -> None:
    """As WARN_ONCE(): one warning per kind of event on one refcount (another refcount warns)."""
    r = Refcount(0)
    kinds = [str(w).split(" (A07)")[0] for w in _warns(lambda: [r.inc() for _ in range(5)])]
    assert kinds == [
        "refcount_t: addition on 0; use-after-free",
        "refcount_t: saturated; leaking memory",
    ]
    assert len(_warns(Refcount(0).inc)) == 1


def test_set_out_of_range_raises_and_copy_refused() -> None:
    """An operand that does not fit raises OverflowError (A03); a copy is a CloneError (A06)."""
    r = Refcount(1)
    with pytest.raises(OverflowError):
        r.set(2**31)
    assert r.read() == 1
    with pytest.raises(CloneError):
        copy.copy(r)


def test_kref_get_put_and_get_unless_zero() -> None:
    """kref_get/kref_put(release)/kref_get_unless_zero: release runs once, at the last put."""
    released: list[int] = []
    k = Kref()
    k.get()
    assert k.read() == 2
    assert k.put(lambda: released.append(1)) is False
    assert k.put(lambda: released.append(1)) is True
    assert released == [1] and k.get_unless_zero() is False
    k.init()
    assert k.get_unless_zero() is True and k.read() == 2


def test_concurrent_inc_not_zero_and_puts_free_exactly_once() -> None:
    """Four threads take and drop counts on one object; exactly one dec_and_test sees zero."""
    for _ in range(20):
        r = Refcount(1)
        zeros: list[int] = []
        taken: list[int] = []

        def worker(i: int, r: Refcount = r, zeros: list[int] = zeros) -> None:
            n = 0
            for _ in range(200):
                if r.inc_not_zero():
                    n += 1
                    if r.dec_and_test():
                        zeros.append(i)
            taken.append(n)  # noqa: B023 (run and joined in this iteration)

        with warnings.catch_warnings():
            warnings.simplefilter("error")
            run_threads(4, worker, timeout=30)
            assert r.dec_and_test()  # the creator's count, last
        assert zeros == [] and sum(taken) == 800 and r.read() == 0
