"""What ``kbind compare`` is made of: designs, scenarios, verdicts and cells.

A **scenario** is one way to misuse a primitive (a row of the misuse
catalog, ``kbind explain R01``), written once against an *adapter*: a small
object per design that says how that design reads, updates and frees.  A
**design** is one binding of a primitive (the kernel's C API, the original
Rust proposal, a mainline mirror, an RFC mirror).  Running a scenario on a
design gives a **cell** with one of four verdicts:

* ``ruled out`` -- the design offers no way to write it: the adapter raises
  :class:`RuledOut` with the source a user would have to write, and
  ``mypy --strict`` must reject that source (the analog of "does not
  compile"; :mod:`kbind.compare.typecheck`);
* ``caught`` -- the run raised (or warned with) a named kbind error; the
  cell records how many of the sites the scenario asks for the message names;
* ``let through`` -- it ran on; the scenario says what followed (a later
  ``UseAfterFreeError``, a wrong value, a leak);
* ``n/a`` -- the design has no such operation (:class:`NotApplicable`).

A fifth verdict, ``error``, means the scenario itself failed (a bug in the
adapter or the scenario, never a property of the design); tests fail on it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "PRIMITIVES",
    "Adapter",
    "Cell",
    "Design",
    "NotApplicable",
    "RuledOut",
    "Scenario",
    "Verdict",
]

#: Primitive -> heading of its group of rows (and the designs shown beside them).
PRIMITIVES: dict[str, str] = {
    "rcu": "RCU",
    "seqlock": "Sequence locks",
    "atomic": "Atomics",
    "lock": "Locks",
}


class Verdict(enum.Enum):
    """How a design fares against one misuse scenario."""

    RULED_OUT = "ruled out"
    CAUGHT = "caught"
    LET_THROUGH = "let through"
    NOT_APPLICABLE = "n/a"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class RuledOut(Exception):
    """Raised by an adapter step the design offers no way to write.

    Args:
        why: one line, e.g. ``"read() takes the guard"``.
        snippet: the module a user would have to write; the line of the
            misuse ends with ``# misuse``, and ``mypy --strict`` must report
            an error on that line for the verdict to stand.
    """

    def __init__(self, why: str, snippet: str) -> None:
        super().__init__(why)
        self.why = why
        self.snippet = snippet


class NotApplicable(Exception):
    """Raised by an adapter step the design has no counterpart for (one line: why)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Adapter:
    """How one design does each step a scenario needs; one fresh instance per cell.

    Subclasses implement the steps of their primitive (see the ``*_designs``
    modules); a step the design lacks raises :class:`NotApplicable` or
    :class:`RuledOut`.  :meth:`session` wraps the whole cell (for example
    switching the C API's debug options).
    """

    def session(self) -> AbstractContextManager[object]:
        """Return a context entered around the cell's run (default: nothing)."""
        return nullcontext()

    def cleanup(self) -> None:
        """Clean up after the cell, on the cell's thread, even when it failed."""


@dataclass(frozen=True)
class Design:
    """One binding of a primitive: a column of the matrix.

    Attributes:
        name: the column's name: the design's module under ``kbind``
            (``rcu`` is :mod:`kbind.rcu`, ``kernel.sync.rcu`` is
            :mod:`kbind.kernel.sync.rcu`), with ``+debug`` for the C API with
            its debug options on.
        primitive: a key of :data:`PRIMITIVES`.
        mirrors: what it mirrors (Rust item or C API) and its source.
        make: builds a fresh adapter for one cell.
    """

    name: str
    primitive: str
    mirrors: str
    make: Callable[[], Adapter]


@dataclass(frozen=True)
class Scenario:
    """One misuse, written once against the adapter of its primitive.

    Attributes:
        id: the rule code of the misuse catalog (``R01``); ``kbind explain ID``.
        primitive: a key of :data:`PRIMITIVES`.
        run: the scenario; it returns one line saying what followed when the
            design let it through (``"later UseAfterFreeError"``, ``"read 1,
            expected 2"``), or raises what the design raised.
        sites: how many distinct call sites a catching message must name
            (2 for "where the guard was created and where it was dropped").
        fine: the row is not a bug (nested guards dropped out of order): a
            design that lets it through is right to.
        accepts: builtin exception names that count as caught for this row
            (``OverflowError`` for an operand that does not fit); kbind's own
            errors always do.
    """

    id: str
    primitive: str
    run: Callable[[Any], str]
    sites: int = 2
    fine: bool = False
    accepts: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """The misuse, from the catalog (``kbind explain``)."""
        from kbind.explain.rules import RULES

        return RULES[self.id].misuse


@dataclass(frozen=True)
class Cell:
    """The result of running one scenario on one design.

    Attributes:
        row: the scenario's id.
        design: the design's name.
        verdict: the classification.
        summary: a short, stable phrase (an error class, a consequence, a
            reason); the generated docs use it, so it holds no line numbers.
        detail: the longer account (the message's first line, the sites,
            mypy's message); it may name files and lines.
        sites: distinct call sites the catching message names.
        sites_needed: how many the scenario asks for.
        snippet: for ``ruled out``, the source mypy was asked to reject.
        typecheck: for ``ruled out``, what mypy said (``None`` until checked).
        raised: the kbind error or warning classes a caught cell raised.
        fine: the row is not a bug (:attr:`Scenario.fine`).
    """

    row: str
    design: str
    verdict: Verdict
    summary: str
    detail: str = ""
    sites: int = 0
    sites_needed: int = 0
    snippet: str | None = None
    typecheck: str | None = None
    raised: tuple[str, ...] = field(default=())
    fine: bool = False

    @property
    def label(self) -> str:
        """``verdict: summary`` as the table prints it."""
        return f"{self.verdict}: {self.summary}" if self.summary else str(self.verdict)

    def as_dict(self) -> dict[str, Any]:
        """Return the cell as JSON-ready data."""
        return {
            "row": self.row,
            "design": self.design,
            "verdict": self.verdict.value,
            "summary": self.summary,
            "detail": self.detail,
            "sites": self.sites,
            "sites_needed": self.sites_needed,
            "snippet": self.snippet,
            "typecheck": self.typecheck,
            "raised": list(self.raised),
            "fine": self.fine,
        }


def iter_designs(designs: list[Design], primitive: str) -> Iterator[Design]:
    """Yield the designs of one primitive, in column order."""
    return (d for d in designs if d.primitive == primitive)
