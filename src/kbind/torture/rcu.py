"""Torture tests of kbind's C core, run in threads created in C (no GIL).

:func:`rcu_torture` runs the rcutorture-style test of the QSBR RCU engine
(csrc/tools/rcu_torture.c): reader threads watch the elements they reach inside
read-side sections, updater threads publish and retire elements and reclaim
them after grace periods.  A reader that sees an element freed under it, or
aged by two grace periods while it held it, proves the engine broken.  The
``busted`` argument selects a deliberately broken engine to show the test
catches it.

Beyond the Reader Pipe, the run mirrors more of what the kernel's rcutorture
checks (docs/torture.md says what each report line means): the Reader Batch
and Free-Block Circulation histograms, an update-side mix of synchronize_rcu,
polled grace periods, call_rcu and rcu_barrier (``reclaim="all"``), readers of
several kinds (plain, nested, QSBR, SRCU), the rcu_barrier test (``rtbe``), and
the optional forward-progress flood, stall injection and reader churn
(csrc/tools/rcu_torture_checks.c).

The test runs over the RCU backend in use (:mod:`kbind.rcu_backend`):
kbind's own engine or liburcu's QSBR flavour.  The ``early_cb`` variant
exists only on the builtin backend (liburcu's call_rcu thread always waits);
``barrier`` exists on both (kbind's rcu_barrier() serves both backends).

Kernel: kernel/rcu/rcutorture.c.  C: kb_rcu_torture().
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any, Final, Literal

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
    "READER_KINDS",
    "RECLAIM_MODES",
    "Backlog",
    "BarrierTest",
    "Churn",
    "KindStats",
    "RcuTortureResult",
    "Stall",
    "UpdateMix",
    "format_rcu_report",
    "rcu_torture",
]

Reclaim = Literal["sync", "call", "mix", "all"]
Busted = Literal["no_wait", "reader", "early_cb", "barrier"]

#: How retired elements are reclaimed: ``synchronize_rcu()``, ``call_rcu()``,
#: either at random (``mix``), or (``all``) one of synchronize_rcu, a polled
#: cookie (get_state/poll_state, then cond_synchronize_rcu), call_rcu and
#: call_rcu followed by rcu_barrier, chosen per update.
RECLAIM_MODES: Final[dict[str, int]] = {
    "sync": lib.KB_RCU_TORTURE_SYNC,
    "call": lib.KB_RCU_TORTURE_CALL,
    "mix": lib.KB_RCU_TORTURE_MIX,
    "all": lib.KB_RCU_TORTURE_ALL,
}

#: The broken engines: grace periods that do not wait (``no_wait``); readers
#: invisible to grace periods (``reader``); call_rcu callbacks run before the
#: grace period (``early_cb``, caught only when ``reclaim`` uses call_rcu);
#: rcu_barrier() returning without waiting (``barrier``, caught by the
#: rcu_barrier test as ``rtbe``).
BUSTED_VARIANTS: Final[dict[str, int]] = {
    "no_wait": lib.KB_RCU_BUSTED_NO_WAIT,
    "reader": lib.KB_RCU_BUSTED_READER,
    "early_cb": lib.KB_RCU_BUSTED_EARLY_CB,
    "barrier": lib.KB_RCU_BUSTED_BARRIER,
}

#: Reader kinds, taken in turn by the reader threads: plain sections; nested
#: sections (2-3 deep); QSBR readers that hold elements across sections until
#: their next explicit quiescent state; SRCU readers of their own pointer,
#: whose elements are freed after synchronize_srcu().
READER_KINDS: Final[dict[str, int]] = {
    "plain": lib.KB_RCU_TORTURE_READER_PLAIN,
    "nested": lib.KB_RCU_TORTURE_READER_NESTED,
    "qsbr": lib.KB_RCU_TORTURE_READER_QSBR,
    "srcu": lib.KB_RCU_TORTURE_READER_SRCU,
}

MAX_THREADS: Final = int(lib.KB_RCU_TORTURE_MAX_THREADS)
PIPE_LEN: Final = int(lib.KB_RCU_TORTURE_PIPE_LEN)
FLOOD_CAP: Final = int(lib.KB_RCU_TORTURE_FLOOD_CAP)


@dataclasses.dataclass(frozen=True)
class UpdateMix:
    """The update-side primitives used, one per update.

    Attributes:
        sync: updates that waited in synchronize_rcu().
        poll: updates that took a cookie (get_state_synchronize_rcu) and polled it.
        poll_done: of those, polls that found the grace period already over.
        cond: of those, cond_synchronize_rcu() calls after a poll said not yet.
        call: updates that retired their element with call_rcu().
        barrier: updates that used call_rcu() then rcu_barrier().
    """

    sync: int = 0
    poll: int = 0
    poll_done: int = 0
    cond: int = 0
    call: int = 0
    barrier: int = 0


@dataclasses.dataclass(frozen=True)
class BarrierTest:
    """The rcu_barrier test (rcutorture's ``rtbe``).

    Attributes:
        enabled: whether it ran.
        tests: rcu_barrier() calls checked.
        callbacks: callbacks queued before those calls.
        rtbe: calls that returned before all their callbacks had run (errors).
    """

    enabled: bool = False
    tests: int = 0
    callbacks: int = 0
    rtbe: int = 0


@dataclasses.dataclass(frozen=True)
class Backlog:
    """The forward-progress check: a call_rcu flood and the backlog it built.

    Attributes:
        enabled: whether the flood ran.
        posted: flood callbacks queued.
        invoked: of those, invoked while the flood ran.
        peak: most flood callbacks queued and not yet invoked.
        peak_pending: most callbacks the engine counted pending meanwhile.
        cap: the most the flood keeps in flight (it re-posts invoked ones).
        cap_hits: times the flood found all its callbacks in flight.
        grace_periods: grace periods completed while the flood ran.
        gp_rate: those per second of flood.
        elapsed: how long the flood ran, in seconds.
        drain: how long its backlog took to drain afterwards, in seconds.
        errors: 1 if no grace period or no flood callback completed, or the
            backlog did not drain, within 10 s.
    """

    enabled: bool = False
    posted: int = 0
    invoked: int = 0
    peak: int = 0
    peak_pending: int = 0
    cap: int = FLOOD_CAP
    cap_hits: int = 0
    grace_periods: int = 0
    gp_rate: float = 0.0
    elapsed: float = 0.0
    drain: float = 0.0
    errors: int = 0


@dataclasses.dataclass(frozen=True)
class Stall:
    """The stall check: one reader held its section past the stall timeout.

    Attributes:
        enabled: whether the check ran.
        injected: whether the stalling reader held its section.
        detected: whether kb_rcu_stalled_readers() named it (thread id and name).
        name: the thread name the engine reported (``rcu_torture_stall``).
        tid: the stalling thread's id.
        timeout: the stall timeout used for the run, in seconds.
        blocked: the grace period's age when the engine named the reader, in seconds.
        held: how long the reader held its section, in seconds.
        engine_stalls: how much kb_rcu_stall_count() grew during the run.
        errors: 1 if the stall was injected and never reported.
    """

    enabled: bool = False
    injected: bool = False
    detected: bool = False
    name: str = ""
    tid: int = 0
    timeout: float = 0.0
    blocked: float = 0.0
    held: float = 0.0
    engine_stalls: int = 0
    errors: int = 0


@dataclasses.dataclass(frozen=True)
class Churn:
    """Readers coming and going (the analogue of CPU hotplug).

    Attributes:
        enabled: whether the churn ran (short-lived readers, random
            unregister/register); offline/online transitions are counted always.
        registrations: kb_rcu_register_thread() calls by readers.
        unregistrations: kb_rcu_unregister_thread() calls by readers.
        offline: readers going offline.
        online: readers coming back online.
        exits: short-lived reader threads that exited.
        restarts: short-lived reader threads started.
    """

    enabled: bool = False
    registrations: int = 0
    unregistrations: int = 0
    offline: int = 0
    online: int = 0
    exits: int = 0
    restarts: int = 0


@dataclasses.dataclass(frozen=True)
class KindStats:
    """What the readers of one kind did.

    Attributes:
        readers: threads of that kind (the churn's short-lived ones included).
        reads: their read-side sections.
        errors: their sections that saw an element freed, reused or too old.
    """

    readers: int = 0
    reads: int = 0
    errors: int = 0


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
        errors: ``freed_seen + too_old`` plus the rcu_barrier test's ``rtbe``
            and the flood's and the stall check's errors.
        elapsed: wall time of the run in seconds.
        backend: the RCU backend the run used (``"builtin"`` or ``"liburcu"``).
        stopped_early: the run was interrupted (Ctrl-C) and reports what it
            saw until then.
        reader_batch: the "Reader Batch" histogram: how many sections saw
            0, 1, ... (last bucket: >= 9) grace periods complete while they ran.
        circulation: the "Free-Block Circulation": how many elements reached
            each age 0..PIPE_LEN (0: published, 1: retired, PIPE_LEN: freed).
        update_mix: the update-side primitives used.
        barrier_test: the rcu_barrier test.
        backlog: the forward-progress flood.
        stall: the stall check.
        churn: reader registrations, offline/online transitions and exits.
        reader_kinds: per reader kind asked for.
        srcu_updates: SRCU elements replaced (``srcu`` readers only).
        srcu_grace_periods: grace periods of the run's SRCU domain.
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
    reader_batch: tuple[int, ...] = ()
    circulation: tuple[int, ...] = ()
    update_mix: UpdateMix = UpdateMix()
    barrier_test: BarrierTest = BarrierTest()
    backlog: Backlog = Backlog()
    stall: Stall = Stall()
    churn: Churn = Churn()
    reader_kinds: dict[str, KindStats] = dataclasses.field(default_factory=dict)
    srcu_updates: int = 0
    srcu_grace_periods: int = 0

    @property
    def passed(self) -> bool:
        """True if no reader saw a freed or too-old element and every check held."""
        return self.errors == 0

    @property
    def rtbe(self) -> int:
        """The rcu_barrier test's errors (rcutorture's ``rtbe``)."""
        return self.barrier_test.rtbe

    def as_dict(self) -> dict[str, object]:
        """Return the result as a plain dict (JSON-serialisable)."""
        return result_dict(
            self,
            pipe=list(self.pipe),
            reader_batch=list(self.reader_batch),
            circulation=list(self.circulation),
            rtbe=self.rtbe,
            passed=self.passed,
        )


def _kinds_arg(fn: str, kinds: str | Iterable[str]) -> tuple[str, ...]:
    """Return the reader kinds named (a comma list or an iterable), checked and deduplicated."""
    names = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    names = [n.strip() for n in names]
    bad = [n for n in names if n not in READER_KINDS]
    if bad or not names:
        listed = ", ".join(repr(k) for k in READER_KINDS)
        raise ValueError(
            f"{fn}(): reader_kinds must name some of {listed}, not {', '.join(map(repr, bad))}"
            if bad
            else f"{fn}(): reader_kinds must name at least one of {listed}"
        )
    return tuple(k for k in READER_KINDS if k in names)  # the C side's order


def _optional_int(fn: str, name: str, value: object, lo: int, hi: int) -> int:
    """Return 0 for None, else ``value`` checked to be an int in ``[lo, hi]``."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{fn}(): {name} must be None or an int in {lo}..{hi}, not {value!r}")
    return value


