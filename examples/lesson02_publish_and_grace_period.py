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
that begin after it cannot have seen the old object, so it need not wait
for them (RCU promises "at least the earlier readers", and here, with
nothing else going on, exactly those).

The lesson makes that visible with ``kbind.trace``: reader A is inside a
section when the value is replaced; reader B enters after the replace and
stays until the grace period is over (for at most half a second).  The
grace period must end after A leaves.  Usually it ends while B is still
inside: it did not wait for B.  RCU would also be right to wait for B (if
another grace period was already running when ``replace()`` asked for one,
the one it gets starts later, after B began); the lesson says which
happened.  The timeline is printed.  Exits 1 if the grace period did not
wait for A, or a reader saw the wrong version.
"""

from __future__ import annotations

import gc
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
            # Stay until the grace period is over, but not forever: if the grace
            # period is waiting for B too (allowed), B must leave for it to end.
            seen["B outlived the GP"] = int(gp_over.wait(0.5))

    # A grace period waits for *at least* the readers that began before it.
    # The one drop() waits for is the first to start after replace(); if
    # another were already in progress (a call_rcu callback's, say), that one
    # would start only after A left, and would wait for B as well.  This
    # process has no other RCU users, so none is; gc is off so that no
    # collected object queues a deferred free meanwhile.
    gc.disable()
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
    gc.enable()

    print(rec.to_text(width=60))
    gp = rec.grace_periods[0]
    a = next(s for s in rec.sections if s.thread == "reader-A")
    b = next(s for s in rec.sections if s.thread == "reader-B")
    assert gp.end is not None and a.end is not None and b.end is not None
    print(f"reader A saw version {seen.get('A')}, reader B saw version {seen.get('B')}")
    if b.begin < gp.end < b.end:
        print("the grace period ended while B was still inside: it did not wait for B")
    else:
        print(
            "this time the grace period waited for B as well (allowed: RCU promises to wait "
            "for at least the readers that began before it)"
        )
    ok = (
        seen.get("A") == 1 and seen.get("B") == 2 and a.end < gp.end
        and old.freed and not rec.violations()
    )  # fmt: skip
    if not ok:
        print(f"LESSON 02 FAILED: {seen}, violations {rec.violations()}")
        return 1
    print("LESSON 02 OK: the grace period waited for reader A, which began before it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
