"""Lesson 12: keeping an object past its reader with a reference count.

Kernel pattern: a reader that needs an object after ``rcu_read_unlock()``
takes a reference of its own inside the section, ``refcount_inc_not_zero()``
(or ``kref_get_unless_zero()``); zero means the object is already on its way
out, so it is treated as not found.  The last ``refcount_dec_and_test()``
frees the object with ``call_rcu()``, because readers that found it without
a count may still be looking at it (Documentation/RCU/rcuref.rst,
include/linux/refcount.h).  Rust: ``ARef<T>`` over ``AlwaysRefCounted``
(rust/kernel/types.rs) or ``Arc<T>`` (rust/kernel/sync/arc.rs), whose
``Drop`` puts the count exactly once.  kbind: ``kbind.rcu.try_get(ref)``
returns a ``Counted`` handle that is not bound to the guard; ``put()`` it
exactly once (MISUSE R01, R28).

The lesson: first the newcomer's attempt -- the reference used after its
guard raises ``LifetimeError``, whose hint names ``try_get``; then the count
taken inside the reader and used after it while the updater replaces the
object and drops the publisher's count; the object is freed only after the
last put and a grace period; a second put raises ``GuardError`` naming both
puts.  Exits 1 if anything else happens.
"""

from __future__ import annotations

import sys

from kbind import GuardError, LifetimeError
from kbind.rcu import Counted, Rcu, RcuReadGuard, RcuRefcounted, rcu_barrier, try_get


class Session(RcuRefcounted):
    """A published object that carries its count (refcount_t in the struct)."""

    def __init__(self, user: str) -> None:
        self.user = user


def main() -> int:
    first = Session("ada")
    publisher = Counted.adopt(first)  # the count of 1 it was made with: the publisher's
    current = Rcu(first)

    # 1. Without a count: the reference is bound to the guard.
    with RcuReadGuard() as g:
        ref = current.read(g)
    try:
        print("kept past the guard:", ref.user)
        print("LESSON 12 FAILED: the reference outlived its guard")
        return 1
    except LifetimeError as exc:
        hint = exc.hint or ""
        print("without a count: LifetimeError; hint:", hint)

    # 2. With a count taken inside the reader.
    with RcuReadGuard() as g:
        mine = try_get(current.read(g))  # refcount_inc_not_zero()
    if mine is None:
        print("LESSON 12 FAILED: the count could not be taken")
        return 1
    print(f"after the guard, through the count: user={mine.user}, count={mine.count}")

    # The updater replaces it and drops the publisher's count; ours keeps it alive.
    current.replace(Session("grace")).defer()
    publisher.put()
    still = mine.user
    print(f"replaced and unpublished, still readable through the count: {still}")
    mine.put()  # the last count: freed after a grace period
    rcu_barrier()
    print(f"last put: freed after a grace period: {mine.freed}")

    try:
        mine.put()
        print("LESSON 12 FAILED: a second put went through")
        return 1
    except GuardError as exc:
        both = exc.created_at is not None and exc.dropped_at is not None and exc.sites
        print("a second put: GuardError naming where it was taken, put, and put again")

    if "try_get" not in hint or still != "ada" or not mine.freed or not both:
        print("LESSON 12 FAILED")
        return 1
    print("LESSON 12 OK: the count kept the object past its reader; one put each, then freed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
