"""The merged generic barriers, ``kernel::sync::barrier``: say what the barrier orders.

Rust (rust/kernel/sync/barrier.rs, the generic form of 2026-08):

    // writer                          // reader
    data.store(42, Relaxed);           while flag.load(Relaxed) == 0 {}
    smp_mb(Write);                     smp_mb(Read);
    flag.store(1, Relaxed);            assert_eq!(data.load(Relaxed), 42);

The old ``smp_wmb()``/``smp_rmb()`` functions became one generic
``smp_mb(Full | Read | Write)`` so that a reviewer sees the intent.  kbind
runs the real barrier instructions of this CPU (``kbind.barrier.arch()``)
and refuses a marker that is not a barrier kind (mypy and run time).

The lesson: message passing with a write barrier on one side and a read
barrier on the other never shows a flag without its data, over many rounds
between two threads; ``smp_mb(Relaxed)`` is refused.  Exits 1 otherwise.
"""

from __future__ import annotations

import sys
import threading

from kbind import Relaxed, barrier
from kbind.errors import OrderingError
from kbind.kernel.sync.atomic import I64, Atomic
from kbind.kernel.sync.barrier import Full, Read, Write, smp_mb

ROUNDS = 100_000


def main() -> int:
    data, flag = Atomic[I64](0), Atomic[I64](0)
    stale = 0
    seen = 0

    def writer() -> None:
        for i in range(1, ROUNDS + 1):
            data.store(i, Relaxed)
            smp_mb(Write)  # data before flag
            flag.store(i, Relaxed)

    def reader() -> None:
        nonlocal stale, seen
        f = 0
        while f < ROUNDS:
            f = flag.load(Relaxed)
            smp_mb(Read)  # flag before data
            if data.load(Relaxed) < f:  # the flag of round f without its data
                stale += 1
            seen += 1

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    smp_mb(Full)
    try:
        smp_mb(Relaxed)  # type: ignore[arg-type]  # not a barrier kind: mypy says so too
        refused = False
    except OrderingError as e:
        refused = True
        print("smp_mb(Relaxed):", str(e).splitlines()[0])
    done = not any(t.is_alive() for t in threads)
    print(f"{ROUNDS} rounds, {seen} reads on {barrier.arch()}: {stale} flags seen without data")
    return 0 if stale == 0 and refused and done else 1


if __name__ == "__main__":
    sys.exit(main())
