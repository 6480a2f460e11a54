"""kbind.rfc.rcu_pointer: the RFC ``Rcu<P>``/``RcuOld<P>`` (Boqun Feng, RFC v3, April 2025)."""

from __future__ import annotations

import gc
import threading
import warnings

import pytest

import kbind.rcu
from kbind import context
from kbind.errors import (
    AtomicContextError,
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    RcuOldLeakWarning,
    ReadOnlyError,
    UseAfterFreeError,
)
from kbind.kernel.sync import rcu
from kbind.rfc.rcu_pointer import Borrowed, Rcu, RcuExclusive, RcuOld
from kbind.sync import Mutex

pytestmark = pytest.mark.rcu_backends


def test_dereference_gives_a_reference_bound_to_the_guard_or_none_when_null() -> None:
    """dereference(g) returns a Borrowed bound to g; a null Rcu gives None."""
    p: Rcu[dict[str, list[int]]] = Rcu({"v": [1]})
    with rcu.Guard() as g:
        ref = p.dereference(g)
        assert type(ref) is Borrowed and ref is not None and ref["v"][0] == 1
        with pytest.raises(ReadOnlyError):
            ref["v"].append(2)
    with pytest.raises(LifetimeError):
        ref["v"]
    null: Rcu[int] = Rcu.null()
    with rcu.Guard() as g:
        assert null.dereference(g) is None
        assert null.dereference(g) is None  # the slot's offset is known now


def test_dereference_is_the_c_descriptor_and_checks_the_guard_even_when_null() -> None:
    """Rcu.dereference runs in C (no Python frame); a null pointer still needs an open guard."""
    assert repr(Rcu.__dict__["dereference"]) == "<kbind read method dereference>"
    assert "None when null" in (Rcu.dereference.__doc__ or "")
    null: Rcu[int] = Rcu.null()
    with pytest.raises(TypeError, match=r"needs an open kbind\.kernel\.sync\.rcu\.Guard"):
        null.dereference(object())  # type: ignore[arg-type]
    with rcu.Guard() as g:
        pass
    with pytest.raises(LifetimeError):
        null.dereference(g)
    with pytest.raises(LifetimeError):
        null.dereference(g)  # the guard is checked even when null


def test_dereference_refuses_other_guards_and_threads() -> None:
    """Only an open rcu::Guard of this thread: TypeError, LifetimeError, GuardError."""
    p = Rcu({"v": 1})
    with kbind.rcu.RcuReadGuard() as old, pytest.raises(TypeError):
        p.dereference(old)  # type: ignore[arg-type]
    errors: list[BaseException] = []
    with rcu.Guard() as g:

        def other() -> None:
            try:
                p.dereference(g)
            except GuardError as exc:
                errors.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join(timeout=30)
    assert len(errors) == 1


def test_replace_returns_an_rcu_old_that_waits_then_poisons() -> None:
    """replace() publishes at once; RcuOld.drop() waits for old readers, then frees."""
    p = Rcu({"v": 1})
    entered, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def reader() -> None:
        with rcu.Guard() as g:
            ref = p.dereference(g)
            entered.set()
            release.wait(10)
            seen.append(ref["v"] if ref is not None else -1)

    t = threading.Thread(target=reader)
    t.start()
    assert entered.wait(10)
    with p.exclusive() as w:
        old = w.replace({"v": 2})
    assert isinstance(old, RcuOld) and not old.freed
    with rcu.Guard() as g:
        assert p.dereference(g)["v"] == 2  # type: ignore[index]
    dropped = threading.Thread(target=old.drop)
    dropped.start()
    dropped.join(timeout=0.2)
    assert not old.freed  # the reader still holds the old value
    release.set()
    t.join(timeout=30)
    dropped.join(timeout=30)
    assert seen == [1] and old.freed
    with pytest.raises(GuardError, match="already dropped"):
        old.drop()


