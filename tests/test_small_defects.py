"""Smaller reliability checks, one test per behaviour.

RcuRef pickling, reserved seqlock field names, timeout validation, guards
that never entered, int subclasses in atomics, subclassing the public
types, and Ctrl-C during the torture functions.
"""

from __future__ import annotations

import copy
import math
import pickle
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import kbind
from kbind import (
    AtomicI32,
    AtomicI64,
    AtomicUsize,
    GuardError,
    LockGuard,
    Mutex,
    Rcu,
    RcuDropGuard,
    RcuReadGuard,
    RcuRef,
    RcuWrite,
    Relaxed,
    SeqLatch,
    SeqLatchWriteView,
    SeqLock,
    SeqReadToken,
    SeqWriteGuard,
    SpinLock,
    Word,
)
from kbind import rcu as rcu_mod
from kbind.torture import rcu_torture
from kbind.torture.atomic import atomic_torture
from kbind.torture.seqlock import seqlock_torture

# ------------------------------------------------------------- RcuRef pickle


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_rcuref_pickle_raises_documented_type_error(protocol: int) -> None:
    """pickle.dumps(ref) raises the TypeError RcuRef documents, not a PicklingError."""
    r = Rcu({"a": [1, 2]})
    with RcuReadGuard() as g:
        ref = r.read(g)
        with pytest.raises(TypeError, match="cannot pickle an RcuRef") as exc:
            pickle.dumps(ref, protocol=protocol)
        assert not isinstance(exc.value, pickle.PicklingError)
        assert pickle.loads(pickle.dumps(copy.deepcopy(ref["a"]))) == [1, 2]  # a copy pickles


def test_rcuref_deepcopy_still_gives_a_plain_copy() -> None:
    """copy.deepcopy(ref) keeps working (a plain deep copy of the target)."""
    r = Rcu({"a": [1, 2]})
    with RcuReadGuard() as g:
        out = copy.deepcopy(r.read(g))
    assert out == {"a": [1, 2]} and type(out) is dict


# ------------------------------------------------------- reserved field names


@pytest.mark.parametrize("name", ["sequence", "KIND"])
@pytest.mark.parametrize("cls", [SeqLock, SeqLatch])
def test_seqlock_field_shadowed_by_token_or_view_attribute_refused(cls: Any, name: str) -> None:
    """A field named like an attribute of the token or view (sequence, KIND) is refused."""
    with pytest.raises(ValueError, match="reserved"):
        cls(**{name: 1})


def test_seqlock_every_public_attribute_of_token_view_guard_is_reserved() -> None:
    """No public attribute of a token, view or write guard can be shadowed by a field."""
    sl = SeqLock(x=1)
    tok = sl.read_begin()
    view_cls = type(sl.read(lambda v: v))
    sl.read_retry(tok)
    names = {
        n
        for cls in (SeqReadToken, SeqWriteGuard, view_cls, SeqLatchWriteView)
        for n in dir(cls)
        if not n.startswith("_") and n != "x"
    }
    for n in sorted(names):
        with pytest.raises(ValueError, match="reserved"):
            SeqLock(**{n: 1})


# --------------------------------------------------------------- timeouts


@pytest.mark.parametrize("bad", [math.nan, -1, -0.5, -math.inf])
def test_rcu_barrier_nan_or_negative_timeout_raises_value_error(bad: float) -> None:
    """rcu_barrier(nan) used to wait without bound: NaN and negatives raise ValueError."""
    rcu_mod.call_rcu(lambda: None)
    with pytest.raises(ValueError, match="timeout"):
        rcu_mod.rcu_barrier(bad)
    assert rcu_mod.rcu_barrier(10)


@pytest.mark.parametrize("bad", ["1", b"1", True, [1], object()])
def test_rcu_barrier_non_number_timeout_raises_clear_type_error(bad: object) -> None:
    """rcu_barrier("1") raises a TypeError naming the argument, not a raw comparison error."""
    rcu_mod.call_rcu(lambda: None)
    with pytest.raises(TypeError, match=r"rcu_barrier\(\): timeout must be a number"):
        rcu_mod.rcu_barrier(bad)  # type: ignore[arg-type]
    assert rcu_mod.rcu_barrier(10)


