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
