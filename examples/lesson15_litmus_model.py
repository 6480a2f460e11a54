"""Lesson 15: asking the memory model why, then asking the CPU.

Kernel pattern: ``smp_mb()``, ``smp_store_release()`` / ``smp_load_acquire()``
and ``rcu_read_lock()`` / ``synchronize_rcu()``, judged by the Linux-kernel
memory model (LKMM): herd7 with tools/memory-model/linux-kernel.cat says, for
a litmus test, which final states are allowed, and a forbidden state breaks
one of the cat file's axioms (tools/memory-model/Documentation/explanation.txt
explains each; Documentation/memory-barriers.txt gives the barriers' rules;
Documentation/RCU/whatisRCU.rst the grace-period guarantee).  Rust: the
kernel's Rust atomics (``kernel::sync::atomic``, orderings ``Relaxed``,
``Acquire``, ``Release``, ``Full``) are specified by the LKMM, not by the C++
model of ``core::sync::atomic``, so these tests and answers hold for them
too.  kbind: ``kbind.litmus.model(name)`` is its own evaluator of the cat
file: the verdict, the allowed states, and for each forbidden state the
axiom and the cycle of events that breaks it, with source lines.

The lesson takes three shipped tests: store buffering (SB, without and with
``smp_mb()``), message passing with release/acquire (MP), and RCU's
"remove, wait, free" order (RCU-MP).  For each it prints the model's
verdict and reason, then runs the test briefly on this CPU and checks that
no outcome the model forbids was seen.  With fewer than 2 usable CPUs the
hardware part is skipped (it needs the processes running at once) and the
lesson still exits 0.  Exits 1 if a verdict or an axiom is not the expected
one, or the CPU shows a state the model forbids.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from kbind import litmus
from kbind.litmus import ModelResult


@dataclass(frozen=True)
class Step:
    """One test of the lesson: what the model must answer, and what it means."""

    name: str
    verdict: str
    axiom: str  # the axiom the condition's state breaks ("" when it is allowed)
    edge: str  # an edge the cycle must contain (its relation's name)
    iterations: int
    meaning: str


STEPS = (
    Step(
        name="SB+poonceonces",
        verdict="Sometimes",
        axiom="",
        edge="",
        iterations=20_000,
        meaning="""\
Each process writes one variable, then reads the other, with nothing in
between but READ_ONCE()/WRITE_ONCE().  Nothing orders a write before a later
read of another variable: a CPU's store may wait in its store buffer while
its next load goes ahead (x86 does exactly that).  So both reads may miss
both writes, and the model allows all four final states, the condition's
state among them: Sometimes.""",
    ),
    Step(
        name="SB+fencembonceonces",
        verdict="Never",
        axiom="propagation",
        edge="strong fence",
        iterations=20_000,
        meaning="""\
The same test with smp_mb() between each write and read.  Read the cycle
edge by edge: P0's read of y missed P1's write of y (fre, "from-read": the
read saw the value that the write then overwrote, here the initial 0);
P1's smp_mb() comes between that write and P1's read of x (a strong
fence); that read missed P0's write of x (fre again); and P0's smp_mb()
comes between that write and the read we started from.  A strong fence
makes its CPU wait until its earlier write has reached every CPU before it
does anything later.  So P0's write of x had reached P1 before P0 read y;
that read missed P1's write of y, so it came before that write reached P0,
and so before P1's fence finished and P1 read x; P1 then read x after P0's
write had reached it, and cannot have missed it.  Each fence would have to
finish before the other: a cycle of fre and strong fences, which the
propagation axiom (pb is acyclic) forbids.""",
    ),
    Step(
        name="MP+pooncerelease+poacquireonce",
        verdict="Never",
        axiom="happens-before",
        edge="rfe",
        iterations=20_000,
        meaning="""\
P0 writes the data x, then the flag y with smp_store_release(); P1 reads
the flag with smp_load_acquire(), then the data.  The forbidden state: the
flag seen (y=1) but the data not (x=0).  The cycle: the acquire orders
P1's read of x after its read of y (ppo); that read missed P0's write of x
(fre); the release makes the write of x reach every CPU before the write
of y does (cumul-fence); and P1's acquire read that write of y (rfe).  The
last three edges together say that P1's read of x came before its read of
y: the read of x missed x=1, so it ran before x=1 reached P1; x=1 reached
P1 before y=1 did; and the read of y saw y=1, so it ran after that.  The
acquire says the read of x came after the read of y.  Each read would come
before the other, an event before itself: the happens-before axiom (hb is
acyclic) forbids it.""",
    ),
    Step(
        name="RCU-MP+rscs+sync",
        verdict="Never",
        axiom="rcu",
        edge="rcu-fence",
        iterations=2_000,
        meaning="""\
