"""Run a parsed litmus test on this CPU: translate, compile (cached), run, judge.

:func:`run_test` is what ``kbind litmus FILE`` does for each file.  The
busted variants select kbind's deliberately broken barriers or engines for
the run, so a test can show that it catches them: ``busted_barrier``
compiles ``smp_mb()`` and fully ordered RMWs broken; ``busted_rcu`` and
``busted_srcu`` select a broken RCU or SRCU engine (the same variants the
torture tests use).
"""

from __future__ import annotations

from typing import Final

from kbind._bridge.native import lib
from kbind.litmus import syntax as s
from kbind.litmus.cgen import POINTER_TAG, translate
from kbind.litmus.condition import Value, holds, render
from kbind.litmus.lexer import LitmusUnsupportedError
from kbind.litmus.native import compile_test, run_compiled
from kbind.litmus.result import LitmusResult
from kbind.torture.rcu import BUSTED_VARIANTS as RCU_BUSTED

__all__ = ["BUSTED_RCU", "BUSTED_SRCU", "run_test", "usable_cpus"]

#: kbind's broken RCU engines that a litmus test can show (the torture's
#: variants of kb_rcu_set_busted() that break grace periods, not callbacks).
BUSTED_RCU: Final[dict[str, int]] = {k: RCU_BUSTED[k] for k in ("no_wait", "reader")}

#: kbind's broken SRCU domains (kb_srcu_set_busted(), taken when a domain is set up).
BUSTED_SRCU: Final[dict[str, int]] = {
    "no-flip": lib.KB_SRCU_BUSTED_NO_FLIP,
    "wrong-index": lib.KB_SRCU_BUSTED_WRONG_INDEX,
}

_ERRORS: Final[dict[int, str]] = {
    lib.KB_LITMUS_ERR_POINTER: "a process dereferenced a value that is no variable's address",
    lib.KB_LITMUS_ERR_LOCK: "spin_lock() waited more than 2 s: the test deadlocks",
    lib.KB_LITMUS_ERR_GP: "a grace period did not end within 2 s (synchronize_rcu() inside "
    "a read-side critical section deadlocks)",
    lib.KB_LITMUS_ERR_UNLOCK: "spin_unlock() of a lock that is not held",
}


def usable_cpus() -> int:
    """How many CPUs this process may run on (a litmus test needs one per process to race)."""
    return int(lib.kb_litmus_usable_cpus())


def condition_text(test: s.LitmusTest) -> str:
    r"""Return the test's final condition as written (``exists (0:r0=0 /\\ 1:r0=0)``)."""
    return f"{test.condition.quantifier} ({render(test.condition.prop)})"


