"""Lesson 7: the two reader designs side by side: a closure, or a reference bound to a guard.

Kernel pattern: ``rcu_read_lock(); p = rcu_dereference(gp); ...;
rcu_read_unlock();`` (Documentation/RCU/whatisRCU.rst).  The Rust-for-Linux
proposals offer two shapes for it:

* lifetime-bound reference: ``let g = rcu::read_lock(); let p = gp.read(&g);``
  where ``p: &T`` borrows ``g`` (the compiler stops ``p`` outliving ``g``).
  kbind: ``with RcuReadGuard() as g: p = config.read(g)``; a ``p`` used after
  the block raises ``LifetimeError`` (MISUSE R01).
* closure: ``gp.with_read(|p| p.timeout)``: the section is the closure call,
  so nothing can outlive it unless the closure returns it.  kbind:
  ``config.with_read(lambda p: p.timeout)``; returning ``p`` itself raises
  ``LifetimeError`` at once when the value is mutable (MISUSE R02; an
  immutable value, such as a frozen dataclass, simply comes back).

The guard form lets one section cover several reads, helpers and loops; the
closure form makes the section's extent obvious and cannot leak a guard.
The lesson reads the same value both ways, shows each design's escape being
caught, and checks both.  Exits 1 otherwise.
"""

from __future__ import annotations

import dataclasses
import sys

from kbind import LifetimeError
from kbind.rcu import Rcu, RcuReadGuard


@dataclasses.dataclass  # mutable: a reference to it must not leave the section
class Config:
    timeout: int
    retries: int


def main() -> int:
    config = Rcu(Config(timeout=30, retries=3))

    # Design 1: a reference bound to a guard (several reads in one section).
    with RcuReadGuard() as g:
        cfg = config.read(g)
        budget_guard = cfg.timeout * cfg.retries
    # Design 2: a closure (the section is the call).
    budget_closure = config.with_read(lambda c: c.timeout * c.retries)
    print(f"guard form: {budget_guard}; closure form: {budget_closure}")

    caught = []
    try:
        _ = cfg.timeout  # design 1's escape: caught when used
    except LifetimeError:
        caught.append("guard reference used after the block")
    try:
        config.with_read(lambda c: c)  # design 2's escape: caught when returned
    except LifetimeError as exc:
        caught.append("closure returned its reference")
        print("the closure tried to return its reference:")
        print("  " + str(exc).splitlines()[0])
    print("caught:", "; ".join(caught))
    if budget_guard != 90 or budget_closure != 90 or len(caught) != 2:
        print("LESSON 07 FAILED")
        return 1
    print("LESSON 07 OK: both designs read the same value and both escapes were caught")
    return 0


if __name__ == "__main__":
    sys.exit(main())
