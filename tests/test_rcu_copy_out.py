"""Copy-on-write with kbind.rcu: references in new values are copied out; immutable values leave.

Rust: what is read through ``&'g T`` may outlive the guard only when it is
owned: ``Copy`` values, or ``.clone()``s made inside the section.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import threading
from typing import Any, NamedTuple

import pytest

from kbind import LifetimeError, Mutex
from kbind.rcu import Rcu, RcuReadGuard, RcuRef, immutable


class Summary(NamedTuple):
    timeout: int
    hosts: list[str]


@dataclasses.dataclass(frozen=True)
class FrozenSummary:
    timeout: int
    hosts: list[str]


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Config:
    timeout: int
    hosts: list[str]


class Plain:
    """A class kbind cannot rebuild (no dataclass, no NamedTuple)."""

    def __init__(self, hosts: object) -> None:
        self.hosts = hosts


class Color(enum.Enum):
    RED = 1


def test_update_dict_unpacking_publishes_plain_copies() -> None:
    """``update(lambda t: {**t, k: v})`` on an Rcu[dict] works; sub-objects are deep copies."""
    hosts = ["a", "b"]
    table: Rcu[dict[str, Any]] = Rcu({"hosts": hosts, "timeout": 3})
    table.update(lambda t: {**t, "retries": 2}).drop()
    hosts.append("mutated after")  # the old value's list: the new value must not share it
    assert table.with_read(lambda t: (list(t["hosts"]), t["timeout"], t["retries"])) == (
        ["a", "b"],
        3,
        2,
    )
    with RcuReadGuard() as g:
        assert type(table.read(g)["hosts"]) is RcuRef  # still read-only through a reader
    # And again on the new value: the copy is an ordinary published list.
    table.update(lambda t: {**t, "timeout": t["timeout"] + 1}).drop()
    assert table.with_read(lambda t: (t["timeout"], t["hosts"][1])) == (4, "b")


def test_update_copies_references_out_of_lists_tuples_and_dataclasses() -> None:
    """References nested in lists, tuples and non-frozen dataclasses of a new value are copied."""
    cfg = Rcu(Config(1, ["a"]))
    cfg.update(lambda old: Config(old.timeout + 1, old.hosts)).drop()
    assert cfg.with_read(lambda c: (c.timeout, list(c.hosts))) == (2, ["a"])
    pair: Rcu[tuple[Any, ...]] = Rcu((["x"], 1))
    pair.update(lambda old: (old[0], [old[0]], old[1] + 1)).drop()
    assert pair.with_read(lambda p: (list(p[0]), list(p[1][0]), p[2])) == (["x"], ["x"], 2)


def test_with_read_namedtuple_and_frozen_dataclass_copied_out() -> None:
    """Returning a NamedTuple or frozen dataclass built from references gives plain copies."""
    cfg = Rcu(Config(30, ["a", "b"]))
    s = cfg.with_read(lambda c: Summary(c.timeout, c.hosts))
    assert type(s) is Summary and s == Summary(30, ["a", "b"])
    assert type(s.hosts) is list  # a plain list, usable after the guard
    s.hosts.append("mine")  # it is the caller's own copy
    f = cfg.with_read(lambda c: FrozenSummary(c.timeout, c.hosts))
    assert type(f) is FrozenSummary and f == FrozenSummary(30, ["a", "b"])
    assert type(f.hosts) is list
    assert cfg.with_read(lambda c: list(c.hosts)) == ["a", "b"]  # the published list unchanged


def test_with_read_nested_containers_copied_out() -> None:
    """Dicts, lists, sets and tuples in with_read's result hold plain copies, not references."""
    cfg = Rcu({"hosts": ["a"], "ids": frozenset({1}), "pt": Point(1, 2)})
    out = cfg.with_read(lambda c: {"h": [c["hosts"]], "t": (c["hosts"], c["ids"]), "p": c["pt"]})
    assert out == {"h": [["a"]], "t": (["a"], frozenset({1})), "p": Point(1, 2)}
    assert type(out["h"][0]) is list and type(out["t"][0]) is list


def test_immutable_values_leave_readers_as_they_are() -> None:
    """NamedTuples, frozen dataclasses of immutable fields, enums come out unwrapped (shared)."""
    pt = Point(1, 2)
    nt = Summary(1, [])  # holds a list: not immutable
    cfg = Rcu({"pt": pt, "color": Color.RED, "pair": (1, "a"), "nt": nt})
    with RcuReadGuard() as g:
        ref = cfg.read(g)
        kept_pt, kept_color, kept_pair = ref["pt"], ref["color"], ref["pair"]
        assert type(ref["nt"]) is RcuRef  # a tuple holding a mutable list stays a reference
    assert kept_pt is pt and kept_color is Color.RED and kept_pair == (1, "a")
    assert kept_pt.x == 1  # usable after the guard: nothing can change it
    with RcuReadGuard() as g:
        f = Rcu(FrozenSummary(1, ["a"])).read(g)
        assert type(f.hosts) is RcuRef  # a frozen dataclass's mutable field is still shared


