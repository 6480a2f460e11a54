"""A bounded, seeded random-program fuzzer of kbind's public API across threads.

A *program* is 2-4 threads, each a list of *actions* drawn from the public
API (read guards, ``Rcu`` reads/updates, ``call_rcu``/``rcu_barrier``,
QSBR mode, ``SpinLock``/``Mutex``, ``SeqLock``, ``AtomicI64`` with valid and
invalid orderings, and deliberate misuses).  The generator runs a small
reference model alongside, so each action carries its EXPECTED outcome:
``"ok"`` or the name of the exception it must raise (a ``kbind.errors``
class, or ``TypeError``/``ValueError`` for bad arguments).  The executor runs
the threads from a ``threading.Barrier`` and checks:

* every action ends as expected; any other exception type is a failure;
* values read match the model (RCU payloads consistent and never freed under
  a live guard, SeqLock pairs untorn, atomic and lock counters add up);
* every ``call_rcu`` callback ran exactly once by the final ``rcu_barrier()``;
* nothing is reported to ``sys.unraisablehook`` and no warning is raised.

Programs run in a child process (``run_campaign``), so a crash (signal) or a
hang (per-program ``faulthandler`` timeout) is caught and reported with the
seed of the program that was running.  Program ``i`` of a campaign with seed
``S`` has seed ``S + i``; replay one with::

    python tests/fuzz/api_fuzz.py --seed SEED            # prints the program and the outcome

Not part of the package: a test tool (tests/test_fuzz.py runs it).
"""

from __future__ import annotations

import argparse
import copy
import faulthandler
import json
import os
import pickle
import random
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Action = dict[str, Any]
Program = dict[str, Any]

#: Seconds one program may run before it counts as hung.
PROGRAM_TIMEOUT_S = 20.0
#: Bound on every blocking call a program makes (a stuck call fails, never hangs).
BOUND_S = 10.0
#: The child's GIL switch interval (CPython's default is 5 ms: too coarse to interleave).
SWITCH_INTERVAL_S = 1e-5
#: Fault injections that prove the fuzzer can fail (tests/test_fuzz.py).
INJECTIONS = ("wrong-value", "raw-error", "lost-callback", "crash", "hang")

#: Atomic operations: name -> (argument count, orderings it accepts).
_ANY = ("Relaxed", "Acquire", "Release", "Full")
ATOMIC_OPS: dict[str, tuple[int, tuple[str, ...]]] = {
    "load": (0, ("Relaxed", "Acquire")),
    "add": (1, ("Relaxed",)),
    "sub": (1, ("Relaxed",)),
    "inc": (0, ("Relaxed",)),
    "fetch_add": (1, _ANY),
    "add_return": (1, _ANY),
    "fetch_sub": (1, _ANY),
    "dec_return": (0, _ANY),
}
#: What each atomic operation adds to the counter (its argument ``v``).
_ATOMIC_DELTA: dict[str, Callable[[int], int]] = {
    "load": lambda v: 0,
    "add": lambda v: v,
    "sub": lambda v: -v,
    "inc": lambda v: 1,
    "fetch_add": lambda v: v,
    "add_return": lambda v: v,
    "fetch_sub": lambda v: -v,
    "cmpxchg_add": lambda v: v,
    "dec_return": lambda v: -1,
}

#: Self-contained misuses -> the error each must raise.
MISUSES = {
    "use_after_guard_drop": "LifetimeError",
    "guard_drop_twice": "GuardError",
    "guard_copy": "CloneError",
    "guard_deepcopy": "CloneError",
    "guard_pickle": "CloneError",
    "unlock_on_other_thread": "GuardError",
    "tentative_after_own_write": "TentativeValueError",
    "barrier_in_callback": "DeadlockError",
    "split_rcu_replace": "GuardError",
    "atomic_not_an_int": "TypeError",
    "guard_on_other_thread": "GuardError",
    "lock_twice": "DeadlockError",
    "unlock_twice": "GuardError",
    "lock_value_after_unlock": "LifetimeError",
    "seq_write_twice": "DeadlockError",
    "drop_guard_twice": "GuardError",
    "barrier_bad_timeout": "ValueError",
    "barrier_timeout_not_a_number": "TypeError",
    "call_rcu_not_callable": "TypeError",
}


