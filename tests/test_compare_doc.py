"""The generated matrix in docs/misuse.md and the README's excerpt are what a run gives.

Both come from one run of every scenario on every design (the session's
``compare_matrix``), so a change to a design, an adapter or a scenario that
moves a cell fails here until ``kbind compare --write-doc docs/misuse.md``
regenerates the section (and the README excerpt is updated by hand from
``render.excerpt``).
"""

from __future__ import annotations

import pathlib
from typing import Any

from kbind import compare
from kbind.compare import render
from kbind.compare.model import PRIMITIVES, Verdict
from kbind.explain.rules import RULES

ROOT = pathlib.Path(__file__).resolve().parents[1]

#: The rows and designs the README shows.
README_ROWS = ["R01", "R04", "R05", "R13", "R16"]
README_DESIGNS = ["kernel_c", "kernel_c+debug", "rcu", "rfc.rcu_pointer"]


def test_no_scenario_fails_to_run(compare_matrix: Any) -> None:
    assert [(c.row, c.design, c.summary, c.detail) for c in compare_matrix.errors()] == []


def test_every_catalog_row_has_a_scenario_and_every_primitive_designs() -> None:
    ids = [s.id for s in compare.SCENARIOS]
    assert len(ids) == len(set(ids))
    assert sorted(ids) == sorted(RULES), "rows without a scenario, or scenarios without a row"
    for prim in PRIMITIVES:
        assert [d for d in compare.DESIGNS if d.primitive == prim], prim


def test_every_cell_was_run(compare_matrix: Any) -> None:
    expected = {
        (s.id, d.name)
        for s in compare.SCENARIOS
        for d in compare.DESIGNS
        if d.primitive == s.primitive
    }
    assert {(c.row, c.design) for c in compare_matrix.cells} == expected
    ruled_out = [c for c in compare_matrix.cells if c.verdict is Verdict.RULED_OUT]
    assert ruled_out, "no design rules anything out?"


def test_docs_misuse_md_holds_the_generated_matrix(compare_matrix: Any) -> None:
    doc = (ROOT / "docs" / "misuse.md").read_text()
    assert render.BEGIN in doc and render.END in doc
    section = doc[doc.index(render.BEGIN) : doc.index(render.END) + len(render.END)]
    assert section == render.markdown(compare_matrix), (
        "docs/misuse.md is out of date: run kbind compare --write-doc docs/misuse.md"
    )


def test_readme_shows_rows_of_the_generated_matrix(compare_matrix: Any) -> None:
    readme = (ROOT / "README.md").read_text()
    table = render.excerpt(compare_matrix, README_ROWS, README_DESIGNS)
    assert table in readme, "README.md's excerpt differs from a run:\n" + table
