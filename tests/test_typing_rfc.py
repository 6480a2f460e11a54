"""Static typing of kbind.kernel.revocable and kbind.rfc: mypy --strict rejects what Rust rejects.

Where Python's types can say it: ``dereference()``/``borrow()`` need a
``kernel.sync.rcu.Guard`` (not the original design's guard, not nothing);
``replace``/``read_copy_update`` exist only on the exclusive handle (Rust:
``Pin<&mut Self>``); results are ``T | None``, so a revoked or null case must
be handled before use.
"""

from __future__ import annotations

import pathlib

import pytest

from tests.test_typing import run_mypy

pytest.importorskip("mypy.api")

GOOD = """
from kbind.kernel.revocable import Revocable, RevocableGuard
from kbind.kernel.sync import rcu
from kbind.rfc.rcu_box import RcuBox, RcuFreeBox
from kbind.rfc.rcu_pointer import Rcu, RcuExclusive, RcuOld
from kbind.rfc import callback

res: Revocable[dict[str, int]] = Revocable({"base": 1})
n: int | None = res.try_access_with(lambda r: r["base"])
g0: RevocableGuard[dict[str, int]] | None = res.try_access()
if g0 is not None:
    with g0:
        v: int = g0.value["base"]
with rcu.Guard() as g:
    r = res.try_access_with_guard(g)
    if r is not None:
        b: int = r["base"]
ok: bool = res.revoke()

p: Rcu[dict[str, int]] = Rcu({"mtu": 1})
with rcu.Guard() as g:
    d = p.dereference(g)
    if d is not None:
        mtu: int = d["mtu"]
with p.exclusive() as w:
    w2: RcuExclusive[dict[str, int]] = w
    old: RcuOld[dict[str, int]] = w.replace({"mtu": 2})
    w.read_copy_update(lambda o: None if o is None else {"mtu": o["mtu"] + 1}).drop()
old.drop()
q: Rcu[int] = Rcu.null()

box: RcuBox[list[int]] = RcuBox([1])
with rcu.Guard() as g:
    first: int = box.borrow(g)[0]
box.drop()
RcuFreeBox([2]).drop()
callback.call_rcu(object())
"""

BAD = {
    "p.dereference()": 'Missing positional argument "guard" in call to "dereference"',
    "p.dereference(RcuReadGuard())": 'incompatible type "RcuReadGuard"; expected "Guard"',
    "p.replace({'mtu': 2})": '"Rcu[dict[str, int]]" has no attribute "replace"',
    "p.read_copy_update(lambda o: o)": '"Rcu[dict[str, int]]" has no attribute "read_copy_update"',
    "p.exclusive().replace(42)": 'incompatible type "int"; expected "dict[str, int] | None"',
    "x: int = p.dereference(rcu.read_lock())['mtu']": "Value of type",
    "res.try_access_with_guard(RcuReadGuard())": 'incompatible type "RcuReadGuard"',
    "y: int = res.try_access_with(lambda r: r['base'])": 'expression has type "int | None"',
    "box.borrow()": 'Missing positional argument "guard"',
}


def test_typing_rfc_correct_usage_passes_strict(tmp_path: pathlib.Path) -> None:
    """Idiomatic code of the three designs type-checks under mypy --strict."""
    out, status = run_mypy(tmp_path, GOOD)
    assert status == 0, out


def test_typing_rfc_rejects_each_misuse(tmp_path: pathlib.Path) -> None:
    """mypy rejects a dereference without a merged guard and an update without the handle."""
    header = (
        "from kbind.kernel.revocable import Revocable\n"
        "from kbind.kernel.sync import rcu\n"
        "from kbind.rcu import RcuReadGuard\n"
        "from kbind.rfc.rcu_box import RcuBox\n"
        "from kbind.rfc.rcu_pointer import Rcu\n"
        "p: Rcu[dict[str, int]] = Rcu({'mtu': 1})\n"
        "res: Revocable[dict[str, int]] = Revocable({'base': 1})\n"
        "box: RcuBox[list[int]] = RcuBox([1])\n"
    )
    lines = list(BAD)
    out, status = run_mypy(tmp_path, header + "\n".join(lines) + "\n")
    assert status == 1
    first = header.count("\n") + 1
    for number, line in enumerate(lines, start=first):
        reported = [o for o in out.splitlines() if f"snippet.py:{number}:" in o]
        assert reported, f"mypy accepted {line!r}:\n{out}"
        assert any(BAD[line] in o for o in reported), (line, reported)