def test_rcu_barrier_infinite_or_int_timeout_accepted() -> None:
    """inf means no bound; an int is a number of seconds."""
    rcu_mod.call_rcu(lambda: None)
    assert rcu_mod.rcu_barrier(math.inf)
    rcu_mod.call_rcu(lambda: None)
    assert rcu_mod.rcu_barrier(10)


@pytest.mark.parametrize(
    ("bad", "exc"),
    [(math.nan, ValueError), (-1, ValueError), (0, ValueError), (math.inf, ValueError),
     ("1", TypeError), (None, TypeError), (True, TypeError)],
)  # fmt: skip
def test_set_stall_timeout_invalid_raises_naming_the_argument(bad: object, exc: type) -> None:
    """set_stall_timeout() refuses NaN, non-positive, infinite and non-numbers, clearly."""
    before = rcu_mod.get_stall_timeout()
    with pytest.raises(exc, match="set_stall_timeout"):
        rcu_mod.set_stall_timeout(bad)  # type: ignore[arg-type]
    assert rcu_mod.get_stall_timeout() == before


@pytest.mark.parametrize(
    ("bad", "exc"), [(math.nan, ValueError), (-1, ValueError), (math.inf, ValueError),
                     ("1", TypeError)],
)  # fmt: skip
def test_trace_run_scenario_invalid_duration_raises_naming_the_argument(
    bad: object, exc: type
) -> None:
    """kbind.trace.run_scenario() validates its duration like every other timeout."""
    from kbind.trace import run_scenario

    with pytest.raises(exc, match="duration"):
        run_scenario(duration=bad)  # type: ignore[arg-type]


# ---------------------------------------------------- never-entered guards


def test_never_entered_read_guard_properties_do_not_raise_attribute_error() -> None:
    """RcuReadGuard.__new__(RcuReadGuard): alive False, dropped_at None, created_at GuardError."""
    g = RcuReadGuard.__new__(RcuReadGuard)
    assert g.alive is False
    assert g.dropped_at is None
    with pytest.raises(GuardError, match="never entered"):
        _ = g.created_at
    with pytest.raises(GuardError, match="never entered"):
        g.drop()
    with pytest.raises(GuardError, match="never entered"):
        g.__exit__(None, None, None)
    assert "not entered" in repr(g)
    with pytest.raises(TypeError):
        Rcu(1).read(g)


# ------------------------------------------------------------ int subclasses


class MyInt(int):
    """A user's int subclass."""


@pytest.mark.parametrize("cls", [AtomicI32, AtomicI64, AtomicUsize])
def test_atomic_int_subclass_operands_accepted(cls: Any) -> None:
    """An int subclass is an int: AtomicUsize(MyInt(2**63)) no longer raises a raw OverflowError."""
    top = cls._MAX
    a = cls(MyInt(top))
    assert a.load(Relaxed) == top
    a.store(MyInt(top - 1), Relaxed)
    assert a.fetch_add(MyInt(1), Relaxed) == top - 1
    assert a.load(Relaxed) == top
    assert a.cmpxchg(MyInt(top), MyInt(3), Relaxed) == top
    assert a.load(Relaxed) == 3


def test_atomic_usize_high_bit_int_subclass() -> None:
    """The case of the issue, exactly."""
    assert AtomicUsize(MyInt(2**63)).load(Relaxed) == 2**63


# --------------------------------------------------------------- subclassing

FINAL_CLASSES = [
    SpinLock, Mutex, LockGuard, Rcu, RcuRef, RcuReadGuard, RcuWrite, RcuDropGuard, SeqLock,
    SeqLatch, SeqReadToken, SeqWriteGuard, SeqLatchWriteView, AtomicI32, AtomicI64,
    AtomicUsize, Word,
]  # fmt: skip


@pytest.mark.parametrize("cls", FINAL_CLASSES, ids=lambda c: c.__name__)
def test_subclassing_public_type_raises_type_error_at_definition(cls: type) -> None:
    """Public primitives are final (Rust types are not subclassable): a subclass is refused
    when it is defined, instead of half working ("not MyGuard", "no _c_trylock")."""
    with pytest.raises(TypeError, match="final"):
        type("Mine", (cls,), {})


