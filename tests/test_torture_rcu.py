"""Tests of the native RCU torture test (csrc/tools/rcu_torture.c) through kbind.torture.

Every test runs over both RCU backends (tests/conftest.py): same code, same
assertions; the other backend's cases run in one child pytest.
"""

from __future__ import annotations

from typing import Any

import pytest

from kbind._bridge.native import lib
from kbind.torture import (
    BUSTED_VARIANTS,
    RcuTortureResult,
    format_rcu_report,
    rcu_torture,
)

pytestmark = pytest.mark.rcu_backends


@pytest.mark.parametrize("reclaim", ["sync", "call", "mix"])
def test_rcu_torture_real_engine_passes(reclaim: Any) -> None:
    """The real engine survives the torture with every reclamation mode, and readers did read."""
    r = rcu_torture(readers=2, updaters=1, duration=0.3, reclaim=reclaim)
    assert r.passed, format_rcu_report(r)
    assert r.errors == r.freed_seen == r.too_old == 0
    assert r.reads > 0 and r.updates > 0 and r.grace_periods > 0
    assert sum(r.pipe[2:]) == 0
    assert sum(r.pipe) == r.reads
    if reclaim != "sync":
        assert r.callbacks > 0


def test_rcu_torture_two_updaters_passes() -> None:
    """Several updaters sharing grace periods still leave no reader with a stale element."""
    r = rcu_torture(readers=2, updaters=2, duration=0.3, reclaim="mix")
    assert r.passed, format_rcu_report(r)
    assert r.updates > 0


@pytest.mark.parametrize("busted", sorted(BUSTED_VARIANTS))
def test_rcu_torture_busted_engine_fails_with_default_bound(busted: Any) -> None:
    """Each deliberately broken engine is caught by a default-bound torture run."""
    if not lib.kb_rcu_busted_supported(BUSTED_VARIANTS[busted]):
        with pytest.raises(ValueError, match="does not exist on the"):
            rcu_torture(busted=busted)
        pytest.skip(
            f"busted variant {busted!r} cannot exist on this backend: liburcu's call_rcu "
            "thread always waits for a grace period before invoking callbacks"
        )
    # Grace periods of synchronize_rcu() catch a broken engine within a few
    # updates on both backends; call_rcu chains on liburcu advance one step
    # per 10 ms batch, too few for a 0.5 s run (docs/backends.md).  early_cb
    # breaks only call_rcu, so it keeps the mixed mode.
    # barrier breaks only rcu_barrier(): the rcu_barrier test (on by default) catches it.
    r = rcu_torture(busted=busted, reclaim="mix" if busted == "early_cb" else "sync")
    assert not r.passed, format_rcu_report(r)
    assert r.errors > 0
    if busted == "barrier":
        assert r.rtbe > 0 and r.freed_seen == r.too_old == 0
    else:
        assert sum(r.pipe[2:]) > 0 or r.freed_seen > 0
    assert "End of test: FAILURE" in format_rcu_report(r)
    assert lib.kb_rcu_get_busted() == lib.KB_RCU_BUSTED_NONE  # restored after the run


def test_rcu_torture_max_updates_stops_early() -> None:
    """An update bound ends the run before its duration."""
    r = rcu_torture(duration=30.0, max_updates=200, reclaim="sync")
    assert r.passed
    assert 200 <= r.updates < 200 + 2  # each updater finishes the update it is in
    assert r.elapsed < 30.0


def test_format_rcu_report_success_has_reader_pipe_line() -> None:
    """The report has rcutorture's Reader Pipe line and says SUCCESS for a clean run."""
    r = rcu_torture(duration=0.1)
    text = format_rcu_report(r)
    pipe_line = next(line for line in text.splitlines() if "Reader Pipe:" in line)
    assert [int(x) for x in pipe_line.split("Reader Pipe:")[1].split()] == list(r.pipe)
    assert text.endswith("End of test: SUCCESS")


def test_result_as_dict_round_trips_fields() -> None:
    """as_dict() gives every field plus the verdict, as plain values."""
    r = rcu_torture(duration=0.1, reclaim="call")
    d = r.as_dict()
    assert d["reads"] == r.reads
    assert d["pipe"] == list(r.pipe)
    assert d["passed"] is True
    assert d["busted"] is None
    assert isinstance(r, RcuTortureResult)


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"readers": 0}, ValueError),
        ({"readers": 65}, ValueError),
        ({"updaters": 0}, ValueError),
        ({"readers": True}, TypeError),
        ({"readers": 2.0}, TypeError),
        ({"duration": 0}, ValueError),
        ({"duration": -1.0}, ValueError),
        ({"duration": 3601}, ValueError),
        ({"duration": "1"}, TypeError),
        ({"reclaim": "later"}, ValueError),
        ({"busted": "broken"}, ValueError),
        ({"max_updates": 0}, ValueError),
        ({"read_spin": 0}, ValueError),
        ({"seed": "x"}, TypeError),
    ],
)
def test_rcu_torture_bad_argument_raises(kwargs: dict[str, Any], exc: type[Exception]) -> None:
    """Arguments out of range or of the wrong type raise before any thread is created."""
    with pytest.raises(exc):
        rcu_torture(**kwargs)


def test_rcu_torture_inside_read_section_refused() -> None:
    """Running the torture from inside a read-side section is refused (it would wait for itself)."""
    lib.kb_rcu_read_lock()
    try:
        with pytest.raises(RuntimeError, match="read-side critical section"):
            rcu_torture(duration=0.1)
    finally:
        lib.kb_rcu_read_unlock()
