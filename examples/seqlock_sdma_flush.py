"""A reader that contains a writer of the same sequence lock.

Kernel pattern: the hfi1 driver (drivers/infiniband/hw/hfi1/sdma.c, around
sdma_flush() and the wait-list handling) peeks at a list under
read_seqbegin() and, if there is work, takes write_seqlock() on the same
lock inside the read loop and breaks out: the lockless peek avoids taking
the lock on the fast path.

Naively translated to a closure reader this would spin forever: the write
bumps the sequence, so the retry check always fails and the closure (and its
write) run again.  kbind expresses it safely as an *upgrade*: a write
section opened on the reader's own thread ends the read attempt, the write
section serializes with every other writer, and ``read`` returns the
closure's result without retrying.  Values read before the upgrade were
only hints (the view dies at the upgrade: read through the write guard).
The same pattern in the explicit loop works like the kernel: write, then
break; the attempt's tentative values are dead afterwards.

A second way: ``sl.read(fn, lock_after=0)`` runs ``fn`` as an exclusive
reader (read_seqlock_excl()); it cannot write (DeadlockError), but no writer
can run meanwhile either.  Exits 1 if any work item is lost or repeated.
"""

from __future__ import annotations

import sys
import threading

from kbind import SeqLock, SeqView, TentativeValueError

View = SeqView[dict[str, int | bytes]]


def main() -> int:
    q = SeqLock(pending=0, done=0, flushes=0)
    start = threading.Barrier(2)
    produced = 3000
    stop = threading.Event()

    def producer() -> None:
        start.wait(timeout=10)
        for _ in range(produced):
            with q.write() as w:
                w.pending = int(w.pending) + 1
        stop.set()

    def flush(v: View) -> int:
        if not v.pending:  # lockless fast path: nothing to do, no lock taken
            return 0
        with q.write() as w:  # upgrade: same lock, inside the reader
            n = int(w.pending)  # re-read under the lock: the peek was a hint
            w.pending = 0
            w.done = int(w.done) + n
            w.flushes = int(w.flushes) + 1
        return n

    flushed = [0]

    def consumer() -> None:
        start.wait(timeout=10)
        while not stop.is_set():
            flushed[0] += q.read(flush)
        flushed[0] += q.read(flush)

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if any(t.is_alive() for t in threads):
        print("FAILED: a thread did not finish (spinning reader?)")
        return 1

    # The explicit loop form, as in the kernel: write inside, then break.
    with q.write() as w:
        w.pending = 5
    while True:
        seq = q.read_begin()
        if seq.pending:
            with q.write() as w:
                flushed[0] += int(w.pending)
                w.done = int(w.done) + int(w.pending)
                w.pending = 0
            break
        if not q.read_retry(seq):
            break
    try:
        int(seq.pending)  # the peeked value died with the attempt
        print("FAILED: a value from the superseded attempt was usable")
        return 1
    except TentativeValueError:
        pass

    final = q.snapshot()
    if final["done"] != produced + 5 or flushed[0] != produced + 5 or final["pending"] != 0:
        print(f"FAILED: lost or repeated work: {final!r}, flushed {flushed[0]}")
        return 1
    print(f"ok: {final['done']!r} items flushed in {final['flushes']!r} upgrades, none lost")
    return 0


if __name__ == "__main__":
    sys.exit(main())
