"""Litmus tests on this CPU: forbidden outcomes never appear, SB shows, busted smp_mb is caught."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from kbind import litmus
from kbind._bridge.native import ffi, lib
from kbind.barrier import arch
from tests.support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]

two_cpus = pytest.mark.skipif(
    litmus.usable_cpus() < 2, reason="litmus tests need two usable CPUs to show reorderings"
)
x86 = pytest.mark.skipif(arch() != "x86_64", reason="the expected outcomes are x86-64's (TSO)")

# Bounds: allowed outcomes are searched for up to this many iterations (stopping at the
# first sighting); at the rates seen on 2-CPU machines (0.1-17 % for SB) this is certain.
SEARCH_ITERATIONS = 5_000_000
SEARCH_SECONDS = 120.0

NEVER_CASES = [
    (name, variant)
    for name, spec in litmus.TESTS.items()
    for variant, verdict in spec.verdicts.items()
    if verdict == "Never"
]
# What TSO forbids even without fences: every pattern except store->load reordering.
TSO_FORBIDS_ONCE = ["MP", "LB", "S", "2+2W", "WRC", "IRIW"]


def short(name: str) -> int:
    return 20_000 if litmus.TESTS[name].threads == 2 else 2_000


@two_cpus
@pytest.mark.parametrize(("name", "variant"), NEVER_CASES)
def test_litmus_forbidden_outcome_never_observed(name: str, variant: str) -> None:
    """Every outcome the LKMM forbids stays at zero count (a real barrier is a real barrier)."""
    r = litmus.run(name, variant, short(name), max_seconds=60)
    assert r.iterations > 0
    assert r.exists_count == 0, litmus.format_results([r])
    assert r.verdict == "never observed"
    assert sum(r.histogram.values()) == r.iterations


@two_cpus
@x86
@pytest.mark.parametrize("name", TSO_FORBIDS_ONCE)
def test_litmus_tso_forbids_all_but_store_buffering(name: str) -> None:
    """On x86-64 even the once variants of MP, LB, S, 2+2W, WRC, IRIW never show (TSO)."""
    r = litmus.run(name, "once", short(name), max_seconds=60)
    assert r.exists_count == 0, litmus.format_results([r])
    assert r.verdict == "not observed"


@two_cpus
@x86
@pytest.mark.parametrize("variant", ["once", "rel-acq"])
def test_litmus_sb_without_full_barrier_shows_store_buffering(variant: str) -> None:
    """SB without smp_mb() shows r0=r1=0 on x86-64: stores wait in the store buffer."""
    r = litmus.run("SB", variant, SEARCH_ITERATIONS, until_observed=1, max_seconds=SEARCH_SECONDS)
    assert r.exists_count >= 1, litmus.format_results([r])
    assert r.verdict == "observed"
    assert r.iterations < SEARCH_ITERATIONS  # it stopped at the sighting


@two_cpus
@x86
def test_litmus_busted_smp_mb_is_caught_as_forbidden() -> None:
    """With smp_mb() compiled as a compiler barrier only, SB+mb reports a forbidden outcome."""
    r = litmus.run(
        "SB", "mb", SEARCH_ITERATIONS, until_observed=1, max_seconds=SEARCH_SECONDS,
        busted_barrier=True,
    )  # fmt: skip
    assert r.forbidden_observed, litmus.format_results([r])
    assert r.verdict == "FORBIDDEN BUT OBSERVED"


@two_cpus
@x86
def test_litmus_busted_atomic_rmw_is_caught_as_forbidden() -> None:
    """SB+atomic with the RMW's ordering removed shows the forbidden outcome, even on x86.

    A relaxed atomic RMW would still be a locked, fully fencing instruction on
    x86-64, so the busted variant is a plain marked load and store instead.
    """
    r = litmus.run(
        "SB", "atomic", SEARCH_ITERATIONS, until_observed=1, max_seconds=SEARCH_SECONDS,
        busted_barrier=True,
    )  # fmt: skip
    assert r.forbidden_observed, litmus.format_results([r])


def test_litmus_histogram_labels_and_exists_clause() -> None:
    """Outcomes are labelled by their observables; the exists clause matches the kernel's."""
    sb = litmus.TESTS["SB"]
    assert sb.label(sb.exists) == "r0=0 r1=0"
    assert litmus.TESTS["MP"].label(litmus.TESTS["MP"].exists) == "r0=1 r1=0"
    assert litmus.TESTS["R"].label(litmus.TESTS["R"].exists) == "r0=0 y=2"
    assert litmus.TESTS["IRIW"].label(litmus.TESTS["IRIW"].exists) == "r0=1 r1=0 r2=1 r3=0"
    r = litmus.run("MP", "mb", 500)
    assert r.iterations == 500
    assert sum(r.histogram.values()) == 500
    assert set(r.histogram) <= {litmus.TESTS["MP"].label(o) for o in range(4)}
    assert json.loads(json.dumps(r.as_dict()))["verdict"] == r.verdict


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test": "XX"}, "unknown litmus test"),
        ({"test": "2+2W", "variant": "rel-acq"}, "has no variant"),
        ({"test": "SB", "iterations": 0}, "iterations"),
        ({"test": "SB", "iterations": 2.5}, "iterations"),
        ({"test": "SB", "max_seconds": -1}, "max_seconds"),
    ],
)
def test_litmus_bad_arguments_raise_value_error(kwargs: dict[str, object], message: str) -> None:
    """Unknown tests, variants and bounds are refused with a clear ValueError."""
    with pytest.raises(ValueError, match=message):
        litmus.run(**kwargs)  # type: ignore[arg-type]


