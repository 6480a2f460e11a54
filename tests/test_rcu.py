"""Tests of the Rust-style RCU API (kbind.rcu): happy paths and every checkable MISUSE row."""

from __future__ import annotations

import copy
import dataclasses
import gc
import pathlib
import queue
import subprocess
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kbind import (
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    RcuDropGuardLeakWarning,
    RcuStallWarning,
    ReadOnlyError,
    UseAfterFreeError,
    rcu,
)
from kbind._bridge.guard import Site
from kbind._bridge.native import lib
from kbind.rcu import Rcu, RcuDropGuard, RcuReadGuard, RcuRef, RcuWrite
from tests.support import child_env

# Every test runs on both RCU backends (builtin, liburcu): see tests/conftest.py.
pytestmark = pytest.mark.rcu_backends

ROOT = pathlib.Path(__file__).resolve().parents[1]
JOIN = 10.0  # seconds: bound for joins and acknowledgements
HERE = pathlib.Path(__file__).name


@dataclasses.dataclass
class Config:
    timeout: int
    hosts: list[str]

    def host_count(self) -> int:
        return len(self.hosts)

    def bump(self) -> None:
        self.timeout += 1


def line_of(marker: str) -> int:
    """The line of this file carrying ``# <marker>`` (so tests assert on real sites)."""
    for number, text in enumerate(pathlib.Path(__file__).read_text().splitlines(), start=1):
        if text.rstrip().endswith(f"# {marker}"):
            return number
    raise AssertionError(marker)


