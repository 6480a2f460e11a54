"""Native SRCU torture: C readers that sleep, updaters that replace, synchronize and free.

In the spirit of rcutorture's ``srcu`` flavour (kernel/rcu/rcutorture.c,
Documentation/RCU/torture.rst).  Updaters replace the element one
SRCU-protected pointer points to, wait for a grace period of the run's
domain (``synchronize_srcu()``, ``synchronize_srcu_expedited()`` or a mix),
then free the old element: poison it and queue it for reuse much later.
Readers, inside read-side sections, check that the element they reached is
live, hold it (one section in ``sleep_every`` sleeps ``sleep_us``
microseconds, which SRCU allows), and check again that it was neither
poisoned nor reused under them.  The real SRCU shows no error; each busted
variant frees elements under sleeping readers at once:

* ``"no-flip"``: synchronize never flips the index, so it waits for an
  index no reader uses;
* ``"wrong-index"``: it flips, then waits for the new index instead of the
  old one.

The threads run in C with the GIL released (csrc/tools/srcu_torture.c).
C: ``kb_srcu_torture()``.
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
    "SRCU_GP_MODES",
    "SrcuBustedVariant",
    "SrcuTortureResult",
    "format_srcu_report",
    "srcu_torture",
]

#: The deliberately broken variants.
SrcuBustedVariant = Literal["no-flip", "wrong-index"]
#: Which synchronize the updaters call.
SrcuGpMode = Literal["normal", "expedited", "mix"]
SRCU_GP_MODES: Final = get_args(SrcuGpMode)

_BUSTED: Final[dict[str | None, int]] = {
    None: lib.KB_SRCU_BUSTED_NONE,
    "no-flip": lib.KB_SRCU_BUSTED_NO_FLIP,
    "wrong-index": lib.KB_SRCU_BUSTED_WRONG_INDEX,
}
_GP: Final[dict[str, int]] = {
    "normal": lib.KB_SRCU_TORTURE_NORMAL,
    "expedited": lib.KB_SRCU_TORTURE_EXPEDITED,
    "mix": lib.KB_SRCU_TORTURE_MIX,
}
_MAX_THREADS: Final = int(lib.KB_SRCU_TORTURE_MAX_THREADS)


@dataclasses.dataclass(frozen=True)
class SrcuTortureResult:
    """What one SRCU torture run observed (totals over all threads).

    Attributes:
        readers, updaters, duration, busted, gp, sleep_every, sleep_us: the configuration.
        reads: read-side sections completed.
        sleeping_reads: of those, the sections that slept.
        updates: elements replaced and freed after a grace period.
        grace_periods: grace periods the run's domain completed.
        expedited: updates that used synchronize_srcu_expedited().
        freed_seen: sections whose element was freed or reused under them.
        errors: ``freed_seen`` (must be 0).
        elapsed: wall time in seconds.
        stopped_early: the run was interrupted (Ctrl-C).
    """

    readers: int
    updaters: int
    duration: float
    busted: str | None
    gp: str
    sleep_every: int
    sleep_us: int
    reads: int
    sleeping_reads: int
    updates: int
    grace_periods: int
    expedited: int
    freed_seen: int
    errors: int
    elapsed: float
    stopped_early: bool = False

    @property
    def passed(self) -> bool:
        """True if no reader saw its element freed or reused under it."""
        return self.errors == 0


def srcu_torture(
    readers: int = 3,
    updaters: int = 1,
    duration: float = 0.5,
    busted: SrcuBustedVariant | None = None,
    *,
    gp: SrcuGpMode = "mix",
    sleep_every: int = 4,
    sleep_us: int = 20,
    max_updates: int = 0,
) -> SrcuTortureResult:
    """Run SRCU readers (some sleeping) against updaters in C threads for ``duration`` seconds.

    Kernel: rcutorture with ``torture_type=srcu``.  C: ``kb_srcu_torture()``.

    Args:
        readers: reader threads (1..64).
        updaters: updater threads (1..64).
        duration: seconds (0 < duration <= 3600).
        busted: None for the real SRCU, or a :data:`SrcuBustedVariant`.
        gp: "normal", "expedited" or "mix" (each update picks one).
        sleep_every: one read section in this many sleeps (1..1000000).
        sleep_us: how long it sleeps, in microseconds (0..100000).
        max_updates: stop after this many updates (0: only ``duration``).

    Context: blocks for about ``duration`` with the GIL released; Ctrl-C on
    the main thread stops the run early with partial counts.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range
            (nothing runs).
    """
    fn = "srcu_torture"
    int_arg(fn, "readers", readers, 1, _MAX_THREADS)
    int_arg(fn, "updaters", updaters, 1, _MAX_THREADS)
    int_arg(fn, "sleep_every", sleep_every, 1, 1_000_000)
    int_arg(fn, "sleep_us", sleep_us, 0, 100_000)
    int_arg(fn, "max_updates", max_updates, 0, 2**62)
    duration = duration_arg(fn, duration)
    busted_arg(fn, busted, get_args(SrcuBustedVariant))
    if gp not in _GP:
        raise ValueError(f"{fn}(): gp must be one of {', '.join(map(repr, _GP))}, not {gp!r}")

    cfg = ffi.new("kb_srcu_torture_config_t *")
    cfg.readers = readers
    cfg.updaters = updaters
    cfg.busted = _BUSTED[busted]
    cfg.gp = _GP[gp]
    cfg.sleep_every = sleep_every
    cfg.sleep_us = sleep_us
    cfg.duration_ns = max(1, int(duration * 1e9))
    cfg.max_updates = max_updates
    res, stopped = run_driver(
        fn, lib.kb_srcu_torture, cfg, "kb_srcu_torture_result_t *", failure=OSError
    )
    return SrcuTortureResult(
        readers=readers,
        updaters=updaters,
        duration=duration,
        busted=busted,
        gp=gp,
        sleep_every=sleep_every,
        sleep_us=sleep_us,
        **counts(res, "reads", "sleeping_reads", "updates", "grace_periods", "expedited"),
        **counts(res, "freed_seen", "errors"),
        elapsed=elapsed(res),
        stopped_early=stopped or bool(res.stopped_early),
    )


def format_srcu_report(result: SrcuTortureResult) -> str:
    """Render a result as rcutorture-style text; the last line says SUCCESS or FAILURE."""
    r = result
    tag = "srcu-torture"
    lines = [
        f"{tag}: readers={r.readers} updaters={r.updaters} duration={r.duration:g}s "
        f"gp={r.gp} sleep_every={r.sleep_every} sleep_us={r.sleep_us} "
        f"busted={r.busted or 'none'}",
        f"{tag}: reads {r.reads} ({rate(r.reads, r.elapsed)}) sleeping {r.sleeping_reads}",
        f"{tag}: updates {r.updates} ({rate(r.updates, r.elapsed)}) grace periods "
        f"{r.grace_periods} expedited {r.expedited} elapsed {r.elapsed:.3f}s",
        f"{tag}: freed or reused under a reader {r.freed_seen}",
    ]
    end = verdict(r.passed)
    if r.passed and r.busted:
        end += f" (but busted={r.busted} was expected to fail: the test is too weak)"
    elif not r.passed:
        end += f": {r.errors} readers saw their element freed under them"
        if r.busted:
            end += f" (expected: busted={r.busted})"
    return finish_report(tag, lines, end, stopped_early=r.stopped_early)
