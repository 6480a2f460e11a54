"""fork(): a child process keeps a working RCU engine, callbacks, seqlocks and locks.

fork() copies only the calling thread.  The child must not wait for reader
threads that exist only in the parent, nor inherit locks or "running" engine
threads that are gone; callbacks queued in the parent run in the child
(they act on its copies).  Both os.fork() and multiprocessing's fork start
method (the default on Linux for Python 3.11-3.13) are tested, on both RCU
backends, with another thread inside a read-side section and callbacks
pending at the moment of the fork.
"""

from __future__ import annotations

import multiprocessing
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import warnings

import pytest

from kbind import BackendForkError, Mutex, SeqLock, SpinLock
from kbind.rcu import Rcu, RcuReadGuard, call_rcu, rcu_barrier, synchronize_rcu
from kbind.rcu_backend import current_backend
from tests.support import ROOT, child_env, core_sources, reader_held

pytestmark = pytest.mark.rcu_backends

JOIN = 30.0
_kept: list[object] = []
CHILD_LIMIT_S = 20  # a hung child is killed by SIGALRM and reported


def child_checks(ran_in_parent_queue: list[str]) -> int:
    """In the child: every primitive works; return the exit status (0: all good).

    Over liburcu (whose QSBR registry cannot follow a fork while other threads
    are registered) the child must refuse grace periods and call_rcu with
    BackendForkError, and still run read-side sections, seqlocks and locks.
    """
    signal.alarm(CHILD_LIMIT_S)
    failures = 0
    cfg = Rcu({"v": 1})
    if current_backend() == "builtin":
        # the callback queued in the parent (blocked there by the reader) runs here
        if not rcu_barrier(timeout=10):
            failures |= 1
        if ran_in_parent_queue != ["queued before fork"]:
            failures |= 2
        # grace periods do not wait for the parent's reader, which does not exist here
        old = cfg.replace({"v": 2})
        synchronize_rcu()
        old.drop()
        ran: list[int] = []
        call_rcu(lambda: ran.append(1))
        if not rcu_barrier(timeout=10) or ran != [1]:
            failures |= 8
        # a thread started in the child is a reader like any other
        t = threading.Thread(target=lambda: cfg.with_read(lambda c: c["v"]))
        t.start()
        t.join(JOIN)
        synchronize_rcu()
    else:
        for refused in (synchronize_rcu, lambda: call_rcu(lambda: None)):
            try:
                refused()
                failures |= 1
            except BackendForkError:
                pass
        # kept, not dropped: dropping would wait for a grace period (refused too)
        _kept.append(cfg.replace({"v": 2}))
    with RcuReadGuard() as g:
        if cfg.read(g)["v"] != 2:
            failures |= 4
    clock = SeqLock(sec=0, nsec=0)
    with clock.write() as w:
        w.sec = 5
    if clock.read(lambda v: v.sec) != 5:
        failures |= 16
    lock, mutex = SpinLock([0]), Mutex([0])
    with lock.lock() as lg:
        lg.value[0] += 1
    with mutex.lock() as mg:
        mg.value[0] += 1
    if (lock.try_lock() is None) or (mutex.try_lock() is None):
        failures |= 32
    signal.alarm(0)
    return failures


