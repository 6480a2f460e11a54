"""Tests of the C QSBR RCU engine (csrc/engine/rcu_api.c, each backend), via kbind._bridge.native.

Reader threads are Python threads that register with the engine and then
execute commands sent to them one at a time (see ``Reader``), so a test can
hold a thread "online inside a read-side section" for exactly as long as it
needs, with no sleeps: every step is acknowledged before the next one.
Every wait on the engine is bounded, so a broken engine fails a test instead
of hanging the suite.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from kbind._bridge.native import ffi, lib

# Every test runs over both RCU backends (tests/conftest.py): same code, same
# assertions; the other backend's cases run in one child pytest.
pytestmark = pytest.mark.rcu_backends

JOIN = 10.0  # seconds: bound for joins and acknowledgements
LONG_NS = 10 * 1_000_000_000  # a bound no correct wait here comes near
SHORT_NS = 50 * 1_000_000  # long enough to show that a grace period is held up


class Reader:
    """A Python thread that registers with the engine and runs commands on request."""

    def __init__(self, name: str | None = None, register: bool = True) -> None:
        self._cmds: queue.Queue[Callable[[], Any] | None] = queue.Queue()
        self._results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self._name = name
        self._register = register
        self.native_id = 0
        self.thread = threading.Thread(target=self._main, name=name or "rcu-reader", daemon=True)

    def _main(self) -> None:
        self.native_id = threading.get_native_id()
        if self._register:
            assert lib.kb_rcu_register_thread() == lib.KB_OK
            if self._name is not None:
                assert lib.kb_rcu_set_thread_name(self._name.encode()) == lib.KB_OK
        self._results.put((True, None))
        while True:
            cmd = self._cmds.get()
            if cmd is None:
                return
            try:
                self._results.put((True, cmd()))
            except BaseException as exc:  # reported to the test thread
                self._results.put((False, exc))

    def start(self) -> Reader:
        self.thread.start()
        ok, _ = self._results.get(timeout=JOIN)
        assert ok
        return self

    def do(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the reader thread and return its result."""
        self._cmds.put(fn)
        ok, value = self._results.get(timeout=JOIN)
        if not ok:
            raise value
        return value

    def stop(self, unregister: bool = True) -> None:
        if self.thread.is_alive():
            if unregister and self._register:
                self.do(lambda: _leave_all_and_unregister())
            self._cmds.put(None)
            self.thread.join(timeout=JOIN)
            assert not self.thread.is_alive()


def _leave_all_and_unregister() -> None:
    while lib.kb_rcu_read_lock_nesting() > 0:
        lib.kb_rcu_read_unlock()
    if lib.kb_rcu_is_registered():
        assert lib.kb_rcu_unregister_thread() == lib.KB_OK


@contextmanager
def reader(name: str | None = None, register: bool = True) -> Iterator[Reader]:
    r = Reader(name, register).start()
    try:
        yield r
    finally:
        r.stop()


def in_thread(fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on a fresh thread (so its engine state does not leak) and return its result."""
    with reader(register=False) as r:
        return r.do(fn)


def wait_until(cond: Callable[[], bool], timeout: float = JOIN) -> None:
    """Poll ``cond`` (a state the engine reaches by itself) until true, at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


def drain_tokens() -> list[int]:
    """Run every pending callback and reap every completed token."""
    assert lib.kb_rcu_barrier_timeout(LONG_NS) == lib.KB_OK
    out = ffi.new("uint64_t[64]")
    got: list[int] = []
    while lib.kb_rcu_tokens_ready() > 0:
        n = lib.kb_rcu_reap_tokens(out, 64, 0)
        got.extend(out[i] for i in range(n))
    return got


@pytest.fixture(autouse=True)
def _clean_engine() -> Iterator[None]:
    """Each test starts and ends with no pending callbacks, no tokens and the real engine."""
    assert lib.kb_rcu_get_busted() == lib.KB_RCU_BUSTED_NONE
    drain_tokens()
    yield
    lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NONE)
    lib.kb_rcu_set_stall_timeout_ns(21 * 1_000_000_000)
    drain_tokens()
    assert lib.kb_synchronize_rcu_timeout(LONG_NS) == lib.KB_OK


# ------------------------------------------------------------------ backend


def test_backend_under_test_is_the_one_in_use(rcu_backend: str) -> None:
    """Each case runs in a process whose RCU engine is the backend in its id."""
    from kbind.rcu_backend import current_backend

    assert current_backend() == rcu_backend
    assert lib.kb_rcu_get_backend() == {"builtin": 0, "liburcu": 1}[rcu_backend]


