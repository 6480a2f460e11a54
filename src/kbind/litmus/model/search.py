"""Enumerate a litmus test's candidate executions, as herd7 does, and judge each.

A candidate is one trace per process (:func:`~kbind.litmus.model.events.traces`,
every read given a value the location may hold), a reads-from choice for
every read among the writes of its value, and a coherence order per
location (the initial write first, then an order of the writes that keeps
each process's own writes in program order).  Reads-from and coherence
are chosen location by location, and a location's choices that break
``coherence`` or ``atomic`` are dropped before the locations are
combined, so the expensive axioms run on few candidates.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from kbind.litmus import syntax as s
from kbind.litmus.condition import holds, observables
from kbind.litmus.model import rel
from kbind.litmus.model.events import Trace, Value, traces
from kbind.litmus.model.graph import Graph
from kbind.litmus.model.lkmm import Eval, atomic_ok, coherence_ok
from kbind.litmus.model.rel import Rel
from kbind.litmus.parser import LitmusUnsupportedError

__all__ = ["Candidate", "Space"]

#: The most values one location may take before the test is refused.
MAX_VALUES = 64


def _key(v: Value) -> tuple[int, int, str]:
    return (1, 0, v) if isinstance(v, str) else (0, v, "")


@dataclass
class Candidate:
    """One candidate execution: its events, ``rf``, ``co`` and final state."""

    graph: Graph
    rf: Rel
    co: Rel
    state: tuple[Value, ...]
    eval: Eval | None = None


@dataclass
class _LocChoice:
    rf: list[tuple[int, int]]
    order: tuple[int, ...]


@dataclass
class Space:
    """Every candidate execution of one test."""

    test: s.LitmusTest
    observed: tuple[s.Loc, ...] = ()
    init: list[tuple[str, Value]] = field(default_factory=list)
    per_thread: list[list[Trace]] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = self.test
        self.observed = tuple(observables(t))
        iv: dict[str, Value] = {v: 0 for v, k in t.variables.items() if k != "srcu"}
        regs: dict[int, dict[str, Value]] = {}
        for item in t.init:
            val: Value = item.value.var if isinstance(item.value, s.AddrOf) else item.value
            if isinstance(item.loc, s.VarLoc):
                if t.variables.get(item.loc.name) == "srcu":
                    continue
                iv[item.loc.name] = val
            else:
                regs.setdefault(item.loc.thread, {})[item.loc.name] = val
        self.init = list(iv.items())
        self.regs = regs
        self.locks = frozenset(v for v, k in t.variables.items() if k == "spinlock_t")
        # A read may return the initial value, any value some write stores, or a
        # constant of the program: the last lets a self-justifying cycle (out of thin
        # air, as herd7 finds it by solving the values) be a candidate too.
        seeds = _constants(t)
        values: dict[str, set[Value]] = {v: {x, *seeds} for v, x in iv.items()}
        for lk in self.locks:
            values[lk] = {0, 1}
        # Round k gives the reads the values that chains of k - 1 writes can store (a
        # write's value computed from a read of the write before).  A chain in one
        # execution has at most as many writes as the execution has, so the rounds
        # stop once they pass that count (or nothing new appears): the values are
        # then complete.  An RMW loop (atomic_inc_return() read by the next one)
        # would otherwise grow them forever.
        per: list[list[Trace]] = []
        bound = 1
        for rnd in range(MAX_VALUES):
            if rnd > bound:
                break
            frozen = {k: tuple(sorted(v, key=_key)) for k, v in values.items()}
            partial: list[Trace] = []
            per = [list(traces(th, frozen, regs.get(th.index, {}), t.path, self.locks, partial))
                   for th in t.threads]  # fmt: skip
            bound = max(bound, sum(max((_writes(tr) for tr in trs), default=0) for trs in per))
            grew = False
            for trs in [*per, partial]:
                for tr in trs:
                    for e in tr.events:
                        if e.kind == "W" and e.loc is not None:
                            have = values.setdefault(e.loc, set())
                            if e.value not in have:
                                have.add(e.value)
                                grew = True
                                if len(have) > MAX_VALUES:
                                    raise LitmusUnsupportedError(
                                        t.path, e.line, "unbounded values",
                                        f"{e.loc} may take more than {MAX_VALUES} values",
                                    )  # fmt: skip
            if not grew:
                break
        self.per_thread = _sourced(per, self.init)

    def state_of(self, g: Graph, co_last: dict[str, int]) -> tuple[Value, ...]:
        """Return the final state's values of the observed locations."""
        out: list[Value] = []
        for loc in self.observed:
            if isinstance(loc, s.RegLoc):
                tr = g.traces[loc.thread] if loc.thread < len(g.traces) else None
                out.append(tr.regs.get(loc.name, 0) if tr is not None else 0)
            else:
                w = co_last.get(loc.name)
                out.append(g.events[w].value if w is not None else 0)
        return tuple(out)

    def outcome(self, state: Sequence[Value]) -> dict[s.Loc, Value]:
        """Return a state as an outcome :func:`kbind.litmus.condition.holds` reads."""
        return dict(zip(self.observed, state, strict=True))

    def passes_filter(self, state: Sequence[Value]) -> bool:
        """Whether the test's ``filter`` keeps the state."""
        return self.test.filter is None or holds(self.test.filter, self.outcome(state))

    def graphs(self) -> Iterator[Graph]:
        """Yield one :class:`Graph` per combination of the processes' traces."""
        for combo in itertools.product(*self.per_thread):
            yield Graph(self.init, combo)

    def _loc_choices(
        self, g: Graph, loc: str, prune: bool, deadline: float | None = None
    ) -> list[_LocChoice]:
        evs = g.events
        members = g.by_loc[loc]
        reads = [i for i in rel.bits(members & g.R)]
        writes = [i for i in rel.bits(members & g.W)]
        iw = [i for i in writes if g.thread[i] < 0]
        others = [i for i in writes if g.thread[i] >= 0]
        sources = []
        for r in reads:
            src = [w for w in writes if evs[w].value == evs[r].value]
            if not src:
                return []
            sources.append(src)
        every = None if prune else list(itertools.permutations(others))
        cached: dict[frozenset[tuple[int, int]], list[tuple[int, ...]]] = {}
        out = []
        for pick in itertools.product(*sources):
            rf = rel.empty(g.n)
            for r, w in zip(reads, pick, strict=True):
                rf[w] |= 1 << r
            if every is not None:
                orders = every
            else:
                after = _rmw_successors(g, reads, pick)
                if after is None:
                    continue
                key = frozenset(after.items())
                if key not in cached:
                    cached[key] = _linear_extensions(others, g.po, after, iw[0] if iw else -1)
                orders = cached[key]
            for k, order in enumerate(orders):
                if deadline is not None and not k & 1023 and time.perf_counter() > deadline:
                    raise TimeoutError
                full = tuple(iw) + order
                if prune:
                    co = _co(g.n, full)
                    fr = rel.seq(rel.inverse(rf), co)
                    if not coherence_ok(g, rf, co, fr) or not atomic_ok(g, fr, co):
                        continue
                out.append(_LocChoice(list(zip(pick, reads, strict=True)), full))
        return out

    def candidates(self, prune: bool = True, deadline: float | None = None) -> Iterator[Candidate]:
        """Yield every candidate execution (with ``prune``, only the coherent, atomic ones).

        Raises:
            TimeoutError: ``deadline`` (a :func:`time.perf_counter` value) passed.
        """
        n = 0
        for g in self.graphs():
            if deadline is not None and time.perf_counter() > deadline:
                raise TimeoutError
            locs = sorted(g.by_loc)
            per_loc: list[list[_LocChoice]] | None = []
            for loc in locs:
                if not (g.by_loc[loc] & g.M):
                    continue
                ch = self._loc_choices(g, loc, prune, deadline)
                if not ch:
                    per_loc = None
                    break
                assert per_loc is not None
                per_loc.append(ch)
            if per_loc is None:
                continue
            for pick in itertools.product(*per_loc):
                rf = rel.empty(g.n)
                co = rel.empty(g.n)
                last: dict[str, int] = {}
                for c in pick:
                    for w, r in c.rf:
                        rf[w] |= 1 << r
                    for k, w in enumerate(c.order):
                        for later in c.order[k + 1 :]:
                            co[w] |= 1 << later
                    last[g.events[c.order[-1]].loc or ""] = c.order[-1]
                n += 1
                if deadline is not None and not n & 63 and time.perf_counter() > deadline:
                    raise TimeoutError
                yield Candidate(g, rf, co, self.state_of(g, last))


