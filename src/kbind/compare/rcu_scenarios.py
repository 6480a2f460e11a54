"""The RCU misuse scenarios, one per row of the catalog, each written once.

Each function takes the design's :class:`~kbind.compare.rcu_designs.RcuAdapter`
and does the misuse through it.  If the design catches it, the adapter step
raises (the runner classifies the error); if the design lets it through, the
function returns one line saying what followed (:func:`later`).

Acts as user code (``KBIND_USER_CODE``), like the adapters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kbind.compare.model import Scenario
from kbind.compare.rcu_designs import RcuAdapter
from kbind.errors import UseAfterFreeError

__all__ = ["SCENARIOS", "later"]

KBIND_USER_CODE = True

SCENARIOS: list[Scenario] = []


def scenario(
    id: str, *, sites: int = 2, fine: bool = False, accepts: tuple[str, ...] = ()
) -> Callable[[Callable[[RcuAdapter], str]], Callable[[RcuAdapter], str]]:
    """Register an RCU scenario under the catalog code ``id``."""

    def register(fn: Callable[[RcuAdapter], str]) -> Callable[[RcuAdapter], str]:
        SCENARIOS.append(Scenario(id, "rcu", fn, sites=sites, fine=fine, accepts=accepts))
        return fn

    return register


def later(use: Callable[[], Any], expected: object = None) -> str:
    """Describe what a let-through misuse led to: run ``use()`` and report the outcome.

    ``UseAfterFreeError`` becomes "later UseAfterFreeError"; a value other
    than ``expected`` becomes "read X, expected Y"; anything else "ran on".
    """
    try:
        got = use()
    except UseAfterFreeError:
        return "later UseAfterFreeError"
    if expected is not None and got != expected:
        return f"read {got!r}, expected {expected!r}"
    return "ran on"


@scenario("R01")
def r01(d: RcuAdapter) -> str:
    """Use a reference after its guard is dropped (and the old object freed)."""
    slot = d.new(1)
    section = d.lock()
    ref = d.deref(section, slot)
    d.unlock(section)
    old = d.replace(slot, 2)
    d.free_sync(old)  # a grace period: nothing protects ``ref`` any more
    return later(lambda: d.use(ref), 1)


@scenario("R04", sites=1)
def r04(d: RcuAdapter) -> str:
    """Dereference with no read-side critical section."""
    slot = d.new(1)
    ref = d.deref_unguarded(slot)
    old = d.replace(slot, 2)
    d.free_sync(old)
    return later(lambda: d.use(ref), 1)


@scenario("R05", sites=2)
def r05(d: RcuAdapter) -> str:
    """Call synchronize_rcu() inside the caller's own read-side critical section."""
    with d.reader():
        d.synchronize()
    return "ran on"
