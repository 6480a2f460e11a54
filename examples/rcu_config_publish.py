"""Publishing a configuration with RCU, and why a reference must not escape its guard.

Kernel pattern: a global configuration pointer read on hot paths and
replaced rarely, e.g. the ``rcu_dereference(net->ipv4.tcp_congestion_control)``
style of lookup, or ``struct ip_options_rcu``:

    rcu_read_lock();
    cfg = rcu_dereference(global_cfg);
    timeout = cfg->timeout;          /* use cfg only in here */
    rcu_read_unlock();

    new = kmalloc(...); *new = *old; new->timeout = 5;   /* updater */
    old = rcu_replace_pointer(global_cfg, new, lockdep_is_held(&cfg_lock));
    synchronize_rcu();               /* every reader that could see old is done */
    kfree(old);

In Rust-for-Linux the reference returned by ``Rcu::read(&guard)`` borrows the
guard, so keeping it after ``drop(guard)`` does not compile.  Python cannot
refuse to compile it, so kbind refuses to *use* it: the reference raises
``LifetimeError`` naming where its guard was created and dropped.

Here reader threads read the configuration while the main thread publishes
new versions (read-copy-update) and frees old ones after a grace period.
Then one reader keeps a reference past its guard, and the lesson checks that
using it raises ``LifetimeError``.  Exits 1 if anything else happens.
"""

from __future__ import annotations

import copy
import dataclasses
import sys
import threading

from kbind import LifetimeError, ReadOnlyError
from kbind.rcu import Rcu, RcuReadGuard

VERSIONS = 50


@dataclasses.dataclass
class Config:
    version: int
    timeout: int
    servers: list[str]


def main() -> int:
    config = Rcu(Config(version=0, timeout=30, servers=["a"]))
    start = threading.Barrier(3)
    bad: list[str] = []

    def reader() -> None:
        start.wait(timeout=10)
        last = -1
        for _ in range(2000):
            with RcuReadGuard() as g:
                cfg = config.read(g)
                version, timeout = cfg.version, cfg.timeout
                if len(cfg.servers) != version + 1:  # the same version's fields agree
                    bad.append(f"torn read of version {version}")
            if version < last:
                bad.append(f"version went back from {last} to {version}")
            last = version
            if timeout != 30 + version:
                bad.append(f"version {version} has timeout {timeout}")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    start.wait(timeout=10)
    for v in range(1, VERSIONS + 1):
        # Read-copy-update: copy the old value, change the copy, publish it.
        def new_version(old: Config, v: int = v) -> Config:
            new = copy.copy(old)  # a plain shallow copy (old itself is read-only)
            return Config(v, new.timeout + 1, [*new.servers, f"s{v}"])

        with config.update(new_version):  # leaving the block: grace period, then free
            pass
    for t in threads:
        t.join(timeout=30)
    if bad or any(t.is_alive() for t in threads):
        print(f"FAILED: {bad[:3]}")
        return 1

    # The bug Rust rejects at compile time: a reference kept past its guard.
    with RcuReadGuard() as g:
        escaped = config.read(g)
    try:
        print(escaped.timeout)
    except LifetimeError as err:
        print("as expected, the escaped reference raised:\n")
        print(err)
    else:
        print("FAILED: the escaped reference was usable")
        return 1

    # And readers cannot change the shared object in place.
    with RcuReadGuard() as g:
        try:
            config.read(g).servers.append("x")
        except ReadOnlyError as err:
            print(f"\nas expected, in-place mutation was refused: {err.rule}")
        else:
            print("FAILED: a reader mutated the published value")
            return 1
    final = config.with_read(lambda c: (c.version, c.timeout))
    print(f"\nok: {VERSIONS} versions published, readers saw them in order; final {final}")
    return 0 if final == (VERSIONS, 30 + VERSIONS) else 1


if __name__ == "__main__":
    sys.exit(main())
