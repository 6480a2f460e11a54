"""SRCU: readers that sleep, an updater that waits for them, and the domain's own rules.

Sleepable RCU (kernel: ``struct srcu_struct``; Rust: ``kernel::sync::srcu``,
merged 2026-07) lets a reader sleep inside its read-side section, where an
RCU reader may not.  The price: each domain has its own grace periods, which
wait only for that domain's readers.  This script:

1. runs reader threads that sleep inside their sections while the main
   thread replaces a shared value, waits with ``synchronize()`` and only then
   "frees" the old value -- no reader ever sees a freed value;
2. shows that ``synchronize()`` inside a reader of the same domain raises
   ``DeadlockError`` (it would wait for itself), while a reader of another
   domain may wait and may sleep;
3. shows a guard used with the wrong domain (``GuardError``, R17).

Run: python examples/srcu_sleeping_readers.py
"""

from __future__ import annotations

import threading
import time

from kbind import DeadlockError, GuardError, context
from kbind.kernel.sync.srcu import Srcu


class Box:
    """A value that can be freed: reading a freed box is the bug SRCU prevents."""

    def __init__(self, value: int) -> None:
        self.value = value
        self.freed = False


def main() -> None:
    domain = Srcu()
    shared = {"box": Box(0)}
    stop = threading.Event()
    bad: list[int] = []
    reads = [0]

    def reader() -> None:
        while not stop.is_set():
            with domain.read_lock() as g:
                domain.check(g)  # the guard belongs to this domain
                box = shared["box"]
                time.sleep(0.001)  # SRCU readers may sleep
                if box.freed:
                    bad.append(box.value)
                reads[0] += 1

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for n in range(1, 30):
        old, shared["box"] = shared["box"], Box(n)
        domain.synchronize()  # every reader that could hold `old` has left
        old.freed = True
    stop.set()
    for t in threads:
        t.join(10)
    print(f"1. {reads[0]} sleeping reads, 29 updates, {domain.grace_periods()} grace periods, "
          f"{len(bad)} freed values seen")  # fmt: skip
    assert not bad

    other = Srcu()
    with domain.read_lock() as g:
        try:
            domain.synchronize()
        except DeadlockError as e:
            print(f"2. same domain: DeadlockError: {str(e).splitlines()[0][:70]}...")
        other.synchronize()  # another domain's grace period may be awaited
        context.sleep(0.001)  # and the reader may sleep
        print("   other domain: synchronize() and sleep() inside the reader are fine")
        try:
            other.check(g)
        except GuardError as e:
            print(f"3. wrong domain: GuardError: {str(e).splitlines()[0][:70]}...")
    domain.close()
    other.close()


if __name__ == "__main__":
    main()
