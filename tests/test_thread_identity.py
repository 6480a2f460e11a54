"""Guards are owned by a thread identity that is never reused.

``threading.get_ident()`` is reused by the OS as soon as a thread exits, so a
guard keyed by it could be used, and unlocked, by a new thread that happens
to get the dead thread's ident (and that thread got a bogus DeadlockError
from the lock).  Each test makes a guard on a thread that exits, then starts
threads until one has the same ident (bounded) and uses the guard there.
"""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from kbind import GuardError, SeqLock, SpinLock
from kbind.errors import DeadlockError

MAX_THREADS = 200


def _on_dead_thread(fn: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``fn`` on a thread that then exits; return its result and that thread's ident."""
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(fn()), name="dead-owner")
    t.start()
    t.join(10)
    assert not t.is_alive() and out
    assert t.ident is not None
    return out[0], t.ident


def _on_reused_ident(ident: int, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` on the first new thread that gets ``ident`` (the OS reuses idents)."""
    for _ in range(MAX_THREADS):
        out: list[Any] = []

        def body(out: list[Any] = out) -> None:
            if threading.get_ident() == ident:
                out.append(fn())

        t = threading.Thread(target=body, name="reused-ident")
        t.start()
        t.join(10)
        assert not t.is_alive()
        if out:
            return out[0]
    pytest.skip(f"the OS did not reuse thread ident {ident} in {MAX_THREADS} threads")


def _raised(fn: Callable[[], object]) -> BaseException | None:
    try:
        fn()
    except BaseException as e:  # returned to the test thread to assert on
        return e
    return None


def _forget(box: list[Any]) -> None:
    """Drop the last reference to a leaked guard (its GuardLeakWarning is expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box.clear()
        gc.collect()


def test_lock_guard_of_exited_thread_refused_on_thread_with_reused_ident() -> None:
    """A new thread with a dead owner's ident can neither read nor unlock its LockGuard."""
    lock = SpinLock(41)
    guard, ident = _on_dead_thread(lock.lock)
    box: list[Any] = [guard]
    del guard

    def use() -> tuple[BaseException | None, BaseException | None, object, object]:
        return (
            _raised(lambda: box[0].value),
            _raised(box[0].unlock),
            _raised(lock.try_lock),
            lock.is_locked(),
        )

    read_err, unlock_err, try_err, locked = _on_reused_ident(ident, use)
    for err in (read_err, unlock_err):
        assert isinstance(err, GuardError), err
        assert "dead-owner" in str(err)
        assert "has exited" in err.rule
        assert "!Send" in err.rule
    assert try_err is None  # try_lock() just fails: no bogus DeadlockError
    assert locked  # nothing was unlocked behind the owner's back
    assert box[0].alive
    _forget(box)


def test_lock_on_thread_with_reused_ident_is_no_deadlock() -> None:
    """lock() on a thread that reuses a dead holder's ident waits instead of raising
    DeadlockError (it is not the holder), and gets the lock once the leaked guard goes."""
    lock = SpinLock(0)
    checked = threading.Event()
    box: list[Any] = []

    def relock() -> BaseException | None:
        checked.set()
        try:
            with lock.lock() as g:
                g.value = 1
        except DeadlockError as e:
            return e
        return None

    def free_when_waiting() -> None:
        checked.wait(10)
        _forget(box)

    # Started first, so it does not take the dead holder's ident itself.
    freer = threading.Thread(target=free_when_waiting)
    freer.start()
    try:
        held, ident = _on_dead_thread(lock.lock)
        box.append(held)
        del held
        result = _on_reused_ident(ident, relock)
    finally:
        checked.set()
        freer.join(10)
    assert result is None
    with lock.lock() as g:
        assert g.value == 1


def test_seq_read_token_of_exited_thread_refused_on_thread_with_reused_ident() -> None:
    """read_retry() of a dead thread's read token on a thread with its ident raises GuardError."""
    sl = SeqLock(x=1)
    token, ident = _on_dead_thread(sl.read_begin)
    err = _on_reused_ident(ident, lambda: _raised(lambda: sl.read_retry(token)))
    assert isinstance(err, GuardError), err
    assert "has exited" in err.rule
    assert token.alive


def test_guard_owner_is_not_the_thread_ident() -> None:
    """A guard's owner identifies its thread by identity, not by a reusable integer."""
    lock = SpinLock(0)
    with lock.lock() as g:
        assert not isinstance(g.owner, int)