def test_user_declared_immutable_type_leaves_readers_freely() -> None:
    """``@immutable`` on a user class: its instances come out of references and are shared."""

    @immutable
    class Version:
        def __init__(self, major: int, tags: tuple[str, ...]) -> None:
            self.major = major
            self.tags = tags

    class NotDeclared:
        def __init__(self, major: int) -> None:
            self.major = major

    v = Version(2, ("lts",))
    cfg = Rcu({"v": v, "n": NotDeclared(1)})
    with RcuReadGuard() as g:
        kept = cfg.read(g)["v"]
        assert type(cfg.read(g)["n"]) is RcuRef
    assert kept is v and kept.major == 2
    assert cfg.with_read(lambda c: c["v"]) is v  # returned from with_read as it is
    cfg.update(lambda t: {**t, "k": 1}).drop()
    assert cfg.with_read(lambda c: c["v"]) is v  # shared into the new value, not copied


def test_immutable_refuses_mutable_containers_and_non_classes() -> None:
    """Declaring a list/dict/set type immutable is a TypeError that says why."""

    class Hosts(list[str]):
        pass

    with pytest.raises(TypeError, match=r"cannot declare .*Hosts immutable: it is a mutable"):
        immutable(Hosts)
    with pytest.raises(TypeError, match="takes a class"):
        immutable(Point(1, 2))  # type: ignore[type-var]


def test_with_read_reference_in_plain_object_says_what_to_do() -> None:
    """Where kbind cannot copy (a plain object's attribute), the error names the spot and fix."""
    cfg = Rcu(Config(1, ["a"]))
    with pytest.raises(LifetimeError) as info:
        cfg.with_read(lambda c: Plain(c.hosts))
    msg = str(info.value)
    assert "R02: its .hosts is an RcuRef bound to RcuReadGuard#" in msg
    assert "cannot assign into a Plain" in msg
    assert "put a plain copy at .hosts, made inside fn: copy.deepcopy(ref)" in msg
    ok = cfg.with_read(lambda c: Plain(copy.deepcopy(c.hosts)))  # the fix works
    assert ok.hosts == ["a"] and type(ok.hosts) is list


def test_plain_object_holding_list_of_references_fixed_in_place() -> None:
    """A list held by a plain object's attribute has its references replaced in place."""
    cfg = Rcu(Config(1, ["a"]))
    out = cfg.with_read(lambda c: Plain([c.hosts]))
    assert out.hosts == [["a"]] and type(out.hosts[0]) is list


def test_publishing_a_stale_reference_raises_lifetime_error() -> None:
    """A reference whose guard already ended cannot be copied: LifetimeError, nothing published."""
    cfg: Rcu[dict[str, Any]] = Rcu({"hosts": ["a"]})
    with RcuReadGuard() as g:
        stale = cfg.read(g)["hosts"]
    with pytest.raises(LifetimeError, match="copy \\['x'\\] out through a reference"):
        cfg.replace({"x": stale})
    assert cfg.with_read(lambda c: list(c)) == ["hosts"]


def test_copy_shares_self_synchronizing_and_immutable_parts() -> None:
    """A deep copy keeps locks, kbind primitives and immutable objects shared (Rust: Arc clones)."""
    lock = threading.Lock()
    counter = Mutex(0)
    pt = Point(1, 2)
    cfg = Rcu({"parts": [lock, counter, pt, ["inner"]]})
    out = cfg.with_read(lambda c: {"x": c["parts"]})
    parts = out["x"]
    assert type(parts) is list and parts[0] is lock and parts[1] is counter and parts[2] is pt
    assert parts[3] == ["inner"] and type(parts[3]) is list


def test_uncopyable_referent_says_what_to_do() -> None:
    """A referent deepcopy cannot copy (it holds a generator) gives a TypeError with the way out."""
    cfg = Rcu({"pending": [iter(range(3)), (i for i in range(3))]})
    with pytest.raises(TypeError, match=r"copy\.deepcopy\(\) failed") as info:
        cfg.with_read(lambda c: {"x": c["pending"]})
    assert "cannot copy ['x'] (list, reached through a reference into Rcu[dict]" in str(info.value)
    assert "build a new list from its parts" in str(info.value)


def test_with_read_returning_the_reference_itself_refused_even_for_immutable_values() -> None:
    """with_read(lambda t: t) is R02 whatever the value: as in Rust, the borrow cannot leave."""

    @immutable
    class Point:
        def __init__(self, x: int) -> None:
            self.x = x

    for value in ({"v": [1]}, Point(3)):
        cfg = Rcu(value)
        with pytest.raises(LifetimeError, match="return a reference from with_read"):
            cfg.with_read(lambda t: t)
    assert Rcu(Point(4)).with_read(lambda t: t.x) == 4