# ------------------------------------------------------------------ registry


def test_register_thread_fresh_thread_registered_and_online() -> None:
    """A newly registered thread is registered, online, and counted."""
    before = lib.kb_rcu_registered_count()
    with reader() as r:
        assert r.do(lib.kb_rcu_is_registered)
        assert r.do(lib.kb_rcu_is_online)
        assert lib.kb_rcu_registered_count() == before + 1
    assert lib.kb_rcu_registered_count() == before


def test_register_thread_twice_returns_ebusy() -> None:
    """Registering an already registered thread reports KB_EBUSY and changes nothing."""
    with reader() as r:
        before = lib.kb_rcu_registered_count()
        assert r.do(lib.kb_rcu_register_thread) == lib.KB_EBUSY
        assert lib.kb_rcu_registered_count() == before


def test_unregister_thread_not_registered_returns_einval() -> None:
    """Unregistering a thread that never registered reports KB_EINVAL."""
    assert in_thread(lib.kb_rcu_unregister_thread) == lib.KB_EINVAL
    assert in_thread(lambda: lib.kb_rcu_set_thread_name(b"x")) == lib.KB_EINVAL


def test_unregister_thread_inside_section_returns_ebusy() -> None:
    """A thread cannot unregister from inside a read-side section."""
    with reader() as r:
        r.do(lib.kb_rcu_read_lock)
        assert r.do(lib.kb_rcu_unregister_thread) == lib.KB_EBUSY
        r.do(lib.kb_rcu_read_unlock)
        assert r.do(lib.kb_rcu_unregister_thread) == lib.KB_OK
        assert not r.do(lib.kb_rcu_is_registered)


def test_thread_exit_registered_thread_auto_unregisters() -> None:
    """A thread that exits while registered leaves the registry and holds up nothing."""
    before = lib.kb_rcu_registered_count()
    r = Reader("exits-registered").start()
    assert lib.kb_rcu_registered_count() == before + 1
    r.stop(unregister=False)  # the thread ends while registered and online
    # join() returns when the Python thread is done, slightly before the OS
    # thread runs its key destructors: a grace period waits for exactly that
    # (the dead thread was online), then the record leaves the registry.
    assert lib.kb_synchronize_rcu_timeout(LONG_NS) == lib.KB_OK
    wait_until(lambda: lib.kb_rcu_registered_count() == before)


# ------------------------------------------------------------ nesting count


def test_read_lock_nested_counts_depth() -> None:
    """read_lock/read_unlock keep a per-thread nesting count."""

    def body() -> list[int]:
        seen = [lib.kb_rcu_read_lock_nesting()]
        lib.kb_rcu_read_lock()
        lib.kb_rcu_read_lock()
        seen.append(lib.kb_rcu_read_lock_nesting())
        seen.append(int(lib.kb_rcu_read_lock_held()))
        lib.kb_rcu_read_unlock()
        lib.kb_rcu_read_unlock()
        seen.append(lib.kb_rcu_read_lock_nesting())
        seen.append(int(lib.kb_rcu_read_lock_held()))
        return seen

    assert in_thread(body) == [0, 2, 1, 0, 0]


def test_read_lock_other_thread_nesting_unaffected() -> None:
    """The nesting count belongs to the thread: another thread's count stays 0."""
    with reader() as r:
        r.do(lib.kb_rcu_read_lock)
        assert r.do(lib.kb_rcu_read_lock_nesting) == 1
        assert lib.kb_rcu_read_lock_nesting() == 0
        r.do(lib.kb_rcu_read_unlock)


def test_synchronize_rcu_inside_section_returns_edeadlk() -> None:
    """synchronize_rcu() inside the caller's own read-side section refuses instead of hanging."""

    def body() -> tuple[int, int]:
        lib.kb_rcu_read_lock()
        try:
            cookie = lib.kb_get_state_synchronize_rcu()
            return (lib.kb_synchronize_rcu(), lib.kb_rcu_wait_gp(cookie, 0))
        finally:
            lib.kb_rcu_read_unlock()

    with reader() as r:
        assert r.do(body) == (lib.KB_EDEADLK, lib.KB_EDEADLK)


# --------------------------------------------------------- online / offline


