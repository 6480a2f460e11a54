"""Tests for the native lock torture: real locks pass, busted locks are caught."""

from __future__ import annotations

import json
import os
import re

import pytest

from kbind.torture import LockTortureResult, format_lock_report, lock_torture
from kbind.torture._common import pinned
from tests.test_cli import assert_usage_error, kbind

STATS = re.compile(r"(Writes|Reads ):  Total: (\d+)  Max/Min: (\d+)/(\d+)( \?\?\?)?  Fail: (\d+)")


@pytest.mark.parametrize("lock", ["spin", "mutex"])
def test_lock_torture_real_lock_passes_with_locktorture_statistics(lock: str) -> None:
    """The real lock never lets two holders in; the report has locktorture's Writes/Reads lines."""
    r = lock_torture(lock, writers=2, readers=2, duration=0.3)  # type: ignore[arg-type]
    report = format_lock_report(r)
    assert r.passed and r.max_holders == 1, report
    assert r.write_fail == r.read_fail == r.torn_reads == 0
    assert len(r.acquisitions) == 4 and all(n > 0 for n in r.acquisitions)
    assert r.write_total == sum(r.acquisitions[:2]) and r.read_total == sum(r.acquisitions[2:])
    assert r.write_max == max(r.acquisitions[:2]) and r.write_min == min(r.acquisitions[:2])
    assert r.read_max == max(r.acquisitions[2:]) and r.read_min == min(r.acquisitions[2:])
    stats = {m[1].strip(): m for m in STATS.finditer(report)}
    assert set(stats) == {"Writes", "Reads"}, report
    assert int(stats["Writes"][2]) == r.write_total and int(stats["Writes"][6]) == 0
    assert int(stats["Reads"][3]) == r.read_max and int(stats["Reads"][4]) == r.read_min
    assert "!!!" not in report and f"lock={lock}" in report
    assert report.endswith("lock-torture:--- End of test: SUCCESS")


@pytest.mark.parametrize("lock", ["spin", "mutex"])
@pytest.mark.parametrize("busted", ["no-lock", "no-rmw"])
def test_lock_torture_busted_lock_caught(lock: str, busted: str) -> None:
    """A lock that takes nothing, or tests then stores, lets a second holder in: caught."""
    r = lock_torture(lock, duration=0.3, busted=busted)  # type: ignore[arg-type]
    report = format_lock_report(r)
    assert not r.passed and r.max_holders >= 2, report
    assert r.write_fail + r.read_fail > 0
    assert "!!!" in report and f"expected: busted={busted}" in report and "FAILURE" in report


def test_lock_torture_writers_only_and_readers_only() -> None:
    """A run without readers (or writers) reports only the side it has."""
    w = lock_torture(writers=2, readers=0, duration=0.1)
    assert w.passed and w.read_total == 0 and "Reads" not in format_lock_report(w)
    r = lock_torture(writers=0, readers=2, duration=0.1)
    assert r.passed and r.write_total == 0 and "Writes" not in format_lock_report(r)


def test_lock_torture_pinned_threads_report_it() -> None:
    """Inside pinned(), the driver pins its threads (kb_torture_pin()) and says so."""
    cpu = min(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    with pinned([cpu]):
        r = lock_torture(writers=1, readers=1, duration=0.1)
    assert r.pinned and r.passed
    assert os.sched_getaffinity(0) == before
    assert not lock_torture(writers=1, readers=1, duration=0.05).pinned


def test_pinned_refuses_unusable_cpus() -> None:
    """A CPU outside this process's mask is refused before anything runs."""
    with pytest.raises(ValueError, match="not usable"), pinned([1023]):
        pass


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"lock": "rwsem"}, ValueError),
        ({"writers": 0, "readers": 0}, ValueError),
        ({"writers": 40, "readers": 40}, ValueError),
        ({"hold_us": -1}, ValueError),
        ({"hold_us": 2000}, ValueError),
        ({"long_every": 0}, ValueError),
        ({"duration": 3601}, ValueError),
        ({"busted": "torn"}, ValueError),
        ({"writers": 1.5}, TypeError),
        ({"hold_us": "1"}, TypeError),
    ],
)
def test_lock_torture_bad_arguments_refused(kwargs: dict[str, object], error: type) -> None:
    """Out-of-range or ill-typed arguments are refused before any thread starts."""
    with pytest.raises(error):
        lock_torture(**kwargs)  # type: ignore[arg-type]


def test_cli_lock_torture_json_and_busted_exit_1() -> None:
    """``kbind torture lock`` passes (exit 0, JSON fields); ``--busted no-rmw`` exits 1."""
    ok = kbind("torture", "lock", "--lock", "mutex", "--duration", "0.2", "--json")
    assert ok.returncode == 0, ok.stderr
    res = json.loads(ok.stdout)["result"]
    for key in ("write_total", "write_max", "write_min", "read_total", "read_fail",
                "write_fail", "max_holders", "acquisitions", "passed"):  # fmt: skip
        assert key in res
    assert res["lock"] == "mutex" and res["passed"] is True and res["max_holders"] == 1
    bad = kbind("torture", "lock", "--busted", "no-rmw", "--duration", "0.2")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "Fail:" in bad.stdout and "FAILURE" in bad.stdout


def test_cli_lock_option_only_for_the_lock_torture() -> None:
    """``--lock`` with another torture is a usage error (exit 2, one line)."""
    assert_usage_error(kbind("torture", "seqlock", "--lock", "spin"), "--lock", "lock")


def test_lock_result_is_frozen_dataclass() -> None:
    """The result is immutable, like every torture result."""
    r = lock_torture(writers=1, readers=0, duration=0.01)
    assert isinstance(r, LockTortureResult)
    with pytest.raises(AttributeError):
        r.write_total = 0  # type: ignore[misc]
