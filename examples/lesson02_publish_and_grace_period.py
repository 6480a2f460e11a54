"""Lesson 2: publishing with ``Rcu.replace`` and waiting for a grace period.

Kernel pattern: ``old = rcu_replace_pointer(gp, new, lockdep_is_held(&lock));
synchronize_rcu(); kfree(old);`` (Documentation/RCU/whatisRCU.rst, sections
2 and 3).  Rust: ``RcuWrite::update`` returning ``RcuDropGuard<T>``, whose
drop calls ``synchronize_rcu()`` then frees.  kbind: ``config.replace(new)``
returns an ``RcuDropGuard``; ``.drop()`` (or leaving its ``with`` block)
waits for a grace period and frees the old value.

The updater never changes the published object: it publishes a new one.
Readers that started before the publication may still be using the old
one, so the old one is freed only after a *grace period*: a wait that ends
once every read-side section that began before it has ended.  Sections
that begin after it cannot have seen the old object, so it does not wait
for them.

The lesson makes that visible with ``kbind.trace``: reader A is inside a
section when the value is replaced; reader B enters after the replace.  The
grace period must end after A leaves, and must end while B is still inside
(B leaves only once the grace period has ended, bounded by a timeout).
The timeline is printed.  Exits 1 if the grace period waited for B or did
not wait for A.
"""

from __future__ import annotations

import sys
import threading

from kbind import trace
from kbind.rcu import Rcu, RcuReadGuard

TIMEOUT = 10.0


def main() -> int:
    config = Rcu({"version": 1})
    a_inside, b_inside, gp_over = threading.Event(), threading.Event(), threading.Event()
    replaced = threading.Event()
    seen: dict[str, int] = {}

    def reader_a() -> None:
        with RcuReadGuard() as g:
            seen["A"] = config.read(g)["version"]
            a_inside.set()
            b_inside.wait(TIMEOUT)  # stay inside until B is inside too

    def reader_b() -> None:
        replaced.wait(TIMEOUT)
        with RcuReadGuard() as g:  # begins after the replace: sees the new value
            seen["B"] = config.read(g)["version"]
            b_inside.set()
            seen["B waited"] = int(gp_over.wait(TIMEOUT))  # leaves only after the GP

    with trace.record() as rec:
        threads = [
            threading.Thread(target=reader_a, name="reader-A"),
            threading.Thread(target=reader_b, name="reader-B"),
        ]
        for t in threads:
            t.start()
        a_inside.wait(TIMEOUT)
        old = config.replace({"version": 2})  # publish; the grace period starts here
        replaced.set()
        old.drop()  # waits for A (and only A), then frees version 1
        gp_over.set()
        for t in threads:
            t.join(timeout=TIMEOUT)

    print(rec.to_text(width=60))
    gp = rec.grace_periods[0]
    a = next(s for s in rec.sections if s.thread == "reader-A")
    b = next(s for s in rec.sections if s.thread == "reader-B")
    assert gp.end is not None and a.end is not None and b.end is not None
    print(f"reader A saw version {seen.get('A')}, reader B saw version {seen.get('B')}")
    ok = (
        seen.get("A") == 1 and seen.get("B") == 2 and seen.get("B waited") == 1
        and a.end < gp.end < b.end and old.freed and not rec.violations()
    )  # fmt: skip
    if not ok:
        print(f"LESSON 02 FAILED: {seen}, violations {rec.violations()}")
        return 1
    print("LESSON 02 OK: the grace period waited for reader A (began before it), not for B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