def test_offline_reader_never_holds_up_grace_period() -> None:
    """A registered thread that went offline does not delay synchronize_rcu()."""
    with reader("offline") as r:
        r.do(lib.kb_rcu_thread_offline)
        assert not r.do(lib.kb_rcu_is_online)
        before = lib.kb_rcu_gp_count()
        assert lib.kb_synchronize_rcu_timeout(LONG_NS) == lib.KB_OK
        assert lib.kb_rcu_gp_count() > before


def test_online_reader_without_qs_holds_up_grace_period_until_qs() -> None:
    """An online reader that reports no quiescent state holds a grace period until it does."""
    with reader("holder") as r:
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_ETIMEDOUT
        cookie = lib.kb_get_state_synchronize_rcu()
        assert not lib.kb_poll_state_synchronize_rcu(cookie)
        r.do(lib.kb_rcu_quiescent_state)
        # The grace period left in progress by the timed-out wait now ends;
        # the cookie's (the next one) needs one more report or offline.
        r.do(lib.kb_rcu_thread_offline)
        assert lib.kb_rcu_wait_gp(cookie, LONG_NS) == lib.KB_OK
        assert lib.kb_poll_state_synchronize_rcu(cookie)


def test_online_reader_qs_each_step_lets_grace_periods_end() -> None:
    """A reader that reports a quiescent state after a grace period started lets it end."""
    with reader("qs") as r:
        for _ in range(3):
            cookie = lib.kb_get_state_synchronize_rcu()
            assert lib.kb_rcu_wait_gp(cookie, SHORT_NS) == lib.KB_ETIMEDOUT
            r.do(lib.kb_rcu_quiescent_state)
            assert lib.kb_rcu_wait_gp(cookie, LONG_NS) == lib.KB_OK


def test_thread_online_after_offline_holds_up_again() -> None:
    """Coming back online makes the thread hold up grace periods again."""
    with reader() as r:
        r.do(lib.kb_rcu_thread_offline)
        assert lib.kb_synchronize_rcu_timeout(LONG_NS) == lib.KB_OK
        r.do(lib.kb_rcu_thread_online)
        assert r.do(lib.kb_rcu_is_online)
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_ETIMEDOUT
        r.do(lib.kb_rcu_thread_offline)
        assert lib.kb_synchronize_rcu_timeout(LONG_NS) == lib.KB_OK


def test_synchronize_rcu_online_caller_does_not_wait_for_itself() -> None:
    """A registered online thread may call synchronize_rcu(): it goes offline for the wait."""

    def body() -> tuple[int, bool]:
        return lib.kb_synchronize_rcu_timeout(LONG_NS), bool(lib.kb_rcu_is_online())

    with reader() as r:
        assert r.do(body) == (lib.KB_OK, True)


def test_synchronize_rcu_concurrent_callers_share_grace_periods() -> None:
    """Callers that arrive while a grace period is in progress share the next one."""
    lib.kb_rcu_set_stall_timeout_ns(0)
    results: list[int] = []
    with reader("blocker") as r:
        leader = threading.Thread(
            target=lambda: results.append(lib.kb_synchronize_rcu_timeout(LONG_NS))
        )
        before = lib.kb_rcu_gp_count()
        leader.start()
        wait_until(lambda: lib.kb_rcu_stalled_readers(ffi.NULL, 0) > 0)  # leader's GP started
        cookies_taken = threading.Barrier(4)

        def follower() -> None:
            cookie = lib.kb_get_state_synchronize_rcu()
            cookies_taken.wait(timeout=JOIN)
            results.append(lib.kb_rcu_wait_gp(cookie, LONG_NS))

        followers = [threading.Thread(target=follower) for _ in range(3)]
        for t in followers:
            t.start()
        cookies_taken.wait(timeout=JOIN)
        r.do(lib.kb_rcu_thread_offline)  # releases every grace period
        for t in [leader, *followers]:
            t.join(timeout=JOIN)
            assert not t.is_alive()
    assert results == [lib.KB_OK] * 4
    assert lib.kb_rcu_gp_count() - before <= 2


# -------------------------------------------------------------- cookie API


