"""Native RCU list torture: C readers traverse a list and hash buckets while updaters change them.

The C RCU list (csrc/engine/rculist.c) has the semantics of the kernel's
include/linux/rculist.h (Documentation/RCU/listRCU.rst).  This torture, in
the spirit of rcutorture (Documentation/RCU/torture.rst), runs reader
threads that traverse one list (``list_for_each_entry_rcu()``) or one hash
bucket (``hlist_for_each_entry_rcu()``) per read-side section, against
updater threads, serialized by a spinlock, that add, delete and replace
elements and free the removed ones after grace periods (``synchronize_rcu()``
or ``call_rcu()``).  Every element carries a state word (the slab poisons of
include/linux/poison.h once freed or before initialisation) and a pipe age;
a reader that visits an element freed or reused under it, not yet
initialised, or aged by a whole grace period, proves the list or its use
broken.  The real list shows no error; each busted variant breaks the
updaters' side of the contract and must be caught:

* ``"free-no-gp"``: a removed element is freed (poisoned, reused) at once,
  without waiting for a grace period;
* ``"publish-before-init"``: a new element is linked first and its fields
  written a little later (what a plain store instead of
  ``rcu_assign_pointer()``'s release lets a weakly ordered CPU do; done for
  real, so it shows on x86-64 too).

The threads run in C with the GIL released (csrc/tools/rculist_torture.c).
C: ``kb_rculist_torture()``.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

from kbind._bridge.native import ffi, lib
from kbind.rcu_backend import current_backend
from kbind.torture._common import (
    busted_arg,
    counts,
    duration_arg,
    elapsed,
    finish_report,
    int_arg,
    rate,
    result_dict,
    run_driver,
    verdict,
)

__all__ = [
    "RCULIST_BUSTED_VARIANTS",
    "RCULIST_RECLAIM_MODES",
    "RculistTortureResult",
    "format_rculist_report",
    "rculist_torture",
]

#: The deliberately broken variants, spelled as on the command line.
RculistBusted = Literal["free-no-gp", "publish-before-init"]
RculistReclaim = Literal["sync", "call", "mix"]

#: The busted variants and their C numbers.
RCULIST_BUSTED_VARIANTS: Final[dict[str, int]] = {
    "free-no-gp": lib.KB_RCULIST_BUSTED_FREE_NO_GP,
    "publish-before-init": lib.KB_RCULIST_BUSTED_PUBLISH_BEFORE_INIT,
}
#: How removed elements wait for their grace periods: ``synchronize_rcu()``,
#: ``call_rcu()``, or each update picks one.
RCULIST_RECLAIM_MODES: Final[dict[str, int]] = {
    "sync": lib.KB_RCU_TORTURE_SYNC,
    "call": lib.KB_RCU_TORTURE_CALL,
    "mix": lib.KB_RCU_TORTURE_MIX,
}
_MAX_THREADS: Final = int(lib.KB_RCULIST_TORTURE_MAX_THREADS)
_PIPE_LEN: Final = int(lib.KB_RCULIST_TORTURE_PIPE_LEN)


@dataclasses.dataclass(frozen=True)
class RculistTortureResult:
    """What one RCU list torture run observed (totals over all threads).

    Attributes:
        readers, updaters, duration, busted, reclaim, read_spin: the configuration.
        reads: read-side sections, one traversal each (the list or a bucket).
        hlist_reads: of those, traversals of a hash bucket.
        visits: elements the readers visited.
        updates: ``adds + deletes + replaces``.
        adds, deletes, replaces: the updaters' operations.
        grace_periods: grace periods completed during the run (engine-wide).
        callbacks: the run's call_rcu callbacks invoked.
        refills: times an updater found the element pool empty and forced reclamation.
        pipe: the "Reader Pipe" histogram: visits by the visited element's age
            (0 linked, 1 removed, +1 per later grace period; the last bucket
            counts ages >= 9); only ages 0 and 1 are legal.
        freed_seen: visits to an element freed or reused under the reader.
        uninit_seen: visits to a reachable element not yet initialised.
        too_old: visits to an element aged >= 2.
        lost: traversals that did not get back to their head within a bound.
        errors: the sum of the four above (must be 0).
        max_len: the longest the list got.
        elapsed: wall time in seconds.
        backend: the RCU backend the run used (``"builtin"`` or ``"liburcu"``).
        stopped_early: the run was interrupted (Ctrl-C).
    """

    readers: int
    updaters: int
    duration: float
    busted: str | None
    reclaim: str
    read_spin: int
    reads: int
    hlist_reads: int
    visits: int
    updates: int
    adds: int
    deletes: int
    replaces: int
    grace_periods: int
    callbacks: int
    refills: int
    pipe: tuple[int, ...]
    freed_seen: int
    uninit_seen: int
    too_old: int
    lost: int
    errors: int
    max_len: int
    elapsed: float
    backend: str = "builtin"
    stopped_early: bool = False

    @property
    def passed(self) -> bool:
        """True if no reader reached a freed, uninitialised or too-old element."""
        return self.errors == 0

    def as_dict(self) -> dict[str, object]:
        """Return the result as a plain dict (JSON-serialisable)."""
        return result_dict(self, pipe=list(self.pipe), passed=self.passed)


def rculist_torture(
    readers: int = 2,
    updaters: int = 1,
    duration: float = 0.5,
    busted: RculistBusted | None = None,
    *,
    reclaim: RculistReclaim = "mix",
    read_spin: int = 16,
    max_updates: int = 0,
    seed: int = 1,
) -> RculistTortureResult:
    """Run RCU list readers against list updaters in C threads for ``duration`` seconds.

    Kernel: include/linux/rculist.h under rcutorture-style load.
    C: ``kb_rculist_torture()``.

    Args:
        readers: reader threads (1..64).
        updaters: updater threads (0..64; 0 runs the readers alone, a
            baseline for benchmarks, and allows no ``busted``).
        duration: seconds (0 < duration <= 3600).
        busted: None for the real list, or ``"free-no-gp"`` or ``"publish-before-init"``.
        reclaim: ``"sync"`` (synchronize_rcu), ``"call"`` (call_rcu) or ``"mix"``.
        read_spin: ``cpu_relax()`` calls a reader spends on each element it
            visits, between its two checks (0..100000).
        max_updates: stop after this many updates (0: only ``duration``).
        seed: seeds the updaters' choices.

    Returns:
        The observations; ``result.passed`` is False if a reader caught an error.

    Raises:
        TypeError, ValueError: an argument is of the wrong type or out of range
            (nothing runs).
        RuntimeError: called inside an RCU read-side section; this process
            cannot wait for grace periods (a child of fork() over liburcu); or
            the C side could not create its threads or memory.

    Context:
        Blocks for about ``duration`` with the GIL released; Ctrl-C on the
        main thread stops the run early with partial counts.

    Examples:
        >>> rculist_torture(duration=0.1).passed
        True
    """
    fn = "rculist_torture"
    int_arg(fn, "readers", readers, 1, _MAX_THREADS)
    int_arg(fn, "updaters", updaters, 0, _MAX_THREADS)
    int_arg(fn, "read_spin", read_spin, 0, 100_000)
    int_arg(fn, "max_updates", max_updates, 0, 2**62)
    duration = duration_arg(fn, duration)
    busted_arg(fn, busted, RCULIST_BUSTED_VARIANTS)
    if reclaim not in RCULIST_RECLAIM_MODES:
        names = ", ".join(repr(v) for v in RCULIST_RECLAIM_MODES)
        raise ValueError(f"{fn}(): reclaim must be one of {names}, not {reclaim!r}")
    if busted is not None and updaters == 0:
        raise ValueError(f"{fn}(): busted={busted!r} needs at least one updater")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{fn}(): seed must be an int, not {type(seed).__name__}")
    if lib.kb_rcu_read_lock_nesting() > 0:
        raise RuntimeError(f"{fn}() cannot run inside an RCU read-side critical section")

    cfg = ffi.new("kb_rculist_torture_config_t *")
    cfg.readers = readers
    cfg.updaters = updaters
    cfg.busted = lib.KB_RCULIST_BUSTED_NONE if busted is None else RCULIST_BUSTED_VARIANTS[busted]
    cfg.reclaim = RCULIST_RECLAIM_MODES[reclaim]
    cfg.read_spin = read_spin
    cfg.duration_ns = max(1, int(duration * 1e9))
    cfg.max_updates = max_updates
    cfg.seed = seed & 0xFFFF_FFFF_FFFF_FFFF

    def refused(rc: int) -> Exception | None:
        if rc == lib.KB_ENOTSUP:
            return RuntimeError(
                f"{fn}(): this process cannot wait for grace periods on the "
                f"{current_backend()!r} RCU backend (a child of fork()?)"
            )
        if rc not in (lib.KB_OK, lib.KB_EINVAL, lib.KB_ENOMEM, lib.KB_EAGAIN):
            return RuntimeError(f"{fn}(): an RCU call failed in a torture thread (status {rc})")
        return None

    res, stopped = run_driver(
        fn, lib.kb_rculist_torture, cfg, "kb_rculist_torture_result_t *", refused=refused
    )
    return RculistTortureResult(
        readers=readers,
        updaters=updaters,
        duration=duration,
        busted=busted,
        reclaim=reclaim,
        read_spin=read_spin,
        **counts(res, "reads", "hlist_reads", "visits", "updates", "adds", "deletes"),
        **counts(res, "replaces", "grace_periods", "callbacks", "refills"),
        pipe=tuple(int(res.pipe[i]) for i in range(_PIPE_LEN)),
        **counts(res, "freed_seen", "uninit_seen", "too_old", "lost", "errors", "max_len"),
        elapsed=elapsed(res),
        backend=current_backend(),
        stopped_early=stopped or bool(res.stopped_early),
    )


def format_rculist_report(result: RculistTortureResult) -> str:
    """Render a result as rcutorture-style text; the last line says SUCCESS or FAILURE.

    The ``Reader Pipe:`` line counts element visits by the element's age;
    anything past the second bucket is an error.
    """
    r = result
    tag = "rcu-list-torture"
    flavour = "kbind-qsbr" if r.backend == "builtin" else f"{r.backend}-qsbr"
    lines = [
        f"{tag}: torture_type={flavour}-list reclaim={r.reclaim} nreaders={r.readers} "
        f"nupdaters={r.updaters} read_spin={r.read_spin} busted={r.busted or 'none'} "
        f"duration={r.elapsed:.3f}s",
        f"{tag}: reads: {r.reads} ({rate(r.reads, r.elapsed)}; hlist {r.hlist_reads}) "
        f"visits: {r.visits} ({rate(r.visits, r.elapsed)})",
        f"{tag}: updates: {r.updates} ({rate(r.updates, r.elapsed)}; add {r.adds} del "
        f"{r.deletes} replace {r.replaces}) grace-periods: {r.grace_periods} callbacks: "
        f"{r.callbacks} pool-empty: {r.refills} max-len: {r.max_len}",
        f"{tag}: freed-seen: {r.freed_seen} uninit-seen: {r.uninit_seen} "
        f"too-old: {r.too_old} lost: {r.lost}",
        f"{tag}: Reader Pipe:  {' '.join(str(n) for n in r.pipe)}",
    ]
    end = verdict(r.passed)
    if r.passed and r.busted:
        end += f" (but busted={r.busted} was expected to fail: the test is too weak)"
    elif not r.passed:
        lines.append(
            f"{tag}: !!! readers reached elements freed, not yet initialised or aged "
            ">= 2 grace periods while they could still reach them"
        )
        if r.busted:
            end += f" (expected: busted={r.busted})"
    return finish_report(tag, lines, end, stopped_early=r.stopped_early)
