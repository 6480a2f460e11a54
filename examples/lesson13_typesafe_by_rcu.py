"""Lesson 13: type-safe-by-RCU memory, and the identity recheck it demands.

Kernel pattern: a ``kmem_cache_create(..., SLAB_TYPESAFE_BY_RCU, ...)`` cache
may hand a freed object out again at once, for another object of the same
type, while readers that found it under ``rcu_read_lock()`` still hold it;
only the return of its memory to the page allocator waits for a grace
period.  So a reader knows it holds *an object of this type*, not *the one
it looked up*: it takes a reference (``refcount_inc_not_zero()``), then
rechecks the key, and looks again on a mismatch (include/linux/slab.h;
Documentation/RCU/whatisRCU.rst; the flag was SLAB_DESTROY_BY_RCU until its
2017 rename said so).  Rust: no counterpart yet.  kbind:
``kbind.rcu.TypesafePool`` is such a cache; ``aggressive=True`` reuses every
free at the next allocation, so a missing recheck fails on the first run;
``checked=True`` refuses the wrong object's fields (MISUSE R21).

The lesson runs one race twice: a reader finds key 1; an updater frees it
and the next allocation reuses the same object for key 2; the reader's
count succeeds (it is a valid object of the type).  Without the recheck it
reads key 2's data; the checked pool stops that read with ``LifetimeError``;
the correct reader (``TypesafePool.get()``) rechecks, puts and looks again.
Exits 1 if anything else happens.
"""

from __future__ import annotations

import sys

from kbind import LifetimeError
from kbind.rcu import Counted, RcuReadGuard, RcuRefcounted, TypesafePool, try_get


class Sock(RcuRefcounted):
    """A socket-like object: identity ``key``, payload ``data``."""

    key: int
    data: str


def race(pool: TypesafePool[Sock]) -> Counted[Sock] | None:
    """Find key 1, while it is freed and its memory reused for key 2; take a count."""
    pool.publish(pool.alloc(key=1, data="alice's session"))
    with RcuReadGuard() as g:
        ref = pool.lookup(g, 1)  # the reader finds key 1 ...
        assert ref is not None
        gone = pool.unpublish(1)  # ... an updater removes it and drops its count:
        assert gone is not None
        gone.put()  # back in the cache at once, no grace period
        pool.publish(pool.alloc(key=2, data="bob's session"))  # ... and reused for key 2
        return try_get(ref)  # succeeds: it is a live Sock, just not key 1


def main() -> int:
    # 1. No recheck: the reader gets another object's data.
    loose = TypesafePool(Sock, aggressive=True)
    c = race(loose)
    assert c is not None
    wrong = c.data
    c.put()
    print(f"without the recheck, the reader of key 1 read: {wrong!r}")

    # 2. A checked pool refuses the wrong object's fields.
    strict = TypesafePool(Sock, aggressive=True, checked=True)
    c = race(strict)
    assert c is not None
    try:
        print("read:", c.data)
        print("LESSON 13 FAILED: the checked pool let the wrong object through")
        return 1
    except LifetimeError as exc:
        print("the checked pool: LifetimeError:", str(exc).splitlines()[0][:110], "...")
    finally:
        c.put()

    # 3. The correct reader: count, recheck the key, put and look again.
    with RcuReadGuard() as g:
        right = strict.get(g, 1)
        other = strict.get(g, 2)
    print(f"the correct reader: key 1 -> {right}, key 2 -> {other and other.data!r}")
    ok = wrong == "bob's session" and right is None and other is not None
    if other is not None:
        ok = ok and other.data == "bob's session"
        other.put()
    print(f"reused objects: {loose.recycled} and {strict.recycled}")
    for pool in (loose, strict):
        left = pool.unpublish(2)
        if left is not None:
            left.put()
        pool.close()  # the memory leaves the type only now, after a grace period
    if not ok:
        print("LESSON 13 FAILED")
        return 1
    print("LESSON 13 OK: a recycled object is caught by the recheck, not by the count")
    return 0


if __name__ == "__main__":
    sys.exit(main())
