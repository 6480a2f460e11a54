"""Helpers shared by the test modules (imported as ``tests.support``)."""

from __future__ import annotations

import os
import pathlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def child_pythonpath() -> str:
    """PYTHONPATH for a child Python: this tree's ``src/`` first, then what was inherited."""
    return os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python that must import this tree's kbind.

    The inherited environment is kept (CI's second configuration hides
    optional packages through PYTHONPATH, and a child must see the same).
    """
    return {**os.environ, "PYTHONPATH": child_pythonpath(), **extra}


@contextmanager
def reader_held(timeout: float = 30.0) -> Iterator[None]:
    """Hold an RCU read-side section on another thread for the duration.

    No grace period that starts meanwhile can end, so callbacks stay pending
    and grace-period waits block (or time out) until the block is left.
    """
    from kbind.rcu import RcuReadGuard

    entered, leave = threading.Event(), threading.Event()

    def reader() -> None:
        with RcuReadGuard():
            entered.set()
            leave.wait(timeout)

    t = threading.Thread(target=reader, name="held-reader")
    t.start()
    try:
        assert entered.wait(timeout), "the reader thread never entered its section"
        yield
    finally:
        leave.set()
        t.join(timeout)
        assert not t.is_alive(), "the reader thread did not leave"
