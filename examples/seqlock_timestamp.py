"""A 64-bit timestamp kept as two 32-bit halves: the textbook seqlock reader.

Kernel pattern: sock_read_timestamp() in include/net/sock.h, which on 32-bit
systems reads a 64-bit value under a seqlock so the two halves cannot come
from different writes:

    do {
        seq = read_seqbegin(&sk->sk_stamp_seq);
        kt = sk->sk_stamp;
    } while (read_seqretry(&sk->sk_stamp_seq, seq));

Here a writer thread stores ``hi`` and ``lo`` separately (two marked stores
inside one write section) while a reader thread combines them with a
closure reader.  The writer only ever stores values whose halves are equal,
so a torn combination would be detected.  Exits 1 if a reader ever saw one.
"""

from __future__ import annotations

import sys
import threading

from kbind import SeqLock

ROUNDS = 2000


def main() -> int:
    stamp = SeqLock(hi=0, lo=0)
    start = threading.Barrier(2)
    torn: list[tuple[int, int]] = []

    def writer() -> None:
        start.wait(timeout=10)
        for i in range(1, ROUNDS + 1):
            with stamp.write() as w:
                w.hi = i
                w.lo = i

    def reader() -> None:
        start.wait(timeout=10)
        for _ in range(ROUNDS):
            hi, lo = stamp.read(lambda v: (int(v.hi), int(v.lo)))
            if hi != lo:
                torn.append((hi, lo))

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if any(t.is_alive() for t in threads) or torn:
        print(f"FAILED: torn timestamps {torn[:5]}")
        return 1
    value = stamp.read(lambda v: (int(v.hi) << 32) | int(v.lo))
    print(f"ok: final timestamp {value:#x}, no torn read in {ROUNDS} reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
