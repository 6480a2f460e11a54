"""kbind compare's machinery: classification by running, mypy's check, rendering, the CLI.

The verdicts of the real designs are pinned in tests/test_compare_rcu.py and
tests/test_compare_primitives.py; here, test-local designs and scenarios show
that each verdict comes from what the run did (and that a busted design is
classified differently), and that the outputs keep their contracts.
"""

from __future__ import annotations

import json
import pathlib
import time
import warnings
from typing import Any

import pytest

from kbind import compare
from kbind.compare import rcu_designs, render
from kbind.compare.model import Adapter, Design, NotApplicable, RuledOut, Scenario, Verdict
from kbind.compare.runner import count_sites, run_cell, run_matrix
from kbind.errors import GuardLeakWarning, LifetimeError
from tests.test_cli import assert_usage_error, kbind

KBIND_USER_CODE = True
ROOT = pathlib.Path(__file__).resolve().parents[1]


class _Plain(Adapter):
    pass


def _design(name: str = "test.design", make: Any = _Plain) -> Design:
    return Design(name, "rcu", "a test design", make)


def _scenario(fn: Any, **kw: Any) -> Scenario:
    return Scenario("R01", "rcu", fn, **kw)


class _CopyingProposal(rcu_designs.Proposal):
    """kbind.rcu with a busted dereference: readers get a plain copy, not a bound reference."""

    design = "rcu-busted"

    def deref(self, section: Any, slot: Any) -> Any:
        return rcu_designs.Value(slot.read(section).n)


def test_r01_on_the_proposal_is_caught_with_both_sites_and_a_busted_copy_is_not() -> None:
    sc = compare.scenario("R01")
    good = run_cell(sc, compare.design("rcu"))
    assert good.verdict is Verdict.CAUGHT and good.raised == ("LifetimeError",)
    assert good.sites >= 2 == good.sites_needed
    busted = run_cell(sc, _design("rcu-busted", _CopyingProposal))
    assert busted.verdict is Verdict.LET_THROUGH
    assert busted.summary == "ran on"  # the copy outlives the guard: nothing catches it


def test_each_outcome_of_a_run_gives_its_verdict() -> None:
    d = _design()

    def returns(_: Any) -> str:
        return "read 1, expected 2"

    def not_applicable(_: Any) -> str:
        raise NotApplicable("no such thing")

    def kbind_error(_: Any) -> str:
        raise LifetimeError("op", "R01: gone")

    def builtin_error(_: Any) -> str:
        raise OverflowError("too big")

    def warns(_: Any) -> str:
        warnings.warn(GuardLeakWarning("leaked"), stacklevel=1)
        return "ran on"

    assert run_cell(_scenario(returns), d).label == "let through: read 1, expected 2"
    assert run_cell(_scenario(not_applicable), d).label == "n/a: no such thing"
    assert run_cell(_scenario(kbind_error), d).raised == ("LifetimeError",)
    assert run_cell(_scenario(builtin_error), d).verdict is Verdict.ERROR
    accepted = run_cell(_scenario(builtin_error, accepts=("OverflowError",)), d)
    assert accepted.verdict is Verdict.CAUGHT
    caught = run_cell(_scenario(warns), d)
    assert caught.verdict is Verdict.CAUGHT and caught.raised == ("GuardLeakWarning",)


def test_a_scenario_that_does_not_finish_is_an_error_not_a_hang() -> None:
    def slow(_: Any) -> str:
        time.sleep(1.0)
        return "ran on"

    t0 = time.monotonic()
    cell = run_cell(_scenario(slow), _design(), timeout=0.1)
    assert cell.verdict is Verdict.ERROR and "did not finish" in cell.summary
    assert time.monotonic() - t0 < 0.9


def test_a_failing_callback_reported_as_unraisable_counts_as_caught() -> None:
    from kbind import rcu

    def queue(_: Any) -> str:
        def fails() -> None:
            raise LifetimeError("callback", "R01: gone")

        rcu.call_rcu(fails)
        rcu.rcu_barrier()
        return "ran on"

    cell = run_cell(_scenario(queue), _design())
    assert cell.verdict is Verdict.CAUGHT and cell.summary == "LifetimeError (in the callback)"


def _ruled_out(source: str) -> Scenario:
    def rule(_: Any) -> str:
        raise RuledOut("no way to write it", source)

    return _scenario(rule)


def test_mypy_confirms_a_ruled_out_cell_and_refutes_a_false_claim() -> None:
    pytest.importorskip("mypy")
    rejected = rcu_designs.snippet(
        "from kbind.rcu import Rcu", "r = Rcu(Value(1))\nr.read()  # misuse\n"
    )
    accepted = rcu_designs.snippet("from kbind.rcu import Rcu", "r = Rcu(Value(1))  # misuse\n")
    elsewhere = rcu_designs.snippet("", "x: int = 'a'\ny = 1  # misuse\n")
    m = run_matrix([_design()], [_ruled_out(rejected), _ruled_out(accepted), _ruled_out(elsewhere)])
    good, wrong, other = m.cells
    assert good.verdict is Verdict.RULED_OUT and good.typecheck is not None
    assert good.typecheck.startswith("mypy:") and "read" in good.typecheck
    assert "at run time: TypeError" in good.detail  # Python itself also refuses this one
    assert wrong.verdict is Verdict.ERROR and "mypy accepts" in wrong.summary
    assert other.verdict is Verdict.ERROR and "besides the misuse" in other.summary


