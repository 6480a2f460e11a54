"""A SeqWriteGuard that is collected, or whose thread exits, while held ends its write section."""

from __future__ import annotations

import gc
import threading

import pytest

from kbind import GuardLeakWarning
from kbind.seqlock import SeqLock


def _assert_write_side_free(sl: SeqLock[dict[str, int | bytes]]) -> None:
    """The sequence is even, a reader sees the last store and a new writer gets in at once."""
    assert sl.sequence % 2 == 0
    assert "idle" in repr(sl)
    got: list[int | bytes] = []
    t = threading.Thread(target=lambda: got.append(sl.read(lambda v: v.a)))
    t.start()
    t.join(timeout=10)
    assert not t.is_alive(), "a reader spun: the write side is still held"
    assert got == [7]
    done = threading.Event()

    def writer() -> None:
        with sl.write() as w:
            w.a = 8
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    t.join(timeout=10)
    assert done.is_set(), "a writer on another thread could not take the write side"


def test_seq_write_guard_collected_while_held_warns_and_releases() -> None:
    """A write guard dropped on the floor warns with its creation site and ends the section."""
    sl = SeqLock(a=0)
    w = sl.write()
    w.a = 7
    line = w.created_at.lineno
    with pytest.warns(GuardLeakWarning, match=rf"test_seqlock_write_guard_leak\.py:{line}"):
        del w
        gc.collect()
    _assert_write_side_free(sl)


def test_seq_write_guard_of_exited_thread_warns_and_releases() -> None:
    """A thread that exits inside a write section leaves the write side free, with a warning."""
    sl = SeqLock(a=0)
    made: list[int] = []

    def leaker() -> None:
        w = sl.write()
        w.a = 7
        made.append(w.created_at.lineno)

    with pytest.warns(GuardLeakWarning, match=r"test_seqlock_write_guard_leak\.py:\d+") as rec:
        t = threading.Thread(target=leaker)
        t.start()
        t.join(timeout=10)
        assert not t.is_alive()
        gc.collect()
    assert any(f":{made[0]}" in str(r.message) for r in rec)
    _assert_write_side_free(sl)
