"""The fixed part of a candidate execution: its events and the relations rf/co do not change.

For one choice of every process's trace, :class:`Graph` numbers the events
(the initial writes first, then ``P0``'s, ``P1``'s, ...) and computes what
``linux-kernel.bell`` and the start of ``linux-kernel.cat`` derive from
the program alone: the event sets (``R``, ``W``, ``Marked``, ``Plain``,
``Acquire``, ``Release``, the fence kinds, lock.cat's ``LKR``/``LKW``/``UL``/
``LF``/``RL``/``RU``), ``po``, ``int``/``ext``, ``loc``, the syntactic
dependencies, ``rmw`` (lock.cat's ``lk-rmw`` included), ``fencerel(F)`` and
the read-side critical sections ``rcu-rscs`` and ``srcu-rscs``.
"""

from __future__ import annotations

from collections.abc import Sequence

from kbind.litmus.model import rel
from kbind.litmus.model.events import Ev, Trace, Value
from kbind.litmus.model.rel import Rel

__all__ = ["FENCES", "Graph"]

#: The fence kinds of linux-kernel.def (rcu-lock/unlock and sync-rcu included).
FENCES = ("mb", "rmb", "wmb", "before-atomic", "after-atomic", "after-spinlock",
          "after-unlock-lock", "barrier", "rcu-lock", "rcu-unlock", "sync-rcu",
          "sync-srcu")  # fmt: skip


