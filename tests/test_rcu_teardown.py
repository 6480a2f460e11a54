"""kbind used from finalizers during interpreter teardown, and from the starting callback thread.

A module-level object whose ``__del__`` calls ``call_rcu``,
``Rcu.replace``/``update`` or ``RcuDropGuard.defer()`` used to hang the
process forever (``Thread.start()`` during finalization waits for a thread
that can never run); and a garbage collection running a finalizer inside the
starting callback thread deadlocked (the starter held the callback lock
across ``Thread.start()``).  Each case runs in a subprocess with a timeout:
a hang is a failure.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

# Every test runs on both RCU backends (builtin, liburcu): see tests/conftest.py.
pytestmark = pytest.mark.rcu_backends

TIMEOUT_S = 20.0

TEARDOWN = textwrap.dedent(
    """
    import sys
    import kbind
    from kbind import rcu

    class Holder:
        def __init__(self):
            self.r = kbind.Rcu({{"v": 1}})

        def __del__(self):
            assert sys.is_finalizing()
            {body}
            print("finalizer returned", flush=True)

    holder = Holder()   # collected during module teardown, after the at-exit pass
    """
)

BODIES = {
    "call_rcu": 'rcu.call_rcu(lambda: print("callback ran", flush=True))',
    "defer": 'g = self.r.replace({"v": 2}); g.defer(); '
    'print("barrier", rcu.rcu_barrier(5.0), g.freed, flush=True)',
    "update_drop": 'g = self.r.update(lambda old: {"v": 3}); g.drop(); '
    'print("dropped", g.freed, flush=True)',
    "leaked_drop_guard": 'self.r.replace({"v": 4}); '
    'print("barrier", rcu.rcu_barrier(5.0), flush=True)',
}

EXPECTED = {
    "call_rcu": ["callback ran", "finalizer returned"],
    "defer": ["barrier True True", "finalizer returned"],
    "update_drop": ["dropped True", "finalizer returned"],
    "leaked_drop_guard": ["barrier True", "finalizer returned"],
}


def _run(code: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=TIMEOUT_S
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout
        pytest.fail(f"the process hung (no exit within {TIMEOUT_S:g} s); stdout so far:\n{out}")


@pytest.mark.parametrize("api", sorted(BODIES))
def test_finalizer_at_teardown_api_runs_without_hanging(api: str) -> None:
    """A module-level object's __del__ using the RCU API at teardown finishes, its work done."""
    proc = _run(TEARDOWN.format(body=BODIES[api]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == EXPECTED[api], proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr


IN_STARTING_THREAD = textwrap.dedent(
    """
    import gc
    import threading
    from kbind import rcu

    ran = []

    class Cyclic:
        def __init__(self):
            self.me = self          # only the cyclic collector frees it

        def __del__(self):
            rcu.call_rcu(lambda: ran.append("from finalizer"))

    real = threading.Thread._set_tstate_lock

    def set_tstate_lock(self):
        # Runs in the new thread before Thread.start() returns in the starter:
        # a collection there runs Cyclic.__del__ on the starting thread.
        real(self)
        if self.name == "kbind-rcu-callbacks" and not ran:
            ran.append("collected")
            gc.collect()

    threading.Thread._set_tstate_lock = set_tstate_lock
    gc.disable()
    Cyclic()                        # garbage, waiting for the collection above
    rcu.call_rcu(lambda: ran.append("first"))   # starts the callback thread
    assert rcu.rcu_barrier(10.0)
    print(sorted(ran), flush=True)
    """
)


def test_finalizer_in_starting_callback_thread_does_not_deadlock() -> None:
    """A collection inside the starting callback thread whose finalizer calls call_rcu completes."""
    proc = _run(IN_STARTING_THREAD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == ["['collected', 'first', 'from finalizer']"], (
        proc.stdout + proc.stderr
    )


HELD_UP = textwrap.dedent(
    """
    import sys
    import threading
    from kbind import rcu

    inside = threading.Event()

    def reader():
        g = rcu.RcuReadGuard()          # never dropped: holds up every grace period
        inside.set()
        threading.Event().wait()

    class Holder:
        def __del__(self):
            rcu.call_rcu(lambda: print("callback ran", flush=True))
            print("finalizer returned", flush=True)

    threading.Thread(target=reader, daemon=True).start()
    inside.wait(10.0)
    # Not in __main__: the daemon thread's frame keeps __main__'s globals alive.
    holder_mod = type(sys)("holder_mod")
    holder_mod.holder = Holder()
    sys.modules["holder_mod"] = holder_mod
    """
)


def test_finalizer_at_teardown_held_up_grace_period_reports_lost_callback() -> None:
    """A callback that cannot run at teardown (a reader holds the grace period) is reported."""
    proc = _run(HELD_UP)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == ["finalizer returned"], proc.stdout + proc.stderr
    assert "during interpreter finalization had not run" in proc.stderr, proc.stderr


LOCK_HELD = textwrap.dedent(
    """
    import atexit
    import sys
    import threading

    held = threading.Event()

    def holder():
        from kbind.rcu import _callbacks as _rcu_callbacks
        with _rcu_callbacks.callbacks.cond:   # frozen at finalization, lock held
            held.set()
            threading.Event().wait()

    def after_kbind_exit_pass():
        threading.Thread(target=holder, daemon=True).start()
        held.wait(10.0)

    atexit.register(after_kbind_exit_pass)  # before import kbind: runs after its own

    from kbind import rcu

    class Holder:
        def __del__(self):
            rcu.call_rcu(lambda: print("callback ran", flush=True))
            print("barrier", rcu.rcu_barrier(5.0), flush=True)

    holder_mod = type(sys)("holder_mod")
    holder_mod.holder = Holder()
    sys.modules["holder_mod"] = holder_mod
    """
)


def test_finalizer_at_teardown_callback_lock_held_by_daemon_thread_does_not_hang() -> None:
    """At teardown, a callback lock held by a frozen daemon thread does not block call_rcu."""
    proc = _run(LOCK_HELD)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.splitlines() == ["callback ran", "barrier True"], proc.stdout + proc.stderr
