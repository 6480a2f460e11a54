"""A reader that performs a significant computation on what it read.

Kernel pattern: badblocks_check() in block/badblocks.c, which binary-searches
a table of bad-block ranges inside a seqlock read section.  Here the table
is one fixed-size bytes field (16 entries of (start, length) as 32-bit
numbers, the memcpy use case) plus a count; the reader decodes and searches
it inside the closure.  If a writer overlaps, the whole search is redone;
only a search over one consistent table is returned.  A writer thread keeps
replacing the table with a shifted copy; the reader checks its answers
against the table version it saw.
"""

from __future__ import annotations

import functools
import struct
import sys
import threading

from kbind import SeqLock, SeqView

ENTRIES = 16
FMT = f"<{2 * ENTRIES}I"


def make_table(shift: int) -> bytes:
    pairs = [(shift + 100 * i, 10) for i in range(ENTRIES)]
    return struct.pack(FMT, *[x for p in pairs for x in p])


def is_bad(v: SeqView[dict[str, int | bytes]], sector: int) -> tuple[int, bool]:
    raw = v.table
    assert isinstance(raw, bytes)
    flat = struct.unpack(FMT, raw)
    lo, hi = 0, ENTRIES - 1
    found = False
    while lo <= hi:  # the "significant computation": a binary search
        mid = (lo + hi) // 2
        start, length = flat[2 * mid], flat[2 * mid + 1]
        if sector < start:
            hi = mid - 1
        elif sector >= start + length:
            lo = mid + 1
        else:
            found = True
            break
    return int(v.shift), found


def main() -> int:
    bb = SeqLock(shift=0, table=make_table(0))
    start = threading.Barrier(2)
    wrong: list[tuple[int, int, bool]] = []

    def writer() -> None:
        start.wait(timeout=10)
        for s in range(1, 400):
            with bb.write() as w:
                w.shift = s
                w.table = make_table(s)

    def reader() -> None:
        start.wait(timeout=10)
        for i in range(1500):
            sector = (i * 37) % 1700
            shift, found = bb.read(functools.partial(is_bad, sector=sector))
            expect = any(shift + 100 * k <= sector < shift + 100 * k + 10 for k in range(ENTRIES))
            if found != expect:
                wrong.append((sector, shift, found))

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    if wrong or any(t.is_alive() for t in threads):
        print(f"FAILED: answers from torn tables {wrong[:5]}")
        return 1
    print("ok: every binary search ran over one consistent table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
