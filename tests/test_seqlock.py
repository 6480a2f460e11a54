"""Tests for kbind.seqlock: readers, writers, tentative values, latch, and MISUSE S01-S10."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypedDict

import pytest

import kbind
from kbind import (
    DeadlockError,
    GuardError,
    LifetimeError,
    SeqLatch,
    SeqLock,
    TentativeValue,
    TentativeValueError,
)
from kbind._bridge.native import lib

JOIN = 10.0


def run_in_thread(fn: Callable[[], None]) -> None:
    """Run fn on another thread and wait for it (bounded)."""
    errors: list[BaseException] = []

    def body() -> None:
        try:
            fn()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=body)
    t.start()
    t.join(timeout=JOIN)
    assert not t.is_alive()
    if errors:
        raise errors[0]


class Clock(TypedDict):
    sec: int
    nsec: int


# ------------------------------------------------------------- construction


def test_seqlock_int_and_bytes_fields_read_back() -> None:
    """Initial int and bytes fields are stored in C memory and read back unchanged."""
    sl = SeqLock(a=-(2**63), b=2**63 - 1, mac=b"\x01\x02\x03\x04\x05\x06\x07\x08\x09")
    assert sl.read(lambda v: (v.a, v.b, v.mac)) == (-(2**63), 2**63 - 1, bytes(range(1, 10)))
    assert sl.field_names == ("a", "b", "mac")


def test_s04_seqlock_object_field_raises_typeerror() -> None:
    """A field whose initial value is not an int or bytes is refused (S04: no pointers)."""
    with pytest.raises(TypeError, match="S04"):
        SeqLock(p=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="S04"):
        SeqLock(p=1.5)  # type: ignore[arg-type]


def test_seqlock_bad_construction_raises_valueerror() -> None:
    """No fields, an empty bytes field, a reserved name or an out-of-range int are refused."""
    with pytest.raises(ValueError, match="at least one field"):
        SeqLock()
    with pytest.raises(ValueError, match="empty"):
        SeqLock(b=b"")
    with pytest.raises(ValueError, match="reserved"):
        SeqLock(update=1)
    with pytest.raises(OverflowError):
        SeqLock(a=2**63)


def test_seqlock_typed_spec_checked() -> None:
    """A TypedDict spec must match the fields; snapshot() then returns the typed dict."""
    sl = SeqLock(Clock, sec=1, nsec=2)
    snap: Clock = sl.snapshot()
    assert snap == {"sec": 1, "nsec": 2}
    assert sl.read(lambda v: v.fields["sec"]) == 1
    with pytest.raises(ValueError, match="do not match"):
        SeqLock(Clock, sec=1)
    with pytest.raises(TypeError, match="spec says"):
        SeqLock(Clock, sec=1, nsec=b"x")


# ------------------------------------------------------------------ writer


def test_writer_assignments_visible_to_readers() -> None:
    """Assignments through the write guard are what later readers see."""
    sl = SeqLock(sec=0, nsec=0, label=b"abcd")
    with sl.write() as w:
        w.sec = 5
        w.nsec = 6
        w.label = b"wxyz"
        assert (w.sec, w.nsec, w.label) == (5, 6, b"wxyz")
    assert sl.snapshot() == {"sec": 5, "nsec": 6, "label": b"wxyz"}
    assert sl.sequence % 2 == 0 and sl.sequence >= 2


def test_writer_bad_values_raise_and_change_nothing() -> None:
    """Wrong type, out-of-range int or wrong byte length raise and leave the fields unchanged."""
    sl = SeqLock(a=1, mac=b"123456")
    with sl.write() as w:
        with pytest.raises(TypeError, match="64-bit signed int"):
            w.a = "3"
        with pytest.raises(TypeError, match="64-bit signed int"):
            w.a = 3.0
        with pytest.raises(OverflowError, match="does not fit"):
            w.a = 2**63
        with pytest.raises(ValueError, match="exactly 6 bytes"):
            w.mac = b"1234567"
        with pytest.raises(TypeError, match="holds 6 bytes"):
            w.mac = 5
        with pytest.raises(AttributeError, match="no field 'b'"):
            w.b = 1
        with pytest.raises(OverflowError):
            w.update(mac=b"abcdef", a=2**64)
    assert sl.snapshot() == {"a": 1, "mac": b"123456"}


def test_update_all_or_nothing() -> None:
    """SeqLock.update() validates every field before storing any."""
    sl = SeqLock(a=1, b=2)
    with pytest.raises(OverflowError):
        sl.update(a=10, b=2**70)
    assert sl.snapshot() == {"a": 1, "b": 2}
    sl.update(a=10, b=20)
    assert sl.snapshot() == {"a": 10, "b": 20}


def test_s09_second_write_same_thread_raises_deadlock() -> None:
    """A second write() on the thread holding the write side raises DeadlockError (S09)."""
    sl = SeqLock(a=0)
    with sl.write() as w, pytest.raises(DeadlockError) as ei:
        sl.write()
    assert ei.value.created_at is not None and ei.value.created_at == w.created_at
    assert "S09" in str(ei.value)
    with sl.write():  # released properly afterwards
        pass


def test_write_guard_used_after_unlock_raises_lifetime() -> None:
    """Assigning through a write guard after its section ended raises LifetimeError."""
    sl = SeqLock(a=0)
    with sl.write() as w:
        w.a = 1
    with pytest.raises(LifetimeError):
        w.a = 2
    with pytest.raises(GuardError):
        w.unlock()
    assert sl.snapshot()["a"] == 1


def test_s05_writers_on_two_threads_serialize() -> None:
    """Writers on several threads go through the embedded lock: no increment is lost."""
    sl = SeqLock(a=0, b=0)
    n, threads = 300, 3
    start = threading.Barrier(threads)

    def writer() -> None:
        start.wait(timeout=JOIN)
        for _ in range(n):
            with sl.write() as w:
                v = w.a
                w.a = v + 1
                w.b = v + 1

    ts = [threading.Thread(target=writer) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=JOIN)
    assert not any(t.is_alive() for t in ts)
    assert sl.snapshot() == {"a": n * threads, "b": n * threads}


def test_write_guard_on_other_thread_raises_guarderror() -> None:
    """A write guard cannot be used on another thread (Rust: !Send)."""
    sl = SeqLock(a=0)
    with sl.write() as w:

        def other() -> None:
            with pytest.raises(GuardError):
                w.a = 1

        run_in_thread(other)


# ---------------------------------------------------------- closure reader


def test_read_returns_fn_result() -> None:
    """read(fn) returns fn's result from a validated attempt."""
    sl = SeqLock(sec=3, nsec=4)
    assert sl.read(lambda v: v.sec * 10 + v.nsec) == 34


