"""Tests for ``kbind torture KIND --scale``: the steps, the ratios, the refusals."""

from __future__ import annotations

import json
import os
import pathlib

import pytest

from kbind.cli.scale import scale_steps
from tests.test_cli import assert_usage_error, kbind


def test_scale_steps_powers_of_two_then_the_cpu_count() -> None:
    """1, 2, 4, ... below the CPU count, then the CPU count itself."""
    assert scale_steps(1) == [1]
    assert scale_steps(2) == [1, 2]
    assert scale_steps(6) == [1, 2, 4, 6]
    assert scale_steps(16) == [1, 2, 4, 8, 16]


@pytest.mark.parametrize("kind", ["rcu", "seqlock"])
def test_cli_scale_steps_and_ratio(kind: str) -> None:
    """Each step runs with its reader count; ratios are to the one-reader step."""
    proc = kbind("torture", kind, "--scale", "--duration", "0.1", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    res = json.loads(proc.stdout)["result"]
    steps = res["steps"]
    assert [s["readers"] for s in steps] == scale_steps(len(os.sched_getaffinity(0)))
    assert steps[0]["read_ratio"] == 1.0 and steps[0]["update_ratio"] == 1.0
    for s in steps:
        assert s["passed"] and s["reads_per_s"] > 0 and s["reads"] > 0
        assert s["read_ratio"] == pytest.approx(s["reads_per_s"] / steps[0]["reads_per_s"], 1e-2)
    assert res["scale"] is True and res["passed"] is True


def test_cli_scale_text_table() -> None:
    """The text table has one row per step and the scaling verdict."""
    proc = kbind("torture", "lock", "--scale", "--duration", "0.05")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "x1 reader" in proc.stdout and "1.00x" in proc.stdout
    assert proc.stdout.rstrip().endswith("End of scaling: SUCCESS")


def test_cli_scale_refusals() -> None:
    """--scale on a torture without a reader side, with --busted, and --plot alone: exit 2."""
    assert_usage_error(kbind("torture", "atomic", "--scale"), "--scale", "atomic")
    assert_usage_error(kbind("torture", "rcu", "--scale", "--busted", "reader"), "--busted")
    assert_usage_error(kbind("torture", "rcu", "--plot", "x.png"), "--plot")


def test_cli_scale_plot_draws_the_curve(tmp_path: pathlib.Path) -> None:
    """--scale --plot FILE writes the picture (skipped without matplotlib)."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "scale.png"
    proc = kbind("torture", "seqlock", "--scale", "--duration", "0.05", "--plot", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out.stat().st_size > 0 and f"wrote {out}" in proc.stdout
