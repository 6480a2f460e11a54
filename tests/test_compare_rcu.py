"""kbind compare, RCU rows: every (row, design) cell pinned by hand, each obtained by running it.

One matrix run (the session's, mypy included) gives every cell; each
expectation below says what the cell must be: the verdict, and for a
caught cell the error class and the fewest call sites its message must
name, for a let-through cell what followed.  A cell without an expectation
fails, so a new scenario or design cannot go unpinned.  The last tests show
that the classification can fail: a busted adapter changes the verdict.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from kbind import compare, kernel_c
from kbind import rcu as engine
from kbind.compare.model import Design, RuledOut, Verdict
from kbind.compare.rcu_adapter import Mainline, Value, snippet
from kbind.compare.rcu_designs import Proposal
from kbind.compare.runner import run_matrix
from kbind.errors import AtomicContextError
from kbind.kernel.revocable import Revocable
from kbind.kernel.sync import rcu as mainline
from kbind.rfc import callback
from kbind.rfc.rcu_box import RcuBox
from kbind.rfc.rcu_pointer import Rcu as RfcRcu

DESIGNS = [
    "kernel_c", "kernel_c+debug", "rcu", "kernel.sync.rcu", "kernel.sync.srcu",
    "kernel.revocable", "rfc.rcu_pointer", "rfc.rcu_box", "rfc.callback",
]  # fmt: skip
ROWS = [f"R{n:02d}" for n in range(1, 29)]


@dataclass(frozen=True)
class Expect:
    verdict: Verdict
    what: str = ""  # caught: the class; let through: the summary
    sites: int = 0  # caught: the fewest distinct sites the message names


def C(cls: str, sites: int = 0) -> Expect:
    return Expect(Verdict.CAUGHT, cls, sites)


def L(summary: str) -> Expect:
    return Expect(Verdict.LET_THROUGH, summary)


R = Expect(Verdict.RULED_OUT)
N = Expect(Verdict.NOT_APPLICABLE)

UAF = L("later UseAfterFreeError")
RAN = L("ran on")
ON_CB = L("ran on thread 'kbind-rcu-callbacks', not the caller's")
TORN = L("the callback ran after the teardown")
WAITED = L("ran on: the callback waited for a grace period")

# Columns:  kernel_c  kernel_c+debug  rcu  kernel.sync.rcu  kernel.sync.srcu
#           kernel.revocable  rfc.rcu_pointer  rfc.rcu_box  rfc.callback
EXPECT: dict[str, list[Expect]] = {
    "R01": [UAF, UAF, C("LifetimeError", 2), N, N,
            C("LifetimeError", 2), C("LifetimeError", 2), C("LifetimeError", 2), N],
    "R02": [UAF, UAF, C("LifetimeError", 1), N, N,
            C("LifetimeError", 1), C("LifetimeError", 2), C("LifetimeError", 2), N],
    "R03": [RAN, RAN, RAN, N, N, RAN, RAN, RAN, N],
    "R04": [UAF, C("LifetimeError", 1), R, N, N, R, R, R, N],
    "R05": [C("DeadlockError", 2)] * 9,
    "R06": [N, N, C("DeadlockError", 2), N, N, C("DeadlockError", 2), C("DeadlockError", 2),
            N, N],
    "R07": [L("ran on: the lock was taken inside the reader"), C("AtomicContextError", 2),
            L("ran on: the lock was taken inside the reader"),
            C("AtomicContextError", 2), N, C("AtomicContextError", 2),
            C("AtomicContextError", 2), C("AtomicContextError", 2),
            C("AtomicContextError", 2)],
    "R08": [C("GuardError", 1), C("GuardError", 1)] + [C("GuardError", 2)] * 7,
    "R09": [C("GuardLeakWarning", 1)] * 9,
    "R10": [C("GuardError", 1), C("GuardError", 1)] + [C("GuardError", 2)] * 7,
    "R11": [RAN] * 9,
    "R12": [L("read 1, expected 2 (an update lost)"), C("LifetimeError", 1),
            L("serialized: no update lost"), N, N, N, C("GuardError", 1), N, N],
    "R13": [UAF, UAF, R, N, N, R, R, R, N],
    "R14": [L("collected undropped, never freed (a leak)"),
            L("collected undropped, never freed (a leak)"), C("RcuDropGuardLeakWarning", 1),
            N, N, N, C("RcuOldLeakWarning", 1),
            L("collected undropped, freed after a grace period"), N],
    "R15": [C("UseAfterFreeError", 2), C("UseAfterFreeError", 2), C("GuardError", 2), N, N,
            L("ran on (freed once)"), C("GuardError", 2), C("GuardError", 2),
            C("GuardError", 1)],
    "R16": [L("read 99, expected 1"), L("read 99, expected 1"), C("ReadOnlyError", 1), N, N,
            C("ReadOnlyError", 1), C("ReadOnlyError", 1), C("ReadOnlyError", 1), N],
    "R17": [N, N, N, N, C("GuardError", 2), N, N, N, N],
    "R18": [ON_CB, ON_CB, ON_CB, N, N, N, N, ON_CB, ON_CB],
    "R19": [TORN, TORN, TORN, N, N, N, N, TORN, TORN],
    "R20": [N, N, C("LifetimeError", 2), N, N, N, N, N, N],
    # a SLAB_TYPESAFE_BY_RCU cache is kbind.rcu's (TypesafePool, aggressive, unchecked)
    "R21": [N, N, L("read another object's data (key 2's, looked up as key 1)")] + [N] * 6,
    "R22": [C("RcuStallWarning", 1)] * 4
    + [L("waited for the reader, no warning")] + [C("RcuStallWarning", 1)] * 4,
    "R23": [UAF, UAF] + [C("CloneError")] * 7,
    "R24": [WAITED, C("AtomicContextError", 2), WAITED, N, N, N, N,
            C("AtomicContextError", 2), C("AtomicContextError", 2)],
    "R25": [N, N, N, N, N, R, N, N, N],
    "R26": [N, N, C("GuardError", 2), N, N, N, N, N, N],
    # kbind.rcu refuses to move the retired element to its lock (lifetime.rebind()); C frees it
    "R27": [UAF, UAF, C("LifetimeError", 2)] + [N] * 6,
    # a Counted put twice; C's refcount_t cannot tell a second put from another holder's
    "R28": [UAF, UAF, C("GuardError", 2)] + [N] * 6,
}  # fmt: skip

#: Caught in a callback: the cell's summary says so.
IN_CALLBACK = {("R15", "kernel_c"), ("R15", "kernel_c+debug"), ("R24", "kernel_c+debug"),
               ("R24", "rfc.rcu_box"), ("R24", "rfc.callback")}  # fmt: skip

CELLS = [(row, design) for row in ROWS for design in DESIGNS]


#: What the run must leave as it found it (filled in by the fixture).
BEFORE: dict[str, object] = {}


@pytest.fixture(scope="module")
def matrix(compare_run: tuple[compare.Matrix, dict[str, object]]) -> compare.Matrix:
    """The session's run of every cell (tests/conftest.py), and the state before it."""
    BEFORE.update(compare_run[1])
    return compare_run[0]


