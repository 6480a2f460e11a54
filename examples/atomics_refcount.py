"""Lesson: a kref-style reference count with LKMM atomics.

Kernel pattern: ``kref_get_unless_zero()`` / ``kref_put()`` (include/linux/kref.h),
built on ``atomic_inc_not_zero()`` and ``atomic_dec_and_test()``.  Both are
fully ordered in the kernel, so kbind accepts only ``Full`` for them: the
thread that drops the last reference must see every store the other holders
made before their own ``put``.  Asking for a weaker ordering is an
``OrderingError`` at run time (and a mypy error before that).

Run: ``python examples/atomics_refcount.py`` - exits 0 if everything behaved.
"""

from __future__ import annotations

import sys
import threading

from kbind import AtomicI32, Full, OrderingError, Relaxed


class Object:
    """An object whose lifetime is a reference count, like a kernel kref."""

    def __init__(self) -> None:
        self.refcount = AtomicI32(1)  # the creator's reference
        self.freed = False

    def get_unless_zero(self) -> bool:
        """Take a reference unless the object is already on its way out."""
        return self.refcount.inc_not_zero(Full)

    def put(self) -> None:
        """Drop a reference; the last one frees the object."""
        if self.refcount.dec_and_test(Full):
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
    ok = obj.refcount.load(Relaxed) == 1 and not obj.freed
    obj.put()
    print(f"creator dropped its reference: freed = {obj.freed}")
    ok = ok and obj.freed and not obj.get_unless_zero()
    print("get_unless_zero() on a freed object refuses:", not obj.get_unless_zero())

    try:
        obj.refcount.dec_and_test(Relaxed)  # type: ignore[arg-type]  # the misuse is the lesson
        ok = False
    except OrderingError as exc:
        print("dec_and_test(Relaxed) is refused:")
        print("  " + str(exc).replace("\n", "\n  "))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