# ------------------------------------------------------------------ generator


def generate(seed: int) -> Program:
    """Build the random program of ``seed``; each action carries its expected outcome."""
    rng = random.Random(seed)
    threads = [_thread_actions(rng, t) for t in range(rng.randint(2, 4))]
    if not any(a["op"] == "call_rcu" for a in threads[0]):
        threads[0].insert(0, {"op": "call_rcu", "expect": "ok"})
    return {"seed": seed, "threads": threads}


def _thread_actions(rng: random.Random, tid: int) -> list[Action]:
    depth = 0  # the model: read guards this thread holds
    out: list[Action] = []
    for i in range(rng.randint(8, 24)):
        gen = (tid + 1) * 1000 + i  # unique value published by this action
        r = rng.random()
        if r < 0.14:
            out.append({"op": "enter", "expect": "ok"})
            depth += 1
        elif r < 0.24 and depth:
            out.append({"op": "exit", "expect": "ok"})
            depth -= 1
        elif r < 0.38:
            op = rng.choice(["read", "reread", "read_fn", "ref_protocol", "attr_read", "with_read"])
            if op != "with_read" and not depth:
                op = "with_read"
            out.append({"op": op, "expect": "ok"})
        elif r < 0.46:
            op = rng.choice(["replace_drop", "update_defer", "replace_defer", "attr_update"])
            blocked = op == "replace_drop" and depth
            out.append({"op": op, "gen": gen, "expect": "DeadlockError" if blocked else "ok"})
        elif r < 0.52:
            out.append({"op": rng.choice(["call_rcu", "call_rcu_nested"]), "expect": "ok"})
        elif r < 0.57:
            op = rng.choice(["barrier", "synchronize"])
            out.append({"op": op, "expect": "DeadlockError" if depth else "ok"})
        elif r < 0.60:
            out.append({"op": "qsbr_unit" if not depth else "quiescent",
                        "expect": "ok" if not depth else "GuardError"})  # fmt: skip
        elif r < 0.68:
            op = rng.choice(["lock", "try_lock"])
            out.append({"op": op, "kind": rng.choice(["spin", "mutex"]), "expect": "ok"})
        elif r < 0.78:
            op = rng.choice(["seq_write", "seq_read", "seq_loop", "seq_snapshot", "seq_lock_after"])
            out.append({"op": op, "k": rng.randint(1, 10**9), "expect": "ok"})
        elif r < 0.90:
            name = rng.choice(sorted(ATOMIC_OPS))
            _, valid = ATOMIC_OPS[name]
            ordering = rng.choice(valid if rng.random() < 0.8 else _ANY)
            out.append({"op": "atomic", "name": name, "v": rng.randint(1, 99),
                        "ordering": ordering,
                        "expect": "ok" if ordering in valid else "OrderingError"})  # fmt: skip
        else:
            name = rng.choice(sorted(MISUSES))
            out.append({"op": "misuse", "name": name, "expect": MISUSES[name]})
    out.extend({"op": "exit", "expect": "ok"} for _ in range(depth))
    return out


# ------------------------------------------------------------------- executor


class Mismatch(AssertionError):
    """A value read does not match the model."""


@dataclass
class _Shared:
    """The objects every thread of a program works on, and what the model expects of them."""

    kb: Any
    rcu: Any
    lock_guard: threading.Lock = field(default_factory=threading.Lock)
    ran: dict[str, int] = field(default_factory=dict)
    queued: list[str] = field(default_factory=list)
    deltas: list[int] = field(default_factory=list)
    lock_counts: dict[str, int] = field(default_factory=lambda: {"spin": 0, "mutex": 0})

    def __post_init__(self) -> None:
        kb = self.kb
        self.value = kb.Rcu(_payload(0))
        self.obj = kb.Rcu(Cfg(0))
        self.locks = {"spin": kb.SpinLock(0), "mutex": kb.Mutex(0)}
        self.seq = kb.SeqLock(a=0, b=0)
        self.atomic = kb.AtomicI64(0)


