"""Lesson 1: the first read-side critical section.

Kernel pattern: ``rcu_read_lock(); p = rcu_dereference(gp); use(p->field);
rcu_read_unlock();`` (Documentation/RCU/whatisRCU.rst, section 2).
Rust: ``let guard = rcu::read_lock(); let p = gp.read(&guard);``
(``kernel::sync::rcu::Guard``).  kbind: ``with RcuReadGuard() as g:
cfg.read(g)``.

A read-side critical section is the stretch of code between entering and
leaving the guard.  Inside it, the reader may follow the pointer it read
and use the object: RCU promises that object will not be freed until the
section ends.  Entering and leaving are cheap and never block; sections
nest; many threads may be inside at once.

The lesson enters a section, reads a published dictionary, checks the guard
is counted (``read_lock_depth()``) while held and not after, nests a second
guard, and shows that the reference is read-only (MISUSE R16).  Exits 1 if
anything else happens.
"""

from __future__ import annotations

import sys

from kbind import ReadOnlyError
from kbind.rcu import Rcu, RcuReadGuard, read_lock_depth


def main() -> int:
    config = Rcu({"timeout": 30, "name": "eth0"})
    with RcuReadGuard() as g:  # rcu_read_lock()
        cfg = config.read(g)  # rcu_dereference(): a reference bound to g
        timeout = cfg["timeout"]
        depth_inside = read_lock_depth()
        with RcuReadGuard() as inner:  # sections nest (a counter, like the kernel's)
            depth_nested = read_lock_depth()
            name = config.read(inner)["name"]
        try:
            cfg["timeout"] = 5  # readers share the object: it must not change in place
            refused = False
        except ReadOnlyError as exc:
            refused = True
            print("writing through a reader's reference is refused:")
            print("  " + str(exc).splitlines()[0])
    depth_after = read_lock_depth()  # rcu_read_unlock() happened when the block ended
    print(f"read timeout={timeout} name={name!r} inside the section")
    print(f"guards held: {depth_inside} inside, {depth_nested} nested, {depth_after} after")
    ok = (timeout, name, depth_inside, depth_nested, depth_after, refused) == (
        30, "eth0", 1, 2, 0, True,
    )  # fmt: skip
    if not ok:
        print("LESSON 01 FAILED")
        return 1
    print("LESSON 01 OK: a read-side section was entered, read inside, and left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
