"""Lesson: a kref-style reference count with LKMM atomics.

Kernel pattern: ``kref_get_unless_zero()`` / ``kref_put()``
(include/linux/kref.h).  Since v4.11 a kref is a ``refcount_t``
(include/linux/refcount.h), whose operations are ordered only as much as a
reference count needs (Documentation/core-api/refcount-vs-atomic.rst):

* ``refcount_inc_not_zero()`` is unordered (relaxed): whatever found the
  object (a lock, an RCU dereference) already orders the accesses that
  follow; its control dependency keeps later stores after it.
* ``refcount_dec_and_test()`` has release ordering (every holder's earlier
  accesses happen before its decrement) and, on success only -- when the
  count reaches zero -- acquire ordering, so the free comes after all of
  them.  refcount.h implements it as ``atomic_fetch_sub_release()`` followed
  by ``smp_acquire__after_ctrl_dep()`` (an ``smp_rmb()``) on the 1 -> 0 step.

This example builds exactly that from kbind's atomics: a relaxed
``try_cmpxchg`` loop for the tryget, ``fetch_sub(1, Release)`` plus
``smp_rmb()`` for the put.  Before v4.11 a kref was an ``atomic_t`` using
``atomic_inc_not_zero()`` and ``atomic_dec_and_test()``, which are fully
ordered (Documentation/atomic_t.txt) -- stronger than needed.  kbind's
``inc_not_zero()``/``dec_and_test()`` are those ``atomic_t`` operations, so
they accept only ``Full``; asking for a weaker ordering is an
``OrderingError`` at run time (and a mypy error before that).

Run: ``python examples/atomics_refcount.py`` - exits 0 if everything behaved.
"""

from __future__ import annotations

import sys
import threading

from kbind import AtomicI32, Full, OrderingError, Relaxed, Release
from kbind.barrier import smp_rmb


class Object:
    """An object whose lifetime is a reference count, like a kernel kref (a refcount_t)."""

    def __init__(self) -> None:
        self.refcount = AtomicI32(1)  # the creator's reference: refcount_set(&r, 1)
        self.freed = False

    def get_unless_zero(self) -> bool:
        """Take a reference unless the object is already on its way out.

        Kernel: ``refcount_inc_not_zero()``: unordered (a relaxed cmpxchg loop).
        """
        old = self.refcount.load(Relaxed)
        while old != 0:
            ok, old = self.refcount.try_cmpxchg(old, old + 1, Relaxed)
            if ok:
                return True
        return False

    def put(self) -> None:
        """Drop a reference; the last one frees the object.

        Kernel: ``refcount_dec_and_test()``: release, plus acquire on reaching zero.
        """
        if self.refcount.fetch_sub(1, Release) == 1:
            smp_rmb()  # smp_acquire__after_ctrl_dep(): the free comes after every holder's accesses
            self.freed = True


def main() -> int:
    obj = Object()
    start = threading.Barrier(4)
    taken = AtomicI32(0)

    def user() -> None:
        start.wait(timeout=30)
        for _ in range(5_000):
            if obj.get_unless_zero():
                taken.inc(Relaxed)
                obj.put()

    threads = [threading.Thread(target=user) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    print(
        f"4 threads took and dropped {taken.load(Relaxed)} references; count is "
        f"{obj.refcount.load(Relaxed)} (the creator's)"
    )
    ok = taken.load(Relaxed) == 4 * 5_000 and obj.refcount.load(Relaxed) == 1 and not obj.freed
    obj.put()
    print(f"creator dropped its reference: freed = {obj.freed}")
    ok = ok and obj.freed and not obj.get_unless_zero()
    print("get_unless_zero() on a freed object refuses:", not obj.get_unless_zero())

    # The pre-4.11 atomic_t kref: atomic_inc_not_zero()/atomic_dec_and_test(), fully ordered.
    old_style = AtomicI32(1)
    ok = ok and old_style.inc_not_zero(Full) and not old_style.dec_and_test(Full)
    ok = ok and old_style.dec_and_test(Full) and not old_style.inc_not_zero(Full)
    print("atomic_t kref (fully ordered inc_not_zero/dec_and_test) counted to zero:", ok)

    try:
        obj.refcount.dec_and_test(Relaxed)  # type: ignore[arg-type]  # the misuse is the lesson
        ok = False
    except OrderingError as exc:
        print("dec_and_test(Relaxed) is refused (atomic_dec_and_test() exists only fully ordered):")
        print("  " + str(exc).replace("\n", "\n  "))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
