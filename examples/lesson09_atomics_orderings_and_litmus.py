"""Lesson 9: atomics, memory orderings, and what a litmus test shows.

Kernel pattern: ``smp_store_release()`` / ``smp_load_acquire()``,
``atomic_*()`` with ``_relaxed``/``_acquire``/``_release`` variants, and
``smp_mb()`` (Documentation/atomic_t.txt, Documentation/memory-barriers.txt,
tools/memory-model/Documentation/explanation.txt).  Rust: the LKMM atomics
with orderings as types (``Atomic<T>::load(Acquire)``); an ordering the
operation does not have does not compile.  kbind: ``AtomicI64.load(Acquire)``
etc.; ``load(Release)`` raises ``OrderingError`` (MISUSE A01) and mypy
rejects it.

Part 1 uses orderings: message passing with store(Release)/load(Acquire).
Part 2 runs the store-buffering litmus test SB on the CPU
(``P0: x=1; r0=y``, ``P1: y=1; r1=x``): without barriers the outcome
``r0=0, r1=0`` is allowed by the LKMM (and x86 store buffers produce it);
with ``smp_mb()`` in both threads it is forbidden.  On a machine with fewer
than 2 CPUs the litmus part is skipped (it needs two threads running at
once), and the lesson says so and still exits 0.  Exits 1 if the forbidden
outcome is observed with ``smp_mb()``, or the ordering checks fail.
"""

from __future__ import annotations

import sys
import threading

from kbind import OrderingError, litmus
from kbind.atomic import AtomicI64
from kbind.ordering import Acquire, Relaxed, Release


def main() -> int:
    data, flag = AtomicI64(0), AtomicI64(0)
    seen: list[int] = []

    def consumer() -> None:
        for _ in range(10_000_000):
            if flag.load(Acquire):  # pairs with the Release store below
                seen.append(data.load(Relaxed))
                return

    t = threading.Thread(target=consumer, name="consumer")
    t.start()
    data.store(42, Relaxed)
    flag.store(1, Release)  # everything before it is visible to an Acquire load that sees 1
    t.join(timeout=30)
    print(f"message passing with Release/Acquire: consumer saw data={seen}")
    try:
        flag.load(Release)  # type: ignore[arg-type]  # the misuse is the lesson
        refused = False
    except OrderingError as exc:
        refused = True
        print("load(Release) is refused:", str(exc).splitlines()[0])
    if seen != [42] or not refused:
        print("LESSON 09 FAILED: orderings")
        return 1

    cpus = litmus.usable_cpus()
    if cpus < 2:
        print(
            f"only {cpus} usable CPU: the SB litmus test needs two threads running at once; "
            "skipped on this machine"
        )
        print("LESSON 09 OK: orderings checked (litmus part skipped: fewer than 2 CPUs)")
        return 0
    once = litmus.run("SB", "once", iterations=200_000, max_seconds=2.0, until_observed=1)
    mb = litmus.run("SB", "mb", iterations=200_000, max_seconds=2.0)
    for r in (once, mb):
        print(
            f"SB {r.variant:<5} LKMM says {r.lkmm:<9} r0=0,r1=0 seen {r.exists_count:>6} "
            f"times in {r.iterations} runs: {r.verdict}"
        )
    if mb.forbidden_observed:
        print("LESSON 09 FAILED: smp_mb() did not forbid the SB outcome")
        return 1
    print("LESSON 09 OK: orderings checked; with smp_mb() the SB outcome never appeared")
    return 0


if __name__ == "__main__":
    sys.exit(main())
