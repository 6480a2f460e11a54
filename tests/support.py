"""Helpers shared by the test modules (imported as ``tests.support``)."""

from __future__ import annotations

import gc
import os
import pathlib
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

ROOT = pathlib.Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
CSRC = ROOT / "csrc"


def core_sources() -> list[pathlib.Path]:
    """The C core's sources (csrc/engine/ and csrc/tools/), as the build script lists them."""
    sys.path.insert(0, str(CSRC))
    try:
        import build_ffi
    finally:
        sys.path.remove(str(CSRC))
    return build_ffi.core_sources()


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


def growth(
    run: Callable[[int], object], watched: Sequence[object], warm: int, rounds: int
) -> tuple[list[int], int, int]:
    """What ``run(rounds)`` leaves behind: for leak tests of C code.

    ``run(warm)`` first (caches, specialisation), a collection, ``run(warm)``
    again (refilling what it freed: free lists), then ``run(rounds)`` with the
    collector off.  Returns the change of each watched object's reference
    count, the memory blocks allocated meanwhile, and the change of the total
    reference count (0 unless Python is a debug build).
    """
    run(warm)
    gc.collect()
    gc.disable()
    try:
        run(warm)
        refs0 = [sys.getrefcount(x) for x in watched]
        total0 = getattr(sys, "gettotalrefcount", lambda: 0)()
        blocks0 = sys.getallocatedblocks()
        run(rounds)
        blocks1 = sys.getallocatedblocks()
        total1 = getattr(sys, "gettotalrefcount", lambda: 0)()
        refs1 = [sys.getrefcount(x) for x in watched]
    finally:
        gc.enable()
    return [b - a for a, b in zip(refs0, refs1, strict=True)], blocks1 - blocks0, total1 - total0
