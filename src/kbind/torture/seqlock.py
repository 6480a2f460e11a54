"""Native seqlock torture: C reader and writer threads, an invariant, busted variants.

In the spirit of the kernel's locktorture/rcutorture.  Writers keep every
word of a record equal, storing the words one at a time (last first) with
pauses; readers copy the record (first word first, with pauses) inside a
read section and, whenever the retry check accepts the copy, verify that
all words are equal.  The real seqlock never accepts a torn copy.  Each
busted variant accepts torn copies within a fraction of a second:

* ``"reader-no-retry"``: the reader skips the retry check.
* ``"writer-no-increment"``: the writer leaves the sequence unchanged.
* ``"writer-no-barrier"``: the writer omits the ``smp_wmb()`` after its
  first increment.  On x86-64 (TSO) the hardware never reorders two stores,
  so omitting a compiler-only barrier shows nothing unless the compiler
  moves the store; kbind performs the reordering the omission permits (the
  increment sinks below the data stores, as a compiler may do and as a
  weakly ordered CPU may make visible), so the variant is caught on every
  architecture, every run.

The threads run in C with the GIL released (csrc/tools/seqlock_torture.c).
C: ``kb_seqlock_torture()``.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal, get_args

from kbind._bridge.native import ffi, lib
from kbind.torture._common import (
    busted_arg,
    counts,
    duration_arg,
    elapsed,
    finish_report,
    int_arg,
    rate,
    run_driver,
    verdict,
)

__all__ = ["BustedVariant", "SeqlockTortureResult", "format_seqlock_report", "seqlock_torture"]

#: The deliberately broken variants.
BustedVariant = Literal["reader-no-retry", "writer-no-increment", "writer-no-barrier"]

_BUSTED: Final[dict[str | None, int]] = {
    None: lib.KB_SEQ_BUSTED_NONE,
    "reader-no-retry": lib.KB_SEQ_BUSTED_READER_NO_RETRY,
    "writer-no-increment": lib.KB_SEQ_BUSTED_WRITER_NO_INCREMENT,
    "writer-no-barrier": lib.KB_SEQ_BUSTED_WRITER_NO_BARRIER,
}
_MAX_THREADS: Final = int(lib.KB_SEQ_TORTURE_MAX_THREADS)
_MAX_WORDS: Final = int(lib.KB_SEQ_TORTURE_MAX_WORDS)
_MAX_SPINS: Final = 100_000


@dataclasses.dataclass(frozen=True)
class SeqlockTortureResult:
    """What one torture run observed (totals over all threads).

    Attributes:
        readers, writers, words, duration, busted: the configuration.
        reads: read attempts.
        successful_reads: attempts the retry check accepted.
        retries: attempts the retry check rejected.
        writes: completed write sections.
        violations: accepted reads whose record was torn (must be 0).
        first_violation_word: the first mismatching word index seen, or -1.
        max_retries_in_a_row: the longest run of retries one reader saw.
        elapsed: wall time in seconds.
        stopped_early: the run was interrupted (Ctrl-C) and reports what it
            saw until then.
    """

    readers: int
    writers: int
    words: int
    duration: float
    busted: str | None
    reads: int
    successful_reads: int
    retries: int
    writes: int
    violations: int
    first_violation_word: int
    max_retries_in_a_row: int
    elapsed: float
    stopped_early: bool = False

    @property
    def passed(self) -> bool:
        """True if no accepted read broke the invariant."""
        return self.violations == 0


def seqlock_torture(
    readers: int = 2,
    writers: int = 1,
    duration: float = 0.5,
    busted: BustedVariant | None = None,
    *,
    words: int = 32,
    writer_spins: int = 0,
    reader_spins: int = 0,
    max_reads: int = 0,
    check: bool = True,
) -> SeqlockTortureResult:
    """Run ``readers`` and ``writers`` C threads on one seqlock for ``duration`` seconds.

    Args:
        readers: reader threads (0..64).
        writers: writer threads (0..64); at least one thread in all.
        duration: seconds (0 < duration <= 3600).
        busted: None for the real seqlock, or a :data:`BustedVariant`.
        words: words per record (2..256).
        writer_spins: CPU-relax pauses between two word stores of a write.
        reader_spins: pauses between two word loads of a read (0 for speed).
        max_reads: stop each reader after this many attempts (0: no limit).
        check: verify the invariant (False: only count, for benchmarks).

    Context: blocks for about ``duration`` with the GIL released.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range
            (nothing runs).
    """
    fn = "seqlock_torture"
    int_arg(fn, "readers", readers, 0, _MAX_THREADS)
    int_arg(fn, "writers", writers, 0, _MAX_THREADS)
    if readers + writers < 1:
        raise ValueError(f"{fn}(): needs at least one reader or writer")
    int_arg(fn, "words", words, 2, _MAX_WORDS)
    int_arg(fn, "writer_spins", writer_spins, 0, _MAX_SPINS)
    int_arg(fn, "reader_spins", reader_spins, 0, _MAX_SPINS)
    int_arg(fn, "max_reads", max_reads, 0, 2**62)
    duration = duration_arg(fn, duration)
    busted_arg(fn, busted, get_args(BustedVariant))
    if not isinstance(check, bool):
        raise TypeError(f"{fn}(): check must be a bool")

    cfg = ffi.new("kb_seqlock_torture_config_t *")
    cfg.readers = readers
    cfg.writers = writers
    cfg.words = words
    cfg.writer_spins = writer_spins
    cfg.reader_spins = reader_spins
    cfg.busted = _BUSTED[busted]
    cfg.check = int(check)
    cfg.duration_ns = max(1, int(duration * 1e9))
    cfg.max_reads = max_reads
    res, stopped = run_driver(
        fn, lib.kb_seqlock_torture, cfg, "kb_seqlock_torture_result_t *", failure=OSError
    )
    return SeqlockTortureResult(
        readers=readers,
        writers=writers,
        words=words,
        duration=duration,
        busted=busted,
        **counts(res, "reads", "successful_reads", "retries", "writes", "violations"),
        **counts(res, "first_violation_word", "max_retries_in_a_row"),
        elapsed=elapsed(res),
        stopped_early=stopped,
    )


def format_seqlock_report(result: SeqlockTortureResult) -> str:
    """Render a result as rcutorture-style text; the last line says SUCCESS or FAILURE."""
    r = result
    tag = "seqlock-torture"
    retry_pct = 100.0 * r.retries / r.reads if r.reads else 0.0
    lines = [
        f"{tag}: readers={r.readers} writers={r.writers} words={r.words} "
        f"duration={r.duration:g}s busted={r.busted or 'none'}",
        f"{tag}: reads {r.reads} ({rate(r.reads, r.elapsed)}) successful {r.successful_reads} "
        f"retries {r.retries} ({retry_pct:.2f}%) max-retries-in-a-row {r.max_retries_in_a_row}",
        f"{tag}: writes {r.writes} ({rate(r.writes, r.elapsed)}) elapsed {r.elapsed:.3f}s",
        f"{tag}: invariant violations {r.violations}",
    ]
    end = verdict(r.passed)
    if r.passed and r.busted:
        end += f" (but busted={r.busted} was expected to fail: the test is too weak)"
    elif not r.passed:
        end += (
            f": {r.violations} torn records accepted, first mismatch at word "
            f"{r.first_violation_word}"
        )
        if r.busted:
            end += f" (expected: busted={r.busted})"
    return finish_report(tag, lines, end, stopped_early=r.stopped_early)
