"""kbind's LKMM evaluator: the shipped corpus agrees with its Result: lines; reasons name axioms.

Every shipped ``.litmus`` file states herd7's verdict (``Result:``); the
evaluator (kbind.litmus.model) must give the same.  The forbidden states'
reasons name the axiom of linux-kernel.cat and the relations of the cycle.
"""

from __future__ import annotations

import json

import pytest

from kbind import litmus

SHIPPED = [p.stem for p in litmus.shipped()]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_test_agrees_with_its_result(name: str) -> None:
    """The model's verdict is the file's Result: (herd7's Observation)."""
    r = litmus.model(name)
    assert r.expected is not None
    assert r.agreement == "agree", litmus.format_model(r)


def test_sb_with_mb_forbidden_by_propagation() -> None:
    """SB+fencembonceonces: the 0/0 state breaks propagation through fre and smp_mb()."""
    r = litmus.model("SB+fencembonceonces")
    assert r.verdict == "Never"
    assert r.allowed_labels() == {"0:r0=0; 1:r0=1", "0:r0=1; 1:r0=0", "0:r0=1; 1:r0=1"}
    (f,) = r.forbidden
    assert f.label == "0:r0=0; 1:r0=0"
    assert f.reason.axiom == "propagation"
    edges = [e for _, e in f.reason.steps]
    assert edges.count("fre") == 2
    assert edges.count("strong fence (smp_mb())") == 2
    text = "\n".join(f.reason.lines())
    assert "P0 line 20: r0 = READ_ONCE(*y); reads y=0" in text


def test_sb_without_fences_sometimes() -> None:
    """SB+poonceonces: all four states are allowed, nothing forbidden."""
    r = litmus.model("SB+poonceonces")
    assert r.verdict == "Sometimes"
    assert len(r.states) == 4
    assert r.forbidden == []


def test_mp_release_acquire_happens_before_cycle() -> None:
    """MP with release/acquire: an hb cycle through acquire ppo, fre, cumul-fence and rfe."""
    r = litmus.model("MP+pooncerelease+poacquireonce")
    (f,) = r.forbidden
    assert f.reason.axiom == "happens-before"
    edges = [e for _, e in f.reason.steps]
    assert edges == [
        "ppo (acquire: smp_load_acquire())",
        "fre",
        "cumul-fence (release: smp_store_release())",
        "rfe",
    ]


def test_as_dict_is_json() -> None:
    """as_dict() round-trips through JSON with the verdict, states and reasons."""
    d = litmus.model("RCU-MP+rscs+sync").as_dict()
    back = json.loads(json.dumps(d))
    assert back["verdict"] == "Never" and back["agreement"] == "agree"
    assert back["forbidden"][0]["axiom"] == "rcu"
    assert all(s["executions"] >= 1 for s in back["states"])


def _model(text: str) -> litmus.ModelResult:
    return litmus.model(litmus.parse(text))


GP_PLAIN_WRITES = """C gp-orders-plain-writes

(* Result: Never *)

{}

P0(int *u, int *v)
{
\tWRITE_ONCE(*u, 1);
\tsynchronize_rcu();
\t*v = 1;
}

P1(int *u, int *v)
{
\tint r0;

\trcu_read_lock();
\tr0 = READ_ONCE(*u);
\tif (r0 == 0)
\t\t*v = 2;
\trcu_read_unlock();
}

exists (1:r0=0 /\\ v=2)
"""


def test_rcu_fence_orders_plain_writes_without_race() -> None:
    """A grace period against a read-side critical section is a fence for plain accesses.

    After the RCU part, linux-kernel.cat adds rcu-fence to ``fence`` and
    ``strong-fence``; the reader's plain write is then visible to the
    updater's (ww-vis), so v=2 at the end breaks plain-coherence, with no race.
    """
    r = _model(GP_PLAIN_WRITES)
    assert r.verdict == "Never" and r.agreement == "agree", litmus.format_model(r)
    assert "data-race" not in r.flags
    (f,) = r.forbidden
    assert f.reason.axiom == "plain-coherence"
    assert [e for _, e in f.reason.steps] == [
        "coe",
        "ww-vis (the write is visible to the other write)",
    ]


MB_CHAIN_PLAIN_READ = """C mb-chain-bounds-plain-read

(* Result: Never *)

{}

P0(int *d, int *f)
{
\t*d = 5;
\tsmp_mb();
\tWRITE_ONCE(*f, 1);
}

P1(int *f, int *g)
{
\tint r0;

\tr0 = READ_ONCE(*f);
\tWRITE_ONCE(*g, r0 + 1);
}

P2(int *d, int *g)
{
\tint r1;
\tint r2;

\tr1 = smp_load_acquire(g);
\tif (r1 == 2)
\t\tr2 = *d;
}

exists (2:r1=2 /\\ 2:r2=0)
"""


def test_strong_fence_then_xbstar_bounds_a_plain_read() -> None:
    """``wr-vis`` has the term ``strong-fence ; xbstar ; r-pre-bounded``.

    The plain write is followed by smp_mb(); the chain from the marked write
    after it to the acquire that bounds the plain read is xb*, with no strong
    fence in the middle thread, so only that term makes the write visible.
    """
    r = _model(MB_CHAIN_PLAIN_READ)
    assert r.verdict == "Never" and r.agreement == "agree", litmus.format_model(r)
    assert "data-race" not in r.flags
    (f,) = r.forbidden
    assert f.reason.axiom == "plain-coherence"
    assert f.reason.steps[0][1] == "fre"


WMB_THROUGH_ATOMIC = """C wmb-through-atomic-inc

(* Result: Never *)

{}

P0(int *x, atomic_t *y)
{
\tWRITE_ONCE(*x, 1);
\tsmp_wmb();
\tatomic_set(y, 1);
}

P1(atomic_t *y)
{
\tatomic_inc(y);
}

P2(int *x, atomic_t *y)
{
\tint r0;
\tint r1;

\tr0 = atomic_read(y);
\tsmp_rmb();
\tr1 = READ_ONCE(*x);
}

exists (2:r0=2 /\\ 2:r1=0)
"""


def test_cumul_fence_extends_through_rmw_sequence() -> None:
    """cumul-fence ends with ``rmw-sequence``: a relaxed atomic_inc() passes the wmb on.

    P2 reads the value of P1's increment of P0's store; the hb cycle runs
    through rf ; rmw of the atomic update.
    """
    r = _model(WMB_THROUGH_ATOMIC)
    assert r.verdict == "Never" and r.agreement == "agree", litmus.format_model(r)
    (f,) = r.forbidden
    assert f.reason.axiom == "happens-before"
    assert "rmw (the same atomic operation)" in [e for _, e in f.reason.steps]
