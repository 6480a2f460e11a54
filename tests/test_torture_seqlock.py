"""Tests for the native seqlock torture: the real seqlock passes, every busted variant fails."""

from __future__ import annotations

import pytest

from kbind import format_seqlock_report, seqlock_torture
from kbind.torture.seqlock import SeqlockTortureResult


def test_torture_real_seqlock_no_violations() -> None:
    """The real seqlock never accepts a torn record, and readers both succeed and retry."""
    r = seqlock_torture(readers=2, writers=1, duration=0.5)
    assert r.passed, format_seqlock_report(r)
    assert r.successful_reads > 0 and r.writes > 0
    assert r.reads == r.successful_reads + r.retries
    assert format_seqlock_report(r).endswith("SUCCESS")


def test_torture_two_writers_no_violations() -> None:
    """Two writers serialized by the embedded lock keep the invariant."""
    r = seqlock_torture(readers=1, writers=2, duration=0.3)
    assert r.passed, format_seqlock_report(r)


@pytest.mark.parametrize("busted", ["reader-no-retry", "writer-no-increment", "writer-no-barrier"])
def test_torture_busted_variant_caught(busted: str) -> None:
    """Each busted variant accepts torn records within the default bound."""
    r = seqlock_torture(busted=busted)  # type: ignore[arg-type]
    assert not r.passed, format_seqlock_report(r)
    assert 0 < r.first_violation_word < r.words
    report = format_seqlock_report(r)
    assert "FAILURE" in report and busted in report


def test_torture_max_reads_stops_early() -> None:
    """max_reads bounds each reader's attempts and ends the run before the duration."""
    r = seqlock_torture(readers=2, writers=0, duration=5.0, max_reads=1000)
    assert r.reads == 2000 and r.retries == 0 and r.elapsed < 5.0


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"readers": -1}, ValueError),
        ({"readers": 65}, ValueError),
        ({"readers": 0, "writers": 0}, ValueError),
        ({"readers": 1.5}, TypeError),
        ({"readers": True}, TypeError),
        ({"duration": 0}, ValueError),
        ({"duration": -1.0}, ValueError),
        ({"duration": float("nan")}, ValueError),
        ({"duration": 1e9}, ValueError),
        ({"duration": "1"}, TypeError),
        ({"busted": "nope"}, ValueError),
        ({"words": 1}, ValueError),
        ({"words": 10_000}, ValueError),
        ({"writer_spins": -1}, ValueError),
        ({"max_reads": -5}, ValueError),
        ({"check": 1}, TypeError),
    ],
)
def test_torture_bad_arguments_raise(kwargs: dict[str, object], exc: type[Exception]) -> None:
    """Arguments of the wrong type or out of range raise before any thread starts."""
    with pytest.raises(exc):
        seqlock_torture(**kwargs)  # type: ignore[arg-type]


def test_torture_c_rejects_bad_config() -> None:
    """The C entry point validates its configuration too (EINVAL, nothing run)."""
    from kbind._bridge.native import ffi, lib

    cfg = ffi.new("kb_seqlock_torture_config_t *")
    res = ffi.new("kb_seqlock_torture_result_t *")
    assert lib.kb_seqlock_torture(cfg, res) == lib.KB_EINVAL
    assert lib.kb_seqlock_torture(ffi.NULL, res) == lib.KB_EINVAL


def test_format_report_flags_weak_busted_run() -> None:
    """A busted run that found nothing is reported as a weak test."""
    r = SeqlockTortureResult(2, 1, 32, 0.5, "reader-no-retry", 10, 10, 0, 5, 0, -1, 0, 0.5)
    assert "too weak" in format_seqlock_report(r)
