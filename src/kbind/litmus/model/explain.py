"""Why the model forbids a candidate execution: the axiom and a cycle, in words.

For the axiom a candidate breaks, :func:`explain` finds a shortest cycle
of the axiom's relation (``po-loc | rf | co | fr`` for ``coherence``, ``hb``,
``pb``, ``rb`` for ``rcu``) and spells every edge out in the relations of
``linux-kernel.cat``: a ``pb`` edge becomes its ``prop`` steps (``coe``,
``fre``, ``rfe``, ``cumul-fence``), the strong fence and the ``hb`` steps after
it; an ``hb`` edge is ``rfe`` or the ``ppo`` component that orders it (a
fence, release/acquire, a dependency).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from kbind.litmus.model import rel
from kbind.litmus.model.graph import Graph
from kbind.litmus.model.lkmm import Eval
from kbind.litmus.model.rel import Rel

__all__ = ["Reason", "explain"]

#: What each axiom says, for the reader.
AXIOM_TEXT = {
    "coherence": "coherence (acyclic po-loc | rf | co | fr: sequential consistency per variable)",
    "atomic": "atomicity (empty rmw & (fre ; coe): nothing comes between an RMW's read and write)",
    "happens-before": "happens-before (acyclic hb: an event cannot execute before itself)",
    "propagation": "propagation (acyclic pb: a strong fence waits for earlier writes to propagate)",
    "rcu": "rcu (irreflexive rb: a grace period outlasts every critical section it overlaps)",
    "plain-coherence": "plain-coherence (plain accesses obey coherence when not racing)",
    "no candidate": "no candidate execution produces this state (no process computes these values)",
}


@dataclass
class Reason:
    """Why a state is forbidden: the axiom and a cycle of events and edges.

    Attributes:
        axiom: the cat axiom's name (``happens-before``).
        steps: (event, edge to the next event) pairs; the last edge closes the cycle.
        note: a sentence more (atomicity, plain-coherence).
    """

    axiom: str
    steps: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""

    def lines(self) -> list[str]:
        """Return the reason as indented lines of text."""
        out = [f"forbidden by {AXIOM_TEXT.get(self.axiom, self.axiom)}"]
        if self.steps:
            out.append("  the cycle:")
            for ev, edge in self.steps:
                out.append(f"    {ev}")
                out.append(f"      --{edge}-->")
            out.append(f"    back to {self.steps[0][0]}")
        if self.note:
            out.append(f"  {self.note}")
        return out

    def as_dict(self) -> dict[str, object]:
        """Return the reason for JSON."""
        return {
            "axiom": self.axiom,
            "cycle": [{"event": e, "edge": x} for e, x in self.steps],
            "note": self.note,
        }


#: For plain-coherence, the relation that orders the second access of the pair first.
_INCOH = {
    "rf": "rw-xbstar (the read executes before the write)",
    "fr": "wr-vis (the write is visible to the read)",
    "co": "ww-vis (the write is visible to the other write)",
}

_RCU_NOTE = (
    "rcu-fence (A .. B) is the fundamental law of RCU: a read-side critical section "
    "that starts before a grace period begins ends before the grace period ends, and one "
    "that ends after it ends started after it began (explanation.txt, RCU RELATIONS)"
)
_ATOMIC_NOTE = "another process's write comes between the RMW's read and its write"

Step = tuple[int, str, int]
Trans = tuple[int, Rel | None, Callable[[int, int], str], int]


def _path(
    start: int, goal: int, trans: Sequence[Trans], accept: set[int], q0: int = 0
) -> list[Step]:
    """Find a shortest path from ``start`` to ``goal`` through the automaton ``trans``."""
    seen = {(start, q0): None}
    back: dict[tuple[int, int], tuple[tuple[int, int], Step | None]] = {}
    todo = deque([(start, q0)])
    while todo:
        node, q = todo.popleft()
        if node == goal and q in accept and (node, q) != (start, q0):
            steps: list[Step] = []
            cur = (node, q)
            while cur in back:
                cur, st = back[cur]
                if st is not None:
                    steps.append(st)
            return steps[::-1]
        for src, rows, label, dst in trans:
            if src != q:
                continue
            nexts = [(node, None)] if rows is None else [(j, j) for j in rel.bits(rows[node])]
            for j, moved in nexts:
                key = (j, dst)
                if key in seen and key != (start, q0):
                    continue
                if key == (start, q0):
                    continue
                seen[key] = None
                back[key] = ((node, q), None if moved is None else (node, label(node, j), j))
                todo.append(key)
    return []


def _shortest_cycle(r: Rel) -> list[int]:
    best: list[int] = []
    for a in range(len(r)):
        prev = {a: -1}
        todo = deque([a])
        found = -1
        while todo and found < 0:
            x = todo.popleft()
            for y in rel.bits(r[x]):
                if y == a:
                    found = x
                    break
                if y not in prev:
                    prev[y] = x
                    todo.append(y)
        if found >= 0:
            cyc = [found]
            while prev[cyc[-1]] != -1:
                cyc.append(prev[cyc[-1]])
            cyc = cyc[::-1]
            if not best or len(cyc) < len(best):
                best = cyc
    return best


class _Labels:
    """Name the relation that relates two events, in the cat file's words."""

    def __init__(self, g: Graph, ev: Eval) -> None:
        self.g, self.r = g, ev.rels

    def has(self, name: str, a: int, b: int) -> bool:
        rows = self.r.get(name)
        return bool(rows and rows[a] >> b & 1)

    def ie(self, base: str, a: int, b: int) -> str:
        return base + ("i" if self.g.int[a] >> b & 1 else "e")

    def fence_between(self, a: int, b: int, kinds: tuple[str, ...]) -> str:
        g = self.g
        for f in rel.bits(g.po[a] & g.F):
            e = g.events[f]
            if g.po[f] >> b & 1 and e.tags & set(kinds):
                if "rmw-mb" in e.tags:
                    return f"{e.text}() is fully ordered"
                return f"{e.text}()"
        return kinds[0]

    def fence(self, a: int, b: int) -> str:
        g = self.g
        if self.has("mb", a, b):
            return self.fence_between(a, b, ("mb", "before-atomic", "after-atomic",
                                             "after-spinlock", "after-unlock-lock"))  # fmt: skip
        if self.has("gp", a, b):
            return self.fence_between(a, b, ("sync-rcu", "sync-srcu"))
        if self.has("po-rel", a, b):
            return f"release: {g.events[b].text}()"
        if self.has("acq-po", a, b):
            return f"acquire: {g.events[a].text}()"
        if self.has("wmb", a, b):
            return "smp_wmb()"
        if self.has("rmb", a, b):
            return "smp_rmb()"
        if self.has("po-unlock-lock-po", a, b):
            return "spin_unlock(); spin_lock()"
        return "fence"

    def com(self, a: int, b: int) -> str:
        if self.has("rf", a, b):
            return self.ie("rf", a, b)
        if self.has("co", a, b):
            return self.ie("co", a, b)
        if self.has("fr", a, b):
            return self.ie("fr", a, b)
        return "po-loc"

    def hb(self, a: int, b: int) -> str:
        if self.has("rfe", a, b):
            return "rfe"
        if self.has("ppo", a, b):
            for name in ("addr", "data", "ctrl"):
                if self.has(name, a, b):
                    return f"ppo ({name} dependency)"
            if self.has("fence", a, b) or self.has("po-unlock-lock-po", a, b):
                return f"ppo ({self.fence(a, b)})"
            if self.has("co", a, b) or self.has("fr", a, b):
                return f"ppo ({self.com(a, b)})"
            return "ppo (dependency then rfi)"
        return "prop (within one process)"

    def cumul(self, a: int, b: int) -> str:
        return f"cumul-fence ({self.fence(a, b)})"

    def strong(self, a: int, b: int) -> str:
        return f"strong fence ({self.fence(a, b)})"

    def rcu_fence(self, a: int, b: int) -> str:
        g = self.g
        ea, eb = g.events[a], g.events[b]
        first = f"P{ea.thread} line {ea.line} {ea.text}()"
        return f"rcu-fence ({first} .. P{eb.thread} line {eb.line} {eb.text}())"