def test_cookie_fresh_not_done_until_grace_period() -> None:
    """A fresh cookie is not done; cond_synchronize_rcu() ends its grace period; then it is done."""
    cookie = lib.kb_get_state_synchronize_rcu()
    assert not lib.kb_poll_state_synchronize_rcu(cookie)
    before = lib.kb_rcu_gp_count()
    assert lib.kb_cond_synchronize_rcu(cookie) == lib.KB_OK
    assert lib.kb_poll_state_synchronize_rcu(cookie)
    assert lib.kb_rcu_gp_count() >= before + 1
    # A done cookie costs nothing more: no new grace period.
    count = lib.kb_rcu_gp_count()
    assert lib.kb_cond_synchronize_rcu(cookie) == lib.KB_OK
    assert lib.kb_rcu_wait_gp(cookie, 0) == lib.KB_OK
    assert lib.kb_rcu_gp_count() == count


def test_cookie_taken_during_grace_period_needs_the_next_one() -> None:
    """A cookie taken while a grace period is in progress is not satisfied by that one."""
    with reader() as r:
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_ETIMEDOUT  # GP in progress
        cookie = lib.kb_get_state_synchronize_rcu()
        r.do(lib.kb_rcu_quiescent_state)  # ends the one in progress only
        assert lib.kb_rcu_wait_gp(cookie, SHORT_NS) == lib.KB_ETIMEDOUT
        assert not lib.kb_poll_state_synchronize_rcu(cookie)
        r.do(lib.kb_rcu_quiescent_state)
        assert lib.kb_rcu_wait_gp(cookie, LONG_NS) == lib.KB_OK


# ----------------------------------------------------- pointer publication


def test_pointer_functions_publish_and_return_old_values() -> None:
    """assign/dereference/access/xchg/cmpxchg/replace/init act on a void * slot as the kernel's."""
    a, b, c = ffi.new("int *", 1), ffi.new("int *", 2), ffi.new("int *", 3)
    pa, pb, pc = (ffi.cast("void *", x) for x in (a, b, c))
    slot = ffi.new("void *[1]")
    lib.kb_rcu_init_pointer(slot, pa)
    assert lib.kb_rcu_access_pointer(slot) == pa
    lib.kb_rcu_assign_pointer(slot, pb)
    assert lib.kb_rcu_dereference(slot) == pb
    assert ffi.cast("int *", lib.kb_rcu_dereference(slot))[0] == 2
    assert lib.kb_rcu_xchg_pointer(slot, pc) == pb
    assert lib.kb_rcu_cmpxchg_pointer(slot, pa, pb) == pc  # fails: slot holds pc
    assert slot[0] == pc
    assert lib.kb_rcu_cmpxchg_pointer(slot, pc, pa) == pc  # succeeds
    assert slot[0] == pa
    assert lib.kb_rcu_replace_pointer(slot, ffi.NULL) == pa
    assert lib.kb_rcu_dereference(slot) == ffi.NULL


# ------------------------------------------------------------ call_rcu


def test_call_rcu_token_not_completed_while_preexisting_reader_in_section() -> None:
    """A call_rcu callback never runs while a reader that predates it is still in its section."""
    out = ffi.new("uint64_t[4]")
    with reader("pre-existing") as r:
        r.do(lib.kb_rcu_read_lock)
        assert lib.kb_call_rcu_token(41) == lib.KB_OK
        assert lib.kb_rcu_pending_callbacks() >= 1
        assert lib.kb_rcu_reap_tokens(out, 4, SHORT_NS) == 0
        assert lib.kb_rcu_barrier_timeout(SHORT_NS) == lib.KB_ETIMEDOUT
        r.do(lib.kb_rcu_read_unlock)
        r.do(lib.kb_rcu_quiescent_state)
        assert lib.kb_rcu_reap_tokens(out, 4, LONG_NS) == 1
        assert out[0] == 41


def test_reap_tokens_fifo_and_bounded_by_max() -> None:
    """Completed tokens come back oldest first, at most max per call."""
    for t in (10, 11, 12, 13, 14):
        assert lib.kb_call_rcu_token(t) == lib.KB_OK
    assert lib.kb_rcu_barrier_timeout(LONG_NS) == lib.KB_OK
    assert lib.kb_rcu_pending_callbacks() == 0
    assert lib.kb_rcu_tokens_ready() == 5
    out = ffi.new("uint64_t[2]")
    assert lib.kb_rcu_reap_tokens(out, 2, 0) == 2
    assert list(out) == [10, 11]
    assert lib.kb_rcu_reap_tokens(out, 2, 0) == 2
    assert list(out) == [12, 13]
    assert lib.kb_rcu_reap_tokens(out, 2, 0) == 1
    assert out[0] == 14
    assert lib.kb_rcu_reap_tokens(out, 2, 0) == 0


