"""kbind compare for sequence locks, atomics and locks: each cell expected by hand, then run.

Each (row, design) cell of the three primitives has an expectation below:
the verdict, and for a caught cell the error class and how many sites its
message names at least, for a let-through cell what followed, for a
ruled-out cell what Python does when the rejected source runs anyway.  One
run of the matrix (with mypy confirming the ruled-out cells) serves every
test; a test-local busted design shows that the classification can fail.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from kbind import compare
from kbind.compare import Matrix, Verdict
from kbind.compare.lock_designs import Mainline
from kbind.compare.model import Design

PRIMITIVES = ("seqlock", "atomic", "lock")
DESIGNS = [d.name for d in compare.DESIGNS if d.primitive in PRIMITIVES]
ROWS = [s.id for s in compare.SCENARIOS if s.primitive in PRIMITIVES]


@dataclass(frozen=True)
class Expect:
    """One cell's expected outcome.

    ``what``: the error class (caught), the consequence (let through), or the
    exception the rejected source raises at run time (ruled out).
    """

    verdict: Verdict
    what: str = ""
    sites: int = 0


def caught(error: str, sites: int = 0) -> Expect:
    return Expect(Verdict.CAUGHT, error, sites)


def through(consequence: str) -> Expect:
    return Expect(Verdict.LET_THROUGH, consequence)


def ruled_out(at_run_time: str) -> Expect:
    return Expect(Verdict.RULED_OUT, at_run_time)


NA = Expect(Verdict.NOT_APPLICABLE)

READ, LOOP, LATCH = "seqlock:read", "seqlock:read_begin", "seqlock:SeqLatch"
ATOMIC, MAINLINE_ATOMIC, WORD, REFCOUNT = "atomic", "kernel.sync.atomic", "word", "refcount"
SYNC, MAINLINE_LOCK = "sync", "kernel.sync.lock"
KC, KCD = "kernel_c", "kernel_c+debug"


def same(e: Expect, *designs: str) -> dict[str, Expect]:
    return dict.fromkeys(designs, e)


SEQ = (READ, LOOP, LATCH)
ATOMICS = (ATOMIC, MAINLINE_ATOMIC, WORD, REFCOUNT)
LOCKS = (SYNC, MAINLINE_LOCK)

EXPECTED: dict[str, dict[str, Expect]] = {
    # -- sequence locks
    # The closure reader returns only a validated result, but a value kept out of a torn
    # attempt (a side effect, S03) is a plain int; the loop's tentative value refuses.
    "S01": {
        READ: through("read 1, expected 2"),
        LOOP: caught("TentativeValueError", 2),
        LATCH: through("read 1, expected 2"),
    },
    "S02": same(caught("LifetimeError", 1), *SEQ),
    "S03": same(through("the side effect ran 2 times for one read"), *SEQ),
    "S04": same(ruled_out("TypeError"), *SEQ),
    "S05": same(ruled_out("AttributeError"), *SEQ),
    "S06": {READ: caught("DeadlockError", 2), LOOP: caught("DeadlockError", 2), LATCH: NA},
    "S07": same(ruled_out("AttributeError"), *SEQ),
    "S08": {READ: NA, LOOP: caught("GuardError", 2), LATCH: NA},
    "S09": same(caught("DeadlockError", 2), *SEQ),
    "S10": {READ: NA, LOOP: NA, LATCH: caught("LifetimeError", 1)},
    "S11": same(caught("CloneError"), *SEQ),
    # -- atomics
    "A01": {
        ATOMIC: ruled_out("OrderingError"),
        MAINLINE_ATOMIC: ruled_out("OrderingError"),
        WORD: ruled_out("AttributeError"),
        REFCOUNT: ruled_out("TypeError"),  # refcount_t's operations take no ordering
    },
    "A02": {
        ATOMIC: ruled_out("TypeError"),
        MAINLINE_ATOMIC: ruled_out("TypeError"),
        WORD: NA,
        REFCOUNT: NA,
    },
    "A03": same(caught("OverflowError"), *ATOMICS),
    "A04": same(ruled_out("AttributeError"), *ATOMICS),
    "A05": {
        **same(
            through("a failed cmpxchg orders nothing; nothing says so"), ATOMIC, MAINLINE_ATOMIC
        ),
        WORD: NA,
        REFCOUNT: NA,
    },
    "A06": same(caught("CloneError"), *ATOMICS),
    # a count kept in a plain atomic wraps from 0 to 1; refcount_t warns and saturates
    "A07": {
        **same(through("incremented a freed object's count from 0 to 1"), ATOMIC, MAINLINE_ATOMIC),
        WORD: NA,
        REFCOUNT: caught("RefcountWarning", 2),
    },
    # -- locks
    # the C API: data beside its lock; lockdep_assert_held() is the kernel's check
    "L01": same(ruled_out("AttributeError"), *LOCKS)
    | {KC: through("read the data without the lock"), KCD: caught("GuardError")},
    # g.value hands out the protected object itself: a list kept past unlock is unchecked.
    "L02": same(through("changed the protected list after unlock"), *LOCKS, KC, KCD),
    "L03": {
        KC: through("unlocked on another thread"),
        KCD: caught("GuardError", 2),  # DEBUG_SPINLOCK's wrong owner
        SYNC: caught("GuardError", 2),
        MAINLINE_LOCK: caught("GuardError", 2),
    },
    "L04": same(caught("DeadlockError", 2), *LOCKS, KC, KCD),  # kbind never spins forever
    # lockdep reports the inverted order on its first occurrence, before any deadlock
    "L05": same(through("an AB-BA order went unreported"), *LOCKS, KC)
    | {KCD: caught("DeadlockError", 2)},
    "L06": {
        KC: through("slept under a spinlock"),
        KCD: caught("AtomicContextError", 2),  # DEBUG_ATOMIC_SLEEP's might_sleep()
        SYNC: through("slept under a spinlock"),
        MAINLINE_LOCK: caught("AtomicContextError", 2),
    },
    "L07": {KC: NA, KCD: NA, SYNC: NA, MAINLINE_LOCK: caught("AtomicContextError", 2)},
    "L08": {KC: NA, KCD: NA, SYNC: NA, MAINLINE_LOCK: caught("GuardError", 3)},
    # lockdep's "lock held when returning to user space!": the cell's thread exits holding it
    "L10": same(caught("GuardLeakWarning", 1), *LOCKS, KCD) | {KC: through("the lock stays held")},
    "L11": same(caught("CloneError"), *LOCKS) | same(through("duplicated the guard"), KC, KCD),
}

CELLS = [(row, design) for row, by in EXPECTED.items() for design in by]


@pytest.fixture(scope="module")
def matrix(compare_matrix: Matrix) -> Matrix:
    """Return every cell run once (the session's run, tests/conftest.py), mypy included."""
    return compare_matrix


def test_every_cell_has_an_expectation_and_none_failed(matrix: Matrix) -> None:
    """The matrix has exactly the expected cells, each primitive's rows on its designs only."""
    assert matrix.errors() == []
    assert matrix.typechecked
    ran = [(c.row, c.design) for c in matrix.cells if c.row in ROWS]
    assert sorted(ran) == sorted(CELLS)
    for prim in PRIMITIVES:
        ids = [s.id for s in matrix.scenarios_of(prim)]
        names = [d.name for d in matrix.designs_of(prim)]
        assert {(r, d) for r, d in CELLS if r in ids} == {(r, d) for r in ids for d in names}


def test_rows_are_the_catalog_rows_in_order() -> None:
    """The scenarios are S01-S11, A01-A06, L01-L08, L10, L11, in catalog order."""
    from kbind.explain.rules import RULES

    assert [code for code in RULES if code[0] in "SAL"] == ROWS


@pytest.mark.parametrize(("row", "design"), CELLS)
def test_cell(matrix: Matrix, row: str, design: str) -> None:
    """The cell's verdict and details are what a reading of the design predicts."""
    want = EXPECTED[row][design]
    cell = matrix.cell(row, design)
    assert cell.verdict is want.verdict, cell.detail
    if want.verdict is Verdict.CAUGHT:
        assert cell.raised == (want.what,) and cell.summary == want.what, cell.detail
        assert cell.sites >= want.sites, cell.detail
    elif want.verdict is Verdict.LET_THROUGH:
        assert cell.summary == want.what
    elif want.verdict is Verdict.RULED_OUT:
        assert cell.typecheck is not None and cell.typecheck.startswith("mypy:"), cell
        assert cell.snippet is not None and "# misuse" in cell.snippet
        assert f"at run time: {want.what}:" in cell.detail, cell.detail
    else:
        assert cell.summary and cell.summary == cell.detail


def test_sites_needed_are_the_scenarios(matrix: Matrix) -> None:
    """A caught cell records the sites its scenario asks for; none falls short."""
    short = {
        (c.row, c.design)
        for c in matrix.cells
        if c.row in ROWS and c.verdict is Verdict.CAUGHT and c.sites < c.sites_needed
    }
    assert short == set()


# ------------------------------------------------------------- a busted design


class _NoGuard:
    """A guard that guards nothing."""

    def unlock(self) -> None:
        pass

    def __enter__(self) -> _NoGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _NoLock:
    """A lock whose lock() does nothing: no exclusion, no owner, no checks."""

    def lock(self) -> _NoGuard:
        return _NoGuard()

    def is_locked(self) -> bool:
        return False


class _Busted(Mainline):
    design = "busted"

    def spinlock(self, value: Any) -> Any:
        return _NoLock()


def test_busted_lock_design_is_let_through_not_caught() -> None:
    """A lock whose lock step does nothing: recursion and foreign unlock are let through."""
    busted = Design("busted", "lock", "a lock step that does nothing", _Busted)
    real = compare.design(MAINLINE_LOCK)
    for row, consequence in (
        ("L04", "took the lock twice on one thread"),
        ("L03", "unlocked on another thread"),
    ):
        sc = compare.scenario(row)
        assert compare.run_cell(sc, real).verdict is Verdict.CAUGHT
        cell = compare.run_cell(sc, busted)
        assert (cell.verdict, cell.summary) == (Verdict.LET_THROUGH, consequence)


@contextmanager
def _raising() -> Iterator[None]:
    raise ZeroDivisionError("not a kbind error")
    yield  # pragma: no cover


class _Broken(Mainline):
    design = "broken"

    @contextmanager
    def locked(self, lock: Any) -> Iterator[Any]:
        with _raising():
            yield None


def test_an_adapter_bug_is_an_error_not_a_verdict() -> None:
    """An exception that is not kbind's makes the cell an error, never caught."""
    broken = Design("broken", "lock", "an adapter that fails", _Broken)
    cell = compare.run_cell(compare.scenario("L06"), broken)
    assert cell.verdict is Verdict.ERROR and "ZeroDivisionError" in cell.summary