def _build(res: Any, kinds: tuple[str, ...], checks: dict[str, bool]) -> dict[str, Any]:
    """Return the new parts of a result from the C result struct ``res``."""
    mix = UpdateMix(**counts(res.mix, "sync", "poll", "poll_done", "cond", "call", "barrier"))
    f = res.flood
    flood_s = int(f.elapsed_ns) / 1e9
    backlog = Backlog(
        enabled=checks["flood"],
        **counts(f, "posted", "invoked"),
        peak=int(f.peak_backlog),
        peak_pending=int(f.peak_pending),
        cap_hits=int(f.cap_hits),
        grace_periods=int(f.grace_periods),
        gp_rate=int(f.grace_periods) / flood_s if flood_s > 0 else 0.0,
        elapsed=flood_s,
        drain=int(f.drain_ns) / 1e9,
        errors=int(f.errors),
    )
    s = res.stall
    stall = Stall(
        enabled=checks["stall"],
        injected=bool(s.injected),
        detected=bool(s.detected),
        name=ffi.string(s.name).decode("utf-8", "replace"),
        tid=int(s.tid),
        timeout=int(s.timeout_ns) / 1e9,
        blocked=int(s.blocked_ns) / 1e9,
        held=int(s.held_ns) / 1e9,
        engine_stalls=int(s.stalls),
        errors=int(s.errors),
    )
    churn_fields = ("registrations", "unregistrations", "offline", "online", "exits", "restarts")
    return {
        "reader_batch": tuple(int(res.batch[i]) for i in range(PIPE_LEN)),
        "circulation": tuple(int(res.circulation[i]) for i in range(PIPE_LEN + 1)),
        "update_mix": mix,
        "barrier_test": BarrierTest(
            enabled=checks["barrier_test"], **counts(res.barrier, "tests", "callbacks", "rtbe")
        ),
        "backlog": backlog,
        "stall": stall,
        "churn": Churn(enabled=checks["churn"], **counts(res.churn, *churn_fields)),
        "reader_kinds": {
            k: KindStats(**counts(res.kinds[i], "readers", "reads", "errors"))
            for i, k in enumerate(READER_KINDS)
            if k in kinds
        },
        **counts(res, "srcu_updates", "srcu_grace_periods"),
    }


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
    reader_kinds: str | Iterable[str] = ("plain",),
    barrier_test: bool = True,
    flood: bool = False,
    stall: bool = False,
    stall_timeout: float = 0.02,
    churn: bool = False,
) -> RcuTortureResult:
    """Run the rcutorture-style test of the C RCU engine.

    Args:
        readers: reader threads (1..64).
        updaters: updater threads (1..64).
        duration: seconds to run (0 < duration <= 3600).
        reclaim: ``"sync"`` (synchronize_rcu), ``"call"`` (call_rcu), ``"mix"``
            (either) or ``"all"`` (synchronize_rcu, polled cookies with
            cond_synchronize_rcu, call_rcu, call_rcu + rcu_barrier).
        busted: None for the real engine, or a broken variant from
            :data:`BUSTED_VARIANTS` (process-wide for the run's duration).
        max_updates: stop earlier, after this many updates (None: no bound).
        read_spin: loads per read-side section (None: the default, 256).
        seed: seeds the updaters' and readers' choices.
        reader_kinds: the kinds of :data:`READER_KINDS` the readers take in
            turn (a comma list or an iterable of names).
        barrier_test: run the rcu_barrier test thread (``rtbe``).
        flood: flood call_rcu for a quarter of the run (forward progress).
        stall: make one reader hold its section past ``stall_timeout``; the
            engine's stall report must name it.  The run lasts until that
            check has finished (at most 50 stall timeouts).
        stall_timeout: the engine's stall timeout during the run, in seconds
            (0.001..1; the previous one is restored).
        churn: start short-lived readers one after another, and make the
            readers unregister/register and go offline/online at random.

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
    spin = _optional_int(fn, "read_spin", read_spin, 1, 1_000_000)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{fn}(): seed must be an int, not {type(seed).__name__}")
    kinds = _kinds_arg(fn, reader_kinds)
    checks = {"barrier_test": barrier_test, "flood": flood, "stall": stall, "churn": churn}
    for name, on in checks.items():
        if not isinstance(on, bool):
            raise TypeError(f"{fn}(): {name} must be a bool, not {type(on).__name__}")
    if isinstance(stall_timeout, bool) or not isinstance(stall_timeout, int | float):
        raise TypeError(
            f"{fn}(): stall_timeout must be seconds, not {type(stall_timeout).__name__}"
        )
    if not 0.001 <= stall_timeout <= 1.0:
        raise ValueError(
            f"{fn}(): stall_timeout must be in [0.001, 1] seconds, not {stall_timeout}"
        )
    if lib.kb_rcu_read_lock_nesting() > 0:
        raise RuntimeError(f"{fn}() cannot run inside an RCU read-side critical section")

    cfg = ffi.new("kb_rcu_torture_config_t *")
    cfg.readers = readers
    cfg.updaters = updaters
    cfg.duration_ms = max(1, round(duration * 1000))
    cfg.max_updates = max_updates or 0
    cfg.reclaim = RECLAIM_MODES[reclaim]
    cfg.busted = BUSTED_VARIANTS[busted] if busted is not None else lib.KB_RCU_BUSTED_NONE
    cfg.read_spin = spin
    cfg.seed = seed & 0xFFFF_FFFF_FFFF_FFFF
    cfg.reader_kinds = sum(READER_KINDS[k] for k in kinds)
    cfg.checks = (
        (lib.KB_RCU_TORTURE_CHECK_BARRIER if barrier_test else 0)
        | (lib.KB_RCU_TORTURE_CHECK_FLOOD if flood else 0)
        | (lib.KB_RCU_TORTURE_CHECK_STALL if stall else 0)
        | (lib.KB_RCU_TORTURE_CHECK_CHURN if churn else 0)
    )
    cfg.stall_timeout_ms = max(1, round(stall_timeout * 1000))

    def refused(rc: int) -> Exception | None:
        if rc != lib.KB_ENOTSUP:
            return None
        return ValueError(
            f"busted variant {busted!r} does not exist on the {current_backend()!r} RCU backend"
        )

    res, stopped = run_driver(
        fn, lib.kb_rcu_torture, cfg, "kb_rcu_torture_result_t *", refused=refused
    )
    fields: dict[str, Any] = counts(
        res, "reads", "updates", "grace_periods", "callbacks", "barriers", "freed_seen",
        "too_old", "errors",
    )  # fmt: skip
    return RcuTortureResult(
        readers=readers,
        updaters=updaters,
        reclaim=reclaim,
        busted=busted,
        pipe=tuple(int(res.pipe[i]) for i in range(PIPE_LEN)),
        elapsed=elapsed(res),
        backend=current_backend(),
        stopped_early=stopped,
        **fields,
        **_build(res, kinds, checks),
    )


def _ms(seconds: float) -> str:
    """Return ``seconds`` as milliseconds with one decimal (``20.1 ms``)."""
    return f"{seconds * 1000:.1f} ms"


def _check_lines(tag: str, r: RcuTortureResult) -> list[str]:
    """Return the report lines of the rcu_barrier test, the flood, the stall and the churn."""
    lines: list[str] = []
    bt = r.barrier_test
    if bt.enabled:
        lines.append(f"{tag}: rtbe: {bt.rtbe} barrier: {bt.tests}/{bt.callbacks}:{bt.rtbe}")
    b = r.backlog
    if b.enabled:
        lines.append(
            f"{tag}: fwd-prog: flood {_ms(b.elapsed)} posted: {b.posted} "
            f"invoked: {b.invoked} peak-backlog: {b.peak} (cap {b.cap}, hits {b.cap_hits}) "
            f"peak-pending: {b.peak_pending} gps: {b.grace_periods} ({b.gp_rate:.0f}/s) "
            f"drain: {_ms(b.drain)}"
        )
    s = r.stall
    if s.enabled:
        if not s.injected:
            lines.append(f"{tag}: stall: not injected (the run ended first)")
        else:
            seen = (
                f"named by the engine as '{s.name}' (tid {s.tid}) after {_ms(s.blocked)}"
                if s.detected
                else "NOT named by the engine"
            )
            lines.append(
                f"{tag}: stall: reader tid {s.tid} held its section {_ms(s.held)} "
                f"(stall timeout {_ms(s.timeout)}): {seen}; engine stall count +{s.engine_stalls}"
            )
    c = r.churn
    if c.enabled:
        lines.append(
            f"{tag}: churn: registrations: {c.registrations} unregistrations: "
            f"{c.unregistrations} offline: {c.offline} online: {c.online} "
            f"exits: {c.exits} restarts: {c.restarts}"
        )
    return lines


def _failure_lines(tag: str, r: RcuTortureResult) -> list[str]:
    """Return the ``!!!`` lines that say what failed."""
    lines = []
    if r.freed_seen or r.too_old:
        lines.append(
            f"{tag}: !!! readers saw elements freed or aged >= 2 grace periods "
            "inside their read-side sections: the grace period did not wait for them"
        )
    if r.barrier_test.rtbe:
        lines.append(
            f"{tag}: !!! rcu_barrier() returned before the callbacks queued before it had run "
            f"({r.barrier_test.rtbe} of {r.barrier_test.tests} tests)"
        )
    if r.backlog.errors:
        lines.append(
            f"{tag}: !!! forward progress: no grace period or no flood callback completed, "
            "or the backlog did not drain, within 10 s"
        )
    if r.stall.errors:
        lines.append(
            f"{tag}: !!! the stalled reader (tid {r.stall.tid}) was never named by "
            "kb_rcu_stalled_readers()"
        )
    return lines


def format_rcu_report(result: RcuTortureResult) -> str:
    """Return an rcutorture-like text report of ``result``.

    The ``Reader Pipe:`` line is rcutorture's: how many read-side sections
    saw each element age; anything past the second bucket is an error.
    ``Reader Batch:`` and ``Free-Block Circulation:`` follow it, then the
    update mix, the reader kinds and the optional checks (docs/torture.md).

    Examples:
        >>> r = rcu_torture(duration=0.1)
        >>> "Reader Pipe:" in format_rcu_report(r)
        True
    """
    flavour = "kbind-qsbr" if result.backend == "builtin" else f"{result.backend}-qsbr"
    # The command line's spelling of the variant (no-wait), as in `kbind torture --busted`.
    busted = None if result.busted is None else result.busted.replace("_", "-")
    engine = flavour if busted is None else f"{flavour}-busted-{busted}"
    tag = "rcu-torture"

    def row(values: tuple[int, ...]) -> str:
        return " ".join(str(n) for n in values)

    m = result.update_mix
    kinds = "; ".join(
        f"{k}: {v.readers} threads {v.reads} reads {v.errors} errors"
        for k, v in result.reader_kinds.items()
    )
    if "srcu" in result.reader_kinds:
        kinds += f" (srcu-updates: {result.srcu_updates} srcu-gps: {result.srcu_grace_periods})"
    lines = [
        f"{tag}: torture_type={engine} reclaim={result.reclaim} "
        f"nreaders={result.readers} nupdaters={result.updaters} "
        f"duration={result.elapsed:.3f}s",
        f"{tag}: reads: {result.reads} updates: {result.updates} "
        f"grace-periods: {result.grace_periods} callbacks: {result.callbacks} "
        f"pool-empty: {result.barriers}",
        f"{tag}: freed-seen: {result.freed_seen} too-old: {result.too_old}",
        f"{tag}: Reader Pipe:  {row(result.pipe)}",
        f"{tag}: Reader Batch:  {row(result.reader_batch)}",
        f"{tag}: Free-Block Circulation:  {row(result.circulation)}",
        f"{tag}: update-mix: sync: {m.sync} poll: {m.poll} (done {m.poll_done}, "
        f"cond {m.cond}) call: {m.call} barrier: {m.barrier}",
        f"{tag}: reader-kinds: {kinds}",
        *_check_lines(tag, result),
        *_failure_lines(tag, result),
    ]
    return finish_report(tag, lines, verdict(result.passed), stopped_early=result.stopped_early)
