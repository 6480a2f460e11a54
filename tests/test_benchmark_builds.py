"""The native benchmark programs build from the current tree (a moved C file cannot break them).

``python benchmarks/run.py`` compiles three C programs with kbind's C core:
the barrier benchmark, the RCU backend benchmark and the inlined read-side
comparison with liburcu (only where liburcu's development files are
installed).  Each is built here through the benchmark's own build function,
so the sources it lists and the headers it includes are the tree's.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.support import ROOT

BENCHMARKS = ROOT / "benchmarks"


@pytest.fixture
def bench() -> Iterator[None]:
    """The benchmark scripts import each other as siblings: put their folder on sys.path."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield None
    finally:
        sys.path.remove(str(BENCHMARKS))


def _module(name: str) -> ModuleType:
    return importlib.import_module(name)


def test_barrier_benchmark_builds(bench: None) -> None:
    """benchmarks/native/barrier_bench.c compiles and links with the C core."""
    util = _module("_util")
    exe = util.build_native("barrier_bench", [BENCHMARKS / "native" / "barrier_bench.c"])
    assert exe.exists() and os.access(exe, os.X_OK)


def test_rcu_backend_benchmark_builds(bench: None) -> None:
    """benchmarks/native/rcu_backend_bench.c compiles and links with the C core."""
    exe = _module("rcu_backends").build()
    assert exe.exists() and os.access(exe, os.X_OK)


def test_rcu_vs_liburcu_benchmark_builds(bench: None) -> None:
    """benchmarks/native/rcu_bench.c (kbind's inlined read side against liburcu's) builds."""
    mod = _module("rcu_vs_liburcu")
    if not mod.have_liburcu():
        pytest.skip("liburcu's development files are not installed (apt-get install liburcu-dev)")
    exe = mod.build()
    assert exe.exists() and os.access(exe, os.X_OK)


def test_designs_benchmark_runs_and_prints_each_design() -> None:
    """benchmarks/designs_bench.py --quick runs and prints a ratio row for every RCU design."""
    import subprocess

    from tests.support import child_env

    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "designs_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=300, env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for design in ("kbind.rcu", "kbind.kernel.sync.rcu", "kbind.kernel_c"):
        assert f"| `{design}` |" in proc.stdout, proc.stdout


def test_rcu_list_benchmark_runs_and_prints_both_targets() -> None:
    """benchmarks/rcu_list_bench.py --quick runs and prints the list and hash-table ratios."""
    import subprocess

    from tests.support import child_env

    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "rcu_list_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=300, env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for row in ("| `RcuList.lookup(g, key)`", "| `RcuHashTable.lookup(g, key)`"):
        assert row in proc.stdout and "<= 2.0x" in proc.stdout, proc.stdout
    assert "Targets: RcuList.lookup <= 2.0x and RcuHashTable.lookup <= 2.0x" in proc.stdout


def test_rcu_list_native_benchmark_runs_and_prints_both_ratios() -> None:
    """benchmarks/rcu_list_native_bench.py --quick runs the native readers, prints both rows."""
    import subprocess

    from tests.support import child_env

    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "rcu_list_native_bench.py"), "--quick"],
        capture_output=True, text=True, timeout=300, env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    for label in ("synchronize_rcu()", "call_rcu()"):
        assert f"| 1 updater, freeing after {label} |" in proc.stdout, proc.stdout
    assert proc.stdout.count("x | >= 0.5x |") == 2, proc.stdout


@pytest.mark.parametrize("without_liburcu", [False, True])
def test_rcu_scaling_benchmark_runs_tiny(without_liburcu: bool) -> None:
    """benchmarks/rcu_scaling.py --tiny builds and prints one row per thread step.

    With ``--no-liburcu`` (as on a machine without liburcu) it says so and
    reports kbind alone.
    """
    import subprocess

    from tests.support import child_env

    args = ["--tiny", "--max-threads", "2", *(["--no-liburcu"] if without_liburcu else [])]
    proc = subprocess.run(
        [sys.executable, str(BENCHMARKS / "rcu_scaling.py"), *args],
        capture_output=True, text=True, timeout=300, env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ") and "x)" in line]
    assert [r.split("|")[1].strip() for r in rows] == ["1", "2"], proc.stdout
    assert "kbind seqlock" in proc.stdout and "(1.00x)" in rows[0]
    if without_liburcu:
        assert "liburcu is absent" in proc.stdout and "kbind / liburcu" not in proc.stdout
