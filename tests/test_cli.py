"""The kbind command, driven as a user would: in a subprocess."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]


def kbind(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kbind", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_cli_tour_succeeds_with_summary_table() -> None:
    """`kbind tour` runs every step, prints the summary and exits 0."""
    proc = kbind("tour", "--verbose")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "summary" in proc.stdout
    assert "all steps behaved" in proc.stdout
    assert "FAIL" not in proc.stdout
    assert "LifetimeError" in proc.stdout or "was dropped" in proc.stdout


def test_cli_bad_arguments_exit_2_with_one_line_error() -> None:
    """Unknown commands and options give a usage error and exit status 2."""
    for args in (("frobnicate",), ("tour", "--no-such-option"), ()):
        proc = kbind(*args)
        assert proc.returncode == 2, args
        assert "error:" in proc.stderr
