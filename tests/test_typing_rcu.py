"""Static typing of kbind.rcu: mypy --strict understands Rcu[Config] and rejects misuse."""

from __future__ import annotations

import pathlib

import pytest

from tests.test_typing import run_mypy

pytest.importorskip("mypy.api")

GOOD = """
import dataclasses
from kbind.rcu import Rcu, RcuDropGuard, RcuReadGuard, RcuRef, RcuWrite, read_lock

@dataclasses.dataclass(frozen=True)
class Config:
    timeout: int
    name: str

cfg: Rcu[Config] = Rcu(Config(30, "a"))
with RcuReadGuard() as g:
    ref: RcuRef[Config] = cfg.read(g)
    t: int = cfg.read(g, lambda c: c.timeout)
    anything = ref.timeout
n: str = cfg.with_read(lambda c: c.name)
old: RcuDropGuard[Config] = cfg.replace(Config(5, "b"))
old.drop()
cfg.update(lambda c: Config(c.timeout + 1, c.name)).defer()
r2, w = Rcu.init(Config(1, "x"))
w2: RcuWrite[Config] = w
g2 = read_lock()
g2.drop()
"""

# (line, what mypy must say about it)
BAD = {
    "cfg.read(object())": 'No overload variant of "read" of "Rcu" matches argument type "object"',
    "cfg.read(None)": 'No overload variant of "read" of "Rcu" matches argument type "None"',
    "s: str = cfg.with_read(lambda c: c.timeout)": 'expression has type "int"',
    "cfg.replace(42)": 'has incompatible type "int"; expected "Config"',
    "cfg.update(lambda c: c.timeout)": 'expected "Callable[[Config], Config]"',
    "x: str = cfg.read(read_lock(), lambda c: c.timeout)": 'expression has type "int"',
}


def test_typing_rcu_correct_usage_passes_strict(tmp_path: pathlib.Path) -> None:
    """Idiomatic kbind.rcu code type-checks under mypy --strict; accessors keep the type."""
    out, status = run_mypy(tmp_path, GOOD)
    assert status == 0, out


def test_typing_rcu_rejects_each_misuse(tmp_path: pathlib.Path) -> None:
    """mypy reports a non-guard passed to read(), wrong value types and wrong result types."""
    header = (
        "import dataclasses\n"
        "from kbind.rcu import Rcu, read_lock\n"
        "@dataclasses.dataclass\n"
        "class Config:\n"
        "    timeout: int\n"
        "cfg = Rcu(Config(1))\n"
    )
    lines = list(BAD)
    out, status = run_mypy(tmp_path, header + "\n".join(lines) + "\n")
    assert status == 1
    first = header.count("\n") + 1
    for number, line in enumerate(lines, start=first):
        reported = [o for o in out.splitlines() if f"snippet.py:{number}:" in o]
        assert reported, f"mypy accepted {line!r}:\n{out}"
        assert any(BAD[line] in o for o in reported), (line, reported)