P1 writes y, waits for a grace period with synchronize_rcu(), then writes
x: the updater's "remove, wait, free" order.  P0 reads x, then y, inside
one rcu_read_lock() section.  The forbidden state: x=1 but y=0.  The
cycle: the read of x comes before the section's rcu_read_unlock() (po);
the rcu-fence edge from that unlock to synchronize_rcu() is RCU's
guarantee at work: the section's read of y missed P1's write of y, so part
of the section came before that write, and so before the grace period
began; and if any part of a read-side section comes before a grace period
begins, all of it, the unlock included, comes before synchronize_rcu()
returns.  Then P1 writes x=1 (po), and the reader's read of x read that
write (rfe): the read would come after a write that comes after it.  The
rcu axiom (rb is irreflexive) forbids it.""",
    ),
)


def _model_part(step: Step) -> tuple[ModelResult, list[str]]:
    """Print the model's answer for ``step`` and return it with what went wrong."""
    r = litmus.model(step.name)
    print(f"the model: {r.verdict} (the file's Result: {r.expected}); "
          f"{len(r.states)} allowed states: {' | '.join(s.label for s in r.states)}")  # fmt: skip
    wrong = []
    if r.verdict != step.verdict:
        wrong.append(f"{step.name}: the model said {r.verdict}, expected {step.verdict}")
    if not step.axiom:
        if r.forbidden:
            wrong.append(f"{step.name}: the model forbids {r.forbidden[0].label}")
        return r, wrong
    if len(r.forbidden) != 1:
        wrong.append(f"{step.name}: {len(r.forbidden)} forbidden states, expected one")
        return r, wrong
    f = r.forbidden[0]
    print(f"why the condition's state {f.label} never happens:")
    for line in f.reason.lines():
        print("  " + line)
    if f.reason.axiom != step.axiom:
        wrong.append(f"{step.name}: forbidden by {f.reason.axiom}, expected {step.axiom}")
    if not any(edge.startswith(step.edge) for _, edge in f.reason.steps):
        wrong.append(f"{step.name}: the cycle has no {step.edge} edge")
    return r, wrong


def _hardware_part(step: Step, r: ModelResult) -> list[str]:
    """Run ``step`` briefly on this CPU; return the outcomes the model forbids that it showed."""
    run = litmus.run_test(litmus.load(step.name), step.iterations, max_seconds=2.0)
    allowed = r.allowed_labels()  # both write a state as herd7 does: 0:r0=0; 1:r0=1
    print(f"on this CPU: {run.counted:,} runs in {run.elapsed:.3f} s ({run.verdict}):")
    wrong = []
    for label, count in run.histogram.items():
        ok = label in allowed
        print(f"  {label:<18} {count:>7,}  "
              f"{'allowed by the model' if ok else 'FORBIDDEN by the model'}")  # fmt: skip
        if not ok:
            wrong.append(f"{step.name}: the CPU showed {label}, which the model forbids")
    if not run.histogram:
        wrong.append(f"{step.name}: the hardware run counted no outcome")
    return wrong


def main() -> int:
    cpus = litmus.usable_cpus()
    hardware = cpus >= 2
    if not hardware:
        print(f"only {cpus} usable CPU: the hardware runs need the processes running at once, "
              "so they are skipped here (the model's answers are still checked)")  # fmt: skip
    failures: list[str] = []
    for step in STEPS:
        print(f"\n== {step.name} ==")
        r, wrong = _model_part(step)
        failures += wrong
        print("\n" + step.meaning + "\n")
        if hardware:
            failures += _hardware_part(step, r)
    print()
    if failures:
        print("LESSON 15 FAILED: " + "; ".join(failures))
        return 1
    ran = "nothing the model forbids appeared on this CPU" if hardware else "hardware part skipped"
    print(
        f"LESSON 15 OK: verdicts and axioms as expected (propagation, happens-before, rcu); {ran}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
