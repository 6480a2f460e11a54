"""``kbind tour``: a short run of what kbind is for, ending in a summary table.

Its exit status is 0 only if everything behaved.  Each step is a function
returning a :class:`StepResult`; later subsystems add their steps to
:data:`TOUR_STEPS`.  The steps act as user code (``KBIND_USER_CODE``), so the
sites in the errors they catch point at this file.
"""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kbind import barrier, litmus
from kbind.atomic import AtomicI32, AtomicI64
from kbind.cli.commands import TORTURES
from kbind.cli.report import Outcome, command
from kbind.errors import DeadlockError, KbindError, LifetimeError, OrderingError
from kbind.ordering import Acquire, Full, Relaxed, Release
from kbind.sync import Mutex, SpinLock

__all__ = ["TOUR_STEPS", "StepResult", "cmd_tour", "format_tour_summary"]

#: Guards created here are the tour's own (user) code: sites point at this file.
KBIND_USER_CODE = True


@dataclass
class StepResult:
    """What one tour step found: whether kbind behaved, and a one-line summary.

    A skipped step (``skipped=True``) tested nothing: the summary says why,
    and the tour's table shows it as ``skip``, not ``ok``.
    """

    ok: bool
    summary: str
    details: str = ""
    show_details: bool = False  # print the details even without --verbose
    skipped: bool = False


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


def step_litmus() -> StepResult:
    """Show store buffering on this CPU without smp_mb(), and never with it."""
    if litmus.usable_cpus() < 2:
        return StepResult(
            True, "skipped: litmus tests need two CPUs, this process has one", skipped=True
        )
    once = litmus.run("SB", "once", 5_000_000, until_observed=20, max_seconds=20)
    mb = litmus.run("SB", "mb", 200_000, max_seconds=20)
    x86 = barrier.arch() == "x86_64"
    ok = not mb.forbidden_observed and (once.exists_count > 0 or not x86)
    return StepResult(
        ok,
        f"SB without a barrier: r0=r1=0 in {once.exists_count} of {once.iterations} runs "
        f"({once.verdict}); with smp_mb(): {mb.exists_count} of {mb.iterations} ({mb.verdict})",
        details=litmus.format_results([once, mb]),
    )


def step_rcu_guards() -> StepResult:
    """Read under an RCU guard, let the reference escape, and see the misuse caught."""
    from kbind.errors import DeadlockError as _Deadlock
    from kbind.rcu import Rcu, RcuReadGuard, synchronize_rcu

    config = Rcu({"timeout": 30, "retries": 3})
    with RcuReadGuard() as g:
        ref = config.read(g)  # a reference bound to g ...
        timeout = ref["timeout"]  # ... fine while g is held
        try:
            synchronize_rcu()  # waiting for readers inside a reader: would hang forever
            deadlock_caught = False
        except _Deadlock:
            deadlock_caught = True
    try:
        ref["timeout"]  # ... but not after the with block dropped g
        message = ""
    except LifetimeError as exc:
        message = str(exc)
    with config.replace({"timeout": 5, "retries": 3}):  # grace period, then the old one is freed
        pass
    now = config.with_read(lambda c: c["timeout"])
    ok = timeout == 30 and now == 5 and deadlock_caught and bool(message)
    return StepResult(
        ok,
        f"read timeout={timeout} under a guard; synchronize_rcu() inside it refused: "
        f"{deadlock_caught}; reference used after the guard: "
        f"{'LifetimeError' if message else 'NOT CAUGHT'}; after replace(): timeout={now}",
        details=message,
        show_details=True,
    )


def _torture_step(kind: str, busted: str, duration: float = 1.0) -> StepResult:
    """Run a torture for real (must pass) and busted (must be caught)."""
    spec = TORTURES[kind]
    real = spec.run(2, 1, duration, None)
    broken = spec.run(2, 1, duration / 2, busted)
    ok = bool(real.passed) and not broken.passed
    return StepResult(
        ok,
        f"real: {'passed' if real.passed else 'FAILED'}; busted {busted}: "
        f"{'caught' if not broken.passed else 'NOT CAUGHT'}",
        details=spec.report(real) + "\n" + spec.report(broken),
    )


def step_rcu_torture() -> StepResult:
    """Torture the QSBR RCU engine from C threads; a grace period that does not wait is caught."""
    return _torture_step("rcu", "no-wait")


def step_seqlock_torture() -> StepResult:
    """Torture the seqlock from C threads; a reader that skips its retry check is caught."""
    return _torture_step("seqlock", "reader-no-retry")


#: (name, step) pairs run by ``kbind tour``, in order.
TOUR_STEPS: list[tuple[str, Callable[[], StepResult]]] = [
    ("rcu-torture", step_rcu_torture),
    ("seqlock-torture", step_seqlock_torture),
    ("litmus", step_litmus),
    ("rcu-guards", step_rcu_guards),
    ("atomics", step_atomics),
    ("locks", step_locks),
    ("barriers", step_barriers),
]


@command(uses_rcu=True)
def cmd_tour(args: argparse.Namespace) -> Outcome:
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
        if result.details and (args.verbose or result.show_details):
            print("   " + result.details.replace("\n", "\n   "))
    return Outcome(text=format_tour_summary(results), failed=not all(r.ok for _, r, _ in results))


def format_tour_summary(results: Sequence[tuple[str, StepResult, float]]) -> str:
    """Render the tour's table: one ``ok``/``skip``/``FAIL`` line per step, then the verdict."""
    width = max(len(name) for name, _, _ in results)
    lines = ["", "summary"]
    for name, result, elapsed in results:
        state = "FAIL" if not result.ok else "skip" if result.skipped else "ok  "
        lines.append(f"  {name:<{width}}  {state}  {elapsed:6.2f} s")
    failed = [name for name, result, _ in results if not result.ok]
    skipped = [name for name, result, _ in results if result.ok and result.skipped]
    if failed:
        lines.append(f"FAILED: {', '.join(failed)}")
    elif skipped:
        lines.append(f"all steps run behaved; skipped (nothing tested): {', '.join(skipped)}")
    else:
        lines.append("all steps behaved")
    return "\n".join(lines)
