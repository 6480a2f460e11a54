"""Compare binding designs by running them: what each catches (``kbind compare``).

For every design of a primitive (the kernel's C API with its debug options
off and on, the original proposals in :mod:`kbind.rcu`, the mainline mirrors
in :mod:`kbind.kernel`, the RFC mirrors in :mod:`kbind.rfc`, the seqlock,
atomic and lock designs) and every misuse scenario of the catalog
(``kbind explain --list``), :func:`run` runs the scenario on the design and
classifies the outcome: **ruled out** (mypy rejects the program),
**caught** (a named kbind error), **let through** (and what followed), or
**n/a**.  Nothing in the matrix is written by hand: docs/misuse.md's matrix
is generated from a run (``kbind compare --markdown``) and a test fails when
the committed copy differs.

Example::

    from kbind import compare
    m = compare.run(rows=["R01"])
    print(m.cell("R01", "kernel_c").label)  # let through: later UseAfterFreeError
"""

from __future__ import annotations

from collections.abc import Iterable

from kbind.compare import (
    atomic_designs,
    atomic_scenarios,
    lock_designs,
    lock_scenarios,
    rcu_designs,
    rcu_scenarios,
    seqlock_designs,
    seqlock_scenarios,
)
from kbind.compare.model import PRIMITIVES, Cell, Design, Scenario, Verdict
from kbind.compare.runner import Matrix, run_cell, run_matrix

__all__ = [
    "DESIGNS",
    "PRIMITIVES",
    "SCENARIOS",
    "Cell",
    "Design",
    "Matrix",
    "Scenario",
    "Verdict",
    "design",
    "designs_named",
    "run",
    "run_cell",
    "scenario",
]

#: Every design, grouped by primitive, in column order.
DESIGNS: list[Design] = [
    *rcu_designs.DESIGNS,
    *seqlock_designs.DESIGNS,
    *atomic_designs.DESIGNS,
    *lock_designs.DESIGNS,
]

#: Every scenario, grouped by primitive, in row order.
SCENARIOS: list[Scenario] = [
    *rcu_scenarios.SCENARIOS,
    *seqlock_scenarios.SCENARIOS,
    *atomic_scenarios.SCENARIOS,
    *lock_scenarios.SCENARIOS,
]


def design(name: str, primitive: str | None = None) -> Design:
    """Return the design called ``name`` (of ``primitive``, when one name has several).

    A name is a module under kbind, and ``kernel_c`` has a column in more
    than one group (its RCU API and its locks): without ``primitive`` the
    first is returned.  ``KeyError`` names the known designs otherwise.
    """
    for d in DESIGNS:
        if d.name == name and primitive in (None, d.primitive):
            return d
    known = ", ".join(dict.fromkeys(d.name for d in DESIGNS))
    raise KeyError(f"no design {name!r}; known: {known}")


def designs_named(names: Iterable[str]) -> list[Design]:
    """Return every design (of any primitive) with one of ``names``, in column order."""
    wanted = list(names)
    for n in wanted:
        design(n)  # KeyError for an unknown name
    return [d for d in DESIGNS if d.name in wanted]


def scenario(row: str) -> Scenario:
    """Return the scenario of catalog code ``row`` (``KeyError`` otherwise)."""
    for s in SCENARIOS:
        if s.id == row.upper():
            return s
    raise KeyError(f"no scenario {row!r}; known: {', '.join(s.id for s in SCENARIOS)}")


def run(
    designs: Iterable[str] | None = None,
    rows: Iterable[str] | None = None,
    *,
    typecheck: bool = True,
    timeout: float = 30.0,
) -> Matrix:
    """Run the matrix, optionally only some designs (by name) and rows (by code).

    ``typecheck`` asks mypy to confirm every ruled-out cell (one mypy run).
    """
    ds = DESIGNS if designs is None else designs_named(designs)
    ss = SCENARIOS if rows is None else [scenario(r) for r in rows]
    return run_matrix(ds, ss, typecheck=typecheck, timeout=timeout)
