"""kbind.lifetime, the toolkit designs are built from: scopes, cells, references, must-use.

Each rule is checked on a design made here (a Scope subclass with Python
hooks), the way a user prototypes one; the last tests run kbind's own hot
paths (and their refusals) many times and check that nothing leaks
(reference counts and allocated memory blocks stay flat).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import warnings
from typing import Any

import pytest

from kbind import (
    DeadlockError,
    GuardError,
    LifetimeError,
    ReadOnlyError,
    UseAfterFreeError,
    lifetime,
)
from kbind.rcu import Rcu, RcuReadGuard
from kbind.sync import Mutex, SpinLock
from tests.support import growth

events: list[tuple[str, object]] = []


def _begin(g: Any, tag: str = "") -> None:
    events.append(("begin", tag))


def _end(g: Any) -> None:
    events.append(("end", g.name))


def _leak(g: Any, ended: bool) -> None:
    events.append(("leak", ended))


def _exit(scopes: list[Any]) -> None:
    events.append(("thread exit", [s.name for s in scopes]))


class Probe(lifetime.Scope, kind="Probe", begin=_begin, end=_end, on_leak=_leak,
            on_thread_exit=_exit):  # fmt: skip
    __slots__ = ()


@pytest.fixture(autouse=True)
def _clear() -> None:
    events.clear()


def test_scope_runs_hooks_once_and_records_sites() -> None:
    """begin(scope, *args) at creation, end(scope) exactly once; both sites are the caller's."""
    line = sys._getframe().f_lineno + 1
    with Probe("t") as g:
        assert g.alive and g.begun and g.owner is lifetime.current_thread()
        assert lifetime.open_scopes(kind=Probe) == [g]
    assert events == [("begin", "t"), ("end", g.name)]
    assert not g.alive and lifetime.open_scopes(kind=Probe) == []
    assert g.created_at.filename == __file__ and g.created_at.lineno == line
    assert g.dropped_at is not None and g.dropped_at.how == "leaving its with block"
    assert g.created_at is g.created_at  # one Site object, as errors name it


def test_scope_ends_exactly_once() -> None:
    """A second end raises GuardError naming where it began and ended."""
    g = Probe()
    g.end()
    with pytest.raises(GuardError, match="already dropped") as info:
        g.end()
    assert info.value.created_at is g.created_at
    assert events.count(("end", g.name)) == 1


def test_scope_cannot_end_on_another_thread() -> None:
    """Rust's !Send: ending a scope on another thread raises, and the scope stays open."""
    g = Probe()
    errors: list[BaseException] = []

    def other() -> None:
        try:
            g.end()
        except GuardError as exc:
            errors.append(exc)

    t = threading.Thread(target=other, name="intruder")
    t.start()
    t.join(timeout=30)
    assert len(errors) == 1 and "intruder" in str(errors[0])
    assert g.alive
    g.end()


def test_scope_nesting_in_any_order() -> None:
    """Scopes nest per thread and may end in any order; the thread's list follows."""
    a, b, c = Probe(), Probe(), Probe()
    assert lifetime.open_scopes(kind=Probe) == [a, b, c]
    b.end()
    assert lifetime.open_scopes(kind=Probe) == [a, c]
    a.end()
    c.end()
    assert lifetime.open_scopes(kind=Probe) == []


def test_collected_open_scope_is_ended_and_reported() -> None:
    """Dropped on the floor while open: ended on its thread, then on_leak(scope, True)."""
    Probe("lost")
    gc.collect()
    assert events[0] == ("begin", "lost")
    assert events[1][0] == "end" and events[2] == ("leak", True)
    assert lifetime.open_scopes(kind=Probe) == []


def test_thread_exit_reports_open_scopes() -> None:
    """A thread that exits inside scopes hands them to on_thread_exit, then they are ended."""
    held: list[Any] = []
    t = threading.Thread(target=lambda: held.append(Probe()))
    t.start()
    t.join(timeout=30)
    assert ("thread exit", [held[0].name]) in events
    assert not held[0].alive and held[0].dropped_at.how == "its thread exited"
    assert held[0].owner.exited