class Cfg:
    """A plain object published through Rcu: read by attribute."""

    def __init__(self, gen: int) -> None:
        self.gen = gen
        self.payload = (gen, gen, gen)


def _payload(gen: int) -> dict[str, Any]:
    return {"gen": gen, "payload": (gen, gen, gen)}


def _check_payload(gen: object, payload: object, where: str) -> None:
    if not isinstance(gen, int) or payload != (gen, gen, gen):
        raise Mismatch(f"{where}: inconsistent RCU value gen={gen!r} payload={payload!r}")


class _Thread:
    """One program thread's local state: its guards and the references read under them."""

    def __init__(self, sh: _Shared, tid: int) -> None:
        self.sh = sh
        self.tid = tid
        self.guards: list[Any] = []
        #: (guard, reference read under it, read by attribute)
        self.refs: list[tuple[Any, Any, bool]] = []
        self.n_cb = 0

    def run(self, i: int, a: Action) -> None:
        getattr(self, "do_" + a["op"])(i, a)

    # RCU readers
    def do_enter(self, i: int, a: Action) -> None:
        self.guards.append(self.sh.rcu.RcuReadGuard())

    def do_exit(self, i: int, a: Action) -> None:
        g = self.guards.pop()
        self.refs = [r for r in self.refs if r[0] is not g]
        g.drop()

    def do_read(self, i: int, a: Action) -> None:
        ref = self.sh.value.read(self.guards[-1])
        _check_payload(ref["gen"], ref["payload"], "rcu.read(g)")
        self.refs.append((self.guards[-1], ref, False))

    def do_reread(self, i: int, a: Action) -> None:
        if not self.refs:
            self.do_read(i, a)
        for _, ref, by_attr in self.refs:  # every guard still live: so are the values
            gen, payload = (ref.gen, ref.payload) if by_attr else (ref["gen"], ref["payload"])
            _check_payload(gen, payload, "reference re-read under its live guard")

    def do_read_fn(self, i: int, a: Action) -> None:
        gen, payload = self.sh.value.read(self.guards[-1], lambda v: (v["gen"], v["payload"]))
        _check_payload(gen, payload, "rcu.read(g, fn)")

    def do_ref_protocol(self, i: int, a: Action) -> None:
        ref = self.sh.value.read(self.guards[-1])
        got = (len(ref), "gen" in ref, sorted(ref), ref.get("gen") == ref["gen"])
        if got != (2, True, ["gen", "payload"], True):
            raise Mismatch(f"RcuRef protocol (len, in, iter, .get) gave {got!r}")

    def do_attr_read(self, i: int, a: Action) -> None:
        ref = self.sh.obj.read(self.guards[-1])
        _check_payload(ref.gen, ref.payload, "attribute read through RcuRef")
        self.refs.append((self.guards[-1], ref, True))

    def do_attr_update(self, i: int, a: Action) -> None:
        def fn(old: Any) -> Cfg:
            _check_payload(old.gen, old.payload, "update()'s old object")
            return Cfg(a["gen"])

        self.sh.obj.update(fn).defer()

    def do_with_read(self, i: int, a: Action) -> None:
        gen, payload = self.sh.value.with_read(lambda v: (v["gen"], v["payload"]))
        _check_payload(gen, payload, "with_read(fn)")

    # RCU updaters
    def do_replace_drop(self, i: int, a: Action) -> None:
        dg = self.sh.value.replace(_payload(a["gen"]))
        try:
            dg.drop()
        finally:
            if dg.pending:  # refused (inside a reader): still ours to free
                dg.defer()

    def do_replace_defer(self, i: int, a: Action) -> None:
        self.sh.value.replace(_payload(a["gen"])).defer()

    def do_update_defer(self, i: int, a: Action) -> None:
        def fn(old: Any) -> dict[str, Any]:
            _check_payload(old["gen"], old["payload"], "update()'s old value")
            return _payload(a["gen"])

        self.sh.value.update(fn).defer()

    def do_call_rcu_nested(self, i: int, a: Action) -> None:
        sh = self.sh
        token, inner = f"t{self.tid}.{i}", f"t{self.tid}.{i}.inner"

        def inner_cb() -> None:
            with sh.lock_guard:
                sh.ran[inner] = sh.ran.get(inner, 0) + 1

        def callback() -> None:  # queues another from the callback thread
            with sh.lock_guard:
                sh.queued.append(inner)
            sh.rcu.call_rcu(inner_cb)
            with sh.lock_guard:
                sh.ran[token] = sh.ran.get(token, 0) + 1

        with sh.lock_guard:
            sh.queued.append(token)
        sh.rcu.call_rcu(callback)

    def do_call_rcu(self, i: int, a: Action) -> None:
        sh = self.sh
        token = f"t{self.tid}.{i}"

        def callback() -> None:
            with sh.lock_guard:
                sh.ran[token] = sh.ran.get(token, 0) + 1

        sh.rcu.call_rcu(callback)
        with sh.lock_guard:
            sh.queued.append(token)

    def do_barrier(self, i: int, a: Action) -> None:
        if self.sh.rcu.rcu_barrier(timeout=BOUND_S) is not True:
            raise Mismatch(f"rcu_barrier(timeout={BOUND_S}) timed out")

    def do_synchronize(self, i: int, a: Action) -> None:
        self.sh.rcu.synchronize_rcu()

    def do_quiescent(self, i: int, a: Action) -> None:
        self.sh.rcu.quiescent_state()

    def do_qsbr_unit(self, i: int, a: Action) -> None:
        rcu = self.sh.rcu
        with rcu.qsbr_mode():
            with rcu.RcuReadGuard() as g:
                ref = self.sh.value.read(g)
                _check_payload(ref["gen"], ref["payload"], "rcu.read(g) in QSBR mode")
            rcu.quiescent_state()
            if rcu.rcu_barrier(timeout=BOUND_S) is not True:
                raise Mismatch("rcu_barrier() in QSBR mode timed out")

    # locks, seqlocks, atomics
    def do_lock(self, i: int, a: Action) -> None:
        with self.sh.locks[a["kind"]].lock() as g:
            g.value += 1
        with self.sh.lock_guard:
            self.sh.lock_counts[a["kind"]] += 1

    def do_try_lock(self, i: int, a: Action) -> None:
        g = self.sh.locks[a["kind"]].try_lock()
        if g is None:
            return
        g.value += 1
        g.unlock()
        with self.sh.lock_guard:
            self.sh.lock_counts[a["kind"]] += 1

    def do_seq_write(self, i: int, a: Action) -> None:
        with self.sh.seq.write() as w:
            w.a = a["k"]
            w.b = -a["k"]

    def do_seq_read(self, i: int, a: Action) -> None:
        x, y = self.sh.seq.read(lambda v: (v.a, v.b))
        if x != -y:
            raise Mismatch(f"SeqLock.read() returned a torn pair a={x} b={y}")

    def do_seq_loop(self, i: int, a: Action) -> None:
        seq = self.sh.seq
        while True:
            tok = seq.read_begin()
            x, y = tok.a, tok.b
            if not seq.read_retry(tok):
                break
        if int(x) != -int(y):
            raise Mismatch(f"read_begin()/read_retry() validated a torn pair a={x} b={y}")

    def do_seq_snapshot(self, i: int, a: Action) -> None:
        snap = self.sh.seq.snapshot()
        if snap["a"] != -snap["b"]:
            raise Mismatch(f"SeqLock.snapshot() returned a torn pair {snap!r}")

    def do_seq_lock_after(self, i: int, a: Action) -> None:
        x, y = self.sh.seq.read(lambda v: (v.a, v.b), lock_after=1)
        if x != -y:
            raise Mismatch(f"SeqLock.read(lock_after=1) returned a torn pair a={x} b={y}")

    def do_atomic(self, i: int, a: Action) -> None:
        at = self.sh.atomic
        nargs, _ = ATOMIC_OPS[a["name"]]
        ordering = getattr(self.sh.kb, a["ordering"])
        if a["name"] == "cmpxchg_add":
            old = at.load(self.sh.kb.Relaxed)
            while True:
                ok, old = at.try_cmpxchg(old, old + a["v"], ordering)
                if ok:
                    break
        else:
            args = (a["v"],) if nargs else ()
            getattr(at, a["name"])(*args, ordering)
        with self.sh.lock_guard:
            self.sh.deltas.append(_ATOMIC_DELTA[a["name"]](a["v"]))

    # misuses: each builds its own scenario and must raise its documented error
    def do_misuse(self, i: int, a: Action) -> None:
        kb, rcu, sh = self.sh.kb, self.sh.rcu, self.sh
        name = a["name"]
        if name == "use_after_guard_drop":
            g = rcu.RcuReadGuard()
            ref = sh.value.read(g)
            g.drop()
            ref["gen"]
        elif name == "guard_drop_twice":
            g = rcu.RcuReadGuard()
            g.drop()
            g.drop()
        elif name == "guard_copy":
            with rcu.RcuReadGuard() as g:
                copy.copy(g)
        elif name == "guard_deepcopy":
            with rcu.RcuReadGuard() as g:
                copy.deepcopy(g)
        elif name == "guard_pickle":
            with rcu.RcuReadGuard() as g:
                pickle.dumps(g)
        elif name == "unlock_on_other_thread":
            with kb.SpinLock(0).lock() as lg:
                _on_other_thread(lg.unlock)
        elif name == "tentative_after_own_write":
            s = kb.SeqLock(a=1)
            tok = s.read_begin()
            x = tok.a
            with s.write():  # supersedes this thread's open attempt
                pass
            _ = x + 1
        elif name == "barrier_in_callback":
            got: list[BaseException] = []

            def cb() -> None:
                try:
                    rcu.rcu_barrier(timeout=BOUND_S)
                except BaseException as exc:
                    got.append(exc)

            rcu.call_rcu(cb)
            if rcu.rcu_barrier(timeout=BOUND_S) is not True:
                raise Mismatch("rcu_barrier() timed out")
            if got:
                raise got[0]
        elif name == "split_rcu_replace":
            split, writer = kb.Rcu.init(_payload(-1))
            writer.replace(_payload(-2)).defer()
            split.replace(_payload(-3))
        elif name == "atomic_not_an_int":
            sh.atomic.add("1", kb.Relaxed)
        elif name == "guard_on_other_thread":
            with rcu.RcuReadGuard() as g:
                _on_other_thread(lambda: sh.value.read(g))
        elif name == "lock_twice":
            lock = kb.SpinLock(0)
            with lock.lock():
                lock.lock()
        elif name == "unlock_twice":
            g = kb.Mutex(0).lock()
            g.unlock()
            g.unlock()
        elif name == "lock_value_after_unlock":
            with kb.SpinLock(1).lock() as g:
                pass
            _ = g.value
        elif name == "seq_write_twice":
            s = kb.SeqLock(a=0)
            with s.write():
                s.write()
        elif name == "drop_guard_twice":
            dg = kb.Rcu(_payload(-1)).replace(_payload(-2))
            dg.defer()
            dg.defer()
        elif name == "barrier_bad_timeout":
            rcu.rcu_barrier(timeout=-1.0)
        elif name == "barrier_timeout_not_a_number":
            rcu.rcu_barrier(timeout="1")
        elif name == "call_rcu_not_callable":
            rcu.call_rcu(42)
        else:  # pragma: no cover - generator and executor disagree
            raise Mismatch(f"unknown misuse {name!r}")


