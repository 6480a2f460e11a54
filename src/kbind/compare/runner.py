"""Run a scenario on a design and classify what happened (one :class:`Cell`).

Each cell runs on a thread of its own, so what a scenario leaves behind (a
guard it leaked on purpose, a thread registered with the RCU engine, a
lock's owner) ends with that thread and never reaches the next cell.  The
run is bounded: a cell that does not finish in ``timeout`` seconds is an
``error`` (kbind never hangs; a scenario that does is a bug).  Warnings and
exceptions reported through ``sys.unraisablehook`` (a failing RCU callback)
are recorded while the cell runs, and once more after a garbage collection
(a leaked guard warns when it is collected).
"""

from __future__ import annotations

import gc
import re
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from kbind.compare.model import Cell, Design, NotApplicable, RuledOut, Scenario, Verdict
from kbind.errors import KbindError, KbindWarning

__all__ = ["Matrix", "count_sites", "run_cell", "run_matrix"]

#: A call site in a kbind message: ``file.py:12 in func() on thread 'T'``.
_SITE = re.compile(r"(\S+\.py|<[^>]+>):(\d+) in \S+\(\)(?: on thread '([^']*)')?")


def count_sites(message: str) -> int:
    """Return how many distinct call sites a kbind message names.

    A site is a line on a thread: the same line reached on two threads (two
    threads taking locks in opposite orders through one helper) is two.
    """
    return len(set(_SITE.findall(message)))


@dataclass
class _Run:
    """What one cell's thread produced."""

    returned: str | None = None
    exc_type: type[BaseException] | None = None
    message: str = ""
    why: str = ""
    snippet: str | None = None
    warned: list[tuple[type[Warning], str]] = field(default_factory=list)
    unraisable: list[tuple[type[BaseException], str]] = field(default_factory=list)
    finished: bool = False


@contextmanager
def _recording(run: _Run) -> Iterator[None]:
    """Record warnings and unraisable exceptions from every thread into ``run``."""
    previous = sys.unraisablehook

    def hook(args: Any) -> None:
        exc = args.exc_value
        if exc is not None:
            run.unraisable.append((type(exc), str(exc)))

    sys.unraisablehook = hook
    try:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                yield
            finally:
                gc.collect()
                run.warned.extend((w.category, str(w.message)) for w in seen)
    finally:
        sys.unraisablehook = previous


def _execute(target: Any, name: str, timeout: float) -> _Run:
    """Call ``target()`` on a fresh thread; record what it returned or raised."""
    run = _Run()

    def body() -> None:
        try:
            value = target()
            run.returned = value if isinstance(value, str) else repr(value)
        except BaseException as exc:  # every outcome is data here
            run.exc_type = type(exc)
            run.message = str(exc)
            if isinstance(exc, RuledOut):
                run.why, run.snippet = exc.why, exc.snippet
            elif isinstance(exc, NotApplicable):
                run.why = exc.why
            del exc  # its traceback holds the scenario's frames (and their guards)
        finally:
            run.finished = True

    with _recording(run):
        thread = threading.Thread(target=body, name=name, daemon=True)
        thread.start()
        thread.join(timeout)
    return run


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _caught(sc: Scenario, design: Design, cls: type[BaseException], message: str, how: str) -> Cell:
    return Cell(
        sc.id,
        design.name,
        Verdict.CAUGHT,
        cls.__name__ + how,
        detail=message.strip(),
        sites=count_sites(message),
        sites_needed=sc.sites,
        raised=(cls.__name__,),
    )


def _is_kbind(cls: type[BaseException], sc: Scenario) -> bool:
    return issubclass(cls, KbindError) or cls.__name__ in sc.accepts