def _rmw_successors(g: Graph, reads: list[int], pick: Sequence[int]) -> dict[int, int] | None:
    """Map each write an RMW's read reads from to that RMW's write (None: two share one).

    In coherence order an RMW's write comes right after the write its read read
    from: atomic and coherence leave no room between them.
    """
    after: dict[int, int] = {}
    for r, read_from in zip(reads, pick, strict=True):
        for w in rel.bits(g.rmw[r]):
            if after.setdefault(read_from, w) != w:
                return None
    return after


def _writes(tr: Trace) -> int:
    return sum(1 for e in tr.events if e.kind == "W")


def _constants(test: s.LitmusTest) -> set[Value]:
    """Return the integer literals of the test's processes."""
    out: set[Value] = set()

    def go(node: object) -> None:
        if isinstance(node, s.Const):
            out.add(node.value)
        elif isinstance(node, tuple):
            for x in node:
                go(x)
        elif dataclasses.is_dataclass(node):
            for f in dataclasses.fields(node):
                go(getattr(node, f.name))

    for th in test.threads:
        go(th.body)
    return out


def _sourced(per: list[list[Trace]], init: list[tuple[str, Value]]) -> list[list[Trace]]:
    """Drop the traces with a read whose value no write (in a trace kept) stores.

    Such a read has no ``rf`` edge in any candidate; dropping its trace early keeps
    the product of the processes' traces small.  Repeated until nothing changes,
    as a dropped trace takes its writes with it.
    """
    while True:
        stored: set[tuple[str | None, Value]] = set(init)
        for trs in per:
            for tr in trs:
                stored.update((e.loc, e.value) for e in tr.events if e.kind == "W")
        kept = [[tr for tr in trs
                 if all((e.loc, e.value) in stored for e in tr.events if e.kind == "R")]
                for trs in per]  # fmt: skip
        if kept == per:
            return per
        per = kept


def _co(n: int, order: Sequence[int]) -> Rel:
    co = rel.empty(n)
    for k, w in enumerate(order):
        for later in order[k + 1 :]:
            co[w] |= 1 << later
    return co


def _linear_extensions(
    ws: list[int], po: Rel, after: dict[int, int] | None = None, first: int = -1
) -> list[tuple[int, ...]]:
    """Return the orders of ``ws`` that keep each process's writes in program order.

    With ``after``, a write ``a`` in it is followed at once by ``after[a]``
    (``first``, the initial write, counts as placed before ``ws``).
    """
    if not ws:
        return [()]
    after = after or {}
    forced = set(after.values())
    out: list[tuple[int, ...]] = []

    def go(prefix: list[int], left: list[int], last: int) -> None:
        if not left:
            out.append(tuple(prefix))
            return
        nxt = after.get(last)
        for w in [nxt] if nxt is not None else left:
            if w not in left or (nxt is None and w in forced):
                continue  # placed already, or it must wait for the write it follows
            if any(po[o] >> w & 1 for o in left if o != w):
                continue  # an earlier write of its process is still to come
            go([*prefix, w], [o for o in left if o != w], w)

    go([], ws, first)
    return out
