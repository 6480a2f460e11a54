"""Litmus tests on the real CPU: which reorderings happen, with and without barriers.

Like herdtools' ``litmus7``, built in: csrc/tools/litmus.c runs a classic pattern
(SB, MP, LB, R, S, 2+2W, WRC, IRIW) many times in C threads pinned to
different CPUs and released together each iteration, and counts every final
outcome.  Each test comes in the variants that matter - ``once``
(marked accesses only: ``READ_ONCE``/``WRITE_ONCE``; the LKMM's "plain"
accesses are unmarked ones, which these tests never use), with ``smp_mb()``, with ``smp_wmb()``/
``smp_rmb()``, with release/acquire, with a fully ordered atomic RMW - and
each variant carries the verdict the Linux-kernel memory model gives its
``exists`` clause (as tools/memory-model/litmus-tests state them):
``Sometimes`` (allowed) or ``Never`` (forbidden).

A run's verdict is one of: ``observed`` (allowed and seen), ``not observed``
(allowed, not seen in N iterations: this CPU is stronger than the LKMM),
``never observed`` (forbidden, and rightly not seen), or
``FORBIDDEN BUT OBSERVED`` - a broken barrier, which makes the ``kbind
litmus`` command exit non-zero.  An allowed outcome not observed comes with
a :attr:`LitmusResult.note` saying why: on x86-64, TSO is stronger than the
LKMM (it reorders a store only with a later load, so only SB and R can show
their outcome); with more threads than usable CPUs the threads take turns
and rarely race, so "not observed" means little.

Variants whose LKMM verdict is not settled by the kernel's own litmus tests
(2+2W with only ``smp_wmb()`` or release stores) are left out rather than
guessed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, Literal

from kbind._bridge.native import ffi, lib
from kbind.barrier import arch

__all__ = [
    "TESTS",
    "VARIANTS",
    "LitmusResult",
    "LitmusTest",
    "format_results",
    "run",
    "usable_cpus",
]

Verdict = Literal["Sometimes", "Never"]

#: Tests whose ``exists`` outcome needs only a store reordered after a later
#: load - the one reordering x86-64's TSO performs (its store buffer).
TSO_SHOWS: Final = frozenset({"SB", "R"})

#: Variants that keep a store from passing a later load (a full fence).
_FULL_FENCE: Final = frozenset({"mb", "atomic"})

#: Variant name -> (C constant, what separates each thread's two accesses).
VARIANTS: Final[dict[str, tuple[int, str]]] = {
    "once": (lib.KB_LITMUS_ONCE, "READ_ONCE/WRITE_ONCE only (a compiler barrier, no CPU fence)"),
    "mb": (lib.KB_LITMUS_MB, "smp_mb()"),
    "wmb-rmb": (lib.KB_LITMUS_WMB_RMB, "smp_wmb() between stores, smp_rmb() between loads"),
    "rel-acq": (
        lib.KB_LITMUS_REL_ACQ,
        "smp_load_acquire() for first loads, smp_store_release() for last stores",
    ),
    "atomic": (lib.KB_LITMUS_ATOMIC, "a fully ordered atomic RMW (atomic64_fetch_add())"),
}  # fmt: skip


@dataclass(frozen=True)
class LitmusTest:
    """One litmus pattern: its code, observables and the LKMM verdict per variant.

    Attributes:
        name: the kernel's short name ("SB", "MP", ...).
        code: the constant passed to C.
        threads: how many threads it uses.
        program: the pattern, one thread per entry.
        observables: names of the outcome bits, with the two values each can
            take: ``(name, value when bit clear, value when bit set)``.
        exists: the outcome the LKMM clause asks about (an outcome index).
        verdicts: variant name -> LKMM verdict for ``exists``.
        default_iterations: a default run length that takes about a second.
    """

    name: str
    code: int
    threads: int
    program: tuple[str, ...]
    observables: tuple[tuple[str, int, int], ...]
    exists: int
    verdicts: dict[str, Verdict]
    default_iterations: int = 200_000

    def label(self, outcome: int) -> str:
        """Render an outcome index as ``r0=0 r1=1`` style text."""
        return " ".join(
            f"{name}={hi if outcome >> i & 1 else lo}"
            for i, (name, lo, hi) in enumerate(self.observables)
        )


_S: Final[Verdict] = "Sometimes"
_N: Final[Verdict] = "Never"

TESTS: Final[dict[str, LitmusTest]] = {
    t.name: t
    for t in (
        LitmusTest(
            "SB", lib.KB_LITMUS_SB, 2,
            ("P0: x=1; r0=y", "P1: y=1; r1=x"),
            (("r0", 0, 1), ("r1", 0, 1)), 0b00,
            {"once": _S, "mb": _N, "wmb-rmb": _S, "rel-acq": _S, "atomic": _N},
        ),
        LitmusTest(
            "MP", lib.KB_LITMUS_MP, 2,
            ("P0: x=1; y=1", "P1: r0=y; r1=x"),
            (("r0", 0, 1), ("r1", 0, 1)), 0b01,
            {"once": _S, "mb": _N, "wmb-rmb": _N, "rel-acq": _N, "atomic": _N},
        ),
        LitmusTest(
            "LB", lib.KB_LITMUS_LB, 2,
            ("P0: r0=x; y=1", "P1: r1=y; x=1"),
            (("r0", 0, 1), ("r1", 0, 1)), 0b11,
            {"once": _S, "mb": _N, "wmb-rmb": _S, "rel-acq": _N, "atomic": _N},
        ),
        LitmusTest(
            "R", lib.KB_LITMUS_R, 2,
            ("P0: x=1; y=1", "P1: y=2; r0=x"),
            (("r0", 0, 1), ("y", 1, 2)), 0b10,
            {"once": _S, "mb": _N, "wmb-rmb": _S, "rel-acq": _S, "atomic": _N},
        ),
        LitmusTest(
            "S", lib.KB_LITMUS_S, 2,
            ("P0: x=2; y=1", "P1: r0=y; x=1"),
            (("r0", 0, 1), ("x", 2, 1)), 0b01,
            {"once": _S, "mb": _N, "wmb-rmb": _S, "rel-acq": _N, "atomic": _N},
        ),
        LitmusTest(
            "2+2W", lib.KB_LITMUS_2_2W, 2,
            ("P0: x=1; y=2", "P1: y=1; x=2"),
            (("x", 1, 2), ("y", 1, 2)), 0b00,
            {"once": _S, "mb": _N, "atomic": _N},
        ),
        LitmusTest(
            "WRC", lib.KB_LITMUS_WRC, 3,
            ("P0: x=1", "P1: r0=x; y=1", "P2: r1=y; r2=x"),
            (("r0", 0, 1), ("r1", 0, 1), ("r2", 0, 1)), 0b011,
            {"once": _S, "mb": _N, "wmb-rmb": _S, "rel-acq": _N, "atomic": _N},
            default_iterations=10_000,
        ),
        LitmusTest(
            "IRIW", lib.KB_LITMUS_IRIW, 4,
            ("P0: x=1", "P1: y=1", "P2: r0=x; r1=y", "P3: r2=y; r3=x"),
            (("r0", 0, 1), ("r1", 0, 1), ("r2", 0, 1), ("r3", 0, 1)), 0b0101,
            {"once": _S, "mb": _N, "wmb-rmb": _S, "rel-acq": _S, "atomic": _N},
            default_iterations=5_000,
        ),
    )
}  # fmt: skip


@dataclass
class LitmusResult:
    """What one run of one test and variant observed.

    Attributes:
        test: the test's name.
        variant: the variant's name.
        lkmm: the LKMM verdict for the ``exists`` outcome.
        iterations: iterations run.
        histogram: outcome label -> count (only outcomes seen).
        exists_count: how often the ``exists`` outcome was seen.
        elapsed: seconds.
        cpus: usable CPUs.
        busted_barrier: whether the deliberately broken smp_mb() was used.
        exists_label: the ``exists`` outcome as text (``r0=0 r1=0``).
        arch: the architecture the run was compiled for (``x86_64``, ...).
    """

    test: str
    variant: str
    lkmm: Verdict
    iterations: int
    histogram: dict[str, int]
    exists_count: int
    elapsed: float
    cpus: int
    busted_barrier: bool = False
    exists_label: str = field(default="")
    arch: str = field(default_factory=arch)

    @property
    def threads(self) -> int:
        """How many threads the test runs."""
        return TESTS[self.test].threads

    @property
    def threads_exceed_cpus(self) -> bool:
        """More threads than usable CPUs: they take turns, so they rarely race."""
        return self.threads > self.cpus

    @property
    def note(self) -> str:
        """Why an allowed outcome was not observed (empty when it was, or is forbidden)."""
        if self.lkmm == "Never" or self.exists_count:
            return ""
        tso_shows = self.test in TSO_SHOWS and self.variant not in _FULL_FENCE
        if self.arch != "x86_64" or self.busted_barrier:
            why = (
                f"not seen in {self.iterations} iterations: this CPU may be stronger than "
                "the LKMM, or the run too short"
            )
        elif tso_shows:
            why = (
                "x86-64 can show this (a store waits in the store buffer while a later load "
                f"runs) but did not in {self.iterations} iterations: run longer"
            )
        else:
            why = (
                "x86-64 is TSO, stronger than the LKMM: it reorders a store only with a later "
                "load (the store buffer), so this outcome the LKMM allows cannot appear here"
            )
        if self.threads_exceed_cpus:
            why += (
                f"; and {self.threads} threads on {self.cpus} usable CPU(s) take turns instead "
                "of racing, so 'not observed' means little here"
            )
        return why

    @property
    def forbidden_observed(self) -> bool:
        """The LKMM forbids the outcome and the CPU produced it: a broken barrier."""
        return self.lkmm == "Never" and self.exists_count > 0

    @property
    def verdict(self) -> str:
        """``observed``, ``not observed``, ``never observed`` or ``FORBIDDEN BUT OBSERVED``."""
        if self.lkmm == "Never":
            return "FORBIDDEN BUT OBSERVED" if self.exists_count else "never observed"
        return "observed" if self.exists_count else "not observed"

    def as_dict(self) -> dict[str, object]:
        """Return the result as a JSON-ready dict."""
        return {
            "test": self.test,
            "variant": self.variant,
            "lkmm": self.lkmm,
            "exists": self.exists_label,
            "exists_count": self.exists_count,
            "iterations": self.iterations,
            "verdict": self.verdict,
            "histogram": self.histogram,
            "elapsed_s": round(self.elapsed, 4),
            "cpus": self.cpus,
            "threads": self.threads,
            "threads_exceed_cpus": self.threads_exceed_cpus,
            "busted_barrier": self.busted_barrier,
            "note": self.note,
        }


def usable_cpus() -> int:
    """How many CPUs this process may run on (litmus tests need at least two)."""
    return int(lib.kb_litmus_usable_cpus())


def run(
    test: str,
    variant: str = "once",
    iterations: int | None = None,
    *,
    max_seconds: float = 60.0,
    until_observed: int = 0,
    busted_barrier: bool = False,
    pin: bool = True,
) -> LitmusResult:
    """Run one litmus test variant on this CPU and count its outcomes.

    Args:
        test: a name from :data:`TESTS` ("SB", "MP", ...).
        variant: a name from the test's ``verdicts`` ("once", "mb", ...).
        iterations: how many times to run the pattern (default: the test's).
        max_seconds: stop after this long whatever the count (a bound).
        until_observed: if > 0, stop as soon as the ``exists`` outcome has
            been seen this many times (to show an allowed outcome quickly).
        busted_barrier: compile ``smp_mb()`` (and the atomic variant's RMW) as
            a compiler barrier only - the deliberate bug the test must catch.
        pin: pin thread i to the i-th usable CPU.

    Context: blocks (GIL released) for at most ``max_seconds``.

    Raises:
        ValueError: unknown test or variant, or a bound that is not positive.
    """
    if test not in TESTS:
        raise ValueError(f"unknown litmus test {test!r}; choose from {', '.join(TESTS)}")
    spec = TESTS[test]
    if variant not in spec.verdicts:
        raise ValueError(
            f"test {test} has no variant {variant!r}; choose from {', '.join(spec.verdicts)}"
        )
    n = spec.default_iterations if iterations is None else iterations
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 10**10:
        raise ValueError(f"iterations must be an int in [1, 10**10], not {n!r}")
    if not 0 < max_seconds <= 3600:
        raise ValueError(f"max_seconds must be in (0, 3600], not {max_seconds!r}")
    if until_observed < 0:
        raise ValueError("until_observed must be >= 0")
    cfg = ffi.new(
        "kb_litmus_config_t *",
        {
            "test": spec.code,
            "variant": VARIANTS[variant][0],
            "iterations": n,
            "max_ns": max(1, int(max_seconds * 1e9)),  # 0 would mean "no limit" in C
            "stop_outcome": spec.exists if until_observed else -1,
            "stop_count": until_observed,
            "busted_barrier": int(busted_barrier),
            "pin": int(pin),
        },
    )
    res = ffi.new("kb_litmus_result_t *")
    rc = lib.kb_litmus_run(cfg, res)
    if rc != lib.KB_OK:
        raise RuntimeError(f"litmus run failed to start its threads (status {rc})")
    counts = list(res.counts)
    histogram = {spec.label(o): int(c) for o, c in enumerate(counts) if c}
    return LitmusResult(
        test=test,
        variant=variant,
        lkmm=spec.verdicts[variant],
        iterations=int(res.iterations),
        histogram=histogram,
        exists_count=int(counts[spec.exists]),
        elapsed=res.elapsed_ns / 1e9,
        cpus=int(res.cpus),
        busted_barrier=busted_barrier,
        exists_label=spec.label(spec.exists),
    )


def format_results(results: Iterable[LitmusResult], histograms: bool = True) -> str:
    """Render results as text: per test, the pattern, then one line per variant."""
    lines: list[str] = []
    current = None
    for r in results:
        spec = TESTS[r.test]
        if r.test != current:
            current = r.test
            lines.append(f"{spec.name}: {' | '.join(spec.program)}   exists ({r.exists_label})")
        pct = 100.0 * r.exists_count / r.iterations if r.iterations else 0.0
        busted = " [busted smp_mb]" if r.busted_barrier else ""
        lines.append(
            f"  {r.variant:<8} LKMM {r.lkmm:<9} seen {r.exists_count:>7}/{r.iterations:<8} "
            f"({pct:6.3f} %)  {r.verdict}{busted}"
        )
        if r.note:
            lines.append(f"      ({r.note})")
        if histograms:
            total = sum(r.histogram.values()) or 1
            for label, count in sorted(r.histogram.items(), key=lambda kv: -kv[1]):
                mark = "  <- exists" if label == r.exists_label else ""
                lines.append(f"      {count:>8} ({100 * count / total:6.2f} %)  {label}{mark}")
    return "\n".join(lines)
