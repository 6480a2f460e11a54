"""kbind.kernel.revocable: the merged ``kernel::revocable::Revocable<T>``, on the merged Guard."""

from __future__ import annotations

import gc
import threading
import warnings

import pytest

from kbind import context
from kbind.errors import (
    AtomicContextError,
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    ReadOnlyError,
)
from kbind.kernel.revocable import Revocable, RevocableGuard, RevocableRef
from kbind.kernel.sync import rcu
from kbind.rcu import RcuReadGuard, read_lock_depth

pytestmark = pytest.mark.rcu_backends


def test_try_access_with_runs_fn_in_a_read_section_and_returns_its_result() -> None:
    """try_access_with(fn) runs fn on the value inside a section of its own; None once revoked."""
    res = Revocable({"base": 4096, "regs": [1, 2]})
    seen: list[int] = []
    assert res.try_access_with(lambda r: seen.append(read_lock_depth()) or r["base"]) == 4096
    assert seen == [1] and read_lock_depth() == 0
    assert res.revoke() is True
    assert res.try_access_with(lambda r: r["base"]) is None


def test_try_access_returns_a_guard_whose_value_dies_with_it() -> None:
    """try_access() holds an rcu::Guard; its value is a reference valid until the guard drops."""
    res = Revocable({"base": 4096})
    guard = res.try_access()
    assert isinstance(guard, RevocableGuard) and read_lock_depth() == 1
    value = guard.value
    assert type(value) is RevocableRef and value["base"] == 4096
    with pytest.raises(ReadOnlyError):
        value["base"] = 0
    guard.drop()
    assert read_lock_depth() == 0
    with pytest.raises(LifetimeError, match="was unlocked") as e:
        value["base"]
    assert e.value.created_at is not None and e.value.dropped_at is not None
    with pytest.raises(LifetimeError):
        _ = guard.value
    with pytest.raises(GuardError):
        guard.drop()
    with res.try_access() as g2:  # type: ignore[union-attr]
        assert g2.value["base"] == 4096
    assert read_lock_depth() == 0


def test_revocable_guard_is_not_send() -> None:
    """The RevocableGuard holds an rcu::Guard: another thread can neither use nor drop it."""
    res = Revocable({"base": 1})
    guard = res.try_access()
    assert guard is not None
    errors: list[BaseException] = []

    def other() -> None:
        for action in (lambda: guard.value, guard.drop):
            try:
                action()
            except GuardError as exc:
                errors.append(exc)

    t = threading.Thread(target=other)
    t.start()
    t.join(timeout=30)
    assert len(errors) == 2 and guard.guard.alive
    guard.drop()


def test_try_access_with_guard_binds_to_the_callers_guard() -> None:
    """try_access_with_guard(g) gives a reference bound to g; other guards are refused."""
    res = Revocable({"base": 1})
    with rcu.Guard() as g:
        ref = res.try_access_with_guard(g)
        assert ref is not None and ref["base"] == 1
    with pytest.raises(LifetimeError):
        ref["base"]
    with pytest.raises(LifetimeError):
        res.try_access_with_guard(g)
    with RcuReadGuard() as old_design, pytest.raises(TypeError, match="merged one"):
        res.try_access_with_guard(old_design)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        res.try_access_with_guard(None)  # type: ignore[arg-type]


def test_revoke_waits_for_readers_then_poisons_the_value() -> None:
    """revoke() waits for a reader that began before it; the value is then poisoned."""
    res = Revocable({"base": 1})
    entered, release = threading.Event(), threading.Event()
    result: list[object] = []

    def reader() -> None:
        with rcu.Guard() as g:
            ref = res.try_access_with_guard(g)
            entered.set()
            release.wait(10)
            result.append(ref["base"] if ref is not None else None)  # still valid inside

    t = threading.Thread(target=reader)
    t.start()
    assert entered.wait(10)
    done: list[bool] = []
    revoker = threading.Thread(target=lambda: done.append(res.revoke()))
    revoker.start()
    revoker.join(timeout=0.2)
    assert not done  # waiting for the reader's grace period
    assert res.try_access_with(lambda r: r["base"]) is None  # already unavailable
    release.set()
    t.join(timeout=30)
    revoker.join(timeout=30)
    assert result == [1] and done == [True]
    assert res.revoke() is False and res.revoked_at is not None


def test_only_one_of_racing_revokes_revokes() -> None:
    """Two threads revoking at once: exactly one gets True."""
    res = Revocable([1])
    out: list[bool] = []
    threads = [threading.Thread(target=lambda: out.append(res.revoke())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(out) == [False, False, False, True]


def test_revoke_inside_a_reader_or_atomic_section_is_refused() -> None:
    """revoke() may sleep: DeadlockError inside a reader, AtomicContextError in atomic context."""
    res = Revocable({"base": 1})
    with rcu.Guard(), pytest.raises(DeadlockError, match="synchronize_rcu"):
        res.revoke()
    section = context.enter_atomic("a SpinLock section")
    try:
        with pytest.raises(AtomicContextError):
            res.revoke()
    finally:
        context.exit_atomic(section)
    assert res.try_access_with(lambda r: r["base"]) == 1  # nothing was revoked


def test_returning_the_reference_from_try_access_with_raises() -> None:
    """The closure's reference cannot leave it (Rust: R cannot borrow from &T)."""
    res = Revocable({"base": 1})
    with pytest.raises(LifetimeError, match="try_access_with"):
        res.try_access_with(lambda r: r)


def test_an_attribute_error_of_fn_is_not_mistaken_for_revocation() -> None:
    """fn's own AttributeError propagates; only the revoked slot reads as None."""
    res = Revocable({"base": 1})
    with pytest.raises(AttributeError):
        res.try_access_with(lambda r: r.nope)


def test_an_attribute_error_naming_the_slot_from_fn_still_propagates() -> None:
    """Only the descriptor's own load reads as revoked: fn's error propagates, whatever it names."""
    res = Revocable({"base": 1})

    def fn(r: object) -> None:
        raise AttributeError("fn's own", name="_data", obj=res)

    with pytest.raises(AttributeError, match="fn's own"):
        res.try_access_with(fn)
    assert read_lock_depth() == 0


def test_revoked_readers_get_none_without_calling_fn_or_leaving_a_section() -> None:
    """Once revoked: fn is not called, no read-side section stays open, every reader gives None."""
    res = Revocable({"base": 1})
    res.revoke()
    calls: list[object] = []
    for _ in range(2):
        assert res.try_access_with(calls.append) is None
        assert res.try_access() is None
        with rcu.Guard() as g:
            assert res.try_access_with_guard(g) is None
            with pytest.raises(TypeError):
                res.try_access_with_guard(object())  # type: ignore[arg-type]
        assert calls == [] and read_lock_depth() == 0


def test_the_closure_and_guard_readers_are_the_c_descriptors() -> None:
    """try_access_with and try_access_with_guard run in C: no Python frame on the read path."""
    for name in ("try_access_with", "try_access_with_guard"):
        method = Revocable.__dict__[name]
        assert repr(method) == f"<kbind read method {name}>"
        assert "None if revoked" in (method.__doc__ or "")


def test_a_leaked_revocable_guard_releases_its_section() -> None:
    """A RevocableGuard collected while held: its section ends with a GuardLeakWarning."""
    res = Revocable({"base": 1})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        res.try_access()
        gc.collect()
    assert read_lock_depth() == 0
    assert any(issubclass(x.category, GuardLeakWarning) for x in w)
