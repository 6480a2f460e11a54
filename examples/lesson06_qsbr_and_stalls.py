"""Lesson 6: QSBR, quiescent states, and an RCU stall warning shown and fixed.

Kernel pattern: in the kernel (and liburcu's QSBR flavour) a grace period
ends when every CPU/thread has passed through a *quiescent state*, a point
where it holds no RCU reference (a context switch, idle, user mode;
liburcu: ``rcu_quiescent_state()``).  A thread that never reports one holds
up every grace period, and the kernel prints an RCU CPU stall warning
(Documentation/RCU/stallwarn.rst; kernel/rcu/tree_stall.h).  Rust: no
binding yet.  kbind: ``set_qsbr_mode(True)`` / ``qsbr_mode()`` keep a
thread online until it calls ``quiescent_state()`` (or
``thread_offline()``); a grace period held up longer than
``set_stall_timeout()`` warns ``RcuStallWarning`` naming the thread and
where it went online (MISUSE R09/R22).

The lesson: a worker thread in QSBR mode forgets to report; the main
thread's ``synchronize_rcu()`` stalls and the warning is shown (recorded
with ``warnings.catch_warnings(record=True)``; then the worker starts
reporting, which ends the grace period).  Then the fix: a worker that
reports a quiescent state after each unit of work, and grace periods that
end without a warning.  Exits 1 otherwise.
"""

from __future__ import annotations

import sys
import threading
import warnings

from kbind import RcuStallWarning
from kbind.rcu import (
    get_stall_timeout,
    quiescent_state,
    set_qsbr_mode,
    set_stall_timeout,
    synchronize_rcu,
)

TIMEOUT = 10.0


def worker(stop: threading.Event, online: threading.Event, report: threading.Event) -> None:
    """A QSBR worker: online all the time; reports quiescent states only once ``report`` is set."""
    set_qsbr_mode(True)  # online now: grace periods wait for this thread
    try:
        online.set()
        while not stop.wait(0.002):  # "work"
            if report.is_set():
                quiescent_state()  # "I hold no RCU references right now"
    finally:
        set_qsbr_mode(False)  # offline again (also what `with qsbr_mode():` does)


def run(report_from_start: bool, stalls: list[warnings.WarningMessage]) -> bool:
    stop, online, report = threading.Event(), threading.Event(), threading.Event()
    if report_from_start:
        report.set()
    t = threading.Thread(target=worker, args=(stop, online, report), name="qsbr-worker")
    t.start()
    online.wait(TIMEOUT)
    done = threading.Event()

    def fix_after_stall() -> None:
        # The "operator" of this lesson: once the stall was reported, fix the worker.
        while not done.is_set() and not stalls:
            done.wait(0.01)
        report.set()

    fixer = threading.Thread(target=fix_after_stall, name="fixer")
    fixer.start()
    try:
        for _ in range(3):
            synchronize_rcu()
    finally:
        done.set()
        stop.set()
        t.join(timeout=TIMEOUT)
        fixer.join(timeout=TIMEOUT)
    return not t.is_alive()


def main() -> int:
    before = get_stall_timeout()
    try:
        set_stall_timeout(0.3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RcuStallWarning)
            joined = run(report_from_start=False, stalls=caught)
        stalls = [w for w in caught if issubclass(w.category, RcuStallWarning)]
        if stalls:
            print("a worker in QSBR mode that never reports a quiescent state stalls RCU:")
            print("  " + str(stalls[0].message).replace("\n", "\n  "))
        set_stall_timeout(2.0)  # generous: a loaded machine must not raise a false alarm
        with warnings.catch_warnings(record=True) as fixed:
            warnings.simplefilter("always", RcuStallWarning)
            joined = run(report_from_start=True, stalls=fixed) and joined
        fixed_stalls = [w for w in fixed if issubclass(w.category, RcuStallWarning)]
    finally:
        set_stall_timeout(before)
    print(f"with quiescent states reported: {len(fixed_stalls)} stall warning(s)")
    names_worker = bool(stalls) and "qsbr-worker" in str(stalls[0].message)
    if not (names_worker and not fixed_stalls and joined):
        print(f"LESSON 06 FAILED: stalls={len(stalls)} fixed={len(fixed_stalls)} joined={joined}")
        return 1
    print("LESSON 06 OK: the stall was reported naming the worker, and reporting fixed it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
