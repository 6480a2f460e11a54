"""The native SRCU torture: the real SRCU passes with sleeping readers, busted variants fail."""

from __future__ import annotations

import pytest

from kbind.torture import SrcuTortureResult, format_srcu_report, srcu_torture

#: A busted run that found nothing is retried this many times, each twice as long.
RETRIES = 4


def test_torture_real_srcu_no_errors() -> None:
    """The real SRCU never frees an element under a reader, sleeping or not, in every gp mode."""
    for gp in ("normal", "expedited", "mix"):
        r = srcu_torture(readers=2, updaters=1, duration=0.3, gp=gp)  # type: ignore[arg-type]
        assert r.passed, format_srcu_report(r)
        assert r.reads > 0 and r.sleeping_reads > 0 and r.updates > 0
        assert r.grace_periods >= r.updates
        assert (r.expedited == r.updates) if gp == "expedited" else True
        assert format_srcu_report(r).endswith("SUCCESS")


def test_torture_two_updaters_no_errors() -> None:
    """Two updaters sharing grace periods of one domain keep readers safe."""
    r = srcu_torture(readers=2, updaters=2, duration=0.3)
    assert r.passed, format_srcu_report(r)


@pytest.mark.parametrize("busted", ["no-flip", "wrong-index"])
def test_torture_busted_variant_caught(busted: str) -> None:
    """Each busted variant frees elements under readers; a run that misses is retried longer."""
    duration = 0.3
    for _ in range(RETRIES):
        r = srcu_torture(duration=duration, busted=busted)  # type: ignore[arg-type]
        if not r.passed:
            break
        duration *= 2
    assert not r.passed, format_srcu_report(r)
    assert r.errors == r.freed_seen > 0
    report = format_srcu_report(r)
    assert "FAILURE" in report and busted in report


def test_torture_max_updates_stops_early() -> None:
    """max_updates bounds the updates and ends the run before the duration."""
    r = srcu_torture(duration=5.0, max_updates=50)
    assert r.updates <= 50 and r.elapsed < 5.0 and r.passed


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"readers": 0}, ValueError),
        ({"readers": 65}, ValueError),
        ({"updaters": 0}, ValueError),
        ({"readers": 1.5}, TypeError),
        ({"duration": 0}, ValueError),
        ({"duration": float("nan")}, ValueError),
        ({"duration": "1"}, TypeError),
        ({"busted": "nope"}, ValueError),
        ({"gp": "fast"}, ValueError),
        ({"sleep_every": 0}, ValueError),
        ({"sleep_us": 10**6}, ValueError),
        ({"max_updates": -1}, ValueError),
    ],
)
def test_torture_bad_arguments_raise(kwargs: dict[str, object], exc: type[Exception]) -> None:
    """Arguments of the wrong type or out of range raise before any thread starts."""
    with pytest.raises(exc):
        srcu_torture(**kwargs)  # type: ignore[arg-type]


def test_torture_c_rejects_bad_config() -> None:
    """The C entry point validates its configuration too (EINVAL, nothing run)."""
    from kbind._bridge.native import ffi, lib

    cfg = ffi.new("kb_srcu_torture_config_t *")
    res = ffi.new("kb_srcu_torture_result_t *")
    assert lib.kb_srcu_torture(cfg, res) == lib.KB_EINVAL
    assert lib.kb_srcu_torture(ffi.NULL, res) == lib.KB_EINVAL


def test_format_report_flags_weak_busted_run() -> None:
    """A busted run that found nothing is reported as a weak test; a failure names the count."""
    base = dict(readers=1, updaters=1, duration=0.1, gp="mix", sleep_every=4, sleep_us=20,
                reads=10, sleeping_reads=2, updates=5, grace_periods=5, expedited=2,
                elapsed=0.1)  # fmt: skip
    weak = SrcuTortureResult(busted="no-flip", freed_seen=0, errors=0, **base)  # type: ignore[arg-type]
    assert "too weak" in format_srcu_report(weak)
    bad = SrcuTortureResult(busted=None, freed_seen=3, errors=3, **base)  # type: ignore[arg-type]
    assert (
        format_srcu_report(bad).splitlines()[-1].startswith("srcu-torture:--- End of test: FAILURE")
    )


def test_cli_torture_srcu_runs() -> None:
    """`kbind torture srcu` is in the command's table with its busted variants."""
    from kbind.cli.commands import TORTURES

    kind = TORTURES["srcu"]
    assert kind.busted == ("no-flip", "wrong-index")
    res = kind.run(2, 1, 0.2, None)
    assert res.passed
    assert kind.little(res) == "" or kind.little(res).startswith("only")
