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


ROOT = pathlib.Path(__file__).resolve().parents[1]


def mypy_args(tmp_path: pathlib.Path, plugin: bool) -> list[str]:
    """mypy --strict, uncached; with ``plugin``, kbind's mypy plugin enabled (a config file)."""
    args = ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache")]
    # Always a config file of the test's own: the repository's pyproject.toml
    # (found from the working directory) enables the plugin.
    ini = tmp_path / "mypy.ini"
    ini.write_text("[mypy]\nstrict = True\n" + ("plugins = kbind.mypy_plugin\n" if plugin else ""))
    return [*args, "--config-file", str(ini)]


def run_mypy(tmp_path: pathlib.Path, code: str, plugin: bool = False) -> tuple[str, int]:
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(code))
    out, err, status = api.run([*mypy_args(tmp_path, plugin), str(path)])
    return out + err, status


def revealed(out: str) -> list[str]:
    """The types reveal_type() printed, in order, without mypy's ``builtins.`` prefix."""
    prefix = 'note: Revealed type is "'
    return [
        line.split(prefix, 1)[1].rstrip('"').replace("builtins.", "")
        for line in out.splitlines()
        if prefix in line
    ]


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


def test_examples_pass_mypy_strict(tmp_path: pathlib.Path) -> None:
    """``mypy --strict examples`` (with kbind's plugin, as a kbind user configures it) is clean."""
    out, err, status = api.run([*mypy_args(tmp_path, plugin=True), str(ROOT / "examples")])
    assert status == 0, out + err
    assert "Success: no issues found" in out
