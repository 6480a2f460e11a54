"""Tests for kbind.word (READ_ONCE & co.) and kbind.barrier (smp_mb & co.)."""

from __future__ import annotations

import pytest

from kbind import READ_ONCE, WRITE_ONCE, Word, barrier, smp_load_acquire, smp_store_release
from kbind._bridge.native import ffi

from .conftest import run_threads


def test_word_marked_accesses_round_trip() -> None:
    """WRITE_ONCE/READ_ONCE and store_release/load_acquire store and load the full 64 bits."""
    w = Word()
    assert READ_ONCE(w) == 0
    for v in (1, -1, 2**63 - 1, -(2**63), 0x0123456789ABCDEF):
        WRITE_ONCE(w, v)
        assert READ_ONCE(w) == v
        smp_store_release(w, -v if v != -(2**63) else 0)
        assert smp_load_acquire(w) == (-v if v != -(2**63) else 0)
    assert repr(Word(7)) == "Word(7)"


def test_word_lives_in_c_memory() -> None:
    """The word's address points at the C value that the accessors change."""
    w = Word(41)
    cell = ffi.cast("int64_t *", w.address)
    assert cell[0] == 41
    WRITE_ONCE(w, 42)
    assert cell[0] == 42


@pytest.mark.parametrize("bad", [2**63, -(2**63) - 1])
def test_word_out_of_range_raises_overflow_and_keeps_value(bad: int) -> None:
    """A value that does not fit 64 signed bits is refused; nothing is stored."""
    w = Word(3)
    for store in (WRITE_ONCE, smp_store_release):
        with pytest.raises(OverflowError, match="64-bit"):
            store(w, bad)
    assert READ_ONCE(w) == 3
    with pytest.raises(OverflowError):
        Word(bad)


def test_word_wrong_types_raise_type_error() -> None:
    """Accessors take a Word and an int; anything else is a TypeError, not a crash."""
    w = Word()
    with pytest.raises(TypeError, match=r"kbind\.Word"):
        READ_ONCE(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an int"):
        WRITE_ONCE(w, 1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        smp_load_acquire("w")  # type: ignore[arg-type]


def test_word_has_no_plain_value_attribute() -> None:
    """A04: the shared value is reachable only through marked accesses."""
    w = Word(1)
    assert not hasattr(w, "value")
    with pytest.raises(AttributeError):
        w.value = 2  # type: ignore[attr-defined]


def test_message_passing_with_release_acquire_from_threads() -> None:
    """Writer publishes data then flag (release); a reader that sees the flag sees the data."""
    data, flag = Word(), Word()
    rounds = 2_000
    seen: list[int] = []

    def body(i: int) -> None:
        if i == 0:
            for r in range(1, rounds + 1):
                WRITE_ONCE(data, r)
                smp_store_release(flag, r)
        else:
            while (f := smp_load_acquire(flag)) < rounds:
                d = READ_ONCE(data)
                if d < f:
                    seen.append(f)

    run_threads(2, body)
    assert seen == []


def test_barriers_run_and_report_arch() -> None:
    """Every barrier function executes; arch() names the compiled implementation."""
    for fn in (
        barrier.barrier,
        barrier.smp_mb,
        barrier.smp_rmb,
        barrier.smp_wmb,
        barrier.smp_mb__before_atomic,
        barrier.smp_mb__after_atomic,
    ):
        assert fn() is None
    import platform

    expected = {"x86_64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}
    assert barrier.arch() == expected.get(platform.machine(), "generic")
