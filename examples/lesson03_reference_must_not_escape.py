"""Lesson 3: a reference must not escape its read-side critical section.

Kernel pattern: the pointer from ``rcu_dereference()`` is valid only until
``rcu_read_unlock()``; keeping it and using it later is a use-after-free
the compiler does not see (Documentation/RCU/checklist.rst, item 2;
Documentation/RCU/rcu_dereference.rst).  Rust: ``Rcu::read(&guard)``
returns ``&T`` borrowing the guard, so using it after ``drop(guard)`` does
not compile.  kbind: the reference is bound to its guard and raises
``LifetimeError`` (MISUSE R01/R02) when used after the guard was dropped,
naming where the guard was created and dropped.

The lesson keeps a reference past its guard, uses it, and checks that the
error comes with both sites; then it shows the fix: copy what you need out
inside the section.  Exits 1 if anything else happens.
"""

from __future__ import annotations

import sys

from kbind import LifetimeError
from kbind.rcu import Rcu, RcuReadGuard


def main() -> int:
    config = Rcu({"timeout": 30})
    with RcuReadGuard() as g:
        escaped = config.read(g)  # a reference bound to g ...
    # ... and g was dropped when the with block ended.
    try:
        print("escaped timeout:", escaped["timeout"])
        print("LESSON 03 FAILED: the escaped reference was usable")
        return 1
    except LifetimeError as exc:
        print("using the escaped reference raised LifetimeError:")
        print("  " + str(exc).replace("\n", "\n  "))
        sites_named = exc.created_at is not None and exc.dropped_at is not None

    with RcuReadGuard() as g:
        timeout = config.read(g)["timeout"]  # the fix: copy the value out inside
    print(f"the fix: copied timeout={timeout} inside the section; plain ints outlive it")
    if not sites_named or timeout != 30:
        print("LESSON 03 FAILED: the error did not name the guard's sites")
        return 1
    print("LESSON 03 OK: the escaped reference raised LifetimeError naming both sites")
    return 0


if __name__ == "__main__":
    sys.exit(main())
