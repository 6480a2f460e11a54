"""The numbered lessons in examples/: no gaps, documented, each reporting its outcome.

This module runs each lesson (tests/test_examples.py runs the other examples)
with ``-W error``, requires exit status 0 and the lesson's own ``LESSON NN OK``
marker, and checks the course's shape.
"""

from __future__ import annotations

import ast
import pathlib
import re
import subprocess
import sys

import pytest

from tests.support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "examples").glob("lesson*.py"))
EXPECTED = 15
#: Names the docstring may use for the kernel side of the pattern.
KERNEL_WORDS = re.compile(r"rcu_read_lock|synchronize_rcu|call_rcu|read_seqbegin|smp_|"
                          r"rcu_quiescent_state|rcu_dereference|kfree_rcu|atomic_")  # fmt: skip


def _number(path: pathlib.Path) -> int:
    m = re.fullmatch(r"lesson(\d\d)_[a-z0-9_]+\.py", path.name)
    assert m, f"{path.name}: lessons are named lessonNN_topic.py"
    return int(m.group(1))


def test_lessons_numbered_without_gaps() -> None:
    """The lessons are lesson01 .. lessonNN (NN = EXPECTED), one file per number."""
    assert [_number(p) for p in LESSONS] == list(range(1, EXPECTED + 1))


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_docstring_names_kernel_pattern(path: pathlib.Path) -> None:
    """Each lesson's module docstring says which kernel pattern (and Rust name) it mirrors."""
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc, f"{path.name} has no module docstring"
    assert doc.startswith(f"Lesson {_number(path)}:"), doc.splitlines()[0]
    assert "Kernel pattern:" in doc
    assert "Rust" in doc
    assert KERNEL_WORDS.search(doc), "the docstring names no kernel API"
    assert "Documentation/" in doc, "the docstring names no kernel documentation file"
    assert "Exits 1" in doc or "exits 0" in doc


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_prints_its_expected_outcome_marker(path: pathlib.Path) -> None:
    """Run under -W error, each lesson exits 0 and its last line is ``LESSON NN OK: ...``."""
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(path)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith(f"LESSON {_number(path):02d} OK: "), proc.stdout
    assert "FAILED" not in proc.stdout
