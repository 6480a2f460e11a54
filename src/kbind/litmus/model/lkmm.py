"""The axioms of ``linux-kernel.cat`` on one candidate execution.

:func:`evaluate` takes a :class:`~kbind.litmus.model.graph.Graph` and a
choice of ``rf`` and ``co`` and computes, as the cat file does, ``fr``,
the fence relations (``mb``, ``rmb``, ``wmb``, ``gp``, ``po-rel``,
``acq-po``, ``po-unlock-lock-po``: ``po ; [UL] ; (po | rf) ; [LKR] ; po``),
``ppo``, ``rmw-sequence``, ``cumul-fence``, ``prop``,
``hb``, ``pb``, ``rcu-link``, ``rcu-order``, ``rcu-fence``, ``rb`` and, when
the test has plain accesses, the data-race relations (``vis``, ``xbstar``,
the ``*-bounded`` boundaries, ``ww-vis``/``wr-vis``/``rw-xbstar``,
``pre-race``); as in the cat file, ``fence`` and ``strong-fence`` include
``rcu-fence`` from the RCU part on.  The dependencies are carried
through plain accesses and ``rfi`` (the bell's ``carry-dep``).  It checks
the axioms in the cat file's order: ``coherence``, ``atomic``,
``happens-before``, ``propagation``, ``rcu``, ``plain-coherence``, and
flags ``data-race``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kbind.litmus.model import rel
from kbind.litmus.model.graph import Graph
from kbind.litmus.model.rel import Rel

__all__ = ["AXIOMS", "Eval", "evaluate"]

#: The axioms, in the order herd7 checks them.
AXIOMS = ("coherence", "atomic", "happens-before", "propagation", "rcu", "plain-coherence")


@dataclass
class Eval:
    """What one candidate execution's check found.

    Attributes:
        failed: the first axiom it violates, or None (the model allows it).
        rels: the relations computed, by their cat names (for explanations).
        race: a data race (two events and the kind, ``ww``/``wr``/``rw``), or None.
    """

    failed: str | None
    rels: dict[str, Rel] = field(default_factory=dict)
    race: tuple[int, int, str] | None = None


def coherence_ok(g: Graph, rf: Rel, co: Rel, fr: Rel) -> bool:
    """Whether ``po-loc | rf | co | fr`` is acyclic (cat's ``coherence``)."""
    return rel.acyclic(rel.union(g.po_loc_m, rf, co, fr))


def atomic_ok(g: Graph, fr: Rel, co: Rel) -> bool:
    """Whether ``rmw & (fre ; coe)`` is empty (cat's ``atomic``)."""
    if not any(g.rmw):
        return True
    fre = rel.inter(fr, g.ext)
    coe = rel.inter(co, g.ext)
    return rel.is_empty(rel.inter(g.rmw, rel.seq(fre, coe)))


def evaluate(g: Graph, rf: Rel, co: Rel, *, races: bool = True, stop: bool = True) -> Eval:
    """Check one candidate execution (``rf``: write -> read; ``co``: transitive, per location).

    With ``stop``, return at the first violated axiom; ``races`` computes the
    data-race flag of an allowed execution with plain accesses.
    """
    n = g.n
    all_ = (1 << n) - 1
    fr = rel.seq(rel.inverse(rf), co)
    out = Eval(None)
    r = out.rels
    r.update(rf=rf, co=co, fr=fr)
    if not coherence_ok(g, rf, co, fr):
        out.failed = "coherence"
        return out
    if not atomic_ok(g, fr, co):
        out.failed = "atomic"
        return out
    M, W, Marked = g.M, g.W, g.Marked  # noqa: N806 - the cat file's set names
    po = g.po
    rfe, rfi = rel.inter(rf, g.ext), rel.inter(rf, g.int)
    r.update(rfe=rfe, rfi=rfi)
    # Dependencies, carried through rfi (the bell's carry-dep)
    carry = rel.star(rel.seq(rel.restrict(g.data0, all_, all_ & ~g.srcu_unlock), rfi))
    addr = rel.seq(carry, g.addr0)
    data = rel.seq(carry, g.data0)
    ctrl = rel.seq(carry, g.ctrl0)
    r.update(addr=addr, data=data, ctrl=ctrl)
    # Release/acquire and the lock pairings
    acq_po = rel.restrict(po, g.Acquire, M)
    po_rel = rel.restrict(po, M, g.Release)
    pulp = rel.seq(rel.restrict(po, all_, g.UL), rel.restrict(rel.union(po, rf), all_, g.LKR), po)
    r.update({"acq-po": acq_po, "po-rel": po_rel, "po-unlock-lock-po": pulp})
    # Fences
    r4rmb = g.R & ~g.Noreturn
    rmb = rel.restrict(g.fence("rmb"), r4rmb, r4rmb)
    wmb = rel.restrict(g.fence("wmb"), W, W)
    po_opt = rel.opt(po)
    mb = rel.restrict(g.fence("mb"), M, M)
    if g.kind["before-atomic"]:
        mb = rel.union(mb, rel.seq(rel.restrict(g.fence("before-atomic"), M, g.RMW),
                                   rel.restrict(po_opt, all_, M)))  # fmt: skip
    if g.kind["after-atomic"]:
        mb = rel.union(mb, rel.seq(rel.restrict(po_opt, M, g.RMW),
                                   rel.restrict(g.fence("after-atomic"), all_, M)))  # fmt: skip
    if g.kind["after-spinlock"]:
        mb = rel.union(mb, rel.seq(rel.restrict(po_opt, M, g.LKW),
                                   rel.restrict(g.fence("after-spinlock"), all_, M)))  # fmt: skip
    if g.kind["after-unlock-lock"]:
        ual = rel.restrict(g.fence("after-unlock-lock"), all_, M)
        mb = rel.union(mb, rel.seq(rel.restrict(po, M, g.UL),
                                   rel.restrict(rel.union(co, po), all_, g.LKW), ual))  # fmt: skip
    sync = g.kind["sync-rcu"] | g.kind["sync-srcu"]
    gp = rel.seq(rel.restrict(po, all_, sync), po_opt) if sync else rel.empty(n)
    strong = rel.union(mb, gp)
    nonrw = rel.union(strong, po_rel, acq_po)
    fence = rel.union(nonrw, wmb, rmb)
    r.update(mb=mb, rmb=rmb, wmb=wmb, gp=gp, fence=fence)
    r["strong-fence"] = strong
    # Preserved program order
    dep = rel.union(addr, data)
    rwdep = rel.restrict(rel.union(dep, ctrl), all_, W)
    overwrite = rel.union(co, fr)
    ow_int = rel.inter(overwrite, g.int)
    to_w = rel.union(rwdep, ow_int, rel.seq(rel.restrict(addr, all_, g.Plain), wmb))
    to_r = rel.union(addr, rel.seq(rel.restrict(dep, all_, Marked), rfi))
    ppo = rel.union(to_r, to_w, fence, rel.inter(pulp, g.int))
    r.update(ppo=ppo)
    r["to-r"], r["to-w"] = to_r, to_w
    # Propagation
    rfe_m = rel.restrict(rfe, all_, Marked)
    a_cumul = rel.seq(rel.opt(rfe_m), rel.union(strong, po_rel))
    # rmw-sequence: a write, then the atomic updates that read from it, one after another
    rmw_seq = _rmw_sequence(rf, g.rmw)
    cumul = rel.restrict(rel.union(a_cumul, wmb, pulp), Marked, Marked)
    if rmw_seq is not None:
        cumul = rel.seq(cumul, rmw_seq)
    ow_ext = rel.inter(overwrite, g.ext)
    prop = rel.seq(rel.restrict(rel.opt(ow_ext), Marked, all_),
                   rel.restrict(rel.star(cumul), all_, Marked),
                   rel.restrict(rel.opt(rfe), all_, Marked))  # fmt: skip
    r["cumul-fence"], r["prop"] = cumul, prop
    prop_int = rel.inter([row & ~(1 << i) for i, row in enumerate(prop)], g.int)
    hb = rel.restrict(rel.union(ppo, rfe, prop_int), Marked, Marked)
    r["hb"] = hb
    if not rel.acyclic(hb):
        out.failed = "happens-before"
        if stop:
            return out
    hb_star = rel.star(hb)
    pb = rel.restrict(rel.seq(prop, strong, hb_star), all_, Marked)
    r["pb"] = pb
    if out.failed is None and not rel.acyclic(pb):
        out.failed = "propagation"
        if stop:
            return out
    pb_star = rel.star(pb)
    rb = rel.empty(n)
    rcu_fence = rel.empty(n)
    if g.has_rcu:
        link = rel.seq(po_opt, hb_star, pb_star, prop, po)
        rcu_order = _rcu_order(g, link)
        rcu_fence = rel.seq(po, rcu_order, po_opt)
        rb = rel.restrict(rel.seq(prop, rcu_fence, hb_star, pb_star), all_, Marked)
        r["rcu-link"], r["rcu-order"], r["rcu-fence"], r["rb"] = link, rcu_order, rcu_fence, rb
        if out.failed is None and any(row >> i & 1 for i, row in enumerate(rb)):
            out.failed = "rcu"
            if stop:
                return out
    if not g.has_plain or (out.failed is not None and stop):
        return out
    # Plain accesses: coherence and data races
    xbstar = rel.star(rel.union(hb, pb, rb))
    # From here on the cat file's fence and strong-fence include rcu-fence
    if g.has_rcu:
        fence, strong = rel.union(fence, rcu_fence), rel.union(strong, rcu_fence)
    tail = rel.union(rel.seq(rel.restrict(strong, all_, Marked), xbstar), rel.inter(xbstar, g.int))
    vis = rel.seq(rel.star(cumul), rel.restrict(rel.opt(rfe), all_, Marked),
                  rel.restrict(tail, Marked, all_))  # fmt: skip
    rmb_nr = rel.restrict(g.fence("rmb"), r4rmb, all_ & ~g.Noreturn)
    rmb_rn = rel.restrict(g.fence("rmb"), all_ & ~g.Noreturn, r4rmb)
    w_pre = rel.restrict(rel.opt(rel.union(addr, fence)), Marked, all_)
    r_pre = rel.restrict(rel.opt(rel.union(addr, nonrw, rmb_nr)), Marked, all_)
    w_post = rel.restrict(rel.opt(fence), all_, Marked)
    if rmw_seq is not None:
        w_post = rel.seq(w_post, rmw_seq)
    r_post = rel.restrict(rel.opt(rel.union(nonrw, rmb_rn)), all_, Marked)
    # A fence orders plain accesses by itself; a strong fence before a marked access
    # makes a write visible to whatever executes after that access.
    strong_xb = rel.seq(strong, xbstar)
    ww_vis = rel.union(fence, rel.seq(strong_xb, w_pre), rel.seq(w_post, vis, w_pre))
    wr_vis = rel.union(fence, rel.seq(strong_xb, r_pre), rel.seq(w_post, vis, r_pre))
    rw_xb = rel.union(fence, rel.seq(r_post, xbstar, w_pre))
    plain, mem = g.Plain, M
    pre_race = rel.inter(
        g.ext, rel.union(rel.cross(n, plain, mem), rel.cross(n, mem & ~g.IW, plain))
    )
    wr_incoh = rel.inter(rel.inter(pre_race, rf), rel.inverse(rw_xb))
    rw_incoh = rel.inter(rel.inter(pre_race, fr), rel.inverse(wr_vis))
    ww_incoh = rel.inter(rel.inter(pre_race, co), rel.inverse(ww_vis))
    incoh = rel.union(wr_incoh, rw_incoh, ww_incoh)
    r["plain-incoherent"] = incoh
    if out.failed is None and not rel.is_empty(incoh):
        out.failed = "plain-coherence"
        if stop:
            return out
    if not races:
        return out
    ww_nonrace = rel.inter(rel.inter(ww_vis, rel.union(rel.cross(n, Marked, W), rw_xb)),
                           rel.union(rel.cross(n, W, Marked), wr_vis))  # fmt: skip
    kinds = (
        ("ww", rel.diff(rel.inter(pre_race, co), ww_nonrace)),
        (
            "wr",
            rel.diff(
                rel.diff(rel.inter(pre_race, rel.seq(rel.opt(co), rf)), wr_vis), rel.inverse(rw_xb)
            ),
        ),
        ("rw", rel.diff(rel.inter(pre_race, fr), rw_xb)),
    )
    for name, race in kinds:
        for i, row in enumerate(race):
            if row:
                out.race = (i, next(iter(rel.bits(row))), name)
                return out
    return out


def _rmw_sequence(rf: Rel, rmw: Rel) -> Rel | None:
    """Return ``rmw-sequence`` (``(rf ; rmw)*``), or None where ``rf ; rmw`` is empty (identity).

    The chains are short and few, so the closure iterates over the non-empty rows only.
    """
    if not any(rmw):
        return None
    step = rel.seq(rf, rmw)
    rows = [i for i, row in enumerate(step) if row]
    if not rows:
        return None
    changed = True
    while changed:
        changed = False
        for i in rows:
            row = acc = step[i]
            for j in rel.bits(row):
                acc |= step[j]
            if acc != row:
                step[i] = acc
                changed = True
    return rel.opt(step)


def _rcu_order(g: Graph, link: Rel) -> Rel:
    """Return the least fixed point of the cat file's recursive ``rcu-order``."""
    n = g.n
    rcu_gp = rel.ident(n, g.kind["sync-rcu"])
    srcu_gp = rel.ident(n, g.kind["sync-srcu"])
    rcu_rscsi = rel.inverse(g.rcu_rscs)
    srcu_rscsi = rel.inverse(g.srcu_rscs)
    loc = g.loc
    base = rel.union(
        rcu_gp,
        srcu_gp,
        rel.seq(rcu_gp, link, rcu_rscsi),
        rel.inter(rel.seq(srcu_gp, link, srcu_rscsi), loc),
        rel.seq(rcu_rscsi, link, rcu_gp),
        rel.inter(rel.seq(srcu_rscsi, link, srcu_gp), loc),
    )
    fence = base
    while True:
        lf = rel.seq(link, fence, link)
        nxt = rel.union(
            base,
            rel.seq(rcu_gp, lf, rcu_rscsi),
            rel.inter(rel.seq(srcu_gp, lf, srcu_rscsi), loc),
            rel.seq(rcu_rscsi, lf, rcu_gp),
            rel.inter(rel.seq(srcu_rscsi, lf, srcu_gp), loc),
            rel.seq(fence, link, fence),
        )
        if nxt == fence:
            return fence
        fence = nxt
