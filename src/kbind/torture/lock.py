"""Native lock torture: kernel locktorture for kbind's spinlock and futex mutex.

After ``kernel/locking/locktorture.c`` (``Documentation/locking/locktorture.rst``).
Writer threads take the lock, rewrite a record (all words equal) half before
and half after a busy hold, and let go; reader threads take the lock too
(neither ``spinlock_t`` nor ``struct mutex`` has a shared mode) and check the
record's words are equal.  Every holder bumps a shared "inside" counter on
entry and drops it on exit: finding somebody else inside is a failure,
counted against the acquisition (locktorture's ``n_lock_fail``).  One hold in
``long_every`` is long and yields the CPU in the middle.  The report gives
locktorture's ``Writes: Total: N Max/Min: a/b Fail: f`` line (per-thread
acquisition counts, the fairness spread) and the same for readers.

The busted variants replace the lock, and must be caught:

* ``"no-lock"``: takes nothing (the kernel's ``lock_busted`` type);
* ``"no-rmw"``: tests the lock word, then sets it with a plain store instead
  of one atomic exchange, so two lockers that both saw it free both get in.

The threads run in C with the GIL released (csrc/tools/lock_torture.c).
C: ``kb_lock_torture()``.
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

__all__ = [
    "LOCK_TYPES",
    "LockBustedVariant",
    "LockTortureResult",
    "format_lock_report",
    "lock_torture",
]

#: The deliberately broken locks.
LockBustedVariant = Literal["no-lock", "no-rmw"]
LockType = Literal["spin", "mutex"]

#: The locks the torture knows: kbind's ``kb_spinlock_t`` and ``kb_mutex_t``.
LOCK_TYPES: Final[dict[str, int]] = {
    "spin": lib.KB_LOCK_TORTURE_SPIN,
    "mutex": lib.KB_LOCK_TORTURE_MUTEX,
}
_BUSTED: Final[dict[str | None, int]] = {
    None: lib.KB_LOCK_BUSTED_NONE,
    "no-lock": lib.KB_LOCK_BUSTED_NO_LOCK,
    "no-rmw": lib.KB_LOCK_BUSTED_NO_RMW,
}
_MAX_THREADS: Final = int(lib.KB_LOCK_TORTURE_MAX_THREADS)
_MAX_HOLD_US: Final = 1000.0
_MAX_LONG_US: Final = 100_000.0


@dataclasses.dataclass(frozen=True)
class LockTortureResult:
    """What one lock torture run observed.

    Attributes:
        lock, busted, writers, readers, duration, hold_us, read_hold_us,
            long_hold_us, long_every: the configuration.
        acquisitions: per thread, the writers first, then the readers.
        write_total, write_max, write_min: writer acquisitions: the sum, the
            most and the fewest one writer made (locktorture's Max/Min).
        read_total, read_max, read_min: the same for readers.
        write_fail: writer acquisitions that found another holder inside.
        read_fail: reader acquisitions that found another holder inside.
        torn_reads: reader acquisitions that found a half-rewritten record.
        max_holders: the most threads seen inside at once (1 for a real lock).
        long_holds: long holds done (each yields the CPU in the middle).
        pinned: the threads were pinned to CPUs (``kbind stress``).
        elapsed: wall time in seconds.
        stopped_early: the run was interrupted (Ctrl-C).
    """

    lock: str
    busted: str | None
    writers: int
    readers: int
    duration: float
    hold_us: float
    read_hold_us: float
    long_hold_us: float
    long_every: int
    acquisitions: tuple[int, ...]
    write_total: int
    write_max: int
    write_min: int
    read_total: int
    read_max: int
    read_min: int
    write_fail: int
    read_fail: int
    torn_reads: int
    max_holders: int
    long_holds: int
    pinned: bool
    elapsed: float
    stopped_early: bool = False

    @property
    def passed(self) -> bool:
        """True if no two holders were ever inside at once and no read saw a torn record."""
        return (
            self.write_fail == 0
            and self.read_fail == 0
            and self.torn_reads == 0
            and self.max_holders <= 1
        )

    @property
    def total(self) -> int:
        """All acquisitions, writers' and readers'."""
        return self.write_total + self.read_total


def _us_arg(fn: str, name: str, value: object, hi: float) -> float:
    """Return ``value`` microseconds if a number in ``[0, hi]`` (TypeError, ValueError if not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{fn}(): {name} must be a number of microseconds")
    if not 0 <= value <= hi:  # also rejects NaN
        raise ValueError(f"{fn}(): {name} must be in [0, {hi:g}] microseconds, not {value}")
    return float(value)


def lock_torture(
    lock: LockType = "spin",
    writers: int = 2,
    readers: int = 2,
    duration: float = 0.5,
    busted: LockBustedVariant | None = None,
    *,
    hold_us: float = 1.0,
    read_hold_us: float = 0.5,
    long_hold_us: float = 50.0,
    long_every: int = 1000,
) -> LockTortureResult:
    """Run ``writers`` and ``readers`` C threads on one lock for ``duration`` seconds.

    Mirrors the kernel's locktorture (``torture_type=spin_lock`` / ``mutex_lock``).

    Args:
        lock: ``"spin"`` (kb_spinlock_t) or ``"mutex"`` (kb_mutex_t).
        writers: writer threads (0..64; at least one thread, at most 64 in all).
        readers: reader threads (0..64).
        duration: seconds (0 < duration <= 3600).
        busted: None for the real lock, or a :data:`LockBustedVariant`.
        hold_us: how long a writer holds the lock (busy delay), 0..1000.
        read_hold_us: how long a reader holds it, 0..1000.
        long_hold_us: the occasional long hold, 0..100000 (0: none).
        long_every: one hold in this many is long (1..10**9).

    Context: blocks for about ``duration`` with the GIL released.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range
            (nothing runs).
    """
    fn = "lock_torture"
    if lock not in LOCK_TYPES:
        raise ValueError(f"{fn}(): lock must be one of {', '.join(map(repr, LOCK_TYPES))}")
    int_arg(fn, "writers", writers, 0, _MAX_THREADS)
    int_arg(fn, "readers", readers, 0, _MAX_THREADS)
    if not 1 <= writers + readers <= _MAX_THREADS:
        raise ValueError(f"{fn}(): needs 1 to {_MAX_THREADS} threads in all")
    hold_us = _us_arg(fn, "hold_us", hold_us, _MAX_HOLD_US)
    read_hold_us = _us_arg(fn, "read_hold_us", read_hold_us, _MAX_HOLD_US)
    long_hold_us = _us_arg(fn, "long_hold_us", long_hold_us, _MAX_LONG_US)
    int_arg(fn, "long_every", long_every, 1, 10**9)
    duration = duration_arg(fn, duration)
    busted_arg(fn, busted, get_args(LockBustedVariant))

    cfg = ffi.new("kb_lock_torture_config_t *")
    cfg.lock = LOCK_TYPES[lock]
    cfg.busted = _BUSTED[busted]
    cfg.writers = writers
    cfg.readers = readers
    cfg.hold_ns = round(hold_us * 1000)
    cfg.read_hold_ns = round(read_hold_us * 1000)
    cfg.long_hold_ns = round(long_hold_us * 1000)
    cfg.long_every = long_every
    cfg.duration_ns = max(1, int(duration * 1e9))
    res, stopped = run_driver(
        fn, lib.kb_lock_torture, cfg, "kb_lock_torture_result_t *", failure=OSError
    )
    return LockTortureResult(
        lock=lock,
        busted=busted,
        writers=writers,
        readers=readers,
        duration=duration,
        hold_us=hold_us,
        read_hold_us=read_hold_us,
        long_hold_us=long_hold_us,
        long_every=long_every,
        acquisitions=tuple(int(res.acquisitions[i]) for i in range(writers + readers)),
        **counts(res, "write_total", "write_max", "write_min", "read_total", "read_max"),
        **counts(res, "read_min", "write_fail", "read_fail", "torn_reads", "max_holders"),
        long_holds=int(res.long_holds),
        pinned=bool(res.pinned),
        elapsed=elapsed(res),
        stopped_early=stopped or bool(res.stopped_early),
    )


def _stats_line(what: str, total: int, hi: int, lo: int, fail: int) -> str:
    """Return locktorture's statistics line (``Writes:  Total: N  Max/Min: a/b  Fail: f``).

    As in the kernel, ``???`` flags a spread where the busiest thread made more
    than twice the acquisitions of the least busy one, ``!!!`` any failure.
    """
    unfair = " ???" if hi // 2 > lo else ""
    bang = " !!!" if fail else ""
    return f"{what}:  Total: {total}  Max/Min: {hi}/{lo}{unfair}  Fail: {fail}{bang}"


def format_lock_report(result: LockTortureResult) -> str:
    """Render a result as locktorture-style text; the last line says SUCCESS or FAILURE."""
    r = result
    tag = "lock-torture"
    lines = [
        f"{tag}: lock={r.lock} writers={r.writers} readers={r.readers} "
        f"duration={r.duration:g}s hold={r.hold_us:g}us read-hold={r.read_hold_us:g}us "
        f"long-hold={r.long_hold_us:g}us/1-in-{r.long_every} busted={r.busted or 'none'} "
        f"pinned={'yes' if r.pinned else 'no'}",
    ]
    if r.writers:
        lines.append(
            f"{tag}: "
            + _stats_line("Writes", r.write_total, r.write_max, r.write_min, r.write_fail)
        )
    if r.readers:
        lines.append(
            f"{tag}: " + _stats_line("Reads ", r.read_total, r.read_max, r.read_min, r.read_fail)
        )
    lines += [
        f"{tag}: acquisitions {r.total} ({rate(r.total, r.elapsed)}) per thread "
        f"{'/'.join(map(str, r.acquisitions))} long holds {r.long_holds} "
        f"elapsed {r.elapsed:.3f}s",
        f"{tag}: max holders at once {r.max_holders} torn reads {r.torn_reads}",
    ]
    end = verdict(r.passed)
    if r.passed and r.busted:
        end += f" (but busted={r.busted} was expected to fail: the test is too weak)"
    elif not r.passed:
        end += (
            f": {r.write_fail + r.read_fail} acquisitions found another holder inside "
            f"(up to {r.max_holders} at once), {r.torn_reads} torn reads"
        )
        if r.busted:
            end += f" (expected: busted={r.busted})"
    return finish_report(tag, lines, end, stopped_early=r.stopped_early)