def test_os_fork_child_keeps_rcu_callbacks_seqlocks_and_locks_working(rcu_backend: str) -> None:
    """os.fork() with a reader in its section and a callback pending: the child is healthy."""
    ran: list[str] = []
    with RcuReadGuard():  # this thread is a registered reader before the fork
        pass
    with reader_held():
        call_rcu(lambda: ran.append("queued before fork"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # 3.12+: fork with threads
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            status = 99
            try:
                status = child_checks(ran)
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status), f"the child died: {status!r} (SIGALRM: it hung)"
    assert os.WEXITSTATUS(status) == 0, f"child checks failed: bits {os.WEXITSTATUS(status):b}"
    # the parent is unaffected: its callback runs once the reader has left
    assert rcu_barrier(timeout=JOIN)
    assert ran == ["queued before fork"]


def _mp_child(queue: multiprocessing.Queue[int]) -> None:  # pragma: no cover - child
    ran: list[str] = ["queued before fork"]  # this process saw none queued
    queue.put(child_checks(ran) & ~3)


def test_multiprocessing_fork_child_uses_rcu(rcu_backend: str) -> None:
    """multiprocessing (fork start method) while a reader is in its section: the child works."""
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[int] = ctx.Queue()
    with RcuReadGuard():  # the forking thread is a registered reader
        pass
    with reader_held(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        proc = ctx.Process(target=_mp_child, args=(queue,))
        proc.start()
        proc.join(JOIN)
    if proc.is_alive():
        proc.kill()
        proc.join(JOIN)
        pytest.fail("the multiprocessing child hung")
    assert proc.exitcode == 0
    assert queue.get(timeout=JOIN) == 0


def test_fork_while_another_thread_waits_for_a_grace_period(rcu_backend: str) -> None:
    """A thread blocked in synchronize_rcu() at fork: the child's own waits complete."""
    started = threading.Event()

    def waiter() -> None:
        started.set()
        synchronize_rcu()

    with reader_held():
        t = threading.Thread(target=waiter, name="gp-waiter")
        t.start()
        assert started.wait(JOIN)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            status = 99
            try:
                signal.alarm(CHILD_LIMIT_S)
                try:
                    synchronize_rcu()
                    status = 0 if rcu_barrier(timeout=10) else 1
                except BackendForkError:
                    status = 0 if rcu_backend == "liburcu" else 2
            finally:
                os._exit(status)
        _, status = os.waitpid(pid, 0)
    t.join(JOIN)
    assert not t.is_alive()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status


def test_fork_child_of_a_single_thread_process_keeps_liburcu_usable(rcu_backend: str) -> None:
    """A parent with no other registered thread and no call_rcu: its child keeps every API."""
    code = textwrap.dedent(
        """
        import os, signal
        from kbind.rcu import Rcu, call_rcu, rcu_barrier, synchronize_rcu
        cfg = Rcu({"v": 1})
        synchronize_rcu()                  # this thread only; no call_rcu yet
        pid = os.fork()
        if pid == 0:
            signal.alarm(20)
            old = cfg.replace({"v": 2})
            old.drop()                      # waits for a grace period in the child
            ran = []
            call_rcu(lambda: ran.append(1))
            os._exit(0 if rcu_barrier(timeout=10) and ran == [1] else 1)
        _, status = os.waitpid(pid, 0)
        print("child", os.WIFEXITED(status) and os.WEXITSTATUS(status))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
        env=child_env(), check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "child 0", proc.stdout + proc.stderr


def _build_fork_driver(tmp_path: pathlib.Path, flags: list[str]) -> pathlib.Path:
    exe = tmp_path / "fork_main"
    sources = [str(p) for p in core_sources()]
    build = subprocess.run(
        ["gcc", "-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", *flags,
         f"-I{ROOT / 'csrc'}", *sources, str(ROOT / "tests/native/fork_main.c"),
         "-o", str(exe), "-pthread", "-ldl"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if build.returncode != 0 and "cannot find" in build.stderr and "san" in build.stderr:
        pytest.skip(f"the sanitizer runtime is not installed: {build.stderr.strip()}")
    assert build.returncode == 0, build.stderr
    return exe


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
@pytest.mark.parametrize(
    "sanitizer",
    ["none", "address,undefined"],
)
def test_native_fork_driver_child_engine_works(
    rcu_backend: str, sanitizer: str, tmp_path: pathlib.Path
) -> None:
    """The C engine across fork(), natively: plain build, and ASan+UBSan without child threads.

    ThreadSanitizer does not support fork() in a threaded process at all, and
    the sanitizer runtimes do not support starting threads in its child, so
    the sanitized run checks the child's grace period and callback accounting
    without running callbacks (``nothreads``); the plain run does everything.
    """
    flags = [] if sanitizer == "none" else [f"-fsanitize={sanitizer}", "-fno-sanitize-recover=all"]
    exe = _build_fork_driver(tmp_path, flags)
    args = [rcu_backend] + ([] if sanitizer == "none" else ["nothreads"])
    run = subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1"},
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert "AddressSanitizer" not in out and "runtime error" not in out, out
    assert run.returncode == 0, out
    assert "PASS (0 failures)" in run.stdout