def test_read_copy_update_passes_the_old_value_and_publishes_the_new() -> None:
    """read_copy_update(fn): fn(old or None) -> new (None: null)."""
    p: Rcu[dict[str, int]] = Rcu.null()
    with p.exclusive() as w:
        with w.read_copy_update(lambda old: {"n": 0} if old is None else None) as o1:
            assert o1.is_null
        w.read_copy_update(lambda old: {"n": old["n"] + 1} if old else None).drop()
    with rcu.Guard() as g:
        assert p.dereference(g) == {"n": 1}
    with p.exclusive() as w:
        with pytest.raises(TypeError, match="Borrowed"):
            w.read_copy_update(lambda old: old)
        w.read_copy_update(lambda old: None).drop()
    with rcu.Guard() as g:
        assert p.dereference(g) is None


def test_a_second_exclusive_handle_names_both_sites() -> None:
    """Two handles at once (Rust: two &mut): GuardError naming the first and the second."""
    p = Rcu({"v": 1})
    with p.exclusive():
        with pytest.raises(GuardError, match="second exclusive handle") as e:
            p.exclusive()
        text = str(e.value)
        assert "created at" in text and "second handle at" in text
        t_err: list[BaseException] = []

        def other() -> None:
            try:
                p.exclusive()
            except GuardError as exc:
                t_err.append(exc)

        t = threading.Thread(target=other)
        t.start()
        t.join(timeout=30)
        assert len(t_err) == 1
    with p.exclusive() as w:  # released: a new one opens
        w.replace({"v": 2}).drop()


def test_the_handle_ends_once_and_only_updates_while_open() -> None:
    """A dead handle refuses updates (LifetimeError); a leaked one releases its claim."""
    p = Rcu({"v": 1})
    with p.exclusive() as w:
        pass
    assert isinstance(w, RcuExclusive)
    with pytest.raises(LifetimeError):
        w.replace({"v": 2})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        p.exclusive()
        gc.collect()
    assert any(issubclass(x.category, GuardLeakWarning) for x in rec)
    with p.exclusive() as w2:
        w2.replace(None).drop()


def test_the_lock_that_owns_the_rcu_gives_exclusivity() -> None:
    """exclusive(lock_guard): the guard of the Mutex whose value is the Rcu, while held."""
    p = Rcu({"v": 1})
    m = Mutex(p)
    with m.lock() as lg, p.exclusive(lg) as w:
        w.replace({"v": 2}).drop()
    with pytest.raises(LifetimeError, match="was unlocked"):
        p.exclusive(lg)
    other = Mutex(0)
    with other.lock() as og, pytest.raises(GuardError, match="not this Rcu"):
        p.exclusive(og)
    with m.lock() as lg2:
        w2 = p.exclusive(lg2)
    with pytest.raises(LifetimeError):  # the lock guard it borrowed through is gone
        w2.replace({"v": 3})
    w2.end()


def test_rcu_old_drop_is_refused_in_readers_and_atomic_context() -> None:
    """RcuOld.drop() may sleep: DeadlockError in a reader, AtomicContextError elsewhere."""
    p = Rcu({"v": 1})
    with p.exclusive() as w:
        old = w.replace({"v": 2})
    with rcu.Guard(), pytest.raises(DeadlockError):
        old.drop()
    section = context.enter_atomic("a SpinLock section")
    try:
        with pytest.raises(AtomicContextError):
            old.drop()
    finally:
        context.exit_atomic(section)
    assert not old.consumed
    old.drop()


def test_a_leaked_rcu_old_warns_and_still_frees() -> None:
    """An RcuOld collected undropped: RcuOldLeakWarning, freed after a grace period."""
    p = Rcu({"v": 1})
    with rcu.Guard() as g:
        ref = p.dereference(g)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            with p.exclusive() as w:
                w.replace({"v": 2})
            gc.collect()
        assert any(issubclass(x.category, RcuOldLeakWarning) for x in rec)
        assert ref is not None and ref["v"] == 1  # not freed under a live reader
    assert kbind.rcu.rcu_barrier(timeout=30)
    with pytest.raises(LifetimeError):
        ref["v"]


def test_a_freed_pointee_is_poisoned() -> None:
    """After RcuOld.drop() the old pointee's cell is freed (a busted free is UseAfterFreeError)."""
    p = Rcu({"v": 1})
    with rcu.Guard() as g:
        ref = p.dereference(g)
        with p.exclusive() as w:
            old = w.replace({"v": 2})
        old._box.free(old.made_at)  # what a broken engine would do: free under a reader
        with pytest.raises(UseAfterFreeError):
            ref["v"]  # type: ignore[index]
    old.drop()