def test_read_overlapping_writer_reruns_fn() -> None:
    """A writer completing during fn makes the attempt fail and fn run again with new values."""
    sl = SeqLock(a=1, b=1)
    in_reader = threading.Event()
    written = threading.Event()

    def writer() -> None:
        assert in_reader.wait(timeout=JOIN)
        sl.update(a=2, b=2)
        written.set()

    t = threading.Thread(target=writer)
    t.start()
    seen: list[tuple[int | bytes, int | bytes]] = []

    def fn(v: kbind.SeqView[dict[str, int | bytes]]) -> int | bytes:
        a = v.a
        if not seen:
            in_reader.set()
            assert written.wait(timeout=JOIN)
        seen.append((a, v.b))
        return a

    assert sl.read(fn) == 2
    t.join(timeout=JOIN)
    assert not t.is_alive()
    assert seen == [(1, 1), (2, 2)]


def test_read_exception_from_torn_attempt_is_retried() -> None:
    """An exception raised in a torn attempt is discarded and fn runs again."""
    sl = SeqLock(a=1)
    calls = []

    def fn(v: kbind.SeqView[dict[str, int | bytes]]) -> int:
        calls.append(1)
        if len(calls) == 1:
            run_in_thread(lambda: sl.update(a=2))
            raise ZeroDivisionError("torn")
        return int(v.a)

    assert sl.read(fn) == 2
    assert len(calls) == 2


