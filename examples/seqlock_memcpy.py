"""memcpy()-style snapshots of a fixed-size buffer.

Kernel pattern: neigh_hh_output() in include/net/neighbour.h copies a
cached hardware header out of a seqlock-protected buffer with memcpy()
inside the read loop.  In kbind a byte field is stored as whole 64-bit
words and copied word by word with marked accesses (no undefined
behaviour even when the copy races a writer), and the copy is only
returned from an attempt that validates.  A writer thread keeps rewriting
the 30-byte header with a fill byte that changes every time; readers check
that every copy they get is uniform.  Also uses ``snapshot()``, which runs
the whole read loop in one C call.  Exits 1 on a torn copy.
"""

from __future__ import annotations

import sys
import threading

from kbind import SeqLock

HH_LEN = 30


def main() -> int:
    hh = SeqLock(hh_len=HH_LEN, hh_data=bytes(HH_LEN))
    start = threading.Barrier(3)
    torn: list[bytes] = []

    def writer() -> None:
        start.wait(timeout=10)
        for i in range(1, 2000):
            with hh.write() as w:
                w.hh_data = bytes([i % 256]) * HH_LEN

    def reader(use_snapshot: bool) -> None:
        start.wait(timeout=10)
        for _ in range(2000):
            data = hh.snapshot()["hh_data"] if use_snapshot else hh.read(lambda v: v.hh_data)
            assert isinstance(data, bytes)
            if len(set(data)) != 1:
                torn.append(data)

    threads = [
        threading.Thread(target=writer),
        threading.Thread(target=reader, args=(False,)),
        threading.Thread(target=reader, args=(True,)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if torn or any(t.is_alive() for t in threads):
        print(f"FAILED: torn header copies {torn[:2]}")
        return 1
    print("ok: every header copy was uniform")
    return 0


if __name__ == "__main__":
    sys.exit(main())
