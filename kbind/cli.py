"""The ``kbind`` command (also ``python -m kbind``).

``kbind tour`` is the main job: a short run of what kbind is for, ending in
a summary table; its exit status is 0 only if everything behaved.  Each
step is a function returning a :class:`StepResult`; later subsystems add
their steps to :data:`TOUR_STEPS`.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kbind import barrier
from kbind.atomic import AtomicI32, AtomicI64
from kbind.errors import DeadlockError, KbindError, LifetimeError, OrderingError
from kbind.ordering import Acquire, Full, Relaxed, Release
from kbind.sync import Mutex, SpinLock

__all__ = ["TOUR_STEPS", "StepResult", "main"]

#: Guards created here are the tour's own (user) code: sites point at this file.
KBIND_USER_CODE = True


@dataclass
class StepResult:
    """What one tour step found: whether kbind behaved, and a one-line summary."""

    ok: bool
    summary: str
    details: str = ""


def _threads(n: int, target: Callable[[], None]) -> None:
    """Run ``target`` on ``n`` threads released together; join with a bound."""
    start = threading.Barrier(n)

    def run() -> None:
        start.wait(timeout=30)
        target()

    ts = [threading.Thread(target=run, name=f"tour-{i}") for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
        if t.is_alive():
            raise RuntimeError(f"{t.name} did not finish within 60 s")


def step_atomics() -> StepResult:
    """Increment one AtomicI64 from threads to the exact total; wrap an i32 like the kernel."""
    threads, per = 4, 20_000
    counter = AtomicI64(0)

    def work() -> None:
        for _ in range(per):
            counter.fetch_add(1, Full)

    _threads(threads, work)
    total = counter.load(Acquire)
    wrap = AtomicI32(2**31 - 1)
    wrap.add(1, Relaxed)
    wrapped = wrap.load(Relaxed)
    try:
        counter.load(Release)  # type: ignore[arg-type]  # the misuse is the point
        refused = False
    except OrderingError:
        refused = True
    ok = total == threads * per and wrapped == -(2**31) and refused
    return StepResult(
        ok,
        f"{threads}x{per} fetch_add(Full) -> {total}; i32 max+1 -> {wrapped}; "
        f"load(Release) refused: {refused}",
    )


def step_locks() -> StepResult:
    """Keep counters exact under a SpinLock and a Mutex; show misuse raising the named errors."""
    threads, per = 4, 5_000
    spin, mutex = SpinLock(0), Mutex(0)

    def work() -> None:
        for _ in range(per):
            with spin.lock() as g:
                g.value += 1
            with mutex.lock() as m:
                m.value += 1

    _threads(threads, work)
    with spin.lock() as g, mutex.lock() as m:
        totals = (g.value, m.value)
    caught: list[str] = []
    guard = spin.lock()
    try:
        spin.lock()
    except DeadlockError:
        caught.append("DeadlockError")
    guard.unlock()
    try:
        _ = guard.value
    except LifetimeError as exc:
        caught.append("LifetimeError")
        example = str(exc)
    ok = totals == (threads * per, threads * per) and caught == ["DeadlockError", "LifetimeError"]
    return StepResult(
        ok,
        f"spinlock {totals[0]}, mutex {totals[1]} (expected {threads * per}); caught "
        + ", ".join(caught),
        details=example if caught[-1:] == ["LifetimeError"] else "",
    )


def step_barriers() -> StepResult:
    """Run the compiled architecture's barrier instructions from Python."""
    n = 200_000
    t0 = time.perf_counter()
    for _ in range(n):
        barrier.smp_mb()
    per_call = (time.perf_counter() - t0) / n * 1e9
    return StepResult(True, f"arch {barrier.arch()}: smp_mb() from Python {per_call:.0f} ns/call")


#: (name, step) pairs run by ``kbind tour``, in order.
TOUR_STEPS: list[tuple[str, Callable[[], StepResult]]] = [
    ("atomics", step_atomics),
    ("locks", step_locks),
    ("barriers", step_barriers),
]


def cmd_tour(args: argparse.Namespace) -> int:
    """Run every tour step and print a summary table; 0 only if all behaved."""
    results: list[tuple[str, StepResult, float]] = []
    for name, step in TOUR_STEPS:
        print(f"== {name}: {(step.__doc__ or '').strip()}", flush=True)
        t0 = time.perf_counter()
        try:
            result = step()
        except (KbindError, RuntimeError) as exc:
            result = StepResult(False, f"raised {type(exc).__name__}: {exc}")
        elapsed = time.perf_counter() - t0
        results.append((name, result, elapsed))
        print(f"   {result.summary}")
        if result.details and args.verbose:
            print("   " + result.details.replace("\n", "\n   "))
    width = max(len(name) for name, _, _ in results)
    print("\nsummary")
    for name, result, elapsed in results:
        print(f"  {name:<{width}}  {'ok  ' if result.ok else 'FAIL'}  {elapsed:6.2f} s")
    failed = [name for name, result, _ in results if not result.ok]
    print("all steps behaved" if not failed else f"FAILED: {', '.join(failed)}")
    return 0 if not failed else 1


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``kbind`` command."""
    parser = argparse.ArgumentParser(
        prog="kbind",
        description="Laboratory for Rust-style bindings of the kernel's RCU, seqlocks, atomics.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tour = sub.add_parser("tour", help="a short tour: every subsystem exercised, then a summary")
    tour.add_argument("-v", "--verbose", action="store_true", help="print the caught errors")
    tour.set_defaults(func=cmd_tour)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kbind`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
