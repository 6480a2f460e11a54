"""A reader that gathers its data through helper functions reached by pointer.

Kernel pattern: timer_cs_read() in arch/sparc/kernel/time_32.c, whose
read-side section calls into another translation unit through a function
pointer.  In kbind the closure reader passes its view to whatever helpers it
likes; the helpers read fields through it, and only the result of an
attempt that validates is returned.  A helper that keeps the view for later
gets a LifetimeError (MISUSE S02), which this example also demonstrates.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from kbind import LifetimeError, SeqLock, SeqView

View = SeqView[dict[str, int | bytes]]


def read_counter(v: View) -> int:
    """The 'clocksource' helper: the raw counter."""
    return int(v.counter)


def read_offset(v: View) -> int:
    """Another helper, as if in another file: the offset to add."""
    return int(v.offset)


#: A table of helpers, like a struct of function pointers.
OPS: dict[str, Callable[[View], int]] = {"counter": read_counter, "offset": read_offset}


def timer_read(v: View) -> int:
    return OPS["counter"](v) + OPS["offset"](v)


def main() -> int:
    timer = SeqLock(counter=0, offset=0)
    start = threading.Barrier(2)
    bad: list[int] = []

    def writer() -> None:
        # Invariant: counter + offset == 1000 after every write section.
        start.wait(timeout=10)
        for i in range(1, 1500):
            with timer.write() as w:
                w.counter = i
                w.offset = 1000 - i

    def reader() -> None:
        start.wait(timeout=10)
        for _ in range(1500):
            total = timer.read(timer_read)
            if total not in (0, 1000):
                bad.append(total)

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    kept: list[View] = []
    timer.read(kept.append)  # a helper that keeps the view...
    try:
        read_counter(kept[0])  # ...and uses it after the reader returned
        print("FAILED: a stashed view was usable")
        return 1
    except LifetimeError:
        pass
    if bad or any(t.is_alive() for t in threads):
        print(f"FAILED: inconsistent totals {bad[:5]}")
        return 1
    print("ok: helpers reached through a table read consistent data; a stashed view raised")
    return 0


if __name__ == "__main__":
    sys.exit(main())
