"""Static typing of kbind.rcu: mypy --strict understands Rcu[Config] and rejects misuse.

``rcu.read(g)`` is typed ``T`` (the reference stands in for ``&T``), so
attributes and items read through it keep their types; the functions given
to ``update`` and ``with_read`` receive a ``T`` too.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.test_typing import revealed, run_mypy

pytest.importorskip("mypy.api")

GOOD = """
import dataclasses
from kbind.rcu import Rcu, RcuDropGuard, RcuReadGuard, RcuWrite, read_lock

@dataclasses.dataclass(frozen=True)
class Config:
    timeout: int
    name: str

cfg: Rcu[Config] = Rcu(Config(30, "a"))
with RcuReadGuard() as g:
    ref: Config = cfg.read(g)  # an RcuRef at run time, standing in for &Config
    t: int = cfg.read(g, lambda c: c.timeout)
    timeout: int = ref.timeout
    also: int = cfg.read(g).timeout
n: str = cfg.with_read(lambda c: c.name)
old: RcuDropGuard[Config] = cfg.replace(Config(5, "b"))
old.drop()
cfg.update(lambda c: Config(c.timeout + 1, c.name)).defer()
table: Rcu[dict[str, list[int]]] = Rcu({"a": [1]})
table.update(lambda t: {**t, "b": [2]}).drop()
with RcuReadGuard() as g:
    first: int = table.read(g)["a"][0]
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
    "y: str = cfg.read(read_lock()).timeout": 'expression has type "int"',
    "cfg.read(read_lock()).nope": '"Config" has no attribute "nope"',
    "table.read(read_lock())[0]": 'Invalid index type "int" for "dict[str, list[int]]"',
    "z: str = table.read(read_lock())['a'][0]": 'expression has type "int"',
    "table.update(lambda t: {**t, 'k': 'v'})": 'Dict entry 1 has incompatible type "str": "str"',
    "cfg.with_read(lambda c: c.nope)": '"Config" has no attribute "nope"',
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
        "table: Rcu[dict[str, list[int]]] = Rcu({'a': [1]})\n"
    )
    lines = list(BAD)
    out, status = run_mypy(tmp_path, header + "\n".join(lines) + "\n")
    assert status == 1
    first = header.count("\n") + 1
    for number, line in enumerate(lines, start=first):
        reported = [o for o in out.splitlines() if f"snippet.py:{number}:" in o]
        assert reported, f"mypy accepted {line!r}:\n{out}"
        assert any(BAD[line] in o for o in reported), (line, reported)


REVEAL = """
import dataclasses
from typing import NamedTuple
from kbind.rcu import Rcu, RcuReadGuard, immutable

@dataclasses.dataclass(frozen=True)
class Config:
    timeout: int
    hosts: list[str]

class Summary(NamedTuple):
    timeout: int
    hosts: list[str]

@immutable
class Version:
    major: int = 1

cfg = Rcu(Config(30, ["a"]))
table: Rcu[dict[str, list[int]]] = Rcu({"a": [1]})
with RcuReadGuard() as g:
    reveal_type(cfg.read(g).timeout)
    reveal_type(cfg.read(g).hosts)
    reveal_type(table.read(g)["a"])
    reveal_type(cfg.read(g))
cfg.update(lambda c: reveal_type(c))
reveal_type(cfg.with_read(lambda c: Summary(c.timeout, c.hosts)))
cfg.with_read(lambda c: reveal_type(c))
reveal_type(table.update(lambda t: {**t, "b": [2]}))
reveal_type(Version().major)
"""


def test_typing_rcu_reveals_what_readers_and_closures_receive(tmp_path: pathlib.Path) -> None:
    """read(g) is typed T, so attributes and items keep their types; closures receive T."""
    out, status = run_mypy(tmp_path, REVEAL)
    assert status == 0, out
    assert revealed(out) == [
        "int",
        "list[str]",
        "list[int]",
        "snippet.Config",
        "snippet.Config",
        "tuple[int, list[str], fallback=snippet.Summary]",
        "snippet.Config",
        "kbind.rcu.drop.RcuDropGuard[dict[str, list[int]]]",  # mypy names the defining module
        "int",
    ], out