def test_expectations_cover_every_rcu_row_and_design() -> None:
    """The table has a row per RCU scenario and a column per RCU design, in their order."""
    assert [s.id for s in compare.SCENARIOS if s.primitive == "rcu"] == ROWS
    assert [d.name for d in compare.DESIGNS if d.primitive == "rcu"] == DESIGNS
    assert list(EXPECT) == ROWS and all(len(v) == len(DESIGNS) for v in EXPECT.values())


def test_every_cell_ran_and_has_an_expectation(matrix: compare.Matrix) -> None:
    """No cell is an error, and the run made exactly the cells the table pins."""
    assert not matrix.errors(), [(c.row, c.design, c.label, c.detail) for c in matrix.errors()]
    assert matrix.typechecked
    ran = [(c.row, c.design) for c in matrix.cells if c.row in ROWS]
    assert sorted(ran) == sorted(CELLS)


@pytest.mark.parametrize(("row", "design"), CELLS)
def test_cell(matrix: compare.Matrix, row: str, design: str) -> None:
    """Each cell is what its expectation says (verdict, class and sites, or consequence)."""
    want = EXPECT[row][DESIGNS.index(design)]
    cell = matrix.cell(row, design)
    assert cell.verdict is want.verdict, (cell.label, cell.detail)
    if want.verdict is Verdict.CAUGHT:
        suffix = " (in the callback)" if (row, design) in IN_CALLBACK else ""
        assert cell.raised == (want.what,) and cell.summary == want.what + suffix, cell.label
        assert cell.sites >= want.sites, cell.detail
    elif want.verdict is Verdict.LET_THROUGH:
        assert cell.summary == want.what
    elif want.verdict is Verdict.RULED_OUT:
        assert cell.snippet is not None and "# misuse" in cell.snippet
        assert cell.typecheck is not None and cell.typecheck.startswith("mypy:"), cell.typecheck
        assert "at run time:" in cell.detail
    else:
        assert cell.summary and cell.summary == cell.detail