def test_failing_begin_hook_leaves_no_scope() -> None:
    """begin raising: the constructor raises, nothing is open, nothing to end."""

    def refuse(g: Any) -> None:
        raise ValueError("no")

    class Picky(lifetime.Scope, kind="Picky", begin=refuse):
        __slots__ = ()

    with pytest.raises(ValueError):
        Picky()
    assert lifetime.open_scopes(kind=Picky) == []


def test_ref_checks_scope_cell_and_writes() -> None:
    """A bound reference: reads while the scope is open; LifetimeError after; read-only."""
    cell = lifetime.Cell({"a": [1, 2], "n": 3}, "demo")
    with Probe() as g:
        r = lifetime.bind(g, cell)
        assert r["n"] == 3 and list(r["a"]) == [1, 2] and len(r) == 2 and "a" in r
        assert r["a"] == [1, 2] and r["a"][0] == 1
        with pytest.raises(ReadOnlyError):
            r["n"] = 4
        with pytest.raises(ReadOnlyError):
            r["a"].append(3)
        child = r["a"]
    assert cell.value == {"a": [1, 2], "n": 3}
    with pytest.raises(LifetimeError, match="obtained under Probe#"):
        child[0]
    with pytest.raises(LifetimeError):
        r["n"]


def test_poisoned_cell_raises_use_after_free() -> None:
    """After poison(), every reference into the cell raises UseAfterFreeError naming the sites."""
    cell = lifetime.Cell([1, 2, 3], "victim")
    with Probe() as g:
        r = lifetime.bind(g, cell)
        assert cell.poison() and not cell.poison()
        with pytest.raises(UseAfterFreeError) as info:
            r[0]
        assert info.value.freed_at is cell.freed_at
        assert cell.value is lifetime.FREED


def test_reader_descriptor_refuses_other_kinds_ended_and_foreign_scopes() -> None:
    """lifetime.reader(): the kind, the scope's life and its thread are checked (in C)."""

    class Box:
        __slots__ = ("_cell",)
        read = lifetime.reader(Probe)

        def __init__(self) -> None:
            self._cell = lifetime.Cell({"x": 1}, "box")

    box = Box()
    with Probe() as g:
        assert box.read(g)["x"] == 1
        assert box.read(g, lambda v: v["x"] + 1) == 2
        with RcuReadGuard() as rg, pytest.raises(TypeError, match="needs a Probe"):
            box.read(rg)
    with pytest.raises(LifetimeError):
        box.read(g)


def test_read_descriptors_read_an_unset_cell_as_none_only_when_asked() -> None:
    """none_if_unset: an unset cell attribute reads as None (fn not called); else it raises.

    Both the slot fast path and the generic getattr path; an AttributeError
    about anything else (fn's own, or one raised while computing the
    attribute) still propagates.
    """
    from kbind._bridge.native import hot

    def refuse(obj: object, scope: object) -> None:
        raise TypeError("not a Probe")

    def copy_out(res: object, scope: object) -> object:
        return res

    def escaped(scope: object, obj: object) -> BaseException:
        return LifetimeError("escaped", "the reference escaped")

    pol = lifetime.DEFAULT_POLICY

    def methods(none: bool) -> tuple[Any, Any]:
        return (
            hot.deref_method("read", "", lifetime.Ref, pol, Probe, "_cell", refuse, none),
            hot.scoped_call_method(
                "with_read", "", lifetime.Ref, pol, Probe, "_cell", copy_out, escaped, "done",
                none,
            ),
        )  # fmt: skip

    strict, lenient = methods(False), methods(True)

    class Slotted:
        __slots__ = ("_cell",)
        read, with_read = lenient
        read_strict, with_read_strict = strict

    class Plain:  # a __dict__ attribute: the generic path
        read, with_read = lenient

    class Computed:  # an AttributeError about another attribute
        read, with_read = lenient

        @property
        def _cell(self) -> object:
            return self.other  # type: ignore[attr-defined]

    calls: list[object] = []
    for obj in (Slotted(), Plain()):
        for _ in range(2):  # the first call learns the slot's offset
            with Probe() as g:
                assert obj.read(g) is None and obj.read(g, calls.append) is None
            assert obj.with_read(calls.append) is None
            assert calls == [] and lifetime.open_scopes() == []
        obj._cell = lifetime.Cell({"x": 1}, "box")
        assert obj.with_read(lambda v: v["x"]) == 1
        with pytest.raises(AttributeError, match="nope"):
            obj.with_read(lambda v: v.nope)
        with Probe() as g:
            assert obj.read(g)["x"] == 1
        del obj._cell
    s = Slotted()
    for _ in range(2):
        with Probe() as g, pytest.raises(AttributeError, match="_cell"):
            s.read_strict(g)
        with pytest.raises(AttributeError, match="_cell"):
            s.with_read_strict(calls.append)
    c = Computed()
    with Probe() as g, pytest.raises(AttributeError, match="other"):
        c.read(g)
    with pytest.raises(AttributeError, match="other"):
        c.with_read(calls.append)
    assert calls == [] and lifetime.open_scopes() == []


