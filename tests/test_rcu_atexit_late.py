"""call_rcu from an atexit handler that runs after kbind's own (R19, docs/misuse.md).

atexit runs handlers last-registered-first, so a handler registered before
``import kbind`` runs after kbind's at-exit pass (R19), when the callback
thread has already stopped.  Its callback used to be lost without a word; it
must run before the interpreter exits.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Every test runs on both RCU backends (builtin, liburcu): see tests/conftest.py.
pytestmark = pytest.mark.rcu_backends

LATE = textwrap.dedent(
    """
    import atexit

    def late():
        from kbind.rcu import Rcu, call_rcu
        call_rcu(lambda: print("late callback ran", flush=True))
        old = Rcu({"v": 1})
        old.replace({"v": 2}).defer()
        print("late handler returned", flush=True)

    atexit.register(late)   # before import kbind: runs after kbind's own handler

    import kbind
    kbind.rcu.call_rcu(lambda: print("early callback ran", flush=True))
    """
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_call_rcu_from_late_atexit_handler_runs_its_callback() -> None:
    """A callback queued by an atexit handler running after kbind's still runs before exit."""
    proc = _run(LATE)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "early callback ran" in lines
    assert "late callback ran" in lines, proc.stdout + proc.stderr
    assert lines.index("late callback ran") < lines.index("late handler returned")
    assert proc.stderr == ""


def test_call_rcu_in_reader_from_late_atexit_handler_raises_deadlock_error() -> None:
    """Inside a read-side section at that point the callback could never run: DeadlockError."""
    code = textwrap.dedent(
        """
        import atexit

        def late():
            from kbind.rcu import RcuReadGuard, call_rcu
            with RcuReadGuard():
                call_rcu(lambda: print("late callback ran", flush=True))

        atexit.register(late)
        import kbind
        """
    )
    proc = _run(code)
    assert "late callback ran" not in proc.stdout
    assert "DeadlockError" in proc.stderr, proc.stderr
    assert "at-exit pass" in proc.stderr
    assert "R19" in proc.stderr
