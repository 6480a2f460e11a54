"""What a hardware run of a litmus test observed, and its verdict beside the LKMM's.

A run's verdict against the file's ``Result:`` (the LKMM's answer for the
condition's proposition):

* ``Never``: the proposition must hold in no outcome.  ``never observed``,
  or ``FORBIDDEN BUT OBSERVED`` - the CPU (or kbind's code) broke the model;
* ``Sometimes``: ``observed`` or ``not observed`` (this CPU may be stronger
  than the LKMM, or the run too short);
* ``Always``: the proposition must hold in every outcome; an outcome where
  it does not is ``FORBIDDEN BUT OBSERVED``, else ``always observed``;
* no ``Result:``: ``observed`` or ``not observed``, nothing forbidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from kbind.barrier import arch

__all__ = ["LitmusResult", "format_results"]

Verdict = Literal["Never", "Sometimes", "Always"]


@dataclass
class LitmusResult:
    r"""One hardware run of one litmus test.

    Attributes:
        test: the test's name (its ``C`` line).
        path: the file it came from.
        lkmm: the file's ``Result:`` (the LKMM's verdict), or None.
        condition: the final condition as written (``exists (0:r0=0 /\\ 1:r0=0)``).
        observables: the locations each outcome shows, in order.
        histogram: outcome label -> count (only outcomes seen, most frequent first).
        witnesses: the outcome labels for which the proposition holds.
        exists_count: instances whose outcome satisfies the proposition.
        iterations: instances run (filtered ones included).
        filtered: instances the test's ``filter`` left out.
        lost: instances not in the histogram (more distinct outcomes than it holds).
        elapsed: seconds the run took.
        cpus: usable CPUs.
        threads: the test's processes.
        busted_barrier: smp_mb() and fully ordered RMWs were compiled broken.
        busted_engine: the broken RCU or SRCU engine variant selected, or "".
        compile_seconds: compiling (or loading from the cache) the test.
        cached: the compiled test came from the cache.
        error: why the run stopped early, or "" (a bad pointer, a deadlock).
        pattern, variant: for the built-in patterns, their names (``SB``, ``mb``).
        arch: the architecture the test was compiled for.
    """

    test: str
    path: str
    lkmm: Verdict | None
    condition: str
    observables: tuple[str, ...]
    histogram: dict[str, int]
    witnesses: frozenset[str]
    exists_count: int
    iterations: int
    filtered: int = 0
    lost: int = 0
    elapsed: float = 0.0
    cpus: int = 1
    threads: int = 1
    busted_barrier: bool = False
    busted_engine: str = ""
    compile_seconds: float = 0.0
    cached: bool = False
    error: str = ""
    pattern: str = ""
    variant: str = ""
    arch: str = field(default_factory=arch)

    @property
    def counted(self) -> int:
        """Instances whose outcome was judged (the filter passed)."""
        return self.iterations - self.filtered

    @property
    def exists_label(self) -> str:
        """The proposition of the condition as text (kept for the built-in patterns' reports)."""
        text = self.condition
        for q in ("~exists", "exists", "forall"):
            if text.startswith(q):
                return text[len(q) :].strip()
        return text

    @property
    def threads_exceed_cpus(self) -> bool:
        """More processes than usable CPUs: they take turns, so they rarely race."""
        return self.threads > self.cpus

    @property
    def forbidden_observed(self) -> bool:
        """An outcome the LKMM forbids was seen: a broken barrier, engine or CPU."""
        if self.lkmm == "Never":
            return self.exists_count > 0
        if self.lkmm == "Always":
            return self.counted - self.exists_count > 0
        return False

    @property
    def verdict(self) -> str:
        """Return ``(not) observed``, ``never/always observed`` or ``FORBIDDEN BUT OBSERVED``."""
        if self.forbidden_observed:
            return "FORBIDDEN BUT OBSERVED"
        if self.lkmm == "Never":
            return "never observed"
        if self.lkmm == "Always":
            return "always observed"
        return "observed" if self.exists_count else "not observed"

    @property
    def note(self) -> str:
        """Why an allowed outcome was not seen (empty when it was, or when it is forbidden)."""
        if self.lkmm != "Sometimes" or self.exists_count or self.error:
            return ""
        if self.arch == "x86_64" and not self.busted_barrier:
            why = (
                "x86-64 is TSO, stronger than the LKMM: it reorders only a store with a later "
                "load (the store buffer), so an outcome that needs any other reordering cannot "
                f"appear here; one that needs only that may need more than {self.iterations} "
                "instances"
            )
        else:
            why = (
                f"not seen in {self.iterations} instances: this CPU may be stronger than the "
                "LKMM, or the run too short"
            )
        if self.threads_exceed_cpus:
            why += (
                f"; and {self.threads} threads on {self.cpus} usable CPU(s) take turns instead "
                "of racing, so 'not observed' means little here"
            )
        return why

    @property
    def rate(self) -> float:
        """Instances per second."""
        return self.iterations / self.elapsed if self.elapsed > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        """Return the result as a JSON-ready dict."""
        return {
            "test": self.test,
            "path": self.path,
            "pattern": self.pattern,
            "variant": self.variant,
            "lkmm": self.lkmm,
            "condition": self.condition,
            "exists": self.exists_label,
            "exists_count": self.exists_count,
            "iterations": self.iterations,
            "filtered": self.filtered,
            "lost": self.lost,
            "verdict": self.verdict,
            "forbidden_observed": self.forbidden_observed,
            "histogram": self.histogram,
            "witnesses": sorted(self.witnesses),
            "elapsed_s": round(self.elapsed, 4),
            "instances_per_s": round(self.rate),
            "compile_s": round(self.compile_seconds, 4),
            "cached": self.cached,
            "cpus": self.cpus,
            "threads": self.threads,
            "threads_exceed_cpus": self.threads_exceed_cpus,
            "busted_barrier": self.busted_barrier,
            "busted_engine": self.busted_engine,
            "error": self.error,
            "arch": self.arch,
            "note": self.note,
        }


def format_results(results: Iterable[LitmusResult], histograms: bool = True) -> str:
    """Render results as text: per test, its condition, the verdict, then the outcomes."""
    lines: list[str] = []
    for r in results:
        head = r.test if not r.variant else f"{r.test}  ({r.pattern} {r.variant})"
        lines.append(f"{head}: {r.condition}")
        pct = 100.0 * r.exists_count / r.counted if r.counted else 0.0
        busted = " [busted smp_mb]" if r.busted_barrier else ""
        if r.busted_engine:
            busted += f" [busted engine: {r.busted_engine}]"
        lkmm = r.lkmm or "(no Result:)"
        lines.append(
            f"  LKMM {lkmm:<9} seen {r.exists_count:>7}/{r.counted:<8} ({pct:6.3f} %)  "
            f"{r.verdict}{busted}"
        )
        if r.error:
            lines.append(f"      stopped early: {r.error}")
        if r.note:
            lines.append(f"      ({r.note})")
        if r.filtered:
            lines.append(f"      {r.filtered} instances left out by the filter")
        if r.lost:
            lines.append(f"      {r.lost} instances not counted: too many distinct outcomes")
        if histograms:
            total = sum(r.histogram.values()) or 1
            for label, count in r.histogram.items():
                mark = "  <- exists" if label in r.witnesses else ""
                lines.append(f"      {count:>8} ({100 * count / total:6.2f} %)  {label}{mark}")
    return "\n".join(lines)
