"""docs/ARCHITECTURE.md's name map matches the code: each kbind C and Python name it gives exists.

The map pairs each kernel C item and its Rust-for-Linux binding with kbind's
C function and Python name.  Here every ``kb_*`` name of the "kbind C"
column must be declared by the C API (csrc/kbind_api.h) or defined in the
hot-path extension, and every ``kbind.x.y`` path and capitalised type name of
the "kbind Python" column must resolve, so a rename cannot leave the map
behind.
"""

from __future__ import annotations

import importlib
import re

import kbind
from tests.support import CSRC, ROOT


def _rows() -> list[list[str]]:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    section = text.split("## Name map", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]
    assert rows[0] == ["kernel C", "Rust-for-Linux", "kbind C", "kbind Python"], rows[0]
    return rows[1:]


def _c_names() -> str:
    return (CSRC / "kbind_api.h").read_text() + "".join(
        p.read_text() for p in sorted((CSRC / "pyext").glob("*.[ch]"))
    )


def _resolve(dotted: str) -> object:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def test_the_map_has_rows() -> None:
    """The table was found and read (so the checks below check something)."""
    assert len(_rows()) > 20


def test_every_kbind_c_name_exists() -> None:
    """Each ``kb_*`` name of the kbind C column is in the C API (a ``kb_x*`` prefix: some name)."""
    api = _c_names()
    missing = []
    for row in _rows():
        for name, star in re.findall(r"\b(kb_[a-z0-9_]+)(\*?)", row[2]):
            pattern = rf"\b{name}\w*" if star or name.endswith("_") else rf"\b{name}\b"
            if not re.search(pattern, api):
                missing.append(name + star)
    assert not missing, f"names in the map's kbind C column that the C API lacks: {missing}"


def test_every_kbind_python_name_resolves() -> None:
    """Each ``kbind.a.b`` path and type name (``SpinLock[T]``) of the kbind Python column exists."""
    missing = []
    for row in _rows():
        cell = row[3]
        for dotted in re.findall(r"\bkbind(?:\.\w+)+", cell):
            try:
                _resolve(dotted)
            except (ImportError, AttributeError):
                missing.append(dotted)
        for name in re.findall(r"(?<![\w.])([A-Z][A-Za-z0-9]+)(?=[\[`(./ ,]|$)", cell):
            if not hasattr(kbind, name):
                missing.append(name)
    assert not missing, f"names in the map's kbind Python column that kbind lacks: {missing}"
