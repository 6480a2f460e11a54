"""Tests for ``kbind stress``: the CPU list, the summary, the JSON report, the exit status."""

from __future__ import annotations

import argparse
import json
import os

import pytest

from kbind.cli.stress import STRESS_ORDER, cpu_model, format_cpus, parse_cpus, split_threads
from tests.test_cli import assert_usage_error, kbind


@pytest.mark.parametrize(
    ("text", "cpus"),
    [
        ("0", [0]),
        ("0-3", [0, 1, 2, 3]),
        ("0,2,4-6", [0, 2, 4, 5, 6]),
        ("3,1,1-2", [1, 2, 3]),
        (" 1 , 0 ", [0, 1]),
    ],
)
def test_parse_cpus_ranges_and_lists(text: str, cpus: list[int]) -> None:
    """Ranges and lists parse to a sorted list without repeats; format_cpus reads back."""
    assert parse_cpus(text) == cpus
    assert parse_cpus(format_cpus(cpus)) == cpus


@pytest.mark.parametrize("text", ["", "x", "3-1", "-1", "0-", "1,,2", "0-1024", "1.5"])
def test_parse_cpus_refuses_bad_lists(text: str) -> None:
    """A malformed or out-of-range CPU list is an argparse error (exit 2 on the command line)."""
    with pytest.raises(argparse.ArgumentTypeError):
        parse_cpus(text)


def test_format_cpus_short_form() -> None:
    """Consecutive CPUs fold into ranges."""
    assert format_cpus([0, 1, 2, 3, 6, 8, 9]) == "0-3,6,8-9"


def test_split_threads_fills_the_cpus() -> None:
    """One thread per CPU: one updater and the rest readers; the lock torture half writers."""
    assert split_threads("rcu", 16) == (15, 1)
    assert split_threads("rcu", 1) == (1, 1)
    assert split_threads("lock", 16) == (8, 8)
    assert split_threads("lock", 2) == (1, 1)


def test_cpu_model_is_named() -> None:
    """The machine description has a CPU model (never empty)."""
    assert cpu_model().strip()


def test_cli_stress_json_summary_and_machine() -> None:
    """A short ``kbind stress --json`` runs every torture and describes the machine."""
    proc = kbind("stress", "--duration", "0.05", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(proc.stdout)["result"]
    assert [r["torture"] for r in res["runs"]] == list(STRESS_ORDER)
    usable = len(os.sched_getaffinity(0))
    for r in res["runs"]:
        assert r["passed"] is True and r["verdict"] == "SUCCESS"
        assert r["threads"] >= 2 and r["rates"] and r["elapsed"] > 0
    m = res["machine"]
    assert m["cpu_model"] and m["usable_cpus"] == usable and m["arch"] and m["backend"]
    assert res["cpus"] == sorted(os.sched_getaffinity(0)) and res["passed"] is True


def test_cli_stress_text_table_on_one_cpu() -> None:
    """The text summary: the machine line, one row per torture, the verdict line."""
    cpu = str(min(os.sched_getaffinity(0)))
    proc = kbind("stress", "--duration", "0.05", "--cpus", cpu)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert f"on CPUs {cpu}," in out and "machine: " in out and "RCU backend" in out
    for name in STRESS_ORDER:
        assert any(line.startswith(f"{name} ") and "SUCCESS" in line for line in out.splitlines())
    assert out.rstrip().endswith(f"all {len(STRESS_ORDER)} passed")


@pytest.mark.parametrize("cpus", ["x", "3-1", ""])
def test_cli_stress_bad_cpu_list_exit_2(cpus: str) -> None:
    """A malformed --cpus is one usage line, exit 2."""
    assert_usage_error(kbind("stress", "--cpus", cpus), "--cpus")


def test_cli_stress_unusable_cpu_exit_2() -> None:
    """A CPU outside the affinity mask is refused before anything runs."""
    assert_usage_error(kbind("stress", "--cpus", "0-1023"), "not usable")