class Worker:
    """A Python thread that runs commands on request (to line up cross-thread steps)."""

    def __init__(self, name: str = "rcu-worker") -> None:
        self._cmds: queue.Queue[Callable[[], Any] | None] = queue.Queue()
        self._results: queue.Queue[tuple[bool, Any]] = queue.Queue()
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()

    def _main(self) -> None:
        while True:
            cmd = self._cmds.get()
            if cmd is None:
                return
            try:
                self._results.put((True, cmd()))
            except BaseException as exc:  # handed to the test thread
                self._results.put((False, exc))

    def submit(self, fn: Callable[[], Any]) -> None:
        """Start ``fn`` on the worker without waiting for it."""
        self._cmds.put(fn)

    def result(self) -> Any:
        ok, value = self._results.get(timeout=JOIN)
        if not ok:
            raise value
        return value

    def do(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn`` on the worker and return its result (re-raising its exception)."""
        self.submit(fn)
        return self.result()

    def stop(self) -> None:
        self._cmds.put(None)
        self.thread.join(timeout=JOIN)
        assert not self.thread.is_alive()


@pytest.fixture
def worker() -> Iterator[Worker]:
    w = Worker()
    try:
        yield w
    finally:
        w.stop()


@pytest.fixture(autouse=True)
def _clean_rcu() -> Iterator[None]:
    """Each test starts and ends with no guards, no pending callbacks, the real engine."""
    assert rcu.read_lock_depth() == 0
    assert lib.kb_rcu_get_busted() == lib.KB_RCU_BUSTED_NONE
    yield
    lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NONE)
    rcu.set_stall_timeout(21.0)
    rcu.set_qsbr_mode(False)
    assert rcu.read_lock_depth() == 0
    assert rcu.rcu_barrier(timeout=JOIN)
    assert lib.kb_synchronize_rcu_timeout(int(JOIN * 1e9)) == lib.KB_OK


def wait_until(cond: Callable[[], bool], timeout: float = JOIN) -> None:
    """Poll for a state reached by another thread, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


def report_quiescent_states_until_done(worker: Worker, waiter: threading.Thread) -> None:
    """Have a QSBR worker report quiescent states (one per grace period) until waiter ends."""
    deadline = time.monotonic() + JOIN
    while waiter.is_alive():
        assert time.monotonic() < deadline, "grace period never ended"
        worker.do(rcu.quiescent_state)
        waiter.join(timeout=0.001)


# ------------------------------------------------------------------ happy paths


def test_read_guard_with_block_reads_current_value() -> None:
    """A reference obtained under a guard reaches the published object's attributes and items."""
    cfg = Rcu(Config(30, ["a", "b"]))
    with RcuReadGuard() as g:
        ref = cfg.read(g)
        assert ref.timeout == 30
        assert ref.hosts[1] == "b"
        assert list(ref.hosts) == ["a", "b"]
        assert len(ref.hosts) == 2 and "a" in ref.hosts
        assert ref.host_count() == 2
        assert ref == Config(30, ["a", "b"])
        assert isinstance(ref, RcuRef)


def test_read_guard_engine_state_online_only_inside() -> None:
    """A default-mode thread is online exactly while it holds a guard, and counted by the engine."""
    with RcuReadGuard():
        assert lib.kb_rcu_is_online() and lib.kb_rcu_read_lock_nesting() == 1
        assert rcu.read_lock_depth() == 1
    assert not lib.kb_rcu_is_online() and lib.kb_rcu_read_lock_nesting() == 0


def test_read_lock_returns_entered_guard_named_at_call_site() -> None:
    """read_lock() is RcuReadGuard(): the guard's site is the caller's line, not kbind's."""
    g = rcu.read_lock()  # read_lock-site
    try:
        assert g.alive and rcu.read_lock_depth() == 1
        assert g.created_at.filename.endswith(HERE)
        assert g.created_at.lineno == line_of("read_lock-site")
    finally:
        g.drop()
    assert not g.alive


def test_with_read_closure_returns_result_and_leaves_section() -> None:
    """with_read runs fn under its own guard and returns fn's result."""
    cfg = Rcu({"timeout": 7})
    assert cfg.with_read(lambda c: c["timeout"] * 2) == 14
    assert rcu.read_lock_depth() == 0


def test_read_with_accessor_returns_plain_value() -> None:
    """read(g, fn) is the typed accessor: fn's result comes back as is."""
    cfg = Rcu(Config(3, []))
    with RcuReadGuard() as g:
        assert cfg.read(g, lambda c: c.timeout) == 3


def test_replace_publishes_new_value_and_drop_frees_old() -> None:
    """replace() publishes at once; drop() waits for a grace period and frees the old value."""
    cfg = Rcu(Config(1, []))
    old = cfg.replace(Config(2, []))
    assert cfg.with_read(lambda c: c.timeout) == 2
    assert old.pending and not old.freed
    old.drop()
    assert old.freed and not old.pending


def test_update_reads_old_value_and_publishes_new() -> None:
    """update(fn) gives fn the old value read-only and publishes what fn returns."""
    cfg = Rcu(Config(1, ["x"]))
    with cfg.update(lambda old: Config(old.timeout + 1, [*old.hosts, "y"])):
        pass
    assert cfg.with_read(lambda c: (c.timeout, list(c.hosts))) == (2, ["x", "y"])


def test_update_fn_reference_dies_when_update_returns() -> None:
    """The reference update() hands to fn cannot be kept: it dies when update returns."""
    cfg = Rcu(Config(1, []))
    kept: list[Any] = []

    def fn(old: Config) -> Config:
        kept.append(old)
        return Config(old.timeout + 1, [])

    cfg.update(fn).drop()
    with pytest.raises(LifetimeError) as info:
        _ = kept[0].timeout
    assert info.value.guard == "the update() scope"


def test_defer_frees_after_grace_period_without_blocking() -> None:
    """defer() returns at once; the old value is freed by the callback thread after a GP."""
    cfg = Rcu(Config(1, []))
    old = cfg.replace(Config(2, []))
    with RcuReadGuard():  # defer is allowed inside a read-side section
        old.defer()
    assert rcu.rcu_barrier(timeout=JOIN)
    assert old.freed


def test_rcu_write_init_split_capability_updates() -> None:
    """Rcu.init returns readers' Rcu and the only RcuWrite; the writer replaces and updates."""
    cfg, writer = Rcu.init(Config(1, []))
    assert isinstance(writer, RcuWrite)
    writer.replace(Config(2, [])).drop()
    writer.update(lambda old: Config(old.timeout * 10, [])).drop()
    assert cfg.with_read(lambda c: c.timeout) == 20


def test_call_rcu_runs_callbacks_in_order_after_barrier() -> None:
    """call_rcu callbacks run after a grace period, in order; rcu_barrier waits for them."""
    ran: list[int] = []
    for i in range(20):
        rcu.call_rcu(lambda i=i: ran.append(i))
    assert rcu.rcu_barrier(timeout=JOIN)
    assert ran == list(range(20))
    assert rcu.pending_callbacks() == 0


def test_idle_thread_never_holds_up_grace_period(worker: Worker) -> None:
    """A thread that used guards and is now idle does not hold up synchronize_rcu()."""
    cfg = Rcu(Config(1, []))
    worker.do(lambda: cfg.with_read(lambda c: c.timeout))
    assert worker.do(lib.kb_rcu_is_registered)
    assert not worker.do(lib.kb_rcu_is_online)
    assert lib.kb_synchronize_rcu_timeout(int(JOIN * 1e9)) == lib.KB_OK
    rcu.synchronize_rcu()


def test_drop_waits_for_reader_that_began_before(worker: Worker) -> None:
    """A reader holding its guard keeps the old value alive; drop() finishes once it leaves."""
    cfg = Rcu(Config(1, ["a"]))
    state: dict[str, Any] = {}

    def enter() -> None:
        state["g"] = RcuReadGuard()
        state["ref"] = cfg.read(state["g"])

    worker.do(enter)
    old = cfg.replace(Config(2, []))
    dropper = threading.Thread(target=old.drop, daemon=True)
    dropper.start()
    dropper.join(timeout=0.2)
    assert dropper.is_alive() and not old.freed  # the reader still holds the old value
    assert worker.do(lambda: (state["ref"].timeout, list(state["ref"].hosts))) == (1, ["a"])
    worker.do(lambda: state["g"].drop())
    dropper.join(timeout=JOIN)
    assert not dropper.is_alive() and old.freed


def test_reader_that_began_after_update_sees_new_value(worker: Worker) -> None:
    """A guard taken after replace() returned sees the new value, never the old one."""
    cfg = Rcu(Config(1, []))
    old = cfg.replace(Config(2, []))
    assert worker.do(lambda: cfg.with_read(lambda c: c.timeout)) == 2
    old.drop()
    assert old.freed


# ------------------------------------------------------------ R01 / R02 / R03


def test_r01_reference_after_guard_dropped_raises_lifetime_error() -> None:
    """R01: a reference used after its guard was dropped raises LifetimeError naming both sites."""
    cfg = Rcu(Config(30, []))
    with RcuReadGuard() as g:  # r01-guard
        ref = cfg.read(g)
    with pytest.raises(LifetimeError) as info:
        _ = ref.timeout
    err = info.value
    assert not isinstance(err, UseAfterFreeError)
    assert err.guard == g.name
    assert err.created_at is not None and err.created_at.lineno == line_of("r01-guard")
    assert err.dropped_at is not None and err.dropped_at.how == "leaving its with block"
    assert "R01" in err.rule and "Rcu[Config]" in err.op and ".timeout" in err.op
    assert err.hint and "copy what you need" in err.hint


@pytest.mark.parametrize(
    "use",
    [
        lambda r: r[0],
        lambda r: len(r),
        lambda r: list(r),
        lambda r: "a" in r,
        lambda r: r == ["a"],
        lambda r: hash(r),
        lambda r: bool(r),
        lambda r: str(r),
        lambda r: copy.copy(r),
    ],
    ids=["item", "len", "iter", "in", "eq", "hash", "bool", "str", "copy"],
)
def test_r01_every_protocol_checks_guard(use: Callable[[Any], object]) -> None:
    """R01: items, len, iteration, in, ==, hash, truth, str and copy all check the guard."""
    cfg = Rcu(("a", ["nested"]))
    with RcuReadGuard() as g:
        ref = cfg.read(g)[1]
    with pytest.raises(LifetimeError):
        use(ref)


def test_r01_iterator_kept_past_guard_raises() -> None:
    """R01: an iterator over a reference stops working when the guard is dropped."""
    cfg = Rcu([1, 2, 3])
    with RcuReadGuard() as g:
        it = iter(cfg.read(g))
        assert next(it) == 1
    with pytest.raises(LifetimeError):
        next(it)


def test_r02_reference_returned_from_with_read_raises() -> None:
    """R02: with_read(fn) returning the reference itself raises at once."""
    cfg = Rcu(Config(1, []))
    with pytest.raises(LifetimeError, match="return a reference from with_read"):
        cfg.with_read(lambda c: c)


def test_r02_child_reference_stashed_raises_when_used() -> None:
    """R02: a mutable sub-object reached through a reference, smuggled out, dies with the guard."""
    cfg = Rcu(Config(1, ["a"]))
    stash: list[Any] = []
    cfg.with_read(lambda c: stash.append(c.hosts))  # a side channel: not the result
    with pytest.raises(LifetimeError) as info:
        stash[0][0]
    assert "R01/R02" in info.value.rule


class Holder:
    """A plain class: kbind cannot rebuild it, so it cannot copy references out of it."""

    def __init__(self, hosts: list[str]) -> None:
        self.hosts = hosts


def test_r02_reference_stored_in_new_value_refused() -> None:
    """R02: publishing an object whose attribute holds a reference raises TypeError at once."""
    cfg: Rcu[Any] = Rcu(Config(1, ["a"]))
    with pytest.raises(TypeError, match=r"its \.hosts is an RcuRef") as info:
        cfg.update(lambda old: Holder(old.hosts))
    assert "store a plain copy at .hosts instead: copy.deepcopy(ref)" in str(info.value)
    assert cfg.with_read(lambda c: c.timeout) == 1  # nothing was published
    cfg.update(lambda old: Holder(copy.deepcopy(old.hosts))).drop()
    assert cfg.with_read(lambda c: list(c.hosts)) == ["a"]


def test_r03_rcu_dropped_while_reference_lives_allowed() -> None:
    """R03: the Rcu itself may go away while a guard-bound reference is in use."""
    cfg: Rcu[Config] | None = Rcu(Config(5, []))
    assert cfg is not None
    with RcuReadGuard() as g:
        ref = cfg.read(g)
        cfg = None
        gc.collect()
        assert ref.timeout == 5


# ---------------------------------------------------------------------- R04


def test_r04_read_with_non_guard_raises_type_error() -> None:
    """R04: read() needs an RcuReadGuard; anything else raises TypeError."""
    cfg = Rcu(Config(1, []))
    for bogus in (None, object(), "guard", RcuReadGuard.__new__(RcuReadGuard)):
        with pytest.raises(TypeError, match="R04"):
            cfg.read(bogus)  # type: ignore[arg-type]


def test_r04_read_with_dropped_guard_raises_lifetime_error() -> None:
    """R04/R01: a dropped guard cannot be used to read."""
    cfg = Rcu(Config(1, []))
    g = RcuReadGuard()
    g.drop()
    with pytest.raises(LifetimeError):
        cfg.read(g)


# --------------------------------------------------------------- R05 - R07


def test_r05_synchronize_rcu_inside_reader_raises_deadlock_error() -> None:
    """R05: synchronize_rcu() in the caller's own read-side section raises, naming the guard."""
    with RcuReadGuard() as outer:  # r05-guard
        inner = RcuReadGuard()
        with pytest.raises(DeadlockError) as info:
            rcu.synchronize_rcu()  # r05-call
        inner.drop()
    err = info.value
    assert err.guard == outer.name
    assert err.created_at is not None and err.created_at.lineno == line_of("r05-guard")
    assert [s.lineno for _, s in err.sites] == [line_of("r05-call")]
    assert "R05" in err.rule


def test_r06_drop_guard_drop_inside_reader_raises_and_stays_pending() -> None:
    """R06: a blocking RcuDropGuard.drop() in a reader raises; the guard can be dropped later."""
    cfg = Rcu(Config(1, []))
    old = cfg.replace(Config(2, []))
    with RcuReadGuard():
        with pytest.raises(DeadlockError, match="R06"):
            old.drop()
        assert old.pending
    old.drop()
    assert old.freed


def test_r06_drop_guard_with_block_inside_reader_raises() -> None:
    """R06: leaving a drop guard's with block inside a reader raises instead of hanging."""
    cfg = Rcu(Config(1, []))
    with RcuReadGuard(), pytest.raises(DeadlockError), cfg.replace(Config(2, [])) as old:
        pass
    old.drop()


def test_r07_rcu_barrier_inside_reader_raises_deadlock_error() -> None:
    """R07: rcu_barrier() inside a read-side section raises DeadlockError."""
    with RcuReadGuard(), pytest.raises(DeadlockError, match="R05/R06/R07"):
        rcu.rcu_barrier()


def test_r07_rcu_barrier_inside_callback_reported_not_hung(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """R07: rcu_barrier() from a callback raises DeadlockError (reported), not a hang."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    rcu.call_rcu(rcu.rcu_barrier)
    assert rcu.rcu_barrier(timeout=JOIN)
    assert len(seen) == 1 and isinstance(seen[0].exc_value, DeadlockError)


# ---------------------------------------------------------------- R08 / R10


def test_r08_guard_dropped_on_other_thread_raises_guard_error(worker: Worker) -> None:
    """R08: dropping a guard on another thread raises GuardError; the owner can still drop it."""
    g = RcuReadGuard()  # r08-guard
    with pytest.raises(GuardError) as info:
        worker.do(g.drop)
    err = info.value
    assert "R08" in err.rule and "MainThread" in err.rule and "rcu-worker" in err.rule
    assert err.created_at is not None and err.created_at.lineno == line_of("r08-guard")
    assert g.alive and rcu.read_lock_depth() == 1
    g.drop()


def test_r08_read_with_other_threads_guard_raises(worker: Worker) -> None:
    """R08: reading with a guard that belongs to another thread raises GuardError."""
    cfg = Rcu(Config(1, []))
    with RcuReadGuard() as g, pytest.raises(GuardError, match="R08"):
        worker.do(lambda: cfg.read(g))


def test_r10_guard_dropped_twice_raises_guard_error() -> None:
    """R10: a second drop raises GuardError naming creation, first drop and second drop."""
    g = RcuReadGuard()
    g.drop()  # r10-first
    with pytest.raises(GuardError) as info:
        g.drop()  # r10-second
    err = info.value
    assert err.dropped_at is not None and err.dropped_at.lineno == line_of("r10-first")
    assert [s.lineno for _, s in err.sites] == [line_of("r10-second")]
    assert rcu.read_lock_depth() == 0 and lib.kb_rcu_read_lock_nesting() == 0


def test_r10_exit_without_enter_raises_guard_error() -> None:
    """R10: a guard that never entered a section cannot leave one."""
    g = RcuReadGuard.__new__(RcuReadGuard)
    with pytest.raises(GuardError, match="never entered"):
        g.drop()
    assert lib.kb_rcu_read_lock_nesting() == 0


def test_r10_with_block_after_explicit_drop_is_fine() -> None:
    """Dropping explicitly inside the with block is one drop: leaving the block adds none."""
    with RcuReadGuard() as g:
        g.drop()
    assert rcu.read_lock_depth() == 0


# ---------------------------------------------------------------- R09 / R11


def test_r09_thread_exiting_inside_reader_warns_and_engine_recovers() -> None:
    """R09: a thread that exits holding a guard warns naming the site; GPs are not held up."""
    keep: list[RcuReadGuard] = []

    def leak() -> None:
        keep.append(RcuReadGuard())  # r09-guard

    with pytest.warns(GuardLeakWarning, match=rf"{HERE}:{line_of('r09-guard')}"):
        t = threading.Thread(target=leak, name="leaky-reader")
        t.start()
        t.join(timeout=JOIN)
        wait_until(lambda: (gc.collect(), not keep[0].alive)[1])
    assert keep[0].dropped_at is not None and keep[0].dropped_at.how == "its thread exited"
    assert lib.kb_synchronize_rcu_timeout(int(JOIN * 1e9)) == lib.KB_OK


def test_r11_nested_guards_dropped_out_of_order_counted() -> None:
    """R11: nested guards may be dropped in any order; the section ends with the last one."""
    outer = RcuReadGuard()
    inner = RcuReadGuard()
    assert lib.kb_rcu_read_lock_nesting() == 2
    outer.drop()
    assert lib.kb_rcu_is_online() and rcu.read_lock_depth() == 1
    assert rcu.open_guards() == [inner]
    inner.drop()
    assert not lib.kb_rcu_is_online() and lib.kb_rcu_read_lock_nesting() == 0


# ---------------------------------------------------------------------- R12


def test_r12_concurrent_updates_serialize_no_update_lost() -> None:
    """R12: update() on one Rcu from several threads serializes: no increment is lost."""
    from tests.conftest import run_threads

    counter = Rcu(Config(0, []))

    def body(_: int) -> None:
        for _ in range(50):
            counter.update(lambda old: Config(old.timeout + 1, [])).defer()

    run_threads(4, body)
    assert counter.with_read(lambda c: c.timeout) == 200


def test_r12_rcu_write_used_by_two_threads_raises_guard_error(worker: Worker) -> None:
    """R12: a second thread using an RcuWrite while the first is inside update raises."""
    cfg, writer = Rcu.init(Config(1, []))
    inside, release = threading.Event(), threading.Event()

    def slow(old: Config) -> Config:
        inside.set()
        assert release.wait(timeout=JOIN)
        return Config(old.timeout + 1, [])

    worker.submit(lambda: writer.update(slow).drop())
    assert inside.wait(timeout=JOIN)
    try:
        with pytest.raises(GuardError) as info:
            writer.replace(Config(99, []))  # r12-second
        assert "rcu-worker" in info.value.rule and "R12" in info.value.rule
        assert [s.lineno for _, s in info.value.sites] == [line_of("r12-second")]
    finally:
        release.set()
    worker.result()
    assert cfg.with_read(lambda c: c.timeout) == 2


def test_r12_split_rcu_refuses_direct_update() -> None:
    """R12: an Rcu made by Rcu.init() can be updated only through its RcuWrite."""
    cfg, _writer = Rcu.init(Config(1, []))
    with pytest.raises(GuardError, match="RcuWrite"):
        cfg.replace(Config(2, []))
    with pytest.raises(GuardError, match="RcuWrite"):
        cfg.update(lambda old: Config(2, []))


def test_r12_update_inside_own_update_raises_deadlock_error() -> None:
    """R12: updating the same Rcu from inside its update function raises DeadlockError."""
    cfg = Rcu(Config(1, []))

    def nested(old: Config) -> Config:
        cfg.replace(Config(5, [])).drop()
        return Config(2, [])

    with pytest.raises(DeadlockError, match="already updating"):
        cfg.update(nested)
    assert cfg.with_read(lambda c: c.timeout) == 1


# ---------------------------------------------------------------- R13 - R15


def test_r13_freed_object_access_raises_use_after_free_error() -> None:
    """R13: with the busted engine (no-wait GPs) a guarded reader reaches a freed object."""
    cfg = Rcu(Config(1, []))  # r13-published
    with rcu._rt.busted_engine(lib.KB_RCU_BUSTED_NO_WAIT):
        g = RcuReadGuard()
        ref = cfg.read(g)
        old = cfg.replace(Config(2, []))  # r13-retired
        t = threading.Thread(target=old.drop)  # the drop must not come from the reader
        t.start()
        t.join(timeout=JOIN)
        assert old.freed
        with pytest.raises(UseAfterFreeError) as info:
            _ = ref.timeout
        g.drop()
    err = info.value
    assert isinstance(err, LifetimeError) and "R13" in err.rule
    assert err.created_at is not None and err.created_at.lineno == line_of("r13-published")
    assert err.retired_at is not None and err.retired_at.lineno == line_of("r13-retired")
    assert err.freed_at is not None
    assert any(label.startswith("reference obtained under") for label, _ in err.sites)


def test_r13_only_drop_guard_frees_value_stays_alive_until_then() -> None:
    """R13: replacing does not free; the old object lives until its drop guard frees it."""
    value = Config(1, [])
    ref_to_old = weakref.ref(value)
    cfg = Rcu(value)
    del value
    old = cfg.replace(Config(2, []))
    gc.collect()
    assert ref_to_old() is not None
    old.drop()
    gc.collect()
    assert ref_to_old() is None  # the box dropped its strong reference


def test_r14_drop_guard_collected_warns_and_frees_after_gp() -> None:
    """R14: an undropped RcuDropGuard warns naming its site, and the value is still freed."""
    value = Config(1, [])
    ref_to_old = weakref.ref(value)
    cfg = Rcu(value)
    del value
    with pytest.warns(RcuDropGuardLeakWarning, match=rf"{HERE}:{line_of('r14-site')}"):
        cfg.replace(Config(2, []))  # r14-site
        gc.collect()
    assert rcu.rcu_barrier(timeout=JOIN)
    gc.collect()
    assert ref_to_old() is None


def test_r15_drop_guard_dropped_twice_raises_guard_error() -> None:
    """R15: an old value is retired once: drop after drop, or defer after drop, raises."""
    cfg = Rcu(Config(1, []))
    old = cfg.replace(Config(2, []))
    old.drop()
    with pytest.raises(GuardError, match="already dropped"):
        old.drop()
    with pytest.raises(GuardError, match="already dropped"):
        old.defer()
    other = cfg.replace(Config(3, []))
    other.defer()
    with pytest.raises(GuardError, match="already deferred"):
        other.drop()


def test_r15_same_object_published_twice_raises_guard_error() -> None:
    """R15: an object already published (or retired, not yet freed) cannot be published again."""
    shared = Config(1, [])
    a = Rcu(shared)
    with pytest.raises(GuardError, match="R15"):
        Rcu(shared)
    with pytest.raises(GuardError, match="R15"):
        a.replace(shared)
    old = a.replace(Config(2, []))
    with pytest.raises(GuardError, match="R15"):
        Rcu(shared)  # retired but not freed yet
    old.drop()
    Rcu(shared)  # freed: the object may be published afresh
    Rcu(5)  # plain immutable values are not owned
    Rcu(5)


def test_r15_update_returning_old_reference_raises_type_error() -> None:
    """R15: update(fn) returning the old value's reference is refused."""
    cfg = Rcu(Config(1, []))
    with pytest.raises(TypeError, match="instead of a new object"):
        cfg.update(lambda old: old)


# ---------------------------------------------------------------------- R16


def test_r16_assignment_and_deletion_refused() -> None:
    """R16: attributes and items cannot be assigned or deleted through a reference."""
    cfg = Rcu({"timeout": 1, "hosts": ["a"]})
    obj = Rcu(Config(1, []))
    with RcuReadGuard() as g:
        ref = cfg.read(g)
        with pytest.raises(ReadOnlyError) as info:
            ref["timeout"] = 2
        assert isinstance(info.value, TypeError) and "R16" in info.value.rule
        with pytest.raises(ReadOnlyError):
            del ref["timeout"]
        oref = obj.read(g)
        with pytest.raises(ReadOnlyError):
            oref.timeout = 2
        with pytest.raises(ReadOnlyError):
            del oref.timeout
    assert cfg.with_read(lambda c: c["timeout"]) == 1


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r["hosts"].append("x"),
        lambda r: r["hosts"].sort(),
        lambda r: r["hosts"].__setitem__(0, "x"),
        lambda r: r.update({"timeout": 5}),
        lambda r: r.setdefault("new", 1),
        lambda r: r["tags"].add("x"),
        lambda r: r.pop("timeout"),
    ],
    ids=["append", "sort", "setitem", "dict-update", "setdefault", "set-add", "pop"],
)
def test_r16_mutating_container_methods_refused(mutate: Callable[[Any], object]) -> None:
    """R16: mutating methods of builtin containers reached through a reference are refused."""
    cfg = Rcu({"timeout": 1, "hosts": ["b", "a"], "tags": {"t"}})
    with RcuReadGuard() as g, pytest.raises(ReadOnlyError, match="R16"):
        mutate(cfg.read(g))
    assert cfg.with_read(lambda c: (c["timeout"], list(c["hosts"]), set(c["tags"]))) == (
        1, ["b", "a"], {"t"}
    )  # fmt: skip


