"""The retry check buried in a helper function, with tentative values.

Kernel pattern: sdma_progress() in drivers/infiniband/hw/hfi1/sdma.h takes
the sequence from its caller and calls read_seqretry() itself;
follow_dotdot_rcu() in fs/namei.c does likewise.  A closure cannot express
that (the check is not at the end of one function), so kbind offers the
explicit loop: ``seq = sl.read_begin()``, ``seq.<field>``, and a helper
calling ``sl.read_retry(seq)``.  What ``seq.<field>`` returns is a
TentativeValue: after a failed check, using it (or anything computed from
it) raises TentativeValueError naming where it was read; after a successful
check it is a plain value.  Exits 1 if that does not hold.
"""

from __future__ import annotations

import sys
import threading

from kbind import SeqLock, SeqReadToken, TentativeValue, TentativeValueError

Token = SeqReadToken[dict[str, int | bytes]]


def progress(ring: SeqLock[dict[str, int | bytes]], seq: Token, head: TentativeValue) -> bool:
    """The helper: did the ring move since ``seq``?  Owns the retry check."""
    if ring.read_retry(seq):
        return True  # a writer overlapped: the caller must re-read
    return bool(head != 0)


def main() -> int:
    ring = SeqLock(head=0, tail=0)

    # 1. A failed attempt: its values die.
    seq = ring.read_begin()
    head = seq.head
    used = head - seq.tail  # tentative, tied to this attempt
    t = threading.Thread(target=lambda: ring.update(head=8, tail=3))
    t.start()
    t.join(timeout=10)
    if not progress(ring, seq, head):
        print("FAILED: the overlapping write was not detected")
        return 1
    try:
        print(int(used))
        print("FAILED: a value from a failed attempt was usable")
        return 1
    except TentativeValueError as e:
        print("as expected:", str(e).splitlines()[0])

    # 2. Retry until the helper says the attempt held: values become plain.
    while True:
        seq = ring.read_begin()
        head = seq.head
        used = head - seq.tail
        if not ring.read_retry(seq):
            break
    if int(used) != 5 or not used.is_valid:
        print(f"FAILED: expected 5 used slots, got {used!r}")
        return 1
    print(f"ok: {int(used)} slots in use, validated by the retry check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
