"""RCU litmus tests exercise kbind's engine itself, on both backends: real passes, busted fails."""

from __future__ import annotations

import pytest

from kbind import litmus

pytestmark = pytest.mark.rcu_backends

two_cpus = pytest.mark.skipif(
    litmus.usable_cpus() < 2, reason="litmus tests need two usable CPUs to race"
)

SEARCH = 20_000_000
SEARCH_SECONDS = 60.0


@two_cpus
@pytest.mark.parametrize(
    "name", ["RCU-SB+rscs+sync", "RCU-MP+rscs+sync", "MP+onceassign+derefonce"]
)
def test_rcu_guarantee_holds_on_the_real_engine(rcu_backend: str, name: str) -> None:
    r = litmus.run_file(name, 50_000, max_seconds=30)
    assert not r.error and r.iterations == 50_000
    assert r.exists_count == 0 and r.verdict == "never observed", litmus.format_results([r])
    assert len(r.histogram) >= 2  # the processes did race


@two_cpus
@pytest.mark.parametrize("busted", ["no_wait", "reader"])
def test_a_busted_engine_shows_the_forbidden_outcome(rcu_backend: str, busted: str) -> None:
    if (rcu_backend, busted) == ("liburcu", "reader"):
        # liburcu's synchronize_rcu() keeps its fences and takes microseconds: a reader it
        # does not see must hold its store that long for SB to show it (docs/litmus.md).
        pytest.skip("liburcu's busted reader is caught by the torture test, not by RCU-SB")
    r = litmus.run_file("RCU-SB+rscs+sync", SEARCH, until_observed=1, max_seconds=SEARCH_SECONDS,
                        busted_rcu=busted)  # fmt: skip
    assert r.forbidden_observed, litmus.format_results([r])
    assert r.busted_engine == busted and f"busted engine: {busted}" in litmus.format_results([r])
    # the engine is itself again afterwards
    assert litmus.run_file("RCU-SB+rscs+sync", 20_000).exists_count == 0


def test_a_grace_period_inside_a_read_side_section_stops_the_run(rcu_backend: str) -> None:
    t = litmus.parse("C T\n{}\nP0(int *x)\n{\n\trcu_read_lock();\n\tsynchronize_rcu();\n"
                     "\trcu_read_unlock();\n}\nexists (x=0)\n")  # fmt: skip
    r = litmus.run_test(t, 5, size=1)
    assert "grace period did not end" in r.error


def test_a_python_reader_of_the_caller_does_not_block_the_tests_grace_periods(
    rcu_backend: str,
) -> None:
    from kbind.rcu import RcuReadGuard

    with RcuReadGuard():  # the calling thread is an online reader
        r = litmus.run_file("RCU-MP+rscs+sync", 2_000)
    assert not r.error and r.iterations == 2_000