def test_must_use_consumed_once_and_warns_when_dropped() -> None:
    """MustUse: a second consume raises; an unconsumed one warns naming where it was made."""

    class Owner(lifetime.MustUse):
        __slots__ = ()

        def use(self) -> None:
            self._consume("use", lifetime.Site.here(2))

    o = Owner()
    o.use()
    with pytest.raises(GuardError, match="already consumed"):
        o.use()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Owner()
        gc.collect()
    assert any(issubclass(w.category, lifetime.MustUseWarning) for w in caught)
    assert __file__.rsplit("/", 1)[-1] in str(caught[0].message)


# ------------------------------------------------------------- no leaks


def _hot_paths(rcu: Rcu[dict[str, Any]], spin: SpinLock[int], mutex: Mutex[int]) -> None:
    with RcuReadGuard() as g:
        ref = rcu.read(g)
        ref["a"]
        list(ref["l"])
        rcu.read(g, lambda v: v["a"])
    rcu.with_read(lambda v: v["a"])
    rcu.with_read(lambda v: {"copy": v["l"]})
    for bad in (lambda: ref["a"], lambda: rcu.read(g), lambda: rcu.read(None)):  # type: ignore[arg-type]
        with contextlib.suppress(LifetimeError, TypeError):
            bad()
    with contextlib.suppress(GuardError):
        g.drop()
    with spin.lock() as sg:
        sg.value += 1
    with mutex.lock() as mg:
        mg.value += 1
        assert mutex.try_lock() is None
        with contextlib.suppress(DeadlockError):
            mutex.lock()
    with contextlib.suppress(LifetimeError):
        _ = sg.value


def test_hot_paths_do_not_leak() -> None:
    """Thousands of guards, reads, locks and refusals: refcounts and memory blocks stay flat."""
    rcu: Rcu[dict[str, Any]] = Rcu({"a": 1, "l": [1, 2]})
    spin, mutex = SpinLock(0), Mutex(0)

    def rounds(n: int) -> None:
        for _ in range(n):
            _hot_paths(rcu, spin, mutex)

    refs, grown, total = growth(rounds, [rcu, spin, mutex], 200, 3000)
    assert grown < 200, f"{grown} memory blocks more after 3000 rounds"
    assert total < 200
    assert refs == [0, 0, 0] and sys.getrefcount(rcu) < 10


def test_recycled_guard_memory_keeps_the_leak_path() -> None:
    """Guards reuse freed guards' memory (a free list): an abandoned one is still ended."""
    from kbind.errors import GuardLeakWarning
    from kbind.rcu import read_lock_depth

    for _ in range(100):  # fill the free list with ended guards
        with RcuReadGuard():
            pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        RcuReadGuard()  # abandoned at once: collected while open
        gc.collect()
    assert read_lock_depth() == 0
    assert any(issubclass(w.category, GuardLeakWarning) for w in caught)
    with RcuReadGuard() as g:  # and a reused block starts as a fresh guard
        assert g.alive and g.dropped_at is None and read_lock_depth() == 1
