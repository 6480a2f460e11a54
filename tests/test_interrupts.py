"""Ctrl-C (KeyboardInterrupt) landing anywhere in a guard's life leaves no lock or section behind.

A signal handler runs between two bytecodes of the main thread, so a
KeyboardInterrupt can come out of any point of ``lock()``, ``write()``,
``RcuReadGuard()``, ``with_read`` and of their exits.  Each test runs a child
Python that loops over one primitive while a one-shot interval timer fires a
handler raising KeyboardInterrupt at a random moment, many times, and checks
after each interrupt, by behaviour, that nothing is left held: another thread
can take the lock, the seqlock's sequence is even and another thread can
write, the thread is in no read-side section (kbind's count and the C
engine's agree) and another thread's grace period ends.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import threading

import pytest

from .support import child_env

#: The child: ``python -c CHILD <mode> <interrupts> <seed>``; prints one JSON line.
CHILD = textwrap.dedent(
    r'''
    import json, os, random, signal, sys, threading, time

    from kbind import Mutex, SpinLock, rcu
    from kbind._bridge.native import lib
    from kbind.seqlock import SeqLock

    mode, rounds, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(seed)
    box = rcu.Rcu({"x": 1})
    locks = {"SpinLock": SpinLock(0), "Mutex": Mutex(0)}
    sl = SeqLock(a=0)
    fails: dict[str, int] = {}
    landed = lost = 0


    def on_alarm(signum, frame):
        raise KeyboardInterrupt


    def fail(kind):
        fails[kind] = fails.get(kind, 0) + 1


    def bounded(fn, what):
        """Run fn() on another thread; a hang is a failure, and ends the child."""
        done = []
        t = threading.Thread(target=lambda: done.append(fn()), daemon=True)
        t.start()
        t.join(timeout=10)
        if not done:
            fail(what)
            print(json.dumps({"landed": landed, "lost": lost, "fails": fails}), flush=True)
            os._exit(3)


    def loop():
        end = time.monotonic() + 0.1  # bounded: an interrupt lost in a __del__ ends it too
        if mode == "rcu_with":
            while time.monotonic() < end:
                with rcu.RcuReadGuard():
                    pass
        elif mode == "rcu_with_as":
            while time.monotonic() < end:
                with rcu.RcuReadGuard() as g:
                    box.read(g)["x"]
        elif mode == "rcu_read_lock":
            while time.monotonic() < end:
                g = rcu.read_lock()
                g.drop()
        elif mode == "rcu_with_read":
            while time.monotonic() < end:
                box.with_read(lambda c: c["x"])
        elif mode in locks:
            lk = locks[mode]
            while time.monotonic() < end:
                with lk.lock() as g:
                    g.value += 1
        elif mode == "SeqLock":
            while time.monotonic() < end:
                with sl.write() as w:
                    w.a = 1


    def check():
        if mode.startswith("rcu"):
            # First, with this thread idle: another thread's grace period ends.
            bounded(rcu.synchronize_rcu, "synchronize_rcu() on another thread hung")
            if rcu.read_lock_depth() != 0:
                fail("read_lock_depth() != 0")
            if lib.kb_rcu_read_lock_nesting() != rcu.read_lock_depth():
                fail("C nesting != read_lock_depth()")
            if lib.kb_rcu_is_online():
                fail("thread still online")
            try:
                rcu.synchronize_rcu()
            except Exception as e:
                fail(f"synchronize_rcu() here: {type(e).__name__}")
        elif mode in locks:
            lk = locks[mode]
            g = lk.try_lock()
            if g is None:
                fail("try_lock() is None")
                return
            g.unlock()
            bounded(lambda: lk.lock().unlock(), "lock() on another thread hung")
        else:
            if sl.sequence % 2:
                fail("sequence odd")
                return

            def write():
                with sl.write() as w:
                    w.a = 2

            bounded(write, "write() on another thread hung")


    signal.signal(signal.SIGALRM, on_alarm)
    deadline = time.monotonic() + 60
    for _ in range(rounds):
        if time.monotonic() > deadline:
            break
        delay = rng.uniform(1e-5, 1.5e-3)
        try:
            signal.setitimer(signal.ITIMER_REAL, delay)
            loop()
            lost += 1  # the interrupt came out of a __del__ (reported as unraisable)
        except KeyboardInterrupt:
            landed += 1
        check()
    print(json.dumps({"landed": landed, "lost": lost, "fails": fails}), flush=True)
    '''
)

ROUNDS = 150


def run_child(mode: str, seed: int, **env: str) -> dict[str, object]:
    """Run the child for one mode; return its report."""
    proc = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", CHILD, mode, str(ROUNDS), str(seed)],
        capture_output=True, text=True, timeout=180, env=child_env(**env),
    )  # fmt: skip
    lines = proc.stdout.strip().splitlines()
    assert lines, f"child died (rc {proc.returncode}): {proc.stderr[-3000:]}"
    report: dict[str, object] = json.loads(lines[-1])
    return report


def assert_clean(report: dict[str, object]) -> None:
    """Every round left the primitive free; most interrupts landed inside the loop."""
    landed = report["landed"]
    assert isinstance(landed, int)
    assert landed >= ROUNDS // 2, report
    assert report["fails"] == {}, report


@pytest.mark.parametrize("mode", ["SpinLock", "Mutex"])
def test_lock_ctrl_c_anywhere_leaves_lock_free(mode: str) -> None:
    """KeyboardInterrupt at any bytecode of ``with lock.lock()`` never leaks the lock."""
    assert_clean(run_child(mode, seed=12))


def test_seqlock_write_ctrl_c_anywhere_leaves_sequence_even() -> None:
    """KeyboardInterrupt at any bytecode of ``with sl.write()`` never leaves the sequence odd."""
    assert_clean(run_child("SeqLock", seed=13))


@pytest.mark.rcu_backends
@pytest.mark.parametrize("mode", ["rcu_with", "rcu_with_as", "rcu_read_lock", "rcu_with_read"])
def test_rcu_read_side_ctrl_c_anywhere_leaves_no_section(mode: str, rcu_backend: str) -> None:
    """KeyboardInterrupt at any bytecode of a read-side section's start or end leaves none open."""
    assert_clean(run_child(mode, seed=14, KBIND_RCU_BACKEND=rcu_backend))


def test_rcu_read_guard_collected_while_open_warns_and_ends_section() -> None:
    """A read guard nobody holds any more ends its section at once, warning with its site."""
    from kbind import GuardLeakWarning, rcu

    before = rcu.read_lock_depth()
    g = rcu.RcuReadGuard()
    line = g.created_at.lineno
    assert rcu.read_lock_depth() == before + 1
    with pytest.warns(GuardLeakWarning, match=rf"test_interrupts\.py:{line}"):
        del g
        gc.collect()
    assert rcu.read_lock_depth() == before
    done: list[bool] = []
    t = threading.Thread(target=lambda: done.append(rcu.synchronize_rcu() is None))
    t.start()
    t.join(timeout=30)
    assert done == [True], "another thread's grace period did not end"
