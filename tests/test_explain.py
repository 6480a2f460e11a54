"""`kbind explain` and KbindError.explain(): every public error and warning is explained."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

import kbind.errors
from kbind import LifetimeError, RcuStallWarning
from kbind.explain import EXPLANATIONS, UnknownNameError, explain, lookup
from kbind.explain.rules import RULES
from tests.support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
PUBLIC = sorted(kbind.errors.__all__)
DOC_PREFIXES = ("Documentation/", "tools/memory-model/", "include/linux/", "kernel/")


def kbind_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kbind", *args], capture_output=True, text=True, timeout=60,
        cwd=ROOT, env=child_env(),
    )  # fmt: skip


def test_every_public_error_and_warning_has_an_explanation() -> None:
    """Each class in kbind.errors.__all__ has an entry, and every entry is such a class."""
    assert sorted(EXPLANATIONS) == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_explanation_complete_with_kernel_docs(name: str) -> None:
    """Each explanation has a rule, wrong and right examples and kernel files (no URLs)."""
    e = EXPLANATIONS[name]
    assert e.rule and e.wrong.strip() and e.right.strip() and e.rust
    assert e.kernel_docs and all(d.startswith(DOC_PREFIXES) for d in e.kernel_docs)
    assert all(re.fullmatch(r"[RSAL]\d\d", row) for row in e.misuse)
    text = e.render()
    assert text.startswith(f"{name}: ") and "Kernel documentation: " in text
    assert "http" not in text


def test_error_class_explain_matches_lookup() -> None:
    """KbindError.explain() (on the class or an instance) gives the same text as explain()."""
    assert LifetimeError.explain() == explain("LifetimeError")
    assert RcuStallWarning.explain() == explain("RcuStallWarning")
    err = LifetimeError("use it", "the guard was dropped")
    assert "R01" in err.explain()


def test_lookup_unknown_name_lists_known_ones() -> None:
    """An unknown name raises UnknownNameError naming every known class; case is ignored."""
    assert lookup("kbind.deadlockerror").name == "DeadlockError"
    with pytest.raises(UnknownNameError) as info:
        lookup("NoSuchError")
    assert "LifetimeError" in str(info.value) and "NoSuchError" in str(info.value)


def test_cli_explain_prints_rule_and_kernel_doc() -> None:
    """`kbind explain DeadlockError` prints the rule and the kernel documentation, exit 0."""
    proc = kbind_cli("explain", "DeadlockError")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("DeadlockError: ")
    assert "Documentation/RCU/checklist.rst" in proc.stdout and "R05" in proc.stdout


def test_cli_explain_unknown_name_exits_2_listing_known() -> None:
    """An unknown name exits 2 with one error line listing the known names."""
    proc = kbind_cli("explain", "Bogus")
    assert proc.returncode == 2
    assert "Bogus" in proc.stderr and "TentativeValueError" in proc.stderr
    assert proc.stdout == ""


def test_cli_explain_list() -> None:
    """`kbind explain --list` lists every explained class, then every rule code."""
    proc = kbind_cli("explain", "--list")
    assert proc.returncode == 0
    first = [line.split()[0] for line in proc.stdout.splitlines()]
    assert set(first) == set(PUBLIC) | set(RULES)
    assert first[len(PUBLIC) :] == list(RULES)