def _prop_trans(g: Graph, r: dict[str, Rel], lab: _Labels, end: int) -> list[Trans]:
    n, m = g.n, g.Marked
    ow_ext = rel.inter(rel.union(r["co"], r["fr"]), g.ext)
    cf = rel.restrict(rel.union(r["strong-fence"], r["po-rel"], r["wmb"],
                                r["po-unlock-lock-po"]), m, m)  # fmt: skip
    a_f = rel.restrict(rel.union(r["strong-fence"], r["po-rel"]), m, m)
    rfe_m = rel.restrict(r["rfe"], (1 << n) - 1, m)
    # State 9: just after a cumul-fence, whose rmw-sequence may go on (rf ; rmw)*
    out: list[Trans] = [
        (0, None, lab.com, 1),
        (0, ow_ext, lab.com, 1),
        (2, a_f, lab.cumul, 9),
        (9, r["rf"], lab.com, 10),
        (10, g.rmw, lambda a, b: "rmw (the same atomic operation)", 9),
    ]
    for q in (1, 9):
        out += [
            (q, cf, lab.cumul, 9),
            (q, rfe_m, lambda a, b: "rfe", 2),
            (q, None, lab.com, end),
            (q, rfe_m, lambda a, b: "rfe", end),
        ]
    return out