def test_r16_user_method_mutating_self_refused() -> None:
    """R16: a method of the user's class called through a reference sees a read-only self."""
    cfg = Rcu(Config(1, ["a"]))
    with RcuReadGuard() as g:
        ref = cfg.read(g)
        assert ref.host_count() == 1  # reading methods work
        with pytest.raises(ReadOnlyError):
            ref.bump()
    assert cfg.with_read(lambda c: c.timeout) == 1


def test_ref_copies_are_plain_and_outlive_guard() -> None:
    """copy.copy/deepcopy of a reference give plain objects that may be kept and changed."""
    cfg = Rcu(Config(1, ["a"]))
    with RcuReadGuard() as g:
        shallow = copy.copy(cfg.read(g))
        deep = copy.deepcopy(cfg.read(g))
    assert type(shallow) is Config and type(deep) is Config
    deep.hosts.append("b")
    assert cfg.with_read(lambda c: list(c.hosts)) == ["a"]
    assert shallow.timeout == 1


def test_ref_repr_never_raises() -> None:
    """repr() of a live, stale or freed reference describes it without raising."""
    cfg = Rcu(Config(1, []))
    with RcuReadGuard() as g:
        ref = cfg.read(g)
        assert "Config(timeout=1" in repr(ref)
    assert "stale" in repr(ref)
    assert "RcuReadGuard#" in repr(g)


