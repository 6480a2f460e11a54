"""Atomic torture: the real atomics keep every invariant; each busted variant is caught."""

from __future__ import annotations

import pytest

from kbind._bridge.native import ffi, lib
from kbind.torture.atomic import atomic_torture, format_atomic_report


def test_atomic_torture_real_atomics_keep_every_invariant() -> None:
    """Exact counts, lossless try_cmpxchg loops and ordered messages under contention."""
    r = atomic_torture(threads=2, duration=0.3)
    assert r.passed, format_atomic_report(r)
    assert r.increments > 100_000 and r.counter == r.increments
    assert r.cmpxchg_counter == r.cmpxchg_increments > 0
    assert r.messages > 0 and r.message_checks > 0 and r.message_violations == 0
    assert "SUCCESS" in format_atomic_report(r)


def test_atomic_torture_busted_torn_rmw_loses_updates() -> None:
    """A read-then-write increment loses updates under contention: the torture fails."""
    r = atomic_torture(threads=2, duration=0.3, busted="torn-rmw")
    assert not r.passed
    assert r.lost_updates > 0 and r.counter < r.increments
    assert "FAILURE" in format_atomic_report(r)


def test_atomic_torture_busted_early_publish_shows_stale_payload() -> None:
    """Publishing the flag before the payload lets readers see stale data: caught."""
    r = atomic_torture(threads=2, duration=0.3, busted="early-publish")
    assert not r.passed
    assert r.message_violations > 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"threads": 1}, ValueError),
        ({"threads": 65}, ValueError),
        ({"threads": 2.0}, TypeError),
        ({"duration": 0}, ValueError),
        ({"duration": "1"}, TypeError),
        ({"busted": "nope"}, ValueError),
        ({"max_ops": -1}, ValueError),
    ],
)
def test_atomic_torture_bad_arguments_raise(kwargs: dict[str, object], error: type) -> None:
    """Out-of-range or mistyped arguments are refused before anything runs."""
    with pytest.raises(error):
        atomic_torture(**kwargs)  # type: ignore[arg-type]


def test_atomic_torture_c_entry_rejects_bad_config() -> None:
    """The C entry point validates its config itself."""
    res = ffi.new("kb_atomic_torture_result_t *")
    for bad in ({"threads": 0}, {"threads": 1000}, {"duration_ns": 0}, {"busted": 9}):
        cfg = ffi.new("kb_atomic_torture_config_t *", {"threads": 2, "duration_ns": 1000, **bad})
        assert lib.kb_atomic_torture(cfg, res) == lib.KB_EINVAL


def test_atomic_torture_max_ops_bounds_each_thread() -> None:
    """With max_ops the run ends after that many increments per thread, well before the time."""
    r = atomic_torture(threads=2, duration=60, max_ops=6400)
    assert r.increments == 2 * 6400 and r.passed
    assert r.elapsed < 30
