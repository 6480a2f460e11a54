"""Lesson 10: one misuse, five designs: a reference that outlives its reader (R01).

Kernel pattern: ``rcu_read_lock(); p = rcu_dereference(gp); rcu_read_unlock();
... p->timeout`` -- the pointer is used after the read-side critical section
ended, so a grace period may already have freed what it points to
(Documentation/RCU/checklist.rst, item 2; Documentation/RCU/whatisRCU.rst,
"rcu_dereference()").  Rust: the reference borrows the guard, so the
compiler rejects the use after the guard's drop (the lifetime rule).

``kbind compare`` answers "what does each design do about it?" by running
one scenario, written once, on each design's adapter.  This lesson prints
that scenario, then for each design how it dereferences and what the run
showed:

* ``kernel_c`` (debug options off) and ``kernel_c+debug``: no guard object,
  nothing ties the pointer to the section; even lockdep cannot see it: the
  use goes through, and the freed object (poisoned, as KASAN would see it)
  raises ``UseAfterFreeError`` only later;
* ``rcu`` (the original proposal's ``Rcu<T>.read(&guard)``) and
  ``rfc.rcu_pointer`` (``Rcu<P>::dereference(&Guard)``, Boqun Feng's RFC):
  the reference is bound to the guard, so its first use after the drop
  raises ``LifetimeError`` naming where the guard was created and dropped;
* ``kernel.sync.rcu`` (mainline ``Guard``): not applicable -- the merged
  guard ties no lifetime to any data, there is no RCU pointer to dereference
  at all, which is the gap the ``Rcu<P>`` RFC fills.

Run: python examples/lesson10_one_misuse_across_designs.py.  Exits 1 unless
each design's cell is the verdict above.
"""

from __future__ import annotations

import inspect
import sys
import textwrap

from kbind import compare
from kbind.compare import rcu_scenarios
from kbind.compare.rcu_adapter import RcuAdapter

DESIGNS = ["kernel_c", "kernel_c+debug", "rcu", "kernel.sync.rcu", "rfc.rcu_pointer"]
EXPECTED = {
    "kernel_c": ("let through", "later UseAfterFreeError"),
    "kernel_c+debug": ("let through", "later UseAfterFreeError"),
    "rcu": ("caught", "LifetimeError"),
    "kernel.sync.rcu": ("n/a", ""),
    "rfc.rcu_pointer": ("caught", "LifetimeError"),
}


def how_it_dereferences(name: str) -> str:
    """Return the adapter's ``deref`` step of design ``name``, as source."""
    adapter = compare.design(name, "rcu").make()
    assert isinstance(adapter, RcuAdapter)
    source = inspect.getsource(type(adapter).deref)
    return textwrap.indent(textwrap.dedent(source).strip(), "    ")


def main() -> int:
    print("The R01 scenario, written once against every design's adapter:\n")
    print(textwrap.indent(inspect.getsource(rcu_scenarios.r01).strip(), "    "))
    matrix = compare.run(DESIGNS, ["R01"], typecheck=False)
    wrong = []
    for name in DESIGNS:
        cell = matrix.cell("R01", name)
        print(f"\n== {name}: {cell.label}")
        print(how_it_dereferences(name))
        if cell.detail and cell.detail != cell.summary:
            print("  the run said: " + cell.detail.splitlines()[0][:150])
        verdict, what = EXPECTED[name]
        if cell.verdict.value != verdict or what not in cell.summary:
            wrong.append(f"{name}: expected {verdict} {what}, got {cell.label}")
    print(
        "\nThe same program: the C API runs on into a use after free, the lifetime-bound "
        "designs stop it at the first use, and the mainline guard cannot express it."
    )
    if wrong:
        print("FAILED: " + "; ".join(wrong))
        return 1
    print("LESSON 10 OK: R01 let through by the C API, caught by the bound references")
    return 0


if __name__ == "__main__":
    sys.exit(main())