def test_litmus_c_entry_rejects_bad_config() -> None:
    """The C entry point validates its config and returns KB_EINVAL instead of misbehaving."""
    res = ffi.new("kb_litmus_result_t *")
    for bad in ({"test": 99}, {"variant": -1}, {"iterations": 0}, {"stop_outcome": 16}):
        cfg = ffi.new("kb_litmus_config_t *", {"iterations": 10, "stop_outcome": -1, **bad})
        assert lib.kb_litmus_run(cfg, res) == lib.KB_EINVAL
    assert lib.kb_litmus_run(ffi.NULL, res) == lib.KB_EINVAL


def kbind_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kbind", *args], capture_output=True, text=True, timeout=600,
        cwd=ROOT, env=child_env(),
    )  # fmt: skip


def test_cli_litmus_json_reports_each_variant() -> None:
    """`kbind litmus SB --json` prints one record per SB variant with its LKMM verdict."""
    proc = kbind_cli("litmus", "SB", "--iterations", "2000", "--json")
    assert proc.returncode == 0, proc.stderr
    records = json.loads(proc.stdout)["result"]["runs"]
    assert [r["variant"] for r in records] == list(litmus.TESTS["SB"].verdicts)
    assert {r["lkmm"] for r in records} == {"Sometimes", "Never"}


@two_cpus
@x86
def test_cli_litmus_busted_barrier_exits_nonzero() -> None:
    """A forbidden outcome (busted smp_mb) makes `kbind litmus` exit 1 and say so."""
    proc = kbind_cli(
        "litmus", "SB", "--variant", "mb", "--busted-barrier", "--iterations", "3000000"
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FORBIDDEN" in proc.stdout


def test_cli_litmus_bad_arguments_exit_2() -> None:
    """Unknown tests and non-numeric iterations are one-line usage errors (exit 2)."""
    for args in (["litmus", "NOPE"], ["litmus", "SB", "--iterations", "many"]):
        proc = kbind_cli(*args)
        assert proc.returncode == 2
        assert "error:" in proc.stderr
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


def test_litmus_variant_once_names_marked_accesses() -> None:
    """The marked-access variant is "once" (READ_ONCE/WRITE_ONCE); "plain" is not a variant."""
    assert "once" in litmus.VARIANTS and "plain" not in litmus.VARIANTS
    assert "READ_ONCE/WRITE_ONCE" in litmus.VARIANTS["once"][1]
    assert litmus.VARIANTS["once"][0] == lib.KB_LITMUS_ONCE
    assert all("once" in spec.verdicts and "plain" not in spec.verdicts
               for spec in litmus.TESTS.values())  # fmt: skip
    r = litmus.run("MP", iterations=50)
    assert r.variant == "once" and r.as_dict()["variant"] == "once"
    with pytest.raises(ValueError, match="no variant 'plain'"):
        litmus.run("SB", "plain", 10)


def fake(test: str, variant: str, seen: int, *, arch: str = "x86_64", cpus: int = 8,
         busted: bool = False) -> litmus.LitmusResult:  # fmt: skip
    spec = litmus.TESTS[test]
    return litmus.LitmusResult(
        test=test, variant=variant, lkmm=spec.verdicts[variant], iterations=1000,
        histogram={}, exists_count=seen, elapsed=0.1, cpus=cpus, busted_barrier=busted,
        exists_label=spec.label(spec.exists), arch=arch,
    )  # fmt: skip


@pytest.mark.parametrize("name", TSO_FORBIDS_ONCE)
def test_litmus_note_says_x86_tso_is_stronger_than_the_lkmm(name: str) -> None:
    """An LKMM-allowed outcome x86 cannot show is explained: TSO is stronger than the LKMM."""
    r = fake(name, "once", 0)
    assert r.verdict == "not observed"
    assert "TSO, stronger than the LKMM" in r.note
    assert "means little" not in r.note
    assert r.note in litmus.format_results([r])
    assert r.as_dict()["note"] == r.note


def test_litmus_note_other_cases() -> None:
    """SB unseen on x86 asks for a longer run; other CPUs, crowded CPUs and seen outcomes differ."""
    assert "run longer" in fake("SB", "once", 0).note
    assert "TSO" not in fake("SB", "once", 0).note
    assert "run longer" in fake("SB", "wmb-rmb", 0).note
    assert "run longer" in fake("R", "rel-acq", 0).note  # R also needs only store->load
    assert "TSO" not in fake("MP", "once", 0, arch="aarch64").note
    assert "stronger than" in fake("MP", "once", 0, arch="aarch64").note
    crowded = fake("IRIW", "once", 0, cpus=2)
    assert crowded.threads_exceed_cpus and "4 threads on 2 usable CPU(s)" in crowded.note
    assert "TSO" in crowded.note
    assert fake("SB", "once", 3).note == ""  # observed: nothing to explain
    assert fake("SB", "mb", 0).note == ""  # forbidden: "never observed" is the point
    assert not fake("SB", "once", 0, cpus=2).threads_exceed_cpus


@two_cpus
@x86
def test_litmus_run_on_x86_explains_mp_not_observed() -> None:
    """A real MP once run on x86-64 is not observed, and its text says why (TSO)."""
    r = litmus.run("MP", "once", 2000)
    assert r.exists_count == 0
    assert "x86-64 is TSO" in litmus.format_results([r], histograms=False)


def test_litmus_tiny_max_seconds_is_a_bound_not_no_limit() -> None:
    """max_seconds=1e-10 stops at once: it used to become 0 ns, which C takes as "no limit"."""
    r = litmus.run("SB", "once", 10**9, max_seconds=1e-10)
    assert r.iterations < 10**9
    assert r.elapsed < 5.0
