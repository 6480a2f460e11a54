"""Every script in examples/ runs: exit status 0 and some output.

The numbered lessons (``lessonNN_*.py``) are run by tests/test_lessons.py, which
also checks their ``LESSON NN OK`` marker; this module runs the other examples.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from tests.support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("lesson"))


def test_examples_exist() -> None:
    """The examples directory is not empty (so the parametrized test below runs something)."""
    assert len(EXAMPLES) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs_and_checks_its_outcome(path: pathlib.Path) -> None:
    """The example exits 0 (each one checks its own expected outcome) and prints something."""
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=child_env(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip()