def test_read_exception_from_valid_attempt_propagates() -> None:
    """An exception from a validated attempt reaches the caller."""
    sl = SeqLock(a=0)
    with pytest.raises(ZeroDivisionError):
        sl.read(lambda v: 1 // int(v.a))


def test_s02_view_used_after_read_raises_lifetime() -> None:
    """A view stashed out of the closure raises LifetimeError when used (S02)."""
    sl = SeqLock(a=1)
    stash: list[kbind.SeqView[dict[str, int | bytes]]] = []
    sl.read(stash.append)
    with pytest.raises(LifetimeError, match="S02") as ei:
        _ = stash[0].a
    assert ei.value.created_at is not None
    assert ei.value.created_at.filename == __file__


def test_view_is_read_only_and_thread_bound() -> None:
    """Assigning through a read view raises, and a view cannot be used on another thread."""
    sl = SeqLock(a=1)

    def fn(v: kbind.SeqView[dict[str, int | bytes]]) -> None:
        with pytest.raises(AttributeError):
            v.a = 2  # type: ignore[misc]

        def other() -> None:
            with pytest.raises(GuardError):
                _ = v.a

        run_in_thread(other)

    sl.read(fn)


def test_s06_reader_on_writer_thread_raises_deadlock() -> None:
    """Every reader kind on the thread holding the write side raises DeadlockError (S06)."""
    sl = SeqLock(a=1)
    with sl.write() as w:
        for op in (lambda: sl.read(lambda v: v.a), sl.read_begin, sl.snapshot):
            with pytest.raises(DeadlockError, match="S06") as ei:
                op()
            assert ei.value.created_at == w.created_at


def test_read_on_other_thread_waits_for_writer() -> None:
    """A reader on another thread waits for the write section to end and sees its values."""
    sl = SeqLock(a=1, b=1)
    started = threading.Event()
    got: list[object] = []
    with sl.write() as w:
        w.a = 2

        def reader() -> None:
            started.set()
            got.append(sl.read(lambda v: (v.a, v.b)))

        t = threading.Thread(target=reader)
        t.start()
        assert started.wait(timeout=JOIN)
        w.b = 2
    t.join(timeout=JOIN)
    assert not t.is_alive()
    assert got == [(2, 2)]


def test_read_lock_after_zero_reads_under_lock() -> None:
    """lock_after=0 reads as an exclusive reader: no retry, and writing inside deadlocks."""
    sl = SeqLock(a=5)
    assert sl.read(lambda v: v.a, lock_after=0) == 5

    def fn(v: kbind.SeqView[dict[str, int | bytes]]) -> None:
        with pytest.raises(DeadlockError):
            sl.write()

    sl.read(fn, lock_after=0)
    with pytest.raises(ValueError):
        sl.read(lambda v: v.a, lock_after=-1)
    with pytest.raises(TypeError):
        sl.read(lambda v: v.a, lock_after=1.5)  # type: ignore[arg-type]


def test_read_lock_after_bounds_attempts_under_incessant_writer() -> None:
    """With lock_after=2, a reader whose every lockless attempt is torn runs fn at most 3 times."""
    sl = SeqLock(a=0)
    calls = []

    def fn(v: kbind.SeqView[dict[str, int | bytes]]) -> int | bytes:
        calls.append(1)
        if len(calls) <= 2:  # an incessant writer, for as long as the reader is lockless
            run_in_thread(lambda: sl.update(a=len(calls)))
        return v.a

    assert sl.read(fn, lock_after=2) == 2
    assert len(calls) == 3


def test_sdma_upgrade_writer_inside_reader_returns_without_retry() -> None:
    """A closure reader that writes the same lock (sdma_flush) returns once, no endless retry."""
    sl = SeqLock(pending=3, done=0)
    calls = []

    def flush(v: kbind.SeqView[dict[str, int | bytes]]) -> int:
        calls.append(1)
        if not v.pending:
            return 0
        with sl.write() as w:  # upgrade: serializes with every writer
            with pytest.raises(LifetimeError, match="own write section"):
                _ = v.pending
            n = int(w.pending)
            w.done = int(w.done) + n
            w.pending = 0
        return n

    assert sl.read(flush) == 3
    assert len(calls) == 1
    assert sl.snapshot() == {"pending": 0, "done": 3}
    assert sl.read(flush) == 0


# ------------------------------------------------------- explicit loop reader


def test_loop_reader_tentative_then_valid() -> None:
    """Values are tentative until read_retry() validates them; then they act as plain ints."""
    sl = SeqLock(a=2, b=3)
    seq = sl.read_begin()
    total = seq.a * 10 + seq.b
    assert isinstance(total, TentativeValue) and total.is_pending
    assert sl.read_retry(seq) is False
    assert total.is_valid
    assert total == 23 and int(total) == 23 and total + 1 == 24 and f"{total}" == "23"
    assert [0] * 30 and [0, 1, 2][seq_index(total)] == 2
    assert hash(total) == hash(23)


def seq_index(t: TentativeValue) -> int:
    return int(t) - 21


def test_s01_value_from_failed_attempt_raises_tentative_error() -> None:
    """Using a value (or a derived value) from an attempt that failed raises TentativeValueError."""
    sl = SeqLock(a=1, b=1)
    seq = sl.read_begin()
    a = seq.a
    derived = (a + 5) * 2 > 3
    run_in_thread(lambda: sl.update(a=7, b=7))
    assert sl.read_retry(seq) is True
    assert a.is_failed and derived.is_failed
    for use in (
        lambda: int(a),
        lambda: a + 1,
        lambda: bool(derived),
        lambda: a.value,
        lambda: str(a),
        lambda: hash(a),
    ):
        with pytest.raises(TentativeValueError, match="S01") as ei:
            use()
        assert isinstance(ei.value, LifetimeError)
        assert ei.value.created_at is not None and ei.value.created_at.filename == __file__
    assert "failed" in repr(a)  # repr never raises


def test_loop_reader_retries_until_valid() -> None:
    """The kernel-style loop retries after an overlapping write and ends with valid values."""
    sl = SeqLock(a=1, b=1)
    attempts = 0
    while True:
        seq = sl.read_begin()
        a, b = seq.a, seq.b
        attempts += 1
        if attempts == 1:
            run_in_thread(lambda: sl.update(a=2, b=2))
        if not sl.read_retry(seq):
            break
    assert attempts == 2 and a == b == 2


def test_read_loop_iterator_validates_last_attempt() -> None:
    """read_loop() yields attempts until one validates."""
    sl = SeqLock(a=4)
    n = 0
    for seq in sl.read_loop():
        x = seq.a + 1
        n += 1
        if n == 1:
            run_in_thread(lambda: sl.update(a=5))
    assert n == 2 and x.is_valid and x == 6


def test_s08_token_from_other_lock_raises_guarderror() -> None:
    """A token checked against another lock raises GuardError (S08)."""
    a, b = SeqLock(x=1), SeqLock(x=1)
    seq = a.read_begin()
    with pytest.raises(GuardError, match="S08"):
        b.read_retry(seq)
    assert a.read_retry(seq) is False


def test_s08_token_reused_raises_guarderror() -> None:
    """A token checked twice raises GuardError; its fields are dead after the check."""
    sl = SeqLock(x=1)
    seq = sl.read_begin()
    assert sl.read_retry(seq) is False
    with pytest.raises(GuardError, match="S08"):
        sl.read_retry(seq)
    with pytest.raises(LifetimeError):
        _ = seq.x
    with pytest.raises(TypeError):
        sl.read_retry(0)  # type: ignore[arg-type]


def test_s08_token_on_other_thread_raises_guarderror() -> None:
    """A token is bound to its thread."""
    sl = SeqLock(x=1)
    seq = sl.read_begin()

    def other() -> None:
        with pytest.raises(GuardError):
            _ = seq.x
        with pytest.raises(GuardError):
            sl.read_retry(seq)

    run_in_thread(other)
    assert sl.read_retry(seq) is False


def test_tentative_values_of_two_attempts_combine() -> None:
    """A value computed from two attempts fails if either fails."""
    sl = SeqLock(x=1)
    s1 = sl.read_begin()
    x1 = s1.x
    assert sl.read_retry(s1) is False
    s2 = sl.read_begin()
    mixed = x1 + s2.x
    run_in_thread(lambda: sl.update(x=2))
    assert sl.read_retry(s2) is True
    with pytest.raises(TentativeValueError):
        int(mixed)
    assert int(x1) == 1


def test_tentative_bytes_support_len_index_and_bytes() -> None:
    """Tentative byte strings support len(), indexing and bytes()."""
    sl = SeqLock(mac=b"\x00\x11\x22\x33\x44\x55")
    seq = sl.read_begin()
    mac = seq.mac
    assert len(mac) == 6 and mac[1] == 0x11 and bytes(mac[:2]) == b"\x00\x11"
    assert sl.read_retry(seq) is False
    assert bytes(mac) == b"\x00\x11\x22\x33\x44\x55"


def test_tentative_value_written_back_after_validation() -> None:
    """A validated tentative value can be stored; a failed one cannot."""
    sl = SeqLock(a=1, b=0)
    seq = sl.read_begin()
    a = seq.a
    assert sl.read_retry(seq) is False
    with sl.write() as w:
        w.b = a + 1
    assert sl.snapshot()["b"] == 2
    seq = sl.read_begin()
    stale = seq.a
    with sl.write() as w, pytest.raises(TentativeValueError):  # supersedes the attempt
        w.b = stale
    assert sl.read_retry(seq) is True


def test_sdma_loop_reader_with_writer_inside_ends_attempt() -> None:
    """In the explicit loop a write inside the attempt ends it; its values steer, never escape."""
    sl = SeqLock(pending=2, done=0)
    flushed = 0
    while True:
        seq = sl.read_begin()
        if seq.pending:
            with sl.write() as w:
                flushed = int(w.pending)
                w.done, w.pending = int(w.done) + flushed, 0
            break
        if not sl.read_retry(seq):
            break
    assert flushed == 2
    with pytest.raises(TentativeValueError, match="superseded"):
        int(seq.pending)


# --------------------------------------------------------------------- latch


def test_s09_nested_latch_write_names_the_outer_write() -> None:
    """A latch write() inside its own write() raises DeadlockError naming both calls."""
    latch = SeqLatch(n=0)

    def outer(w: Any) -> None:
        latch.write(lambda w2: None)

    with pytest.raises(DeadlockError) as ei:
        latch.write(outer)
    text = str(ei.value)
    assert "the outer write() began at" in text and "nested write() at" in text
    latch.write(lambda w: setattr(w, "n", 1))  # released properly afterwards
    assert latch.read(lambda v: v.n) == 1


def test_latch_write_updates_both_copies() -> None:
    """latch.write(fn) applies fn to both copies; readers see the new values."""
    latch = SeqLatch(base=10, mult=2)

    def upd(w: kbind.SeqLatchWriteView[dict[str, int | bytes]]) -> None:
        w.base = int(w.base) + 1

    seq0 = latch.sequence
    latch.write(upd)
    assert latch.sequence == seq0 + 2
    assert latch.read(lambda v: (v.base, v.mult)) == (11, 2)
    assert latch._copies[0].load("base") == latch._copies[1].load("base") == 11


def test_s10_latch_view_stashed_after_flip_raises_lifetime() -> None:
    """A latch write view used after fn returned raises LifetimeError (S10)."""
    latch = SeqLatch(a=1)
    stash: list[kbind.SeqLatchWriteView[dict[str, int | bytes]]] = []

    def upd(w: kbind.SeqLatchWriteView[dict[str, int | bytes]]) -> None:
        stash.append(w)
        w.a = 2

    latch.write(upd)
    with pytest.raises(LifetimeError, match="S10"):
        stash[0].a = 3
    assert latch.read(lambda v: v.a) == 2


def test_latch_reader_inside_writer_sees_complete_copy() -> None:
    """A latch reader on the writing thread (NMI-style) never waits and sees a complete copy."""
    latch = SeqLatch(a=1, b=1)
    seen: list[object] = []

    def upd(w: kbind.SeqLatchWriteView[dict[str, int | bytes]]) -> None:
        w.a = 2
        seen.append(latch.read(lambda v: (v.a, v.b)))
        w.b = 2

    latch.write(upd)
    assert seen == [(1, 1), (2, 2)]
    assert latch.read(lambda v: (v.a, v.b)) == (2, 2)


def test_latch_fn_raising_changes_nothing() -> None:
    """If fn raises on the first copy the latch is unchanged."""
    latch = SeqLatch(a=1, b=1)

    def bad(w: kbind.SeqLatchWriteView[dict[str, int | bytes]]) -> None:
        w.a = 5
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        latch.write(bad)
    assert latch.read(lambda v: (v.a, v.b)) == (1, 1)
    assert latch._copies[0].load("a") == 1


def test_latch_nondeterministic_fn_raises_valueerror() -> None:
    """An fn changing the two copies differently raises ValueError; the copies are made equal."""
    latch = SeqLatch(a=0)
    n = iter(range(1, 10))

    def upd(w: kbind.SeqLatchWriteView[dict[str, int | bytes]]) -> None:
        w.a = next(n)

    with pytest.raises(ValueError, match="deterministic"):
        latch.write(upd)
    assert latch._copies[0].load("a") == latch._copies[1].load("a") == 1


def test_latch_nested_write_raises_deadlock() -> None:
    """latch.write inside latch.write on the same thread raises DeadlockError."""
    latch = SeqLatch(a=0)

    def upd(w: kbind.SeqLatchWriteView[dict[str, int | bytes]]) -> None:
        latch.write(lambda w2: None)

    with pytest.raises(DeadlockError):
        latch.write(upd)
    latch.write(lambda w: None)  # lock was released


# ------------------------------------------------------------ busted global


def test_busted_reader_no_retry_returns_torn_python_result() -> None:
    """With the global busted reader variant, an overlapped closure read is not retried."""
    sl = SeqLock(a=1, b=1)
    assert lib.kb_seqlock_set_busted(lib.KB_SEQ_BUSTED_READER_NO_RETRY) == lib.KB_OK
    try:

        def fn(v: kbind.SeqView[dict[str, int | bytes]]) -> tuple[int | bytes, int | bytes]:
            a = v.a
            run_in_thread(lambda: sl.update(a=2, b=2))
            return a, sl._data.load("b")  # a second, racy look at b

        assert sl.read(fn) == (1, 2)  # torn and accepted: the bug the torture catches
    finally:
        assert lib.kb_seqlock_set_busted(lib.KB_SEQ_BUSTED_NONE) == lib.KB_OK
    assert lib.kb_seqlock_set_busted(99) == lib.KB_EINVAL
    assert lib.kb_seqlock_get_busted() == lib.KB_SEQ_BUSTED_NONE


def test_c_read_seqbegin_or_lock_protocol() -> None:
    """The C read_seqbegin_or_lock/need_seqretry/done_seqretry trio locks on the second pass."""
    from kbind._bridge.native import ffi

    sl = ffi.new("kb_seqlock_t *")
    lib.kb_seqlock_init(sl)
    seq = ffi.new("int *", 0)
    lib.kb_read_seqbegin_or_lock(sl, seq)
    assert seq[0] % 2 == 0
    lib.kb_write_seqlock(sl)
    lib.kb_write_sequnlock(sl)
    assert lib.kb_need_seqretry(sl, seq[0])
    seq[0] = 1
    lib.kb_read_seqbegin_or_lock(sl, seq)
    assert lib.kb_spin_is_locked(ffi.addressof(sl, "lock"))
    assert not lib.kb_need_seqretry(sl, seq[0])
    lib.kb_done_seqretry(sl, seq[0])
    assert not lib.kb_spin_is_locked(ffi.addressof(sl, "lock"))
