"""The seqlock's hot paths in C (kbind._bridge._hotpath, csrc/pyext/seqlock_read.c and
seqlock_write.c): where the calls go, that attempts and write sections are kbind.lifetime
scopes, and that no path, refusals included, leaks a reference or memory."""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any

from kbind import (
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    LifetimeError,
    SeqLatch,
    SeqLock,
    SeqReadToken,
    SeqView,
    SeqWriteGuard,
    TentativeValue,
    TentativeValueError,
)
from kbind._bridge.native import hot, lib
from kbind.lifetime import Scope, open_scopes
from kbind.seqlock import SeqLatchWriteView
from tests.support import growth

Fields = dict[str, int | bytes]


def test_readers_and_write_are_c_methods_of_the_lock_classes() -> None:
    """read/read_begin/read_retry/snapshot/write (and SeqLatch.read) are C method descriptors
    of the public classes, documented with the rule and the kernel item they mirror."""
    for cls, names in ((SeqLock, ("read", "read_begin", "read_retry", "snapshot", "write")),
                       (SeqLatch, ("read",))):  # fmt: skip
        for name in names:
            method = cls.__dict__[name]
            assert isinstance(method, types.MethodDescriptorType), name
            assert method.__objclass__ is cls
            assert "Kernel:" in (method.__doc__ or ""), name
    assert "S06" in (SeqLock.read.__doc__ or "") and "sdma_flush" in (SeqLock.read.__doc__ or "")


def test_attempts_and_write_sections_are_scopes() -> None:
    """A token, a closure's attempt and a write guard are kbind.lifetime scopes of the calling
    thread; the closure's attempt ends when fn returns, the token at read_retry()."""
    sl = SeqLock(a=1, b=b"xy")
    tok = sl.read_begin()
    assert isinstance(tok, Scope) and tok in open_scopes(kind=SeqReadToken)
    seen: list[list[Any]] = []

    def fn(v: SeqView[Fields]) -> int | bytes:
        seen.append(open_scopes())
        return v.b

    assert sl.read(fn) == b"xy"
    attempt = [s for s in seen[0] if getattr(s, "_lock", None) is sl and s is not tok]
    assert len(attempt) == 1 and not attempt[0].alive
    assert sl.read_retry(tok) is False and not tok.alive
    with sl.write() as w:
        assert isinstance(w, Scope) and w in open_scopes(kind=SeqWriteGuard)
        assert sl._write_guard is w and sl._writer is hot.current_thread()
    assert sl._write_guard is None and sl._writer is None and not w.alive


def test_ending_a_token_other_than_by_read_retry_is_refused() -> None:
    """A read attempt ends only through the retry check (or when its reader returns)."""
    sl = SeqLock(a=1)
    tok = sl.read_begin()
    ends: list[Callable[[], object]] = [tok.end, lambda: tok.__exit__(None, None, None)]
    for end in ends:
        try:
            end()
        except TypeError as e:
            assert "read_retry" in str(e)
        else:  # pragma: no cover - a failure
            raise AssertionError("ended without the retry check")
    assert tok.alive and sl.read_retry(tok) is False


def _bump(sl: SeqLock[Fields]) -> None:
    """An overlapping writer, in C, on this thread (no write guard: nothing superseded)."""
    lib.kb_write_seqlock(sl._sl)
    lib.kb_write_sequnlock(sl._sl)


