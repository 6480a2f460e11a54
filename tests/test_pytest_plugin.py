"""kbind's pytest plugin: strict mode fails tests that break kbind's rules, and passes clean ones.

Each case writes a small test file and runs pytest on it in a subprocess
(``pytester.runpytest_subprocess``: a fresh interpreter, so leaked guards
cannot disturb this run) with entry-point autoloading off and the plugin
loaded explicitly with ``-p kbind.pytest_plugin``.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.support import child_pythonpath

pytest_plugins = ["pytester"]

ROOT = pathlib.Path(__file__).resolve().parents[1]

HEADER = """
import gc, threading, warnings
import pytest
from kbind import rcu
from kbind.rcu import Rcu, RcuReadGuard, call_rcu, rcu_barrier
from kbind.sync import SpinLock
from kbind.errors import RcuStallWarning
"""


@pytest.fixture
def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run pytest on the given test source with the plugin; return the result."""
    monkeypatch.setenv("PYTHONPATH", child_pythonpath())
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")

    def go(source: str, *args: str, ini: str = "") -> pytest.RunResult:
        pytester.makepyfile(test_user=HEADER + source)
        if ini:
            pytester.makeini(ini)
        return pytester.runpytest_subprocess(
            "-p", "kbind.pytest_plugin", "-p", "no:cacheprovider", *args, timeout=120
        )

    return go


def test_strict_clean_test_passes(run) -> None:  # type: ignore[no-untyped-def]
    """A test that ends its sections, drops its drop guards and drains callbacks passes."""
    r = run(
        """
def test_clean(kbind_strict):
    cfg = Rcu({"a": 1})
    with RcuReadGuard() as g:
        assert cfg.read(g)["a"] == 1
    with cfg.replace({"a": 2}):
        pass
    lock = SpinLock(0)
    with lock.lock() as lg:
        lg.value += 1
    call_rcu(lambda: None)
    assert rcu_barrier(timeout=30)
"""
    )
    r.assert_outcomes(passed=1)


def test_strict_leaked_read_guard_fails_naming_site(run) -> None:  # type: ignore[no-untyped-def]
    """A read guard still held at the end fails the test, naming where it was created."""
    r = run(
        """
def test_leak(kbind_strict):
    g = RcuReadGuard()  # leaked-here
    test_leak.g = g  # keep it alive past the test

def test_next_one_is_clean(kbind_strict):
    assert rcu.read_lock_depth() == 0
"""
    )
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines(
        ["*1 RcuReadGuard(s) still held*", "*RcuReadGuard#*test_user.py:* in test_leak()*"]
    )


def test_strict_leaked_lock_guard_fails(run) -> None:  # type: ignore[no-untyped-def]
    """A LockGuard still held at the end of the test fails it, naming its creation site."""
    r = run(
        """
LOCK = SpinLock(0)

@pytest.mark.kbind_strict
def test_leak():
    test_leak.g = LOCK.lock()

@pytest.mark.kbind_strict
def test_lock_released_for_next():
    with LOCK.lock() as g:
        g.value += 1
"""
    )
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines(
        ["*1 LockGuard(s) still held*", "*LockGuard#*test_user.py:* in test_leak()*"]
    )


def test_strict_collected_lock_guard_warning_fails(run) -> None:  # type: ignore[no-untyped-def]
    """A LockGuard collected while held emits GuardLeakWarning, which fails a strict test."""
    r = run(
        """
def test_collected(kbind_strict):
    lock = SpinLock(0)
    lock.lock()  # dropped on the floor: collected while held
    gc.collect()
"""
    )
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(["*kbind warning(s) emitted*", "*GuardLeakWarning*"])


def test_strict_undropped_drop_guard_fails(run) -> None:  # type: ignore[no-untyped-def]
    """An RcuDropGuard neither dropped nor deferred fails the test with the replace() site."""
    r = run(
        """
def test_undropped(kbind_strict):
    cfg = Rcu({"a": 1})
    test_undropped.old = cfg.replace({"a": 2})  # kept alive, never dropped
"""
    )
    r.assert_outcomes(failed=1)
    r.stdout.fnmatch_lines(
        ["*RcuDropGuard(s) neither dropped nor deferred*", "*test_user.py:* in test_undropped()*"]
    )


def test_strict_pending_callbacks_fail(run) -> None:  # type: ignore[no-untyped-def]
    """call_rcu callbacks still pending at the end fail the test; the next test starts clean."""
    r = run(
        """
def test_pending(kbind_strict):
    gate = threading.Event()
    call_rcu(lambda: gate.wait(3))  # pending until it returns (bounded: 3 s)
    call_rcu(lambda: None)  # queued behind it
    # no rcu_barrier()

def test_next(kbind_strict):
    assert rcu.pending_callbacks() == 0
"""
    )
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines(["*call_rcu callback(s) still pending*", "*callback queued*"])


def test_strict_stall_warning_fails(run) -> None:  # type: ignore[no-untyped-def]
    """An RcuStallWarning during the test fails it; pytest.warns inside the test accepts it."""
    r = run(
        """
def _stall():
    before = rcu.get_stall_timeout()
    rcu.set_stall_timeout(0.05)
    stop = threading.Event()
    online = threading.Event()
    def worker():
        rcu.set_qsbr_mode(True)
        online.set()
        while not stop.wait(0.002):
            if seen:
                rcu.quiescent_state()
        rcu.set_qsbr_mode(False)
    t = threading.Thread(target=worker)
    t.start()
    online.wait(10)
    try:
        rcu.synchronize_rcu()
    finally:
        stop.set()
        t.join(10)
        rcu.set_stall_timeout(before)

seen = []

@pytest.fixture(autouse=True)
def _watch(monkeypatch):
    # Let the worker report quiescent states once the stall was reported.
    seen.clear()
    import kbind.rcu._runtime as rt
    orig = rt.check_stall
    def check(stacklevel):
        n = len(rt._warned_gps)
        try:
            orig(stacklevel + 1)
        finally:
            if len(rt._warned_gps) != n:
                seen.append(1)
    monkeypatch.setattr(rt, "check_stall", check)

@pytest.mark.kbind_strict
def test_stall():
    _stall()

@pytest.mark.kbind_strict
def test_stall_expected():
    with pytest.warns(RcuStallWarning):
        _stall()
"""
    )
    r.assert_outcomes(passed=1, failed=1)
    r.stdout.fnmatch_lines(
        ["*kbind warning(s) emitted*", "*RcuStallWarning at *", "FAILED*::test_stall - *"]
    )


def test_strict_off_by_default(run) -> None:  # type: ignore[no-untyped-def]
    """Without the fixture, marker, option or ini setting, a leaky test passes."""
    r = run(
        """
def test_leaky():
    gate = threading.Event()
    call_rcu(lambda: gate.wait(3))  # pending until it returns (bounded: 3 s)
"""
    )
    r.assert_outcomes(passed=1)


def test_strict_command_line_option_and_ini(run) -> None:  # type: ignore[no-untyped-def]
    """``--kbind-strict`` and ``kbind_strict = true`` turn strict mode on for every test."""
    src = """
def test_leaky():
    gate = threading.Event()
    call_rcu(lambda: gate.wait(3))  # pending until it returns (bounded: 3 s)
"""
    run(src, "--kbind-strict").assert_outcomes(failed=1)
    run(src, ini="[pytest]\nkbind_strict = true\n").assert_outcomes(failed=1)


def test_plugin_registered_as_pytest11_entry_point() -> None:
    """pyproject.toml declares the plugin under the pytest11 entry-point group."""
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["pytest11"] == {"kbind": "kbind.pytest_plugin"}
