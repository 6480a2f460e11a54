"""rcu_barrier() from a thread in explicit QSBR mode (docs/backends.md).

In explicit QSBR mode the thread stays online between its guards, so a
barrier that waited while online would wait for the grace period its own
thread holds up.  docs/backends.md: the caller goes offline for the wait and
back online after it.  Timeouts are bounded so a regression fails instead of
hanging.
"""

from __future__ import annotations

import threading

import pytest

from kbind import rcu

# Every test runs on both RCU backends (builtin, liburcu): see tests/conftest.py.
pytestmark = pytest.mark.rcu_backends

BOUND_S = 5.0


def _in_thread(fn: object) -> list[object]:
    out: list[object] = []
    t = threading.Thread(target=lambda: out.append(fn()))  # type: ignore[operator]
    t.start()
    t.join(3 * BOUND_S)
    assert not t.is_alive(), "the thread is still waiting"
    return out


def test_rcu_barrier_in_qsbr_mode_returns_after_callbacks_ran() -> None:
    """with qsbr_mode(): call_rcu(f); rcu_barrier() runs f and returns True (it hung before)."""
    ran = threading.Event()

    def body() -> tuple[bool, bool]:
        with rcu.qsbr_mode():
            rcu.call_rcu(ran.set)
            done = rcu.rcu_barrier(BOUND_S)
            return done, ran.is_set()

    assert _in_thread(body) == [(True, True)]


def test_rcu_barrier_in_qsbr_mode_leaves_the_thread_online() -> None:
    """After the barrier the QSBR thread is online again: it holds up grace periods until it
    reports a quiescent state."""
    ready = threading.Barrier(2, timeout=BOUND_S)
    reported = threading.Event()
    result: list[object] = []

    def qsbr_thread() -> None:
        with rcu.qsbr_mode():
            rcu.call_rcu(lambda: None)
            result.append(rcu.rcu_barrier(BOUND_S))
            ready.wait()  # online here: the main thread's grace period must wait for us
            reported.wait(BOUND_S)
            rcu.quiescent_state()

    t = threading.Thread(target=qsbr_thread)
    t.start()
    ready.wait()
    r = rcu.Rcu({"v": 1})
    d = r.replace({"v": 2})
    # Online thread not yet quiescent: the grace period cannot have ended.
    assert not d.freed
    reported.set()
    d.drop()  # ends once the thread reports its quiescent state
    t.join(3 * BOUND_S)
    assert not t.is_alive()
    assert result == [True]
    assert d.freed


def test_synchronize_rcu_in_qsbr_mode_returns() -> None:
    """synchronize_rcu() from a QSBR-mode thread does not wait for itself either."""

    def body() -> bool:
        with rcu.qsbr_mode():
            rcu.synchronize_rcu()
        return True

    assert _in_thread(body) == [True]