def run_test(
    test: s.LitmusTest,
    iterations: int | None = None,
    *,
    max_seconds: float = 10.0,
    until_observed: int = 0,
    size: int | None = None,
    busted_barrier: bool = False,
    busted_rcu: str | None = None,
    busted_srcu: str | None = None,
    pin: bool = True,
) -> LitmusResult:
    """Run ``test`` on this CPU and count its outcomes.

    Args:
        test: a parsed test (:func:`kbind.litmus.parse_file`).
        iterations: instances to run (default: 1,000,000 for two processes,
            20,000 for more, 100,000 for a test with RCU or SRCU).
        max_seconds: stop after this long whatever the count (a bound).
        until_observed: if > 0, stop once the condition's proposition held
            this many times.
        size: instances per synchronised round (default 1000, 100 with RCU).
        busted_barrier: compile smp_mb() and fully ordered RMWs broken.
        busted_rcu: a broken RCU engine for the run (:data:`BUSTED_RCU`).
        busted_srcu: a broken SRCU for the run's domains (:data:`BUSTED_SRCU`).
        pin: pin thread i to the i-th usable CPU.

    Context: blocks (GIL released) for at most about ``max_seconds``, plus
    the first compile of the test.

    Raises:
        ValueError: a bound out of range or an unknown busted variant.
        LitmusUnsupportedError: a construct that cannot be compiled.
        RuntimeError: the compiler or the harness failed.
    """
    sync = any(isinstance(x, s.SrcuSync) for t in test.threads for x in s.walk(t.body))
    heavy = test.uses_rcu or sync
    n = iterations if iterations is not None else (
        100_000 if heavy else 1_000_000 if len(test.threads) <= 2 else 20_000)  # fmt: skip
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10**10:
        raise ValueError(f"iterations must be an int in [1, 10**10], not {n!r}")
    if not 0 < max_seconds <= 3600:
        raise ValueError(f"max_seconds must be in (0, 3600], not {max_seconds!r}")
    if (
        isinstance(until_observed, bool)
        or not isinstance(until_observed, int)
        or until_observed < 0
    ):
        raise ValueError(f"until_observed must be an int >= 0, not {until_observed!r}")
    per = size if size is not None else (100 if heavy else 1000)
    if isinstance(per, bool) or not isinstance(per, int) or not 1 <= per <= lib.KB_LITMUS_MAX_SIZE:
        raise ValueError(f"size must be an int in [1, {lib.KB_LITMUS_MAX_SIZE}], not {per!r}")
    for name, value, table in (("busted_rcu", busted_rcu, BUSTED_RCU),
                               ("busted_srcu", busted_srcu, BUSTED_SRCU)):  # fmt: skip
        if value is not None and value not in table:
            raise ValueError(f"unknown {name} variant {value!r}; choose from {', '.join(table)}")
    if len(test.threads) > lib.KB_LITMUS_MAX_THREADS:
        raise LitmusUnsupportedError(
            test.path, test.threads[-1].line, f"{len(test.threads)} processes on this CPU",
            f"the hardware harness runs at most {lib.KB_LITMUS_MAX_THREADS} (the model has no "
            "such limit: --model)",
        )  # fmt: skip
    translation = translate(test, busted_barrier=busted_barrier)
    compiled = compile_test(translation)
    old_rcu = int(lib.kb_rcu_get_busted())
    old_srcu = int(lib.kb_srcu_get_busted())
    try:
        if busted_rcu is not None and lib.kb_rcu_set_busted(BUSTED_RCU[busted_rcu]) != lib.KB_OK:
            raise ValueError(f"the RCU backend in use has no busted variant {busted_rcu!r}")
        if busted_srcu is not None:
            lib.kb_srcu_set_busted(BUSTED_SRCU[busted_srcu])
        raw = run_compiled(compiled, instances=n, size=min(per, n), max_seconds=max_seconds,
                           stop_matches=until_observed, pin=pin)  # fmt: skip
    finally:
        lib.kb_rcu_set_busted(old_rcu)
        lib.kb_srcu_set_busted(old_srcu)
    locs = translation.observables
    histogram: dict[str, int] = {}
    witnesses: set[str] = set()
    for values, count in sorted(raw.outcomes, key=lambda oc: -oc[1]):
        decoded = {loc: _decode(v, translation.slots) for loc, v in zip(locs, values, strict=True)}
        label = "; ".join(f"{loc}={v}" for loc, v in decoded.items())
        histogram[label] = count
        if holds(test.condition.prop, decoded):
            witnesses.add(label)
    engine = busted_rcu or busted_srcu or ""
    return LitmusResult(
        test=test.name,
        path=test.path,
        lkmm=None if test.expects_data_race else test.result,  # a racy outcome is undefined
        condition=condition_text(test),
        observables=tuple(str(loc) for loc in locs),
        histogram=histogram,
        witnesses=frozenset(witnesses),
        exists_count=raw.matches,
        iterations=raw.instances,
        filtered=raw.filtered,
        lost=raw.lost,
        elapsed=raw.elapsed,
        cpus=raw.cpus,
        threads=raw.threads,
        busted_barrier=busted_barrier,
        busted_engine=engine,
        compile_seconds=compiled.compile_seconds,
        cached=compiled.cached,
        error=_ERRORS.get(raw.error, f"error {raw.error}") if raw.error else "",
    )


def _decode(v: int, slots: list[str]) -> Value:
    if POINTER_TAG <= v < POINTER_TAG + len(slots):
        return slots[v - POINTER_TAG]
    return v