def test_fine_rows_are_marked(matrix: compare.Matrix) -> None:
    """R03 and R11 are not bugs: their scenarios say so, and no design refuses them."""
    fine = {s.id for s in matrix.scenarios if s.fine}
    assert fine == {"R03", "R11"}
    assert all(c.verdict is not Verdict.CAUGHT for c in matrix.cells if c.row in fine)


def test_matrix_leaves_no_state_behind(matrix: compare.Matrix) -> None:
    """After the run: no guard held, no callback pending, stall threshold and options as before."""
    assert engine.open_guards() == [] and engine.pending_callbacks() == 0
    assert not kernel_c.rcu_read_lock_held()
    assert engine.get_stall_timeout() == BEFORE["stall"]
    assert kernel_c.config == BEFORE["config"]


# -------------------------------------------- the classification can fail


class _NoSync(Mainline):
    """kernel.sync.rcu with a synchronize_rcu() that does nothing (so nothing can refuse it)."""

    def synchronize(self) -> None:
        pass


class _FreesNow(Proposal):
    """kbind.rcu with a free that skips the grace period, through its internals."""

    def free_now(self, old: Any) -> None:
        old._consume("drop", old.made_at)
        old._box.free(old.made_at)


class _BadClaim(Proposal):
    """kbind.rcu claiming a misuse is ruled out with a snippet that mypy accepts."""

    def deref_unguarded(self, slot: Any) -> Any:
        raise RuledOut(
            "a false claim",
            snippet(
                "from kbind.rcu import Rcu, RcuReadGuard",
                """
                config = Rcu(Value(1))
                with RcuReadGuard() as g:
                    config.read(g)  # misuse
                """,
            ),
        )


def _design(name: str, make: Callable[[], Any]) -> Design:
    return Design(name, "rcu", "a busted adapter (test only)", make)


def test_busted_adapters_are_classified_differently() -> None:
    """A step that does nothing, a free without a grace period, a false claim: other verdicts."""
    designs = [_design("no-sync", _NoSync), _design("frees-now", _FreesNow),
               _design("bad-claim", _BadClaim)]  # fmt: skip
    scenarios = [compare.scenario(r) for r in ("R04", "R05", "R13")]
    m = run_matrix(designs, scenarios, typecheck=True)
    # kernel.sync.rcu catches R05 (DeadlockError): with no synchronize it runs on.
    assert m.cell("R05", "no-sync").label == "let through: ran on"
    # kbind.rcu rules R13 out: freeing without a grace period is a later use-after-free.
    assert m.cell("R13", "frees-now").label == "let through: later UseAfterFreeError"
    # A ruled-out claim mypy does not confirm is an error, not a verdict.
    bad = m.cell("R04", "bad-claim")
    assert bad.verdict is Verdict.ERROR and bad.summary == "mypy accepts the snippet"


# ------------------------------------------------ rows R24 and R25, directly


def test_r24_waiting_drop_in_callback_context_raises_atomic_context_error() -> None:
    """An RcuOld dropped, or synchronize_rcu() called, in a drop run after a grace period."""
    failures: list[BaseException] = []
    before = sys.unraisablehook
    sys.unraisablehook = lambda args: failures.append(args.exc_value)
    try:
        p = RfcRcu(Value(1))
        with p.exclusive() as w:
            old = w.replace(Value(2))

        class Holder:
            def __rcu_drop__(self) -> None:
                old.drop()  # RcuOld's drop waits for a grace period

        callback.call_rcu(Holder())
        mainline.rcu_barrier()

        class Syncs:
            def __rcu_drop__(self) -> None:
                mainline.synchronize_rcu()

        RcuBox(Syncs()).drop()
        mainline.rcu_barrier()
    finally:
        sys.unraisablehook = before
    assert [type(f) for f in failures] == [AtomicContextError, AtomicContextError]
    assert all("an RCU callback" in str(f) for f in failures)
    old.drop()  # still pending after the refused drop: process context may wait


def test_r25_revocable_after_revoke_gives_none() -> None:
    """Once revoked, every reader of a Revocable gets None and no closure runs."""
    res = Revocable(Value(1))
    assert res.try_access_with(lambda v: v.n) == 1
    assert res.revoke() is True
    called: list[int] = []
    assert res.try_access_with(lambda v: called.append(v.n)) is None and not called
    assert res.try_access() is None
    with mainline.Guard() as g:
        assert res.try_access_with_guard(g) is None
    assert res.revoke() is False