class Graph:
    """The events of one combination of process traces, with their program-derived relations."""

    def __init__(self, init: Sequence[tuple[str, Value]], chosen: Sequence[Trace]) -> None:
        evs: list[Ev] = [Ev("W", frozenset({"IW"}), loc, v, -1, 0, "init") for loc, v in init]
        offsets = []
        for tr in chosen:
            offsets.append(len(evs))
            evs.extend(tr.events)
        self.events = evs
        self.offsets = offsets
        n = self.n = len(evs)
        self.traces = list(chosen)

        def mask(pred: object) -> int:
            m = 0
            for i, e in enumerate(evs):
                if pred(e):  # type: ignore[operator]
                    m |= 1 << i
            return m

        def tagged(*tags: str) -> int:
            want = frozenset(tags)
            return mask(lambda e: bool(e.tags & want))

        self.R = mask(lambda e: e.kind == "R")
        self.W = mask(lambda e: e.kind == "W")
        self.M = self.R | self.W
        self.F = mask(lambda e: e.kind == "F")
        self.IW = tagged("IW")
        self.Plain = tagged("plain")
        self.Marked = ((1 << n) - 1) & ~self.Plain
        self.Acquire = tagged("acquire")
        self.Release = tagged("release")
        self.Noreturn = tagged("noreturn")
        self.RMW = tagged("rmw")
        self.LKR, self.LKW, self.UL = tagged("LKR"), tagged("LKW"), tagged("UL")
        self.LF, self.RL, self.RU = tagged("LF"), tagged("RL"), tagged("RU")
        self.kind = {k: tagged(k) for k in FENCES}
        self.srcu_lock, self.srcu_unlock = tagged("srcu-lock"), tagged("srcu-unlock")

        thread = [e.thread for e in evs]
        self.thread = thread
        po = rel.empty(n)
        same = rel.empty(n)
        for off, tr in zip(offsets, chosen, strict=True):
            k = len(tr.events)
            block = ((1 << k) - 1) << off
            for i in range(k):
                po[off + i] = block & ~((1 << (off + i + 1)) - 1)
                same[off + i] = block
        self.po = po
        self.int = same
        everyone = (1 << n) - 1
        self.ext = [everyone & ~same[i] & ~(1 << i) if thread[i] >= 0 else everyone & ~(1 << i)
                    for i in range(n)]  # fmt: skip
        by_loc: dict[str, int] = {}
        for i, e in enumerate(evs):
            if e.loc is not None:
                by_loc[e.loc] = by_loc.get(e.loc, 0) | 1 << i
        self.by_loc = by_loc
        self.loc = [by_loc.get(e.loc, 0) if e.loc is not None else 0 for e in evs]
        self.po_loc = rel.inter(po, self.loc)
        po_loc_m = rel.restrict(self.po_loc, self.M, self.M)
        self.po_loc_m = po_loc_m

        addr0, data0, ctrl0 = rel.empty(n), rel.empty(n), rel.empty(n)
        rmw = rel.empty(n)
        srcu_rscs = rel.empty(n)
        for off, tr in zip(offsets, chosen, strict=True):
            for i in range(len(tr.events)):
                for src, table in ((tr.addr[i], addr0), (tr.data[i], data0), (tr.ctrl[i], ctrl0)):
                    for j in rel.bits(src):
                        table[off + j] |= 1 << (off + i)
            for r, w in tr.rmw:
                rmw[off + r] |= 1 << (off + w)
            for u, src in tr.srcu_index.items():
                for j in rel.bits(src):
                    lk = off + j
                    if self.srcu_lock >> lk & 1 and evs[lk].loc == evs[off + u].loc:
                        srcu_rscs[lk] |= 1 << (off + u)
        self.addr0 = rel.restrict(addr0, self.R, everyone)
        self.data0 = rel.restrict(data0, self.R, everyone)
        self.ctrl0 = rel.restrict(ctrl0, self.R, everyone)
        self.rmw = rmw
        self.srcu_rscs = srcu_rscs
        self.rcu_rscs = self._rcu_rscs()
        self.fencerel = {k: self._fencerel(m) for k, m in self.kind.items() if m}
        self.has_plain = bool(self.Plain)
        self.has_rcu = bool(self.kind["sync-rcu"] | self.kind["sync-srcu"])

    def _fencerel(self, fences: int) -> Rel:
        """Return ``fencerel(F)``: ``po ; [F] ; po``."""
        return rel.seq(rel.restrict(self.po, (1 << self.n) - 1, fences), self.po)

    def _rcu_rscs(self) -> Rel:
        """Match each rcu_read_lock() with its rcu_read_unlock(), nested pairs as the bell does."""
        out = rel.empty(self.n)
        self.unbalanced_rcu = False
        for off, tr in zip(self.offsets, self.traces, strict=True):
            stack: list[int] = []
            for i, e in enumerate(tr.events):
                if "rcu-lock" in e.tags:
                    stack.append(off + i)
                elif "rcu-unlock" in e.tags:
                    if stack:
                        out[stack.pop()] |= 1 << (off + i)
                    else:
                        self.unbalanced_rcu = True
            self.unbalanced_rcu |= bool(stack)
        return out

    def fence(self, kind: str) -> Rel:
        """Return ``fencerel(kind)`` (empty when the execution has no such fence)."""
        return self.fencerel.get(kind) or rel.empty(self.n)

    def describe(self, i: int, source: Sequence[str]) -> str:
        """Return event ``i`` as a student reads it: ``P1 line 23: r0 = READ_ONCE(*y); reads 0``."""
        e = self.events[i]
        if e.thread < 0:
            return f"the initial value of {e.loc} ({_show(e.value)})"
        text = source[e.line - 1].strip() if 0 < e.line <= len(source) else e.text
        what = ""
        if "LKR" in e.tags:
            what = f" (lock {e.loc}: reads it unlocked)"
        elif "LKW" in e.tags:
            what = f" (lock {e.loc}: takes it)"
        elif "UL" in e.tags:
            what = f" (unlock {e.loc})"
        elif "LF" in e.tags:
            what = f" (fails: {e.loc} held)"
        elif "RL" in e.tags or "RU" in e.tags:
            what = f" (sees {e.loc} {'held' if 'RL' in e.tags else 'free'})"
        elif "rmw-mb" in e.tags:
            what = " (its implied full barrier)"
        elif e.kind == "R":
            what = f" reads {e.loc}={_show(e.value)}"
        elif e.kind == "W":
            what = f" writes {e.loc}={_show(e.value)}"
        return f"P{e.thread} line {e.line}: {text}{what}"


def _show(v: Value) -> str:
    return v if isinstance(v, str) else str(v)
