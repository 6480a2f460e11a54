"""kernel::sync::atomic: a lock-free maximum with cmpxchg, and a one-shot AtomicFlag.

Rust-for-Linux's ``Atomic<T>::cmpxchg`` returns ``Ok(old)`` or ``Err(current)``;
kbind's returns ``CmpxchgOk(old)`` or ``CmpxchgErr(current)``, which ``match``
takes apart.  A failed cmpxchg is a relaxed load, so the loop retries with
the value it reports instead of loading again.  Run: python examples/kernel_atomic_cmpxchg.py
"""

from __future__ import annotations

import random
import threading

from kbind import Acquire, Full, Relaxed
from kbind.kernel.sync.atomic import U32, Atomic, AtomicFlag, CmpxchgErr, CmpxchgOk


def record_max(best: Atomic[U32], v: int) -> int:
    """Raise ``best`` to ``v`` if ``v`` is larger; return how many tries it took."""
    cur = best.load(Relaxed)
    tries = 1
    while v > cur:
        match best.cmpxchg(cur, v, Full):
            case CmpxchgOk(_):
                break
            case CmpxchgErr(found):
                cur, tries = found, tries + 1  # another thread moved it: retry from there
    return tries


def main() -> None:
    best = Atomic[U32](0)
    started = AtomicFlag(False)
    first: list[int] = []
    values = [random.Random(i).randrange(2**32) for i in range(4 * 2000)]
    retries = Atomic[U32](0)

    def worker(i: int) -> None:
        match started.cmpxchg(False, True, Full):  # exactly one thread wins
            case CmpxchgOk(_):
                first.append(i)
            case CmpxchgErr(_):
                pass
        for v in values[i::4]:
            retries.add(record_max(best, v) - 1, Relaxed)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert best.load(Acquire) == max(values), (best, max(values))
    assert len(first) == 1 and started.load(Acquire)
    print(f"max of {len(values)} values: {best.load(Acquire)} (retries after a CmpxchgErr: "
          f"{retries.load(Relaxed)}); thread {first[0]} set the flag first")  # fmt: skip


if __name__ == "__main__":
    main()
