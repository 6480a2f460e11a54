"""Regression tests for RCU defects: barriers, stall accounting, wake-ups."""

from __future__ import annotations

import errno
import gc
import subprocess
import sys
import warnings

import pytest

from kbind import rcu
from kbind._bridge.native import ffi, lib
from kbind.errors import RcuDropGuardLeakWarning
from kbind.rcu import Rcu
from kbind.rcu._callbacks import callbacks
from tests.support import child_env, reader_held

pytestmark = pytest.mark.rcu_backends

JOIN = 30.0


def test_rcu_barrier_after_leaked_drop_guard_waits_for_both_callbacks(rcu_backend: str) -> None:
    """A leaked drop guard's deferred free, then call_rcu(): the barrier waits for both.

    The leaked guard's finalizer queues its free without taking locks (its token
    is older than call_rcu's); a barrier that compared tokens by insertion order
    instead of value returned True at once with both callbacks still pending.
    The callback thread's lock is held meanwhile, so the interleaving that
    exposed it happens every time.
    """
    ran: list[str] = []
    cfg = Rcu({"v": 1})
    # holding the callback thread's lock: it cannot adopt the finalizer's token yet
    with reader_held(), callbacks.cond:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RcuDropGuardLeakWarning)
            cfg.replace({"v": 2})  # the drop guard is leaked at once
            gc.collect()
        rcu.call_rcu(lambda: ran.append("call_rcu"))
        assert rcu.rcu_barrier(timeout=0.3) is False, "barrier passed with callbacks pending"
        assert ran == []
    assert rcu.rcu_barrier(timeout=JOIN) is True
    assert ran == ["call_rcu"]
    assert callbacks.count() == 0


def test_rcu_barrier_times_out_while_reader_holds_then_completes(rcu_backend: str) -> None:
    """Under a held reader the barrier times out (False); after the reader leaves it is True."""
    ran: list[int] = []
    with reader_held():
        for i in range(5):
            rcu.call_rcu(lambda i=i: ran.append(i))  # type: ignore[misc]
        assert rcu.rcu_barrier(timeout=0.2) is False
        assert ran == []
    assert rcu.rcu_barrier(timeout=JOIN) is True
    assert ran == [0, 1, 2, 3, 4]


def test_stall_counted_once_per_grace_period_across_wait_slices(rcu_backend: str) -> None:
    """One stalled grace period waited for in many bounded slices counts as one stall.

    Python waits for grace periods in slices; each slice is a separate bounded
    wait in C.  The builtin engine used to count a stall per slice (19 for one
    stalled grace period in 1 s), where liburcu's backend counted one.
    """
    old_timeout = lib.kb_rcu_get_stall_timeout_ns()
    lib.kb_rcu_set_stall_timeout_ns(30_000_000)  # 30 ms
    try:
        before = lib.kb_rcu_stall_count()
        with reader_held():
            cookie = lib.kb_get_state_synchronize_rcu()
            slices = [lib.kb_rcu_wait_gp(cookie, 20_000_000) for _ in range(12)]  # 240 ms
            assert set(slices) == {lib.KB_ETIMEDOUT}
        assert lib.kb_rcu_wait_gp(cookie, int(JOIN * 1e9)) == lib.KB_OK
        assert lib.kb_rcu_stall_count() - before == 1
    finally:
        lib.kb_rcu_set_stall_timeout_ns(old_timeout)


# A child that leaves itself 4 MiB of address space: no room for a new
# thread's stack, so the engine cannot start the thread it needs.
_LOW_MEMORY_CHILD = """
import resource, sys
import kbind.rcu as rcu
def vmsize():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmSize"))
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
resource.setrlimit(resource.RLIMIT_AS, (vmsize() + 4 * 2**20, hard))
ran = []
try:
    {action}
    print("no error")
except OSError as e:
    print("OSError", e.errno)
resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
rcu.call_rcu(lambda: ran.append(1))
print("afterwards", rcu.rcu_barrier(timeout=30), ran, rcu.pending_callbacks())
"""


def _low_memory_child(action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _LOW_MEMORY_CHILD.replace("{action}", action)],
        capture_output=True, text=True, timeout=120, check=False, env=child_env(),
    )  # fmt: skip


def test_call_rcu_without_room_for_the_callback_thread_raises_oserror(rcu_backend: str) -> None:
    """call_rcu() when the callback thread cannot start raises OSError; it used to abort().

    Afterwards, with memory back, call_rcu and rcu_barrier work normally.
    """
    if rcu_backend == "liburcu":
        pytest.skip(
            "liburcu starts its own call_rcu thread and aborts itself when it cannot "
            "(liburcu's urcu_die()); kbind's part is tested on the builtin backend"
        )
    proc = _low_memory_child("rcu.call_rcu(lambda: ran.append(0))")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == [f"OSError {errno.EAGAIN}", "afterwards True [1] 0"]


def test_grace_period_wait_without_room_for_a_thread_raises_or_completes(rcu_backend: str) -> None:
    """synchronize_rcu() never aborts for want of a thread: liburcu's helper -> OSError.

    The builtin engine waits on the caller's own thread (it needs none); the
    liburcu backend's grace-period helper is a thread, and failing to start
    it used to abort() the process.
    """
    proc = _low_memory_child("rcu.synchronize_rcu()")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = "no error" if rcu_backend == "builtin" else f"OSError {errno.EAGAIN}"
    assert proc.stdout.splitlines() == [first, "afterwards True [1] 0"]


def test_grace_period_wait_inside_a_c_callback_returns_edeadlk(rcu_backend: str) -> None:
    """A C call_rcu callback that waits for a grace period gets KB_EDEADLK, on both backends.

    On liburcu the callback thread is an online reader while it runs
    callbacks, so the wait used to wait for itself (a deadlock, bounded here
    only by the timeout); the kernel forbids sleeping in callbacks anyway.
    """
    results: list[int] = []

    @ffi.callback("void(kb_rcu_head_t *)")
    def waits_in_callback(head: object) -> None:
        results.append(lib.kb_synchronize_rcu_timeout(2_000_000_000))
        results.append(lib.kb_rcu_barrier_timeout(2_000_000_000))

    head = ffi.new("kb_rcu_head_t *")
    assert lib.kb_call_rcu(head, waits_in_callback) == lib.KB_OK
    assert lib.kb_rcu_barrier_timeout(int(JOIN * 1e9)) == lib.KB_OK
    assert results == [lib.KB_EDEADLK, lib.KB_EDEADLK]
