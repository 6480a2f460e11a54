"""The seqlock busted-mode switch: a write section ends the way it began.

The torture's busted variants are chosen by a global switch.  A section
records its mode at the begin, so flipping the switch while a writer is
inside, or nesting write sections on two seqcounts, never leaves a
sequence odd (which would make every reader spin forever).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kbind._bridge.native import ffi, lib

MODES = {
    "none": lib.KB_SEQ_BUSTED_NONE,
    "writer-no-increment": lib.KB_SEQ_BUSTED_WRITER_NO_INCREMENT,
    "writer-no-barrier": lib.KB_SEQ_BUSTED_WRITER_NO_BARRIER,
}


@pytest.fixture(autouse=True)
def restore_mode() -> Iterator[None]:
    old = lib.kb_seqlock_get_busted()
    yield
    assert lib.kb_seqlock_set_busted(old) == lib.KB_OK


@pytest.mark.parametrize("begin_mode", sorted(MODES))
@pytest.mark.parametrize("end_mode", sorted(MODES))
def test_seqcount_mode_flipped_inside_section_leaves_sequence_even(
    begin_mode: str, end_mode: str
) -> None:
    """Whatever the switch says at the end, the section ends as it began: sequence even."""
    s = ffi.new("kb_seqcount_t *")
    assert lib.kb_seqlock_set_busted(MODES[begin_mode]) == lib.KB_OK
    lib.kb_write_seqcount_begin(s)
    assert lib.kb_seqlock_set_busted(MODES[end_mode]) == lib.KB_OK
    lib.kb_write_seqcount_end(s)
    assert s.sequence % 2 == 0
    expected = 0 if begin_mode == "writer-no-increment" else 2
    assert s.sequence == expected


def test_seqlock_mode_flipped_inside_write_section_readers_not_stuck() -> None:
    """write_seqlock() under one mode, write_sequnlock() under another: readers can begin."""
    sl = ffi.new("kb_seqlock_t *")
    lib.kb_seqlock_init(sl)
    assert lib.kb_seqlock_set_busted(lib.KB_SEQ_BUSTED_WRITER_NO_INCREMENT) == lib.KB_OK
    lib.kb_write_seqlock(sl)
    assert lib.kb_seqlock_set_busted(lib.KB_SEQ_BUSTED_NONE) == lib.KB_OK
    lib.kb_write_sequnlock(sl)
    assert sl.seqcount.sequence % 2 == 0


@pytest.mark.parametrize("mode", ["writer-no-barrier", "writer-no-increment", "none"])
def test_seqcount_nested_sections_on_two_counters_each_complete(mode: str) -> None:
    """Nested write sections on two seqcounts each end with their own increments."""
    a, b = ffi.new("kb_seqcount_t *"), ffi.new("kb_seqcount_t *")
    assert lib.kb_seqlock_set_busted(MODES[mode]) == lib.KB_OK
    lib.kb_write_seqcount_begin(a)
    lib.kb_write_seqcount_begin(b)
    lib.kb_write_seqcount_end(b)
    lib.kb_write_seqcount_end(a)
    expected = 0 if mode == "writer-no-increment" else 2
    assert (a.sequence, b.sequence) == (expected, expected)


def test_seqcount_deep_nesting_stays_consistent() -> None:
    """Busted sections nested deeper than the per-thread record still end even."""
    counters = [ffi.new("kb_seqcount_t *") for _ in range(40)]
    assert lib.kb_seqlock_set_busted(lib.KB_SEQ_BUSTED_WRITER_NO_BARRIER) == lib.KB_OK
    for s in counters:
        lib.kb_write_seqcount_begin(s)
    for s in reversed(counters):
        lib.kb_write_seqcount_end(s)
    assert [s.sequence for s in counters] == [2] * len(counters)
