"""Static typing: mypy --strict accepts correct kbind code and rejects ordering misuse (A01)."""

from __future__ import annotations

import pathlib
import textwrap

import pytest

api = pytest.importorskip("mypy.api")

GOOD = """
from kbind import AtomicI64, AtomicUsize, Acquire, Full, Relaxed, Release, SpinLock, Mutex

a = AtomicI64(0)
x: int = a.load(Acquire) + a.fetch_add(1, Full) + a.cmpxchg(1, 2, Relaxed)
ok, found = a.try_cmpxchg(1, 2, Release)
a.store(3, Release)
a.add(1, Relaxed)
flag: bool = a.dec_and_test(Full)
lock: SpinLock[list[int]] = SpinLock([1])
with lock.lock() as g:
    total: int = sum(g.value)
m = Mutex("text")
maybe = m.try_lock()
if maybe is not None:
    s: str = maybe.value
    maybe.unlock()
u = AtomicUsize(1)
"""

# (line, what mypy must say about it)
BAD = {
    "a.load(Release)": '"ReleaseOrdering"; expected "RelaxedOrdering | AcquireOrdering"',
    "a.load(Full)": '"FullOrdering"; expected "RelaxedOrdering | AcquireOrdering"',
    "a.store(1, Acquire)": '"AcquireOrdering"; expected "RelaxedOrdering | ReleaseOrdering"',
    "a.add(1, Acquire)": '"AcquireOrdering"; expected "RelaxedOrdering"',
    "a.inc(Full)": '"FullOrdering"; expected "RelaxedOrdering"',
    "a.dec_and_test(Relaxed)": '"RelaxedOrdering"; expected "FullOrdering"',
    "a.fetch_add(1)": "Missing positional argument",
    "a.fetch_add('1', Full)": "str",
    "n: str = SpinLock(1).lock().value": "int",
}


def run_mypy(tmp_path: pathlib.Path, code: str) -> tuple[str, int]:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(code))
    out, err, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(path)]
    )
    return out + err, status


def test_typing_correct_usage_passes_strict(tmp_path: pathlib.Path) -> None:
    """Idiomatic kbind code type-checks under mypy --strict (py.typed is shipped)."""
    out, status = run_mypy(tmp_path, GOOD)
    assert status == 0, out


def test_a01_typing_rejects_each_misuse(tmp_path: pathlib.Path) -> None:
    """mypy reports every ordering misuse and wrong operand, each on its own line."""
    header = (
        "from kbind import AtomicI64, Acquire, Full, Relaxed, Release, SpinLock\na = AtomicI64(0)\n"
    )
    lines = list(BAD)
    out, status = run_mypy(tmp_path, header + "\n".join(lines) + "\n")
    assert status == 1
    for number, line in enumerate(lines, start=3):
        reported = [o for o in out.splitlines() if f"snippet.py:{number}:" in o]
        assert reported, f"mypy accepted {line!r}:\n{out}"
        assert any(BAD[line] in o for o in reported), (line, reported)