def _expand(steps: list[Step], g: Graph, source: Sequence[str]) -> list[tuple[str, str]]:
    return [(g.describe(a, source), label) for a, label, _ in steps]


def explain(g: Graph, ev: Eval, source: Sequence[str]) -> Reason:
    """Return why the candidate ``ev`` describes is forbidden (``ev.failed`` names the axiom)."""
    axiom = ev.failed or ""
    r = ev.rels
    lab = _Labels(g, ev)
    if axiom == "coherence":
        c = rel.union(g.po_loc_m, r["rf"], r["co"], r["fr"])
        cyc = _shortest_cycle(c)
        steps = [(x, lab.com(x, cyc[(k + 1) % len(cyc)]), 0) for k, x in enumerate(cyc)]
        return Reason(axiom, _expand(steps, g, source))
    if axiom == "atomic":
        fre = rel.inter(r["fr"], g.ext)
        coe = rel.inter(r["co"], g.ext)
        for a, row in enumerate(g.rmw):
            for w in rel.bits(row):
                for mid in rel.bits(fre[a]):
                    if coe[mid] >> w & 1:
                        steps = [
                            (a, "fre", mid),
                            (mid, "coe", w),
                            (w, "rmw (the same atomic operation)", a),
                        ]
                        return Reason(axiom, _expand(steps, g, source),
                                      _ATOMIC_NOTE)  # fmt: skip
        return Reason(axiom)
    if axiom in ("happens-before", "propagation"):
        rows = r["hb"] if axiom == "happens-before" else r["pb"]
        cyc = _shortest_cycle(rows)
        out: list[Step] = []
        for k, a in enumerate(cyc):
            b = cyc[(k + 1) % len(cyc)]
            if axiom == "happens-before":
                label = lab.hb(a, b)
                if label.startswith("prop"):
                    out.extend(_path(a, b, _prop_trans(g, r, lab, 3), {3}) or [(a, label, b)])
                else:
                    out.append((a, label, b))
                continue
            trans = _prop_trans(g, r, lab, 3)
            trans += [(3, r["strong-fence"], lab.strong, 4), (4, r["hb"], lab.hb, 4)]
            out.extend(_path(a, b, trans, {4}) or [(a, "pb", b)])
        return Reason(axiom, _expand(out, g, source))
    if axiom == "rcu":
        for a, row in enumerate(r["rb"]):
            if row >> a & 1:
                trans = _prop_trans(g, r, lab, 3)
                trans += [
                    (3, g.po, lambda x, y: "po", 5),
                    (5, r["rcu-order"], lab.rcu_fence, 6),
                    (6, None, lab.com, 7),
                    (6, g.po, lambda x, y: "po", 7),
                    (7, r["hb"], lab.hb, 7),
                    (7, None, lab.com, 8),
                    (8, r["pb"], lambda x, y: "pb", 8),
                ]
                steps = _path(a, a, trans, {8}) or [(a, "rb", a)]
                return Reason(axiom, _expand(steps, g, source), _RCU_NOTE)
        return Reason(axiom)
    if axiom == "plain-coherence":
        for a, row in enumerate(r["plain-incoherent"]):
            for b in rel.bits(row):
                back = _INCOH.get(lab.com(a, b)[:2], "xb*")
                steps = [(a, lab.com(a, b), b), (b, back, a)]
                return Reason(axiom, _expand(steps, g, source),
                              "plain accesses that do not race must obey coherence")  # fmt: skip
    return Reason(axiom)
