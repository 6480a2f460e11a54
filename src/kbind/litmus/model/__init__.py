"""kbind's own evaluator of the Linux-kernel memory model (LKMM), as herd7 answers it.

herd7 with the kernel's ``tools/memory-model/linux-kernel.cat`` (with
``linux-kernel.bell``, ``lock.cat`` and ``linux-kernel.def``) answers, for a
C litmus test, which final states the LKMM allows.  This package does the
same in Python, from the model's published definition:

* :mod:`~kbind.litmus.model.events` runs each process concretely into its
  traces (the events of ``linux-kernel.def``, with dependencies);
* :mod:`~kbind.litmus.model.search` enumerates the candidate executions
  (reads-from and coherence choices, pruned by coherence per location);
* :mod:`~kbind.litmus.model.graph` and :mod:`~kbind.litmus.model.lkmm`
  compute the cat file's relations and check its axioms;
* :mod:`~kbind.litmus.model.explain` turns a forbidden execution into the
  axiom and a cycle a student can follow.

``kbind.litmus.model("SB+fencembonceonces")`` (the function, in
:mod:`kbind.litmus`) returns a :class:`ModelResult`; :func:`evaluate_test`
takes a parsed test.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Iterator

from kbind.litmus import syntax as s
from kbind.litmus.condition import holds, render, render_value
from kbind.litmus.model.events import Value
from kbind.litmus.model.explain import Reason, explain
from kbind.litmus.model.lkmm import Eval, evaluate
from kbind.litmus.model.result import (
    Forbidden,
    ModelResult,
    ModelTimeoutError,
    StateCount,
    Verdict,
    format_model,
)
from kbind.litmus.model.search import Candidate, Space

__all__ = ["ModelResult", "ModelTimeoutError", "Reason", "evaluate_test", "format_model"]

#: A final state: the observed locations' values, in order.
State = tuple[Value, ...]

#: Unpruned candidates examined at most when looking for a forbidden state's reason.
EXPLAIN_BUDGET = 20_000


def _label(space: Space, state: State) -> str:
    return "; ".join(
        f"{loc}={render_value(v)}" for loc, v in zip(space.observed, state, strict=True)
    )


def evaluate_test(
    test: s.LitmusTest, *, reasons: bool = True, max_seconds: float | None = None
) -> ModelResult:
    """Evaluate a parsed test under the LKMM (see :func:`kbind.litmus.model`).

    Raises:
        LitmusUnsupportedError: the test uses a construct the evaluator does not support.
        ModelTimeoutError: ``max_seconds`` passed before every candidate was judged.
    """
    t0 = time.perf_counter()
    deadline = None if max_seconds is None else t0 + max_seconds
    space = Space(test)
    prop = test.condition.prop
    counts: dict[State, int] = {}
    flags: dict[str, str] = {}
    checked = allowed = filtered = 0
    source = test.source.splitlines()
    asks_true = test.condition.quantifier != "forall"
    first_failure: dict[State, tuple[Candidate, Eval]] = {}
    if test.uses_rcu and any(g.unbalanced_rcu for g in space.graphs()):
        flags["unbalanced-rcu-locking"] = "an rcu_read_lock() or rcu_read_unlock() has no partner"
    for cand in _bounded(space.candidates(deadline=deadline), test, max_seconds):
        checked += 1
        ev = evaluate(cand.graph, cand.rf, cand.co, races="data-race" not in flags)
        if ev.failed is not None:
            if (reasons and cand.state not in first_failure and space.passes_filter(cand.state)
                    and holds(prop, space.outcome(cand.state)) == asks_true):  # fmt: skip
                first_failure[cand.state] = (cand, ev)
            continue
        allowed += 1
        if not space.passes_filter(cand.state):
            filtered += 1
            continue
        counts[cand.state] = counts.get(cand.state, 0) + 1
        if ev.race is not None and "data-race" not in flags:
            a, b, kind = ev.race
            g = cand.graph
            flags["data-race"] = (
                f"{g.describe(a, source)} and {g.describe(b, source)} race ({kind})"
            )
    states = []
    for st in sorted(counts, key=lambda x: _label(space, x)):
        states.append(StateCount(_label(space, st), counts[st], holds(prop, space.outcome(st))))
    positive = sum(1 for x in states if x.satisfies)
    verdict: Verdict = (
        "Never" if positive == 0 else "Always" if positive == len(states) else "Sometimes"
    )
    result = ModelResult(test.name, test.path, f"{test.condition.quantifier} ({render(prop)})",
                         verdict, test.result, states, flags=flags, candidates=checked,
                         allowed=allowed, filtered=filtered,
                         expected_data_race=test.expects_data_race)  # fmt: skip
    if reasons:
        found = {st: Forbidden(_label(space, st), explain(c.graph, ev, source))
                 for st, (c, ev) in first_failure.items() if st not in counts}  # fmt: skip
        result.forbidden = _reasons(space, counts, found, source, deadline)
    result.elapsed = time.perf_counter() - t0
    return result


def _bounded(
    cands: Iterator[Candidate], test: s.LitmusTest, max_seconds: float | None
) -> Iterator[Candidate]:
    """Yield ``cands``; the search's TimeoutError becomes a :class:`ModelTimeoutError`."""
    n = 0
    try:
        for cand in cands:
            n += 1
            yield cand
    except TimeoutError:
        raise ModelTimeoutError(test.name, max_seconds or 0.0, n) from None


def _reasons(
    space: Space,
    counts: dict[State, int],
    out: dict[State, Forbidden],
    source: list[str],
    deadline: float | None,
) -> list[Forbidden]:
    """Add the forbidden states only incoherent candidates have; return them all, sorted.

    Looks at :data:`EXPLAIN_BUDGET` candidates at most, and stops at ``deadline``:
    a state it does not reach is left without a reason, not misjudged.
    """
    test = space.test
    asks_true = test.condition.quantifier != "forall"
    unpruned = itertools.islice(space.candidates(prune=False, deadline=deadline), EXPLAIN_BUDGET)
    with contextlib.suppress(TimeoutError):
        for cand in unpruned:
            st = cand.state
            if st in counts or st in out or not space.passes_filter(st):
                continue
            if holds(test.condition.prop, space.outcome(st)) != asks_true:
                continue
            ev = evaluate(cand.graph, cand.rf, cand.co, races=False)
            if ev.failed is None:
                continue  # allowed, but left out by the filter
            out[st] = Forbidden(_label(space, st), explain(cand.graph, ev, source))
    return [out[k] for k in sorted(out, key=lambda x: _label(space, x))]
