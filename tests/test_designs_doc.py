"""docs/designs.md lists every design: each module it names imports, each design module is there,
and each example it names exists."""

from __future__ import annotations

import importlib
import pkgutil
import re

import kbind.kernel
import kbind.kernel.sync
import kbind.rfc
from tests.support import ROOT

DOC = (ROOT / "docs" / "designs.md").read_text()
ROWS = re.findall(r"^\| `(kbind[\w.]*)` \|.*\| ([^|]*) \|$", DOC, re.M)


def test_the_table_was_read() -> None:
    """The table has its rows (so the checks below check something)."""
    assert len(ROWS) >= 15


def test_every_named_module_imports() -> None:
    """Each module in the table is a real module."""
    for module, _ in ROWS:
        importlib.import_module(module)


def test_every_design_module_is_in_the_table() -> None:
    """Every design module (kbind.kernel.*, kbind.kernel.sync.*, kbind.rfc.*) has its row."""
    named = {m for m, _ in ROWS}
    designs = {
        f"{parent.__name__}.{info.name}"
        for parent in (kbind.kernel, kbind.kernel.sync, kbind.rfc)
        for info in pkgutil.iter_modules(parent.__path__)
        if not info.name.startswith("_") and info.name != "sync"
    }
    missing = sorted(d for d in designs if d not in named)
    assert not missing, f"designs without a row in docs/designs.md: {missing}"


def test_every_named_example_exists() -> None:
    """The example column names files of examples/ (a glob must match something)."""
    for module, cell in ROWS:
        for name in re.findall(r"`([\w*]+\.py)`", cell):
            assert list((ROOT / "examples").glob(name)), f"{module}: no examples/{name}"