def test_subclassing_seq_view_raises_type_error() -> None:
    """SeqView (each lock makes its own view class internally) refuses user subclasses too."""
    with pytest.raises(TypeError, match="final"):
        type("Mine", (kbind.SeqView,), {})
    assert SeqLock(x=4).read(lambda v: v.x) == 4


def test_public_types_are_exported_final() -> None:
    """The final public types are marked with typing.final too (mypy rejects subclasses)."""
    for cls in FINAL_CLASSES:
        assert getattr(cls, "__final__", False), cls
    assert kbind.SpinLock is SpinLock


# ------------------------------------------------------- Ctrl-C in tortures

DURATION = 8.0


@pytest.fixture
def interrupt_when_running() -> Iterator[Callable[[str], None]]:
    """Send the main thread a KeyboardInterrupt once a thread named ``name`` runs (bounded)."""
    pokers: list[threading.Thread] = []

    def arm(name: str) -> None:
        def poke() -> None:
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                if any(t.name == name for t in threading.enumerate()):
                    break
                time.sleep(0.005)  # bounded poll for the run to start, not ordering
            # A real SIGINT to the main thread, as Ctrl-C is: it interrupts a blocking wait.
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

        t = threading.Thread(target=poke)
        pokers.append(t)
        t.start()

    yield arm
    for t in pokers:
        t.join(10)


def _run(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.monotonic()
    try:
        out = fn()
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped as KeyboardInterrupt instead of a partial result")
    return out, time.monotonic() - t0


def test_rcu_torture_ctrl_c_stops_early_with_partial_results(
    interrupt_when_running: Callable[[str], None],
) -> None:
    """rcu_torture() stops soon after Ctrl-C and reports what it saw, stopped_early set."""
    interrupt_when_running("kbind-rcu-torture")
    r, took = _run(lambda: rcu_torture(duration=DURATION))
    assert r.stopped_early
    assert took < DURATION / 2
    assert r.reads > 0 and r.passed
    assert "stopped early" in kbind.torture.format_rcu_report(r)


def test_seqlock_torture_ctrl_c_stops_early_with_partial_results(
    interrupt_when_running: Callable[[str], None],
) -> None:
    """seqlock_torture() stops soon after Ctrl-C and reports what it saw."""
    interrupt_when_running("kbind-seqlock-torture")
    r, took = _run(lambda: seqlock_torture(duration=DURATION))
    assert r.stopped_early
    assert took < DURATION / 2
    assert r.reads > 0 and r.passed
    assert "stopped early" in kbind.format_seqlock_report(r)


def test_atomic_torture_ctrl_c_stops_early_with_partial_results(
    interrupt_when_running: Callable[[str], None],
) -> None:
    """The atomic torture stops soon after Ctrl-C and reports what it saw."""
    interrupt_when_running("kbind-atomic-torture")
    r, took = _run(lambda: atomic_torture(duration=DURATION))
    assert r.stopped_early
    assert took < DURATION / 2
    assert r.passed


def test_python_rcu_torture_ctrl_c_stops_early_with_partial_results(
    interrupt_when_running: Callable[[str], None],
) -> None:
    """The Python-level RCU torture of the tests stops on Ctrl-C and returns partial counts."""
    from tests.test_rcu_torture_py import py_rcu_torture

    interrupt_when_running("torture-updater")
    r, took = _run(lambda: py_rcu_torture(duration=DURATION, max_updates=10**9))
    assert r.stopped_early
    assert took < DURATION / 2
    assert r.errors == [] and r.freed_seen == 0


def test_torture_off_main_thread_runs_normally() -> None:
    """Off the main thread the torture call runs directly (no signal can reach it there)."""
    out: list[Any] = []
    t = threading.Thread(target=lambda: out.append(rcu_torture(duration=0.1)))
    t.start()
    t.join(30)
    assert out and out[0].passed and not out[0].stopped_early