# ---------------------------------------------------------------- R18 / R19


def test_r18_callbacks_run_on_callback_thread() -> None:
    """R18: call_rcu callbacks run on kbind's callback thread, not the caller's."""
    names: list[str] = []
    rcu.call_rcu(lambda: names.append(threading.current_thread().name))
    assert rcu.rcu_barrier(timeout=JOIN)
    assert names == ["kbind-rcu-callbacks"]


def test_r19_callback_exception_reported_and_others_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """R19: an exception in a callback goes to sys.unraisablehook; later callbacks still run."""
    seen: list[Any] = []
    ran: list[int] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)

    def boom() -> None:
        raise ValueError("callback failed")

    rcu.call_rcu(lambda: ran.append(1))
    rcu.call_rcu(boom)  # r19-queued
    rcu.call_rcu(lambda: ran.append(2))
    assert rcu.rcu_barrier(timeout=JOIN)
    assert ran == [1, 2]
    assert len(seen) == 1
    assert isinstance(seen[0].exc_value, ValueError) and seen[0].object is boom
    assert f"{HERE}:{line_of('r19-queued')}" in seen[0].err_msg


def test_r19_pending_callbacks_run_before_interpreter_exit() -> None:
    """R19: callbacks and deferred frees still pending at exit run before the process ends."""
    code = (
        "import kbind.rcu as rcu\n"
        "cfg = rcu.Rcu({'v': 1})\n"
        "rcu.call_rcu(lambda: print('callback ran', flush=True))\n"
        "old = cfg.replace({'v': 2})\n"
        "old.defer()\n"
        "rcu.call_rcu(lambda: print('old freed:', old.freed, flush=True))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["callback ran", "old freed: True"]


def test_r19_callback_exception_at_exit_printed_like_unraisable() -> None:
    """R19: with the default hook, a failing callback at exit is printed, not lost."""
    code = (
        "import kbind.rcu as rcu\n"
        "def boom():\n"
        "    raise RuntimeError('late failure')\n"
        "rcu.call_rcu(boom)\n"
        "rcu.call_rcu(lambda: print('second ran', flush=True))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0
    assert "second ran" in proc.stdout
    assert "Exception ignored in kbind call_rcu callback" in proc.stderr
    assert "RuntimeError: late failure" in proc.stderr


# ---------------------------------------------------------------- R09 / R22


def test_r22_stalled_grace_period_warns_naming_thread_and_guard_site(worker: Worker) -> None:
    """R22/R09: a reader holding a GP past the threshold makes waiters warn, naming it."""
    state: dict[str, Any] = {}
    worker.do(lambda: state.setdefault("g", RcuReadGuard()))  # r22-guard
    rcu.set_stall_timeout(0.05)
    done = threading.Event()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        waiter = threading.Thread(target=lambda: (rcu.synchronize_rcu(), done.set()))
        waiter.start()
        try:
            wait_until(lambda: any(w.category is RcuStallWarning for w in caught))
            assert not done.is_set()
        finally:
            worker.do(lambda: state["g"].drop())
            waiter.join(timeout=JOIN)
    assert done.is_set()
    stall = next(w.message for w in caught if w.category is RcuStallWarning)
    assert isinstance(stall, RcuStallWarning)
    text = str(stall)
    assert "'rcu-worker'" in text and f"{HERE}:{line_of('r22-guard')}" in text
    ((name, tid, blocked, site),) = stall.readers
    assert name == "rcu-worker" and tid == worker.thread.native_id and blocked >= 0.05
    assert site is not None and site.lineno == line_of("r22-guard")


def test_qsbr_mode_thread_holds_up_gp_until_quiescent_state(worker: Worker) -> None:
    """Explicit QSBR mode: the thread stays online across guards until it reports a QS."""
    cfg = Rcu(Config(1, []))

    def qsbr_reader() -> bool:
        rcu.set_qsbr_mode(True)
        cfg.with_read(lambda c: c.timeout)
        return bool(lib.kb_rcu_is_online())

    assert worker.do(qsbr_reader)  # still online after its guard
    assert lib.kb_synchronize_rcu_timeout(50_000_000) == lib.KB_ETIMEDOUT
    waiter = threading.Thread(target=rcu.synchronize_rcu)
    waiter.start()
    report_quiescent_states_until_done(worker, waiter)
    worker.do(rcu.thread_offline)
    assert not worker.do(lib.kb_rcu_is_online)
    assert lib.kb_synchronize_rcu_timeout(int(JOIN * 1e9)) == lib.KB_OK
    worker.do(rcu.thread_online)
    assert worker.do(lib.kb_rcu_is_online)
    worker.do(lambda: rcu.set_qsbr_mode(False))
    assert not worker.do(lib.kb_rcu_is_online)


def test_qsbr_stall_names_where_thread_went_online(worker: Worker) -> None:
    """A QSBR thread that never reports a quiescent state is named in the stall warning."""
    worker.do(lambda: rcu.set_qsbr_mode(True))  # qsbr-online
    rcu.set_stall_timeout(0.05)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        waiter = threading.Thread(target=rcu.synchronize_rcu)
        waiter.start()
        try:
            wait_until(lambda: any(w.category is RcuStallWarning for w in caught))
        finally:
            report_quiescent_states_until_done(worker, waiter)  # the fix
    assert not waiter.is_alive()
    worker.do(lambda: rcu.set_qsbr_mode(False))
    text = str(next(w.message for w in caught if w.category is RcuStallWarning))
    assert f"{HERE}:{line_of('qsbr-online')}" in text and "QSBR" in text


def test_quiescent_state_or_offline_inside_reader_raises() -> None:
    """Reporting a quiescent state or going offline inside a read-side section raises."""
    with RcuReadGuard():
        with pytest.raises(GuardError, match="quiescent state"):
            rcu.quiescent_state()
        with pytest.raises(GuardError, match="go offline"):
            rcu.thread_offline()
    rcu.quiescent_state()  # outside: harmless in default mode
    rcu.thread_offline()
    assert not lib.kb_rcu_is_online()


def test_qsbr_mode_context_manager_restores_offline() -> None:
    """qsbr_mode() puts the thread online for the block and offline after it."""
    with rcu.qsbr_mode():
        assert lib.kb_rcu_is_online()
        rcu.quiescent_state()
    assert not lib.kb_rcu_is_online()


def test_stall_timeout_setter_validates() -> None:
    """set_stall_timeout takes positive seconds and is read back."""
    rcu.set_stall_timeout(1.5)
    assert rcu.get_stall_timeout() == pytest.approx(1.5)
    with pytest.raises(ValueError):
        rcu.set_stall_timeout(0)


def test_drop_guard_repr_and_sites() -> None:
    """An RcuDropGuard names its retirement site and state."""
    cfg = Rcu(Config(1, []))
    old: RcuDropGuard[Config] = cfg.replace(Config(2, []))  # dg-site
    assert old.retired_at.lineno == line_of("dg-site")
    assert "pending" in repr(old)
    old.drop()
    assert "freed" in repr(old)


def test_rcu_api_bench_quick_runs() -> None:
    """benchmarks/rcu_api_bench.py --quick runs and prints its ratios."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "rcu_api_bench.py"), "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio to Lock" in proc.stdout and "ratio to no updater" in proc.stdout


def test_interior_mutability_types_come_out_unwrapped() -> None:
    """Atomics and locks inside a published object are usable through a reference (Rust: &Mutex)."""
    from kbind import AtomicI64, Full, Relaxed

    @dataclasses.dataclass
    class Stats:
        hits: AtomicI64
        lock: threading.Lock

    stats = Rcu(Stats(AtomicI64(0), threading.Lock()))
    with RcuReadGuard() as g:
        ref = stats.read(g)
        ref.hits.fetch_add(1, Full)
        with ref.lock:
            pass
    assert stats.with_read(lambda s: s.hits.load(Relaxed)) == 1


def test_qsbr_mode_context_manager_records_the_users_line() -> None:
    """`with qsbr_mode():` records the user's with line as where the thread went online."""
    from kbind.rcu import _runtime as _rcu_runtime

    with rcu.qsbr_mode():
        line = sys._getframe().f_lineno - 1
        state = _rcu_runtime.current_state()
        assert state is not None and state.online_raw is not None
        site = Site.from_raw(state.online_raw)
    assert site.filename == __file__
    assert site.lineno == line