def test_reap_tokens_bad_max_returns_einval() -> None:
    """reap_tokens() with no room reports -KB_EINVAL instead of writing anything."""
    out = ffi.new("uint64_t[1]")
    assert lib.kb_rcu_reap_tokens(out, 0, 0) == -lib.KB_EINVAL
    assert lib.kb_rcu_reap_tokens(ffi.NULL, 1, 0) == -lib.KB_EINVAL


def test_reap_tokens_sleeping_reaper_woken_by_completion() -> None:
    """A reaper blocked in reap_tokens() is woken when a token completes."""
    out = ffi.new("uint64_t[4]")
    got: list[int] = []
    started = threading.Barrier(2)

    def reaper() -> None:
        started.wait(timeout=JOIN)
        n = lib.kb_rcu_reap_tokens(out, 4, LONG_NS)
        got.extend(out[i] for i in range(n))

    t = threading.Thread(target=reaper)
    t.start()
    started.wait(timeout=JOIN)
    assert lib.kb_call_rcu_token(7) == lib.KB_OK
    t.join(timeout=JOIN)
    assert not t.is_alive()
    assert got == [7]


def test_rcu_barrier_idle_needs_no_grace_period() -> None:
    """With nothing queued, rcu_barrier() returns at once even while a reader blocks every GP.

    This is why an idle barrier costs nanoseconds here (liburcu's costs 10 ms);
    the figure itself is measured in benchmarks/rcu_vs_liburcu.py, not here.
    """
    with reader("blocker"):  # online, reports no quiescent state: no GP can end
        before = lib.kb_rcu_gp_count()
        assert lib.kb_rcu_barrier_timeout(0) == lib.KB_OK
        lib.kb_rcu_barrier()  # would hang if it waited for a grace period
        assert lib.kb_rcu_gp_count() == before
        lib.kb_call_rcu_token(1)
        assert lib.kb_rcu_barrier_timeout(1_000_000) == lib.KB_ETIMEDOUT  # now it must wait


def test_rcu_barrier_waits_for_queued_callbacks() -> None:
    """After rcu_barrier() every callback queued before it has run."""
    n = 200
    for t in range(n):
        assert lib.kb_call_rcu_token(1000 + t) == lib.KB_OK
    lib.kb_rcu_barrier()
    assert lib.kb_rcu_pending_callbacks() == 0
    assert lib.kb_rcu_tokens_ready() == n
    assert sorted(drain_tokens()) == list(range(1000, 1000 + n))


def test_rcu_barrier_from_online_reader_thread_held_up_by_other_reader() -> None:
    """rcu_barrier() times out while an online reader blocks the callbacks' grace period."""
    with reader() as r:
        assert lib.kb_call_rcu_token(5) == lib.KB_OK
        assert lib.kb_rcu_barrier_timeout(SHORT_NS) == lib.KB_ETIMEDOUT
        r.do(lib.kb_rcu_thread_offline)
        assert lib.kb_rcu_barrier_timeout(LONG_NS) == lib.KB_OK
    assert drain_tokens() == [5]


def test_shutdown_runs_pending_callbacks_then_restarts_on_demand() -> None:
    """shutdown() runs what is pending, stops the worker, and a later call_rcu() starts it again."""
    assert lib.kb_call_rcu_token(1) == lib.KB_OK
    assert lib.kb_rcu_shutdown(LONG_NS) == lib.KB_OK
    assert lib.kb_rcu_tokens_ready() == 1
    assert lib.kb_call_rcu_token(2) == lib.KB_OK
    assert lib.kb_rcu_barrier_timeout(LONG_NS) == lib.KB_OK
    assert drain_tokens() == [1, 2]


def test_shutdown_blocked_by_reader_times_out_and_keeps_callbacks() -> None:
    """shutdown() with a bound gives up while a reader blocks, losing no callback."""
    with reader() as r:
        assert lib.kb_call_rcu_token(3) == lib.KB_OK
        assert lib.kb_rcu_shutdown(SHORT_NS) == lib.KB_ETIMEDOUT
        assert lib.kb_rcu_pending_callbacks() == 1
        r.do(lib.kb_rcu_thread_offline)
    assert drain_tokens() == [3]


# ------------------------------------------------------------------ stalls


