"""Static typing of kernel::sync::atomic: mypy --strict rejects what Rust rejects."""

from __future__ import annotations

import pathlib

import pytest

from tests.test_typing import revealed, run_mypy

pytest.importorskip("mypy.api")

HEADER = """
from kbind import Acquire, Full, Relaxed, Release
from kbind.kernel.sync.atomic import (
    I8, I16, I32, I64, U32, U64, Atomic, AtomicFlag, Bool, CmpxchgErr, CmpxchgOk, Isize, Usize,
)
a = Atomic[I32](0)
u = Atomic[U64](0)
b = Atomic[Bool](True)
s = Atomic[I8](0)
f = AtomicFlag(False)
"""

GOOD = (
    HEADER
    + """
x: int = a.load(Acquire) + a.fetch_add(1, Full) + a.fetch_sub(1, Release) + a.xchg(2, Relaxed)
a.add(1, Relaxed)
a.store(3, Release)
y: int = u.fetch_add(1, Relaxed) + Atomic[Isize](0).load(Relaxed) + Atomic[Usize](0).load(Relaxed)
z: int = Atomic[I64](0).xchg(1, Full) + Atomic[U32](1).fetch_sub(1, Full)
w: int = Atomic[I16](2).load(Relaxed)
flag: bool = b.load(Acquire) or b.xchg(False, Full) or f.load(Relaxed) or f.xchg(True, Full)
b.store(False, Release)
s.store(1, Relaxed)
match a.cmpxchg(3, 4, Full):
    case CmpxchgOk(old):
        reveal_type(old)
    case CmpxchgErr(current):
        reveal_type(current)
r = b.cmpxchg(True, False, Acquire)
reveal_type(r)
reveal_type(f.cmpxchg(False, True, Full))
def takes(x: Atomic[I32]) -> None: ...
takes(a)
"""
)

# (line, what mypy must say about it)
BAD = {
    "b.fetch_add(1, Full)": 'Invalid self argument "Atomic[Bool]" to attribute',
    "s.add(1, Relaxed)": 'Invalid self argument "Atomic[I8]" to attribute',
    "Atomic[I16](0).fetch_sub(1, Full)": 'Invalid self argument "Atomic[I16]"',
    "f.fetch_add(1, Full)": '"AtomicFlag" has no attribute "fetch_add"',
    "a.add(1, Full)": '"FullOrdering"; expected "RelaxedOrdering"',
    "a.load(Release)": '"ReleaseOrdering"; expected "RelaxedOrdering | AcquireOrdering"',
    "a.store(1, Acquire)": '"AcquireOrdering"; expected "RelaxedOrdering | ReleaseOrdering"',
    "f.load(Full)": '"FullOrdering"; expected "RelaxedOrdering | AcquireOrdering"',
    "b.store(1, Relaxed)": 'incompatible type "int"; expected "bool"',
    "a.xchg('1', Full)": 'incompatible type "str"; expected "int"',
    "a.fetch_add(1)": "Missing positional argument",
    "a.inc(Relaxed)": 'has no attribute "inc"',
    "a.try_cmpxchg(1, 2, Full)": 'has no attribute "try_cmpxchg"',
    "takes(u)": 'incompatible type "Atomic[U64]"; expected "Atomic[I32]"',
    "n: int = a.cmpxchg(1, 2, Full)": "CmpxchgOk[int] | CmpxchgErr[int]",
}


def test_correct_kernel_atomic_code_passes_strict(tmp_path: pathlib.Path) -> None:
    """Rust-shaped code type-checks; cmpxchg's result narrows by match."""
    out, status = run_mypy(tmp_path, GOOD)
    assert status == 0 or "error" not in out, out
    assert revealed(out) == [
        "int",
        "int",
        "kbind.kernel.sync.atomic.CmpxchgOk[bool] | kbind.kernel.sync.atomic.CmpxchgErr[bool]",
        "kbind.kernel.sync.atomic.CmpxchgOk[bool] | kbind.kernel.sync.atomic.CmpxchgErr[bool]",
    ], out


def test_mypy_rejects_what_rust_rejects(tmp_path: pathlib.Path) -> None:
    """Arithmetic on I8/I16/Bool, wrong orderings, wrong values, C-only operations."""
    code = HEADER + "def takes(x: Atomic[I32]) -> None: ...\n" + "\n".join(BAD)
    out, status = run_mypy(tmp_path, code)
    assert status == 1, out
    first = HEADER.count("\n") + 2  # the line of the first BAD entry
    errors = [line for line in out.splitlines() if ": error:" in line]
    for i, (line, expected) in enumerate(BAD.items()):
        mine = [e for e in errors if f"snippet.py:{first + i}:" in e]
        assert mine, f"mypy accepted {line!r}:\n{out}"
        assert any(expected in e for e in mine), (line, mine)
