"""Torture tests of kbind's C core, run in threads created in C (no GIL).

:func:`rcu_torture` runs the rcutorture-style test of the QSBR RCU engine
(csrc/tools/rcu_torture.c): reader threads watch the elements they reach inside
read-side sections, updater threads publish and retire elements and reclaim
them after grace periods.  A reader that sees an element freed under it, or
aged by two grace periods while it held it, proves the engine broken.  The
``busted`` argument selects a deliberately broken engine to show the test
catches it.

The test runs over the RCU backend in use (:mod:`kbind.rcu_backend`):
kbind's own engine or liburcu's QSBR flavour.  The ``early_cb`` variant
exists only on the builtin backend (liburcu's call_rcu thread always waits).

Kernel: kernel/rcu/rcutorture.c.  C: kb_rcu_torture().
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal

from kbind._bridge.native import ffi, lib
from kbind.rcu_backend import current_backend
from kbind.torture._common import MAX_DURATION as MAX_DURATION  # still importable from here
from kbind.torture._common import (
    busted_arg,
    counts,
    duration_arg,
    elapsed,
    finish_report,
    int_arg,
    result_dict,
    run_driver,
    verdict,
)

__all__ = [
    "BUSTED_VARIANTS",
    "RECLAIM_MODES",
    "RcuTortureResult",
    "format_rcu_report",
    "rcu_torture",
]

Reclaim = Literal["sync", "call", "mix"]
Busted = Literal["no_wait", "reader", "early_cb"]

#: How retired elements are reclaimed: ``synchronize_rcu()``, ``call_rcu()``, or both.
RECLAIM_MODES: Final[dict[str, int]] = {
    "sync": lib.KB_RCU_TORTURE_SYNC,
    "call": lib.KB_RCU_TORTURE_CALL,
    "mix": lib.KB_RCU_TORTURE_MIX,
}

#: The broken engines: grace periods that do not wait (``no_wait``); readers
#: invisible to grace periods (``reader``); call_rcu callbacks run before the
#: grace period (``early_cb``, caught only when ``reclaim`` uses call_rcu).
BUSTED_VARIANTS: Final[dict[str, int]] = {
    "no_wait": lib.KB_RCU_BUSTED_NO_WAIT,
    "reader": lib.KB_RCU_BUSTED_READER,
    "early_cb": lib.KB_RCU_BUSTED_EARLY_CB,
}

MAX_THREADS: Final = int(lib.KB_RCU_TORTURE_MAX_THREADS)
PIPE_LEN: Final = int(lib.KB_RCU_TORTURE_PIPE_LEN)


@dataclasses.dataclass(frozen=True)
class RcuTortureResult:
    """What one :func:`rcu_torture` run observed.

    Attributes:
        readers: reader threads.
        updaters: updater threads.
        reclaim: the reclamation mode.
        busted: the broken engine variant, or None for the real engine.
        reads: read-side sections completed.
        updates: elements published.
        grace_periods: grace periods completed during the run.
        callbacks: call_rcu callbacks the test's elements went through.
        barriers: times an updater found the pool empty and forced reclamation.
        pipe: the "Reader Pipe" histogram: how many sections saw each element
            age (the last bucket counts ages >= 9); only ages 0 and 1 are legal.
        freed_seen: sections that reached an element freed or reused under them.
        too_old: sections that saw an element age >= 2.
        errors: ``freed_seen + too_old``.
        elapsed: wall time of the run in seconds.
        backend: the RCU backend the run used (``"builtin"`` or ``"liburcu"``).
        stopped_early: the run was interrupted (Ctrl-C) and reports what it
            saw until then.
    """

    readers: int
    updaters: int
    reclaim: str
    busted: str | None
    reads: int
    updates: int
    grace_periods: int
    callbacks: int
    barriers: int
    pipe: tuple[int, ...]
    freed_seen: int
    too_old: int
    errors: int
    elapsed: float
    backend: str = "builtin"
    stopped_early: bool = False

    @property
    def passed(self) -> bool:
        """True if no reader saw a freed or too-old element."""
        return self.errors == 0

    def as_dict(self) -> dict[str, object]:
        """Return the result as a plain dict (JSON-serialisable)."""
        return result_dict(self, pipe=list(self.pipe), passed=self.passed)


def rcu_torture(
    readers: int = 2,
    updaters: int = 1,
    duration: float = 0.5,
    reclaim: Reclaim = "mix",
    busted: Busted | None = None,
    *,
    max_updates: int | None = None,
    read_spin: int | None = None,
    seed: int = 1,
) -> RcuTortureResult:
    """Run the rcutorture-style test of the C RCU engine.

    Args:
        readers: reader threads (1..64).
        updaters: updater threads (1..64).
        duration: seconds to run (0 < duration <= 3600).
        reclaim: ``"sync"`` (synchronize_rcu), ``"call"`` (call_rcu) or ``"mix"``.
        busted: None for the real engine, or a broken variant from
            :data:`BUSTED_VARIANTS` (process-wide for the run's duration).
        max_updates: stop earlier, after this many updates (None: no bound).
        read_spin: loads per read-side section (None: the default, 256).
        seed: seeds the updaters' choices in ``"mix"`` mode.

    Returns:
        The observations; ``result.passed`` is False if the engine was caught.

    Raises:
        TypeError: an argument has the wrong type.
        ValueError: an argument is out of range or unknown, or ``busted``
            names a variant the backend in use does not have.
        RuntimeError: the C side could not create its threads or memory.

    Context:
        Blocks the calling thread for ``duration`` (the GIL is released).
        Ctrl-C stops the run early: the result then reports what it saw so
        far, with ``stopped_early`` set.  Must not run inside a read-side
        section.

    Examples:
        >>> r = rcu_torture(duration=0.1)
        >>> r.passed
        True
    """
    fn = "rcu_torture"
    readers = int_arg(fn, "readers", readers, 1, MAX_THREADS)
    updaters = int_arg(fn, "updaters", updaters, 1, MAX_THREADS)
    duration = duration_arg(fn, duration)
    if reclaim not in RECLAIM_MODES:
        names = ", ".join(repr(v) for v in RECLAIM_MODES)
        raise ValueError(f"{fn}(): reclaim must be one of {names}, not {reclaim!r}")
    busted_arg(fn, busted, BUSTED_VARIANTS)
    if max_updates is not None and (
        isinstance(max_updates, bool) or not isinstance(max_updates, int) or max_updates < 1
    ):
        raise ValueError(f"{fn}(): max_updates must be None or a positive int, not {max_updates!r}")
    if read_spin is not None and (
        isinstance(read_spin, bool)
        or not isinstance(read_spin, int)
        or not 1 <= read_spin <= 1_000_000
    ):
        raise ValueError(
            f"{fn}(): read_spin must be None or an int in 1..1000000, not {read_spin!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{fn}(): seed must be an int, not {type(seed).__name__}")
    if lib.kb_rcu_read_lock_nesting() > 0:
        raise RuntimeError(f"{fn}() cannot run inside an RCU read-side critical section")

    cfg = ffi.new("kb_rcu_torture_config_t *")
    cfg.readers = readers
    cfg.updaters = updaters
    cfg.duration_ms = max(1, round(duration * 1000))
    cfg.max_updates = max_updates or 0
    cfg.reclaim = RECLAIM_MODES[reclaim]
    cfg.busted = BUSTED_VARIANTS[busted] if busted is not None else lib.KB_RCU_BUSTED_NONE
    cfg.read_spin = read_spin or 0
    cfg.seed = seed & 0xFFFF_FFFF_FFFF_FFFF

    def refused(rc: int) -> Exception | None:
        if rc != lib.KB_ENOTSUP:
            return None
        return ValueError(
            f"busted variant {busted!r} does not exist on the {current_backend()!r} RCU backend"
        )

    res, stopped = run_driver(
        fn, lib.kb_rcu_torture, cfg, "kb_rcu_torture_result_t *", refused=refused
    )
    return RcuTortureResult(
        readers=readers,
        updaters=updaters,
        reclaim=reclaim,
        busted=busted,
        **counts(res, "reads", "updates", "grace_periods", "callbacks", "barriers"),
        pipe=tuple(int(res.pipe[i]) for i in range(PIPE_LEN)),
        **counts(res, "freed_seen", "too_old", "errors"),
        elapsed=elapsed(res),
        backend=current_backend(),
        stopped_early=stopped,
    )


def format_rcu_report(result: RcuTortureResult) -> str:
    """Return an rcutorture-like text report of ``result``.

    The ``Reader Pipe:`` line is rcutorture's: how many read-side sections
    saw each element age; anything past the second bucket is an error.

    Examples:
        >>> r = rcu_torture(duration=0.1)
        >>> "Reader Pipe:" in format_rcu_report(r)
        True
    """
    flavour = "kbind-qsbr" if result.backend == "builtin" else f"{result.backend}-qsbr"
    # The command line's spelling of the variant (no-wait), as in `kbind torture --busted`.
    busted = None if result.busted is None else result.busted.replace("_", "-")
    engine = flavour if busted is None else f"{flavour}-busted-{busted}"
    pipe = " ".join(str(n) for n in result.pipe)
    tag = "rcu-torture"
    lines = [
        f"{tag}: torture_type={engine} reclaim={result.reclaim} "
        f"nreaders={result.readers} nupdaters={result.updaters} "
        f"duration={result.elapsed:.3f}s",
        f"{tag}: reads: {result.reads} updates: {result.updates} "
        f"grace-periods: {result.grace_periods} callbacks: {result.callbacks} "
        f"pool-empty: {result.barriers}",
        f"{tag}: freed-seen: {result.freed_seen} too-old: {result.too_old}",
        f"{tag}: Reader Pipe:  {pipe}",
    ]
    if not result.passed:
        lines.append(
            f"{tag}: !!! readers saw elements freed or aged >= 2 grace periods "
            "inside their read-side sections: the grace period did not wait for them"
        )
    return finish_report(tag, lines, verdict(result.passed), stopped_early=result.stopped_early)