def test_stalled_readers_names_the_blocking_thread() -> None:
    """A stalled grace period is reported with the blocking reader's thread id and name."""
    lib.kb_rcu_set_stall_timeout_ns(1_000_000)
    assert lib.kb_rcu_get_stall_timeout_ns() == 1_000_000
    out = ffi.new("kb_rcu_reader_info_t[8]")
    with reader("stall-victim") as victim, reader("well-behaved") as good:
        good.do(lib.kb_rcu_thread_offline)
        stalls = lib.kb_rcu_stall_count()
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_ETIMEDOUT
        assert lib.kb_rcu_stall_count() > stalls
        n = lib.kb_rcu_stalled_readers(out, 8)
        assert n == 1
        assert out[0].tid == victim.native_id
        assert ffi.string(out[0].name) == b"stall-victim"
        assert out[0].blocked_ns >= 1_000_000
        victim.do(lib.kb_rcu_quiescent_state)
        assert lib.kb_rcu_stalled_readers(out, 8) == 0
        victim.do(lib.kb_rcu_thread_offline)
        assert lib.kb_synchronize_rcu_timeout(LONG_NS) == lib.KB_OK


def test_stalled_readers_below_stall_timeout_reports_none() -> None:
    """A grace period younger than the stall timeout is not a stall."""
    out = ffi.new("kb_rcu_reader_info_t[4]")
    with reader("young") as r:
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_ETIMEDOUT
        assert lib.kb_rcu_stalled_readers(out, 4) == 0  # default timeout: 21 s
        r.do(lib.kb_rcu_thread_offline)


# ------------------------------------------------------------------ busted


def test_set_busted_unknown_variant_returns_einval() -> None:
    """Only the defined busted variants are accepted."""
    assert lib.kb_rcu_set_busted(99) == lib.KB_EINVAL
    assert lib.kb_rcu_set_busted(-1) == lib.KB_EINVAL
    assert lib.kb_rcu_get_busted() == lib.KB_RCU_BUSTED_NONE


def test_busted_no_wait_ignores_online_reader() -> None:
    """The no-wait busted engine ends grace periods under an online reader (the real one waits)."""
    with reader() as r:
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_ETIMEDOUT
        assert lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NO_WAIT) == lib.KB_OK
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_OK
        lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NONE)
        r.do(lib.kb_rcu_thread_offline)


def test_busted_reader_invisible_to_grace_periods() -> None:
    """Under the busted-reader engine a thread coming online stays invisible to grace periods."""
    assert lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_READER) == lib.KB_OK
    with reader() as r:
        r.do(lib.kb_rcu_read_lock)
        assert lib.kb_synchronize_rcu_timeout(SHORT_NS) == lib.KB_OK
        r.do(lib.kb_rcu_read_unlock)
    lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NONE)


def test_rcu_barrier_from_online_reader_does_not_wait_for_itself() -> None:
    """An online registered thread may call rcu_barrier(): it goes offline for the wait."""

    def body() -> tuple[int, bool]:
        assert lib.kb_call_rcu_token(77) == lib.KB_OK
        return lib.kb_rcu_barrier_timeout(LONG_NS), bool(lib.kb_rcu_is_online())

    with reader() as r:
        assert r.do(body) == (lib.KB_OK, True)
    assert drain_tokens() == [77]


def test_rcu_barrier_inside_section_with_pending_returns_edeadlk() -> None:
    """rcu_barrier() inside a read-side section refuses to wait instead of hanging."""

    def body() -> int:
        assert lib.kb_call_rcu_token(78) == lib.KB_OK
        lib.kb_rcu_read_lock()
        try:
            return int(lib.kb_rcu_barrier_timeout(LONG_NS))
        finally:
            lib.kb_rcu_read_unlock()

    with reader() as r:
        assert r.do(body) == lib.KB_EDEADLK
    assert drain_tokens() == [78]


def test_register_thread_offline_is_one_step() -> None:
    """kb_rcu_register_thread_offline() registers a new thread offline, in one C call.

    kbind registers Python threads with it, so a Ctrl-C cannot land between
    registering (the thread starts online) and going offline, which would
    hold up every grace period; a second call on the thread is KB_EBUSY.
    """
    seen: list[object] = []

    def fresh() -> None:
        rc = lib.kb_rcu_register_thread_offline()
        seen.extend([rc, bool(lib.kb_rcu_is_registered()), bool(lib.kb_rcu_is_online())])
        seen.append(lib.kb_rcu_register_thread_offline())
        lib.kb_rcu_unregister_thread()

    t = threading.Thread(target=fresh)
    t.start()
    t.join(10)
    assert seen == [lib.KB_OK, True, False, lib.KB_EBUSY]