def test_count_sites_counts_distinct_call_sites() -> None:
    msg = (
        "x\n  created at a.py:3 in f() on thread 'T'\n  dropped at a.py:5 in g() on thread 'T'\n"
        "  again at a.py:5 in g() on thread 'T'"
    )
    assert count_sites(msg) == 2
    assert count_sites("no sites") == 0
    two_threads = "  at a.py:3 in f() on thread 'A'\n  at a.py:3 in f() on thread 'B'"
    assert count_sites(two_threads) == 2


def test_the_table_groups_rows_by_primitive_with_designs_as_columns() -> None:
    m = compare.run(["kernel_c", "rcu"], ["R01", "R05"], typecheck=False)
    text = render.table(m)
    lines = text.splitlines()
    assert lines[0] == "RCU"
    assert lines[1].split() == ["kernel_c", "rcu"]
    r01 = next(line for line in lines if line.startswith("R01"))
    assert r01.split() == ["R01", "LET", "THROUGH", "LifetimeError"]
    assert "R05 on rcu: caught: DeadlockError" in render.details(m)


def test_markdown_is_the_same_from_run_to_run_and_replaces_its_section() -> None:
    one = render.markdown(compare.run(["kernel_c", "rcu"], ["R01", "R04"]))
    two = render.markdown(compare.run(["kernel_c", "rcu"], ["R01", "R04"]))
    assert one == two
    assert ".py:" not in one  # no line numbers: the doc does not change when code moves
    doc = "# Title\n\nprose\n"
    once = render.replace_section(doc, one)
    assert once.startswith(doc.rstrip("\n")) and once.count(render.BEGIN) == 1
    assert render.replace_section(once, one) == once


def test_expectations_from_lines_and_from_a_json_report() -> None:
    m = compare.run(["kernel_c", "rcu"], ["R01", "R04"])
    lines = render.parse_expectations(
        "# pins\nR01 rcu caught:LifetimeError\nr04 rcu ruled-out\nR01 kernel_c caught\n", "pins"
    )
    unmet = render.check_expectations(m, lines)
    assert unmet == [
        "R01 on kernel_c: expected caught, got let through: later UseAfterFreeError (pins:4)"
    ]
    report = json.dumps(render.as_dict(m))
    assert render.check_expectations(m, render.parse_expectations(report)) == []
    with pytest.raises(ValueError, match="pins:1: unknown verdict 'maybe'"):
        render.parse_expectations("R01 rcu maybe", "pins")
    with pytest.raises(ValueError, match="pins:1: expected 'ROW DESIGN VERDICT'"):
        render.parse_expectations("R01 rcu", "pins")


def test_cli_compare_prints_cells_json_and_checks_expectations(tmp_path: pathlib.Path) -> None:
    proc = kbind("compare", "--row", "R01", "--design", "rcu", "--design", "kernel_c")
    assert proc.returncode == 0, proc.stderr
    assert "R01 on rcu: caught: LifetimeError (names both sites)" in proc.stdout
    proc = kbind("compare", "--row", "R01", "--design", "rcu", "--json")
    assert proc.returncode == 0, proc.stderr
    cells = json.loads(proc.stdout)["result"]["cells"]
    assert [(c["row"], c["design"], c["verdict"]) for c in cells] == [("R01", "rcu", "caught")]
    pins = tmp_path / "pins.txt"
    pins.write_text("R01 kernel_c caught\n")
    proc = kbind("compare", "--row", "R01", "--design", "kernel_c", "--expect", str(pins))
    assert proc.returncode == 1
    assert "UNMET: R01 on kernel_c: expected caught, got let through" in proc.stdout
    pins.write_text("R01 kernel_c let-through\n")
    proc = kbind("compare", "--row", "R01", "--design", "kernel_c", "--expect", str(pins))
    assert proc.returncode == 0 and "ok: all 1 expectation(s)" in proc.stdout


def test_cli_compare_bad_usage_is_one_line_exit_2(tmp_path: pathlib.Path) -> None:
    assert_usage_error(kbind("compare", "--design", "nope"), "unknown design 'nope'")
    assert_usage_error(kbind("compare", "--row", "Z99"), "unknown row 'Z99'")
    assert_usage_error(kbind("compare", "--plot", str(tmp_path / "x.png")), "--workload")
    bad = tmp_path / "bad.txt"
    bad.write_text("R01 rcu perhaps\n")
    assert_usage_error(kbind("compare", "--expect", str(bad)), "unknown verdict")
    assert_usage_error(kbind("compare", "--expect", str(tmp_path / "missing.txt")), "missing")


def test_cli_compare_workload_json_and_its_usage_errors(tmp_path: pathlib.Path) -> None:
    proc = kbind("compare", "--workload", "--design", "rcu", "--seconds", "0.1", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["result"]
    rows = [r["name"] for r in result["rows"]]
    assert rows == ["rcu (RcuDropGuard.drop)", "rcu (RcuDropGuard.defer)"]
    assert all(r["updates"] > 0 and r["reads"] > 0 for r in result["rows"])
    assert_usage_error(kbind("compare", "--workload", "--hold-us", "-1"), "--hold-us")
    assert_usage_error(kbind("compare", "--workload", "--row", "R01"), "--workload takes only")
    assert_usage_error(
        kbind("compare", "--workload", "--design", "seqlock:read", "--seconds", "0.1"),
        "no workload for design",
    )
