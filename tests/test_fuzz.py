"""The seeded random-program fuzzer of the public API (tests/fuzz/api_fuzz.py, docs/fuzzing.md).

The default suite runs a short campaign on each RCU backend.  A longer one::

    KBIND_FUZZ_PROGRAMS=2000 pytest -q tests/test_fuzz.py
    KBIND_FUZZ_PROGRAMS=2000 KBIND_FUZZ_SEED=random pytest -q tests/test_fuzz.py -k campaign

``KBIND_FUZZ_SEED`` picks the first program's seed (``random``: a fresh one);
a failure names the seed of each failing program, its actions and the one
command that replays it (``python tests/fuzz/api_fuzz.py --seed SEED``).  The
other tests prove the fuzzer can fail: injected faults and a busted engine.
"""

from __future__ import annotations

import os
import random

import pytest

from kbind._bridge.native import lib
from kbind.rcu_backend import current_backend
from tests.fuzz import api_fuzz

# Every test runs on both RCU backends (builtin, liburcu): see tests/conftest.py.
pytestmark = pytest.mark.rcu_backends

#: The default suite's campaign: a second or two per backend on 2 cores.
SHORT_PROGRAMS = 60
DEFAULT_SEED = 20261201


def _campaign_seed() -> int:
    raw = os.environ.get("KBIND_FUZZ_SEED", "")
    if raw == "random":
        return random.SystemRandom().randrange(1, 2**31)
    return int(raw) if raw else DEFAULT_SEED


def test_fuzz_campaign_random_programs_pass() -> None:
    """Seeded random programs of the public API on 2-4 threads all end as the model says."""
    programs = int(os.environ.get("KBIND_FUZZ_PROGRAMS", SHORT_PROGRAMS))
    res = api_fuzz.run_campaign(_campaign_seed(), programs)
    assert not res.failed, res.report()
    assert res.ran == programs


@pytest.mark.parametrize(
    ("inject", "expected"),
    [
        ("wrong-value", "AtomicI64 total"),
        ("raw-error", "raised builtins.AttributeError"),
        ("lost-callback", "lost callbacks"),
        ("crash", "crash: the process died of signal 6"),
        ("hang", "hang: did not finish within 3 s"),
    ],
)
def test_fuzz_campaign_injected_fault_is_reported_with_seed(inject: str, expected: str) -> None:
    """Each injected fault fails the campaign, naming the program's seed and replay command."""
    seed = next(
        s for s in range(7, 1000) if api_fuzz.program_triggers(api_fuzz.generate(s), inject)
    )
    res = api_fuzz.run_campaign(seed, 1, inject=inject, program_timeout=3.0)
    assert res.ran == 1
    assert sorted(res.failed) == [seed], res.report()
    report = res.report()
    assert f"program seed {seed}; replay: " in report
    assert f"api_fuzz.py --seed {seed} --inject {inject}" in report
    assert all(any(expected in line for line in why) for why in res.failed.values()), report
    assert '"threads": [[' in report  # the program itself, to read or replay


def test_fuzz_campaign_busted_engine_no_wait_is_caught() -> None:
    """An engine whose grace periods do not wait shows freed values under live guards: caught."""
    if current_backend() != "builtin":
        pytest.skip("the busted engine variants are the builtin engine's (kb_rcu_set_busted)")
    res = api_fuzz.run_campaign(1, 600, busted=lib.KB_RCU_BUSTED_NO_WAIT)
    assert res.failed, res.report()
    lines = [line for why in res.failed.values() for line in why]
    assert any("UseAfterFreeError" in line for line in lines), res.report()
    assert "replay: " in res.report()
