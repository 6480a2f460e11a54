"""Lesson 8: sequence locks: readers that retry, and tentative values.

Kernel pattern: ``do { seq = read_seqbegin(&sl); a = x.a; b = x.b; } while
(read_seqretry(&sl, seq));`` (Documentation/locking/seqlock.rst,
include/linux/seqlock.h).  Unlike RCU, a seqlock reader never keeps writers
waiting: it may read torn data while a writer is inside, and the retry
check then tells it to throw its values away and read again.  Rust: the
proposed ``SeqLock<T>`` with a closure reader.  kbind: ``sl.read(fn)``
(closure: only a validated attempt's result comes out) and the explicit
loop ``seq = sl.read_begin()`` / ``seq.<field>`` / ``sl.read_retry(seq)``,
whose values are *tentative*: using one after a failed check raises
``TentativeValueError`` (MISUSE S01).

The lesson forces a failed attempt (a writer runs between begin and retry),
shows that the tentative value cannot be used, then retries until an
attempt holds, and reads with the closure form too.  Exits 1 otherwise.
"""

from __future__ import annotations

import sys
import threading
from typing import TypedDict

from kbind import SeqLock, TentativeValueError


class Clock(TypedDict):
    sec: int
    nsec: int


def main() -> int:
    clock = SeqLock(Clock, sec=1, nsec=500)

    seq = clock.read_begin()  # read_seqbegin()
    total = seq.sec * 1000 + seq.nsec  # tentative: tied to this attempt
    writer = threading.Thread(target=lambda: clock.update(sec=2, nsec=0), name="writer")
    writer.start()
    writer.join(timeout=10)
    failed = clock.read_retry(seq)  # read_seqretry(): True, a writer overlapped
    try:
        print("using the failed attempt's value:", int(total))
        usable = True
    except TentativeValueError as exc:
        usable = False
        print("the failed attempt's value is dead:", str(exc).splitlines()[0])

    while True:  # the kernel's loop: retry until an attempt holds
        seq = clock.read_begin()
        total = seq.sec * 1000 + seq.nsec
        if not clock.read_retry(seq):
            break
    closure = clock.read(lambda v: v.sec * 1000 + v.nsec)  # the closure form
    print(f"validated: {int(total)}; closure reader: {closure}")
    if not failed or usable or int(total) != 2000 or closure != 2000:
        print("LESSON 08 FAILED")
        return 1
    print("LESSON 08 OK: the torn attempt was rejected and its value refused; the retry held")
    return 0


if __name__ == "__main__":
    sys.exit(main())
