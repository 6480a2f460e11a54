"""Static typing of kbind.kernel.sync.lock and .barrier: mypy --strict rejects what Rust rejects."""

from __future__ import annotations

import pathlib

import pytest

from tests.test_typing import run_mypy

pytest.importorskip("mypy.api")

GOOD = """
from kbind.kernel.sync.barrier import Full, Read, Write, dma_mb, mb, smp_mb
from kbind.kernel.sync.lock import (
    CondVar, Guard, LockedBy, Mutex, SpinLock, SpinLockIrq, local_interrupt_disable,
)

s: SpinLock[list[int]] = SpinLock([1])
with s.lock() as g:
    total: int = sum(g.value)
m = Mutex("text")
cv = CondVar()
with m.lock() as mg:
    woken: bool = cv.wait_timeout(mg, 0.0)
    text: str = mg.value
data = LockedBy(m, 3)
with m.lock() as mg2:
    n: int = data.access(mg2) + 1
    data.access_mut(mg2).value = n
irq = SpinLockIrq(0)
with local_interrupt_disable() as token:
    with irq.lock_with(token) as ig:
        ig.value += 1
held: Guard[int] = irq.lock()
held.unlock()
smp_mb(Full)
mb(Read)
dma_mb(Write)
"""

HEADER = """
from kbind.kernel.sync.barrier import smp_mb
from kbind.kernel.sync.lock import LockedBy, Mutex, SpinLock, SpinLockIrq, local_interrupt_disable
from kbind.ordering import Acquire
irq = SpinLockIrq(0)
"""

# (line, what mypy must say about it)
BAD = {
    "irq.lock_with(SpinLock(0).lock())": '"Guard[int]"; expected "LocalInterruptDisabled"',
    "irq.lock_with(None)": '"None"; expected "LocalInterruptDisabled"',
    "irq.lock_with()": "Missing positional argument",
    "smp_mb(Acquire)": '"AcquireOrdering"; expected "FullOrdering | ReadBarrier | WriteBarrier"',
    "smp_mb()": "Missing positional argument",
    "n: str = Mutex(1).lock().value": "int",
    "LockedBy(Mutex(0), 1).access(object())": '"object"; expected "Guard[Any]"',
}


def test_typing_kernel_locks_correct_usage_passes_strict(tmp_path: pathlib.Path) -> None:
    """Idiomatic use of the kernel locks, CondVar, LockedBy and barriers type-checks."""
    out, status = run_mypy(tmp_path, GOOD)
    assert status == 0, out


def test_typing_rejects_wrong_token_and_wrong_barrier_marker(tmp_path: pathlib.Path) -> None:
    """mypy rejects lock_with() without a token and smp_mb() with a wrong marker."""
    lines = list(BAD)
    out, status = run_mypy(tmp_path, HEADER + "\n".join(lines) + "\n")
    assert status == 1
    first = HEADER.count("\n") + 1
    for number, line in enumerate(lines, start=first):
        reported = [o for o in out.splitlines() if f"snippet.py:{number}:" in o]
        assert reported, f"mypy accepted {line!r}:\n{out}"
        assert any(BAD[line] in o for o in reported), (line, reported)
