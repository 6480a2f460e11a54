"""The atomic misuse scenarios (A01-A07), one per row of the catalog.

Each function takes the design's :class:`~kbind.compare.atomic_designs.AtomicAdapter`
and does the misuse through it; a design that catches it raises from the
adapter step, one that lets it through gets to the end and the function
says what followed.

Acts as user code (``KBIND_USER_CODE``), like the adapters.
"""

from __future__ import annotations

import copy

from kbind.compare.atomic_designs import AtomicAdapter
from kbind.compare.kit import Registrar
from kbind.compare.model import Scenario

__all__ = ["SCENARIOS"]

KBIND_USER_CODE = True

SCENARIOS: list[Scenario] = []


#: ``@scenario("ID")``: registers the function below it as that row's scenario.
scenario: Registrar[AtomicAdapter] = Registrar(SCENARIOS, "atomic", sites=0)


@scenario("A01")
def a01(d: AtomicAdapter) -> str:
    """Load with release ordering (an ordering loads do not have)."""
    d.load_release()
    return "a load ran with release ordering"


@scenario("A02")
def a02(d: AtomicAdapter) -> str:
    """Call a read-modify-write without an ordering, relying on a default."""
    d.default_ordering()
    return "a default ordering was used"


@scenario("A03", accepts=("OverflowError",))
def a03(d: AtomicAdapter) -> str:
    """Store a value one bit wider than the atomic."""
    a = d.new(0)
    d.store(a, 2**d.bits)
    return f"stored 2**{d.bits}, read {d.load(a)}"


@scenario("A04")
def a04(d: AtomicAdapter) -> str:
    """Increment the value with plain accesses, racing the atomic operations."""
    d.plain_access()
    return "a plain read-modify-write raced the atomics"


@scenario("A05")
def a05(d: AtomicAdapter) -> str:
    """Take a failed cmpxchg as an acquire (as if the failure ordered later loads)."""
    flag = d.new(1)  # another thread holds it
    if d.cmpxchg(flag, 0, 1):
        return "ran on"
    return "a failed cmpxchg orders nothing; nothing says so"


@scenario("A06")
def a06(d: AtomicAdapter) -> str:
    """Duplicate an atomic with copy.copy() and update the copy."""
    a = d.new(1)
    b = copy.copy(a)
    d.store(b, 2)
    return f"the copy is a second atomic: the original still reads {d.load(a)}"


@scenario("A07", sites=2)
def a07(d: AtomicAdapter) -> str:
    """Keep a reference count in the atomic; take a reference after the last one was dropped."""
    count = d.new(1)  # the creator's reference
    if not d.ref_put(count):  # the last reference: the object is freed now
        return "ran on: the last put did not reach zero"
    d.ref_get(count)  # a late user takes a reference to the freed object
    return f"incremented a freed object's count from 0 to {d.load(count)}"