def _on_other_thread(fn: Callable[[], object]) -> None:
    """Run ``fn`` on a new thread; re-raise here what it raised."""
    caught: list[BaseException] = []

    def other() -> None:
        try:
            fn()
        except BaseException as exc:
            caught.append(exc)

    t = threading.Thread(target=other, name="fuzz-other")
    t.start()
    t.join(BOUND_S)
    if t.is_alive():
        raise Mismatch("a call on another thread hung")
    if caught:
        raise caught[0]


def _expected_class(kb: Any, name: str) -> type[BaseException]:
    builtin: dict[str, type[BaseException]] = {"TypeError": TypeError, "ValueError": ValueError}
    return builtin[name] if name in builtin else getattr(kb.errors, name)


def run_program(program: Program, inject: str | None = None) -> list[str]:
    """Run ``program`` in this process; return its failures (empty: it passed)."""
    import kbind
    from kbind import rcu

    failures: list[str] = []
    unraisable: list[str] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(f"{u.err_msg}: {u.exc_value!r}")
    sh = _Shared(kbind, rcu)
    threads = program["threads"]
    start = threading.Barrier(len(threads))

    def body(tid: int) -> None:
        th = _Thread(sh, tid)
        try:
            start.wait(BOUND_S)
        except threading.BrokenBarrierError:
            failures.append(f"thread {tid}: the start barrier broke")
            return
        for i, a in enumerate(threads[tid]):
            where = f"thread {tid} action {i} {json.dumps(a, sort_keys=True)}"
            try:
                th.run(i, a)  # the child runs with -W error: a warning is an exception
                _inject_after(inject, a, sh)
            except Mismatch as exc:
                failures.append(f"{where}: wrong value: {exc}")
                continue
            except BaseException as exc:
                want = a["expect"]
                if want != "ok" and isinstance(exc, _expected_class(kbind, want)):
                    continue
                failures.append(
                    f"{where}: expected {want}, raised {type(exc).__module__}."
                    f"{type(exc).__qualname__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                )
                continue
            if a["expect"] != "ok":
                failures.append(f"{where}: expected {a['expect']}, nothing was raised")
        for g in reversed(th.guards):  # a failed action may leave guards behind
            g.drop()

    workers = [
        threading.Thread(target=body, args=(t,), name=f"fuzz-{t}") for t in range(len(threads))
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(PROGRAM_TIMEOUT_S)
    if any(w.is_alive() for w in workers):
        failures.append("hang: a program thread did not finish")
        return failures
    try:
        # Twice: callbacks queued by callbacks (call_rcu_nested) come after the first.
        for _ in range(2):
            if rcu.rcu_barrier(timeout=BOUND_S) is not True:
                failures.append(f"the final rcu_barrier(timeout={BOUND_S}) timed out")
    finally:
        sys.unraisablehook = old_hook
    lost = [t for t in sh.queued if sh.ran.get(t, 0) == 0]
    twice = {t: n for t, n in sh.ran.items() if n != 1}
    if lost:
        failures.append(f"lost callbacks: {lost} never ran by the final rcu_barrier()")
    if twice:
        failures.append(f"callbacks that ran more than once: {twice}")
    if set(sh.ran) - set(sh.queued):
        failures.append(f"callbacks ran that were never queued: {set(sh.ran) - set(sh.queued)}")
    total = sh.atomic.load(kbind.Relaxed)
    if total != sum(sh.deltas):
        failures.append(f"AtomicI64 total {total} != the model's {sum(sh.deltas)}")
    for kind, lock in sh.locks.items():
        with lock.lock() as g:
            if g.value != sh.lock_counts[kind]:
                failures.append(f"{kind} lock counter {g.value} != {sh.lock_counts[kind]} locked")
    a, b = sh.seq.read(lambda v: (v.a, v.b))
    if a != -b:
        failures.append(f"SeqLock final pair torn: a={a} b={b}")
    failures.extend(f"unraisable: {u}" for u in unraisable)
    return failures


def triggers(inject: str, a: Action) -> bool:
    """Whether the fault ``inject`` strikes after action ``a``."""
    if inject == "wrong-value":
        return bool(a["op"] == "atomic" and a["expect"] == "ok")
    return bool(a["op"] == ("with_read" if inject == "raw-error" else "call_rcu"))


def program_triggers(program: Program, inject: str) -> bool:
    """Whether some action of ``program`` triggers the fault ``inject``."""
    return any(triggers(inject, a) for actions in program["threads"] for a in actions)


def _inject_after(inject: str | None, a: Action, sh: _Shared) -> None:
    """Deliberate faults (tests/test_fuzz.py): a broken API as seen by the program."""
    if inject is None or not triggers(inject, a):
        return
    if inject == "wrong-value":
        sh.atomic.inc(sh.kb.Relaxed)  # the counter moves by one more than the model says
    elif inject == "raw-error":
        raise AttributeError("'_Box' object has no attribute 'value' (injected)")
    elif inject == "lost-callback":
        with sh.lock_guard:
            sh.queued.append(f"injected.{len(sh.queued)}")  # queued, never runs
    elif inject == "crash":
        os.abort()
    elif inject == "hang":
        threading.Event().wait()


# ------------------------------------------------------------------- campaign


@dataclass
class CampaignResult:
    """What a campaign found: per failing program, its seed and failure lines."""

    seed: int
    programs: int
    inject: str | None = None
    busted: int | None = None
    ran: int = 0
    failed: dict[int, list[str]] = field(default_factory=dict)

    def report(self) -> str:
        lines = [f"fuzz campaign seed={self.seed} programs={self.programs}: "
                 f"{len(self.failed)} of {self.ran} program(s) failed"]  # fmt: skip
        for seed, why in sorted(self.failed.items()):
            replay = replay_command(seed, self.inject, self.busted)
            lines.append(f"--- program seed {seed}; replay: {replay}")
            lines.extend(f"    {w}" for w in why[:12])
            lines.append(f"    program: {json.dumps(generate(seed))}")
        return "\n".join(lines)


def replay_command(seed: int, inject: str | None = None, busted: int | None = None) -> str:
    """The one command that reruns the program of ``seed`` and prints what it found."""
    backend = os.environ.get("KBIND_RCU_BACKEND")
    prefix = f"KBIND_RCU_BACKEND={backend} " if backend else ""
    extra = (f" --inject {inject}" if inject else "") + (
        f" --busted {busted}" if busted is not None else ""
    )
    return f"{prefix}python tests/fuzz/api_fuzz.py --seed {seed}{extra}"


def run_campaign(
    seed: int,
    programs: int,
    *,
    inject: str | None = None,
    busted: int | None = None,
    batch: int = 200,
    program_timeout: float = PROGRAM_TIMEOUT_S,
) -> CampaignResult:
    """Run programs ``seed .. seed+programs-1`` in child processes (crash and hang safe)."""
    result = CampaignResult(seed, programs, inject, busted)
    first = seed
    end = seed + programs
    while first < end:
        n = min(batch, end - first)
        done = _run_child(first, n, inject, busted, program_timeout, result)
        first = done  # resume after the program that crashed or hung
    return result


def _run_child(
    first: int, n: int, inject: str | None, busted: int | None, timeout: float,
    result: CampaignResult,
) -> int:  # fmt: skip
    cmd = [sys.executable, "-W", "error", __file__, "--child", "--seed", str(first),
           "--programs", str(n), "--timeout", str(timeout)]  # fmt: skip
    if inject:
        cmd += ["--inject", inject]
    if busted is not None:
        cmd += ["--busted", str(busted)]
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout * n + 60, check=False
        )
        out, err, rc = proc.stdout, proc.stderr, proc.returncode
    except subprocess.TimeoutExpired as exc:  # faulthandler did not fire: still a hang
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err, rc = "", None
    current = None
    teardown = False
    for line in out.splitlines():
        if line.startswith("START "):
            current = int(line.split()[1])
        elif line.startswith("RESULT "):
            rec = json.loads(line[len("RESULT ") :])
            result.ran += 1
            if rec["failures"]:
                result.failed[rec["seed"]] = rec["failures"]
            current = None
        elif line == "TEARDOWN":
            teardown = True
    if rc == 0 and current is None:
        missing = [m for m in (EXIT_CALLBACK, FINALIZER_CALLBACK) if m not in out.splitlines()]
        if missing:
            last = first + n - 1
            result.failed.setdefault(last, []).extend(
                f"teardown after the last program: {m!r} was never printed" for m in missing
            )
        return first + n
    where = ""
    if current is None:  # died between programs, or in the teardown after the last one
        current = first + n - 1
        where = " (in the teardown after the last program)" if teardown else ""
    else:
        result.ran += 1
    if rc is None or "Timeout (" in err:
        why = f"hang{where}: did not finish within {timeout:g} s"
    elif rc < 0:
        why = f"crash{where}: the process died of signal {-rc}"
    else:
        why = f"crash{where}: the process exited with status {rc}"
    tail = [ln for ln in err.splitlines() if ln.strip()][-8:]
    result.failed.setdefault(current, []).extend([why, *(f"stderr: {ln}" for ln in tail)])
    return current + 1


def _child(first: int, n: int, inject: str | None, busted: int | None, timeout: float) -> None:
    from kbind.rcu import _runtime as _rcu_runtime

    sys.setswitchinterval(SWITCH_INTERVAL_S)  # many more interleavings per program
    for seed in range(first, first + n):
        program = generate(seed)
        print(f"START {seed}", flush=True)
        faulthandler.dump_traceback_later(timeout, exit=True)
        if busted is not None:
            with _rcu_runtime.busted_engine(busted):
                failures = run_program(program, inject)
        else:
            failures = run_program(program, inject)
        faulthandler.cancel_dump_traceback_later()
        print("RESULT " + json.dumps({"seed": seed, "failures": failures}), flush=True)
    # Teardown (R19, finalizers at interpreter exit): a callback still pending at
    # exit, and one queued by a finalizer during finalization, must both run and
    # neither may hang.
    from kbind import rcu

    print("TEARDOWN", flush=True)
    faulthandler.dump_traceback_later(timeout, exit=True)
    rcu.call_rcu(lambda: print(EXIT_CALLBACK, flush=True))
    holder = type(sys)("kbind_fuzz_teardown")  # a module: cleared at finalization
    holder.teardown = _Teardown(rcu)  # type: ignore[attr-defined]
    sys.modules[holder.__name__] = holder


#: What the child prints when its teardown callbacks ran.
EXIT_CALLBACK = "TEARDOWN pending callback ran at exit"
FINALIZER_CALLBACK = "TEARDOWN finalizer callback ran"


class _Teardown:
    """Collected at interpreter finalization: its finalizer queues a callback."""

    def __init__(self, rcu: Any) -> None:
        # Module globals may be gone (None) when this runs, and imports fail: keep all.
        self.call_rcu = rcu.call_rcu
        self.write = os.write
        self.line = (FINALIZER_CALLBACK + "\n").encode()

    def __del__(self) -> None:
        write, line = self.write, self.line
        self.call_rcu(lambda: write(1, line))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--seed", type=int, required=True, help="program seed (campaign: first seed)")
    p.add_argument("--programs", type=int, default=1, help="how many programs (seed, seed+1, ...)")
    p.add_argument("--timeout", type=float, default=PROGRAM_TIMEOUT_S, help="per-program timeout")
    p.add_argument("--inject", choices=INJECTIONS, help="a deliberate fault (self-test)")
    p.add_argument("--busted", type=int, help="a kb_rcu_set_busted() variant (self-test)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        _child(args.seed, args.programs, args.inject, args.busted, args.timeout)
        return 0
    if args.programs == 1:
        print(json.dumps(generate(args.seed), indent=1))
    res = run_campaign(args.seed, args.programs, inject=args.inject, busted=args.busted,
                       program_timeout=args.timeout)  # fmt: skip
    print(res.report())
    return 1 if res.failed else 0


if __name__ == "__main__":
    sys.exit(main())
