"""Seqlock readers inside RCU readers: a neighbour's hardware address.

Kernel pattern: the IPv4 output path looks the neighbour entry up under RCU
(``__ipv4_neigh_lookup_noref()`` inside ``rcu_read_lock()``) and then copies
its hardware address out under the entry's own seqlock, because ARP may
rewrite the address at any time (include/net/neighbour.h)::

    rcu_read_lock();
    n = __ipv4_neigh_lookup_noref(dev, nexthop);      /* RCU: the entry stays alive */
    do {                                               /* neigh_ha_snapshot() */
            seq = read_seqbegin(&n->ha_lock);
            memcpy(dst, n->ha, dev->addr_len);         /* seqlock: a consistent copy */
    } while (read_seqretry(&n->ha_lock, seq));
    rcu_read_unlock();

Two mechanisms, two jobs: RCU keeps the *entry* from being freed while the
reader uses it (an updater may unlink it and free it after a grace period);
the seqlock keeps the *address bytes* from being torn by a concurrent ARP
update, which changes the entry in place.  In kbind the ``SeqLock`` lives
inside the RCU-published object and comes out of the reader's reference as
is: it synchronizes itself, like ``&SeqLock<T>`` in Rust (interior
mutability), while everything else about the entry stays read-only.

Three threads: an ARP thread rewrites addresses through the seqlocks, a
routing thread publishes new tables with RCU (adding and removing entries,
freeing the old tables with ``defer()``), and readers copy addresses out.
Exits 1 if a reader ever saw a torn address or an entry freed under it.
"""

from __future__ import annotations

import sys
import threading

from kbind import SeqLock, UseAfterFreeError
from kbind.rcu import Rcu, RcuReadGuard, rcu_barrier

ROUNDS = 1500


class Neighbour:
    """One ARP entry: the address is changed in place, under its seqlock."""

    def __init__(self, ip: str, fill: int) -> None:
        self.ip = ip
        self.ha_lock = SeqLock(ha=bytes([fill]) * 6)


def main() -> int:
    entries = {f"10.0.0.{i}": Neighbour(f"10.0.0.{i}", i) for i in range(1, 5)}
    table: Rcu[dict[str, Neighbour]] = Rcu(dict(entries))
    start = threading.Barrier(4)
    torn: list[bytes] = []
    freed: list[str] = []
    copies = [0]

    def arp() -> None:  # rewrites addresses in place, under each entry's seqlock
        start.wait(timeout=10)
        for i in range(ROUNDS):
            n = entries[f"10.0.0.{1 + i % 4}"]
            with n.ha_lock.write() as w:
                w.ha = bytes([i % 256]) * 6

    def routing() -> None:  # publishes new tables (RCU), frees old ones after a GP
        start.wait(timeout=10)
        for i in range(ROUNDS // 10):
            keep = dict(entries)
            if i % 2:
                del keep["10.0.0.4"]  # unlinked: readers inside a section may still hold it
            table.replace(keep).defer()

    def reader() -> None:
        start.wait(timeout=10)
        for i in range(ROUNDS):
            ip = f"10.0.0.{1 + i % 4}"
            try:
                with RcuReadGuard() as g:
                    n = table.read(g).get(ip)
                    if n is None:
                        continue
                    ha = n.ha_lock.read(lambda v: v.ha)  # neigh_ha_snapshot()
            except UseAfterFreeError as err:
                freed.append(str(err))
                continue
            copies[0] += 1
            assert isinstance(ha, bytes)
            if len(set(ha)) != 1:
                torn.append(ha)

    threads = [threading.Thread(target=f) for f in (arp, routing, reader, reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    rcu_barrier()
    if torn or freed or any(t.is_alive() for t in threads):
        print(f"FAILED: torn {torn[:2]}, freed under a reader {freed[:1]}")
        return 1
    print(f"ok: {copies[0]} address copies inside RCU readers: none torn, none freed early")
    return 0


if __name__ == "__main__":
    sys.exit(main())