def classify(sc: Scenario, design: Design, run: _Run, timeout: float) -> Cell:
    """Turn what a cell's thread did into its verdict."""
    if not run.finished:
        return Cell(sc.id, design.name, Verdict.ERROR, f"did not finish in {timeout:g} s")
    if run.exc_type is RuledOut:
        return Cell(
            sc.id, design.name, Verdict.RULED_OUT, run.why, detail=run.why, snippet=run.snippet
        )
    if run.exc_type is NotApplicable:
        return Cell(sc.id, design.name, Verdict.NOT_APPLICABLE, run.why, detail=run.why)
    if run.exc_type is not None:
        if _is_kbind(run.exc_type, sc):
            return _caught(sc, design, run.exc_type, run.message, "")
        return Cell(
            sc.id,
            design.name,
            Verdict.ERROR,
            f"scenario failed: {run.exc_type.__name__}",
            detail=f"{run.exc_type.__name__}: {run.message}",
        )
    for cls, message in run.unraisable:
        if _is_kbind(cls, sc):
            return _caught(sc, design, cls, message, " (in the callback)")
    for wcls, message in run.warned:
        if issubclass(wcls, KbindWarning):
            return _caught(sc, design, wcls, message, "")
    summary = run.returned or "ran on"
    return Cell(sc.id, design.name, Verdict.LET_THROUGH, summary, detail=summary, fine=sc.fine)


def run_cell(sc: Scenario, design: Design, *, timeout: float = 30.0) -> Cell:
    """Run scenario ``sc`` on ``design`` and classify the outcome (mypy not yet asked)."""

    def target() -> str:
        adapter = design.make()
        try:
            with adapter.session():
                return sc.run(adapter)
        finally:
            adapter.cleanup()

    run = _execute(target, f"kbind-compare-{sc.id}-{design.name}", timeout)
    cell = classify(sc, design, run, timeout)
    if cell.verdict is Verdict.RULED_OUT and cell.snippet is not None:
        cell = replace(cell, detail=f"{cell.detail}; at run time: {_run_snippet(cell, timeout)}")
    return cell


def _run_snippet(cell: Cell, timeout: float) -> str:
    """Execute a ruled-out cell's snippet and say what Python did with it."""
    assert cell.snippet is not None
    code = compile(cell.snippet, f"<snippet {cell.row} {cell.design}>", "exec")

    def target() -> None:
        exec(code, {"__name__": "kbind_compare_snippet", "KBIND_USER_CODE": True})

    run = _execute(target, f"kbind-compare-snippet-{cell.row}", timeout)
    if not run.finished:
        return f"did not finish in {timeout:g} s"
    if run.exc_type is None:
        return "runs"
    return f"{run.exc_type.__name__}: {_first_line(run.message)[:100]}"


@dataclass
class Matrix:
    """Every cell of one ``kbind compare`` run, with the designs and scenarios it covered."""

    designs: list[Design]
    scenarios: list[Scenario]
    cells: list[Cell]
    typechecked: bool = False

    def cell(self, row: str, design: str) -> Cell:
        """Return the cell of scenario ``row`` on design ``design`` (``KeyError`` if not run)."""
        for c in self.cells:
            if c.row == row and c.design == design:
                return c
        raise KeyError((row, design))

    def designs_of(self, primitive: str) -> list[Design]:
        """Return the columns of one primitive's group."""
        return [d for d in self.designs if d.primitive == primitive]

    def scenarios_of(self, primitive: str) -> list[Scenario]:
        """Return the rows of one primitive's group."""
        return [s for s in self.scenarios if s.primitive == primitive]

    def errors(self) -> list[Cell]:
        """Cells whose scenario failed (bugs in kbind.compare, not verdicts)."""
        return [c for c in self.cells if c.verdict is Verdict.ERROR]


def run_matrix(
    designs: Iterable[Design],
    scenarios: Iterable[Scenario],
    *,
    typecheck: bool = True,
    timeout: float = 30.0,
) -> Matrix:
    """Run every scenario on every design of its primitive, then let mypy check ruled-out cells."""
    designs, scenarios = list(designs), list(scenarios)
    cells = [
        run_cell(sc, d, timeout=timeout)
        for sc in scenarios
        for d in designs
        if d.primitive == sc.primitive
    ]
    matrix = Matrix(designs, scenarios, cells)
    if typecheck:
        from kbind.compare.typecheck import check_ruled_out

        matrix.cells = check_ruled_out(matrix.cells)
        matrix.typechecked = True
    return matrix