def _raises(error: type[BaseException], call: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            call()
        except error:
            return
        raise AssertionError(f"{call} did not raise {error.__name__}")

    return run


def every_path(sl: SeqLock[Fields], other: SeqLock[Fields], latch: SeqLatch[Fields],
               fn: Callable[[SeqView[Fields]], object]) -> list[Callable[[], object]]:  # fmt: skip
    """Each hot path of the seqlock and each of its refusals, as a call."""
    calls: list[Callable[[], object]] = []
    add = calls.append
    stash: list[object] = []

    # closure reader: results, exceptions, a torn attempt, the upgrade, lock_after
    add(lambda: None if sl.read(fn) == (1, 2, b"abcdefghij") else 1 / 0)
    add(lambda: None if sl.read(lambda v: v.fields)["a"] == 1 else 1 / 0)
    add(_raises(ZeroDivisionError, lambda: sl.read(lambda v: 1 // (int(v.a) - 1))))
    torn = [0]

    def torn_once(v: SeqView[Fields]) -> object:
        torn[0] += 1
        if torn[0] % 2:
            _bump(sl)
            raise KeyError("torn: discarded")
        return v.a

    add(lambda: None if sl.read(torn_once) == 1 else 1 / 0)

    def upgrade(v: SeqView[Fields]) -> object:
        with sl.write() as w:
            w.a = 1
        try:
            v.a  # noqa: B018 - the refused read is the point
        except LifetimeError:
            return "upgraded"
        return "not refused"

    add(lambda: None if sl.read(upgrade) == "upgraded" else 1 / 0)
    add(lambda: None if sl.read(fn, lock_after=0) == (1, 2, b"abcdefghij") else 1 / 0)
    add(_raises(DeadlockError, lambda: sl.read(lambda v: sl.write(), lock_after=0)))
    add(_raises(ValueError, lambda: sl.read(fn, lock_after=-1)))
    add(_raises(TypeError, lambda: sl.read(fn, lock_after=True)))
    add(_raises(TypeError, lambda: sl.read(fn, after=1)))  # type: ignore[call-arg]
    add(_raises(TypeError, lambda: sl.read()))  # type: ignore[call-arg]
    add(lambda: stash.append(sl.read(lambda v: v)))
    add(_raises(LifetimeError, lambda: stash.pop().a))  # type: ignore[attr-defined]
    add(_raises(AttributeError, lambda: sl.read(lambda v: v.nope)))
    add(_raises(AttributeError, lambda: sl.read(lambda v: setattr(v, "a", 2))))
    add(lambda: None if latch.read(lambda v: (v.a, v.b)) == (1, 2) else 1 / 0)

    # explicit loop reader
    def loop() -> None:
        while True:
            seq = sl.read_begin()
            r = (seq.a, seq.b, seq.c)
            if not sl.read_retry(seq):
                break
        if r[0] + r[1] != 3 or not r[2].is_valid:
            raise AssertionError(r)

    add(loop)

    def failed_attempt() -> None:
        seq = sl.read_begin()
        a = seq.a
        _bump(sl)
        assert sl.read_retry(seq) is True
        _raises(TentativeValueError, lambda: int(a + 1))()
        _raises(LifetimeError, lambda: seq.a)()
        _raises(GuardError, lambda: sl.read_retry(seq))()

    add(failed_attempt)

    def superseded() -> None:
        seq = sl.read_begin()
        with sl.write():
            pass
        _raises(TentativeValueError, lambda: seq.a)()
        assert sl.read_retry(seq) is True

    add(superseded)

    def other_lock() -> None:
        seq = sl.read_begin()
        _raises(GuardError, lambda: other.read_retry(seq))()
        _raises(AttributeError, lambda: seq.nope)()
        assert sl.read_retry(seq) is False

    add(other_lock)
    add(_raises(TypeError, lambda: sl.read_retry(0)))  # type: ignore[arg-type]
    add(lambda: sl.read_begin() and None)  # abandoned: ends when collected
    add(lambda: None if sl.snapshot()["b"] == 2 else 1 / 0)

    # writers
    def write() -> None:
        with sl.write() as w:
            w.c = b"abcdefghij"
            w.a = w.a
            w.update(b=2)
            _raises(OverflowError, lambda: setattr(w, "a", 2**63))()
            _raises(TypeError, lambda: setattr(w, "a", "1"))()
            _raises(ValueError, lambda: setattr(w, "c", b"short"))()
            _raises(AttributeError, lambda: setattr(w, "nope", 1))()
            _raises(DeadlockError, sl.write)()
            _raises(DeadlockError, lambda: sl.read(fn))()
            _raises(DeadlockError, sl.read_begin)()
            _raises(DeadlockError, sl.snapshot)()
        _raises(LifetimeError, lambda: setattr(w, "a", 1))()
        _raises(LifetimeError, lambda: w.a)()
        _raises(GuardError, w.unlock)()

    add(write)
    add(lambda: sl.write() and None)  # collected while held: ends the section, warns
    add(lambda: setattr(sl.write(), "a", True))  # an int subclass, via _check_value

    def latch_write() -> None:
        kept: list[SeqLatchWriteView[Fields]] = []

        def upd(w: SeqLatchWriteView[Fields]) -> None:
            kept.append(w)
            w.a = int(w.a)

        latch.write(upd)
        _raises(LifetimeError, lambda: setattr(kept[0], "a", 5))()
        _raises(ZeroDivisionError, lambda: latch.write(lambda w: 1 / 0))()

    add(latch_write)
    return calls


def run(calls: list[Callable[[], object]], rounds: int) -> None:
    for _ in range(rounds):
        for call in calls:
            call()


def test_every_path_keeps_references_and_memory_flat() -> None:
    """Every hot path and refusal, many times: the reference counts of what the calls touch,
    and the memory blocks allocated (or, in a debug build, the total reference count), end
    where they started."""
    sl = SeqLock(a=1, b=2, c=b"abcdefghij")
    other = SeqLock(x=1)
    latch = SeqLatch(a=1, b=2)

    def fn(v: SeqView[Fields]) -> tuple[int | bytes, ...]:
        return (v.a, v.b, v.c)

    calls = every_path(sl, other, latch, fn)
    watched: list[object] = [
        sl, other, latch, fn, hot.current_thread(), SeqView, SeqReadToken, SeqWriteGuard,
        TentativeValue, SeqLatchWriteView, sl._data, b"abcdefghij",
    ]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GuardLeakWarning)
        refs, blocks, total = growth(lambda n: run(calls, n), watched, 10, 100)
    assert refs == [0] * len(watched)
    # A leak of one object per call of any single path would be 100 blocks or references.
    assert blocks < 50, blocks
    assert total < 50, total
    assert sl.sequence % 2 == 0 and sl._write_guard is None and sl._writer is None
    assert sl.snapshot() == {"a": 1, "b": 2, "c": b"abcdefghij"}
