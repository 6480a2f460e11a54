"""Static typing of kbind.rcu's lists and hash table: no traversal type-checks without a guard.

``lst.iter(g)`` yields ``T`` (each reference stands in for ``&T``), so
fields read through it keep their types; ``iter()`` without a guard, ``for x
in lst`` and ``x in lst`` are mypy errors (R20), as a wrong value type is.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.test_typing import revealed, run_mypy

pytest.importorskip("mypy.api")

HEADER = """
import dataclasses
from kbind.rcu import RcuDropGuard, RcuHashTable, RcuHList, RcuList, RcuReadGuard, read_lock

@dataclasses.dataclass
class Item:
    id: int
    name: str

lst: RcuList[Item] = RcuList([Item(1, "a")], key=lambda it: it.id)
chain: RcuHList[Item] = RcuHList()
table: RcuHashTable[str, Item] = RcuHashTable(buckets=16)
"""

GOOD = """
with lst.update_lock.lock():
    lst.add(Item(0, "z"))
    lst.add_tail(Item(2, "b"))
with chain.update_lock.lock():
    chain.add_head(Item(3, "c"))
with RcuReadGuard() as g:
    names: list[str] = [it.name for it in lst.iter(g)]
    ids: list[int] = [it.id for it in lst.read(g)]
    found = lst.lookup(g, 1)
    n: int = found.id if found is not None else -1
    first = lst.first(g)
    ok: bool = table.insert("k", Item(4, "d"))
    got = table.lookup(g, "k")
    pairs: list[tuple[str, Item]] = list(table.items(g))
with lst.update_lock.lock() as held:
    for it in lst.iter(held):
        pass
    old: RcuDropGuard[Item] = lst.remove(Item(2, "b"))
old.drop()
table.delete("k").defer()
"""

# (line, what mypy must say about it)
BAD = {
    "lst.iter()": 'Missing positional argument "guard" in call to "iter" of "_ListBase"',
    "for x in lst: pass": '"RcuList[Item]" has no attribute "__iter__" (not iterable)',
    "Item(1, 'a') in lst": 'Unsupported right operand type for in ("RcuList[Item]")',
    "lst.iter(None)": 'Argument 1 to "iter" of "_ListBase" has incompatible type "None"',
    "table.lookup(None, 'k')": 'has incompatible type "None"; expected "RcuReadGuard"',
    "table.items()": 'Missing positional argument "guard"',
    "for k in table: pass": 'has no attribute "__iter__" (not iterable)',
    "lst.add(42)": 'has incompatible type "int"; expected "Item"',
    "table.insert(1, Item(1, 'a'))": 'has incompatible type "int"; expected "str"',
    "s: str = next(lst.iter(read_lock())).id": 'expression has type "int"',
    "chain.add(Item(1, 'a'))": '"RcuHList[Item]" has no attribute "add"',
}


def test_typing_rcu_lists_correct_usage_passes_strict(tmp_path: pathlib.Path) -> None:
    """Idiomatic list and table code type-checks under mypy --strict."""
    out, status = run_mypy(tmp_path, HEADER + GOOD)
    assert status == 0, out


def test_typing_rcu_lists_reject_each_misuse(tmp_path: pathlib.Path) -> None:
    """mypy reports a traversal without a guard (R20) and wrong key and value types."""
    lines = list(BAD)
    out, status = run_mypy(tmp_path, HEADER + "\n".join(lines) + "\n")
    assert status == 1
    first = HEADER.count("\n") + 1
    for number, line in enumerate(lines, start=first):
        reported = [o for o in out.splitlines() if f"snippet.py:{number}:" in o]
        assert reported, f"mypy accepted {line!r}:\n{out}"
        assert any(BAD[line] in o for o in reported), (line, reported)


def test_typing_rcu_lists_reveal_the_element_type(tmp_path: pathlib.Path) -> None:
    """Each element reference is typed as the element; lookups are optional."""
    body = """
with RcuReadGuard() as g:
    for it in lst.iter(g):
        reveal_type(it)
    reveal_type(lst.lookup(g, 1))
    reveal_type(table.lookup(g, "k"))
"""
    out, status = run_mypy(tmp_path, HEADER + body)
    assert status == 0, out
    optional = "snippet.Item | None"  # older mypy versions write Union[snippet.Item, None]
    got = [r.replace("Union[snippet.Item, None]", optional) for r in revealed(out)]
    assert got == ["snippet.Item", optional, optional], out
