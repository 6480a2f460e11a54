"""The ``kbind`` command (also ``python -m kbind``).

``kbind tour`` is the main job: a short run of what kbind is for, ending in
a summary table; its exit status is 0 only if everything behaved.  Each
step is a function returning a :class:`StepResult`; later subsystems add
their steps to :data:`TOUR_STEPS`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from kbind import barrier, litmus
from kbind._native import lib
from kbind.atomic import AtomicI32, AtomicI64
from kbind.errors import DeadlockError, KbindError, LifetimeError, OrderingError
from kbind.ordering import Acquire, Full, Relaxed, Release
from kbind.sync import Mutex, SpinLock
from kbind.torture import format_rcu_report, rcu_torture
from kbind.torture_atomic import atomic_torture, format_atomic_report
from kbind.torture_seqlock import format_seqlock_report, seqlock_torture

__all__ = ["TOUR_STEPS", "StepResult", "main"]

#: Guards created here are the tour's own (user) code: sites point at this file.
KBIND_USER_CODE = True


@dataclass
class StepResult:
    """What one tour step found: whether kbind behaved, and a one-line summary."""

    ok: bool
    summary: str
    details: str = ""
    show_details: bool = False  # print the details even without --verbose


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
        return StepResult(True, "skipped: litmus tests need two CPUs, this process has one")
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
        if result.details and (args.verbose or result.show_details):
            print("   " + result.details.replace("\n", "\n   "))
    width = max(len(name) for name, _, _ in results)
    print("\nsummary")
    for name, result, elapsed in results:
        print(f"  {name:<{width}}  {'ok  ' if result.ok else 'FAIL'}  {elapsed:6.2f} s")
    failed = [name for name, result, _ in results if not result.ok]
    print("all steps behaved" if not failed else f"FAILED: {', '.join(failed)}")
    return 0 if not failed else 1


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _plot_ready(args: argparse.Namespace) -> bool:
    """Check --plot can work before running anything; print why not if it cannot."""
    if not args.plot:
        return True
    from kbind.plot import PlotUnavailableError, require

    try:
        require()
    except PlotUnavailableError as exc:
        print(f"kbind {args.command}: error: {exc}", file=sys.stderr)
        return False
    return True


def cmd_litmus(args: argparse.Namespace) -> int:
    """Run litmus tests; exit 1 if any forbidden outcome was observed."""
    if not _plot_ready(args):
        return 2
    tests = args.tests or list(litmus.TESTS)
    results: list[litmus.LitmusResult] = []
    if litmus.usable_cpus() < 2:
        print("warning: only one usable CPU; reorderings cannot show", file=sys.stderr)
    interrupted = False
    announce = "litmus: running (Ctrl-C stops and keeps the results so far)"
    for name in tests:
        spec = litmus.TESTS[name]
        for variant in args.variant or list(spec.verdicts):
            if variant not in spec.verdicts:
                continue
            result, interrupted = _run_interruptibly(
                lambda name=name, variant=variant: litmus.run(  # type: ignore[misc]
                    name,
                    variant,
                    args.iterations,
                    busted_barrier=args.busted_barrier,
                    max_seconds=args.max_seconds,
                ),
                announce,
                None,
                "litmus",
            )
            announce = ""
            if result is not None:
                results.append(result)
                if not args.json:
                    text = litmus.format_results(results[-1:], histograms=args.histograms)
                    if len(results) > 1 and results[-2].test == name:
                        text = text.split("\n", 1)[1]  # the test's header line is already out
                    print(text, flush=True)
            if interrupted:
                break
        if interrupted:
            break
    if interrupted and not args.json:
        print("interrupted: the results above are partial")
    if args.json:
        print(json.dumps([r.as_dict() for r in results], indent=2))
    if args.plot:
        from kbind.plot import plot_litmus

        plot_litmus(results, args.plot)
    broken = [f"{r.test}/{r.variant}" for r in results if r.forbidden_observed]
    if broken and not args.json:
        print(f"\nFORBIDDEN outcomes observed (a broken barrier): {', '.join(broken)}")
    if broken:
        return 1
    return 130 if interrupted else 0


@dataclass(frozen=True)
class TortureKind:
    """How ``kbind torture NAME`` runs one native torture test.

    Attributes:
        run: ``run(readers, updaters, duration, busted)`` -> result (blocks in C).
        report: result -> text report.
        busted: the names of its deliberately broken variants.
        about: one line for --help.
    """

    run: Callable[[int, int, float, Any], Any]
    report: Callable[[Any], str]
    busted: tuple[str, ...]
    about: str


#: Torture tests the command knows; later subsystems add theirs.
TORTURES: dict[str, TortureKind] = {
    "rcu": TortureKind(
        run=lambda r, u, d, b: rcu_torture(
            readers=r, updaters=u, duration=d, busted=b.replace("-", "_") if b else None
        ),
        report=format_rcu_report,
        busted=("no-wait", "reader", "early-cb"),
        about="QSBR RCU: readers check elements are not freed and at most one grace period old",
    ),
    "atomic": TortureKind(
        run=lambda r, u, d, b: atomic_torture(threads=max(2, r + u), duration=d, busted=b),
        report=format_atomic_report,
        busted=("torn-rmw", "early-publish"),
        about="LKMM atomics: exact counts, try_cmpxchg loops, release/acquire messages",
    ),
    "seqlock": TortureKind(
        run=lambda r, u, d, b: seqlock_torture(readers=r, writers=u, duration=d, busted=b),
        report=format_seqlock_report,
        busted=("reader-no-retry", "writer-no-increment", "writer-no-barrier"),
        about="sequence locks: readers check a multi-word invariant writers keep",
    ),
}


def _result_dict(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = (
        result.as_dict() if hasattr(result, "as_dict") else dataclasses.asdict(result)
    )
    data.setdefault("passed", bool(result.passed))
    return data


def _progress(stop: threading.Event, duration: float, label: str) -> None:
    """Draw a progress bar on stderr until ``stop`` is set (only on a terminal)."""
    t0 = time.monotonic()
    width = 30
    while not stop.wait(0.1):
        frac = min(1.0, (time.monotonic() - t0) / duration)
        bar = "#" * int(frac * width)
        sys.stderr.write(f"\r{label} [{bar:<{width}}] {frac * 100:5.1f} %")
        sys.stderr.flush()
    sys.stderr.write("\r" + " " * (len(label) + width + 12) + "\r")
    sys.stderr.flush()


def _run_interruptibly(
    fn: Callable[[], Any], announce: str, duration: float | None, bar_label: str
) -> tuple[Any, bool]:
    """Run ``fn`` (which blocks in C) on a worker thread; Ctrl-C asks C to stop early.

    Returns ``(result, interrupted)``; ``result`` is None if the interrupt came
    before the run started.  Errors raised by ``fn`` are re-raised here.  A
    progress bar is drawn on stderr when it is a terminal and ``duration`` is
    known; ``announce`` is printed to stderr once the run has started.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # re-raised by the calling thread
            box["error"] = exc
        finally:
            done.set()

    lib.kb_torture_clear_stop()
    # A daemon: a second Ctrl-C must not leave the process waiting for the run.
    worker = threading.Thread(target=work, name="kbind-run", daemon=True)
    stop_bar = threading.Event()
    bar = None
    interrupted = False
    try:
        if duration is not None and sys.stderr.isatty():
            bar = threading.Thread(
                target=_progress, args=(stop_bar, duration, bar_label), daemon=True
            )
            bar.start()
        worker.start()
        if announce:
            print(announce, file=sys.stderr, flush=True)
        # An Event, not Thread.join(): a join interrupted by Ctrl-C can return
        # early afterwards while the thread still runs.
        while not done.wait(timeout=0.2):
            pass
    except KeyboardInterrupt:
        interrupted = True
        lib.kb_torture_request_stop()  # the C threads see it within one loop
        if worker.ident is not None:
            done.wait(timeout=120)
    finally:
        stop_bar.set()
        if bar is not None:
            bar.join(timeout=5)
        lib.kb_torture_clear_stop()
    if "error" in box:
        raise box["error"]
    return box.get("result"), interrupted


def cmd_torture(args: argparse.Namespace) -> int:
    """Run one native torture test; exit 1 if it found an error, 130 if interrupted."""
    kind = TORTURES[args.kind]
    if not _plot_ready(args):
        return 2
    if args.busted is not None and args.busted not in kind.busted:
        print(
            f"kbind torture: error: {args.kind} has no busted variant {args.busted!r} "
            f"(choose from {', '.join(kind.busted)})",
            file=sys.stderr,
        )
        return 2
    flavor = f"busted: {args.busted}" if args.busted else "real"
    try:
        result, interrupted = _run_interruptibly(
            lambda: kind.run(args.readers, args.updaters, args.duration, args.busted),
            f"{args.kind}-torture: running for {args.duration:g} s ({flavor}; "
            "Ctrl-C stops with a partial report)",
            None if args.json else args.duration,
            f"{args.kind}-torture",
        )
    except (ValueError, TypeError) as exc:
        print(f"kbind torture: error: {exc}", file=sys.stderr)
        return 2
    if result is None:
        print("interrupted before the run started: nothing to report")
        return 130
    if args.json:
        print(json.dumps({"torture": args.kind, "interrupted": interrupted,
                          **_result_dict(result)}, indent=2))  # fmt: skip
    else:
        if interrupted:
            print("interrupted: partial report follows")
        print(kind.report(result))
    if args.plot:
        from kbind.plot import plot_torture

        plot_torture(args.kind, result, args.plot)
    if interrupted:
        return 130
    return 0 if result.passed else 1


def _duration(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError(f"must be in (0, 3600] seconds: {value}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"must be in [0, 64]: {value}")
    return value


def cmd_trace(args: argparse.Namespace) -> int:
    """Record the scripted scenario of kbind.trace and print (and draw) its timeline."""
    from kbind import trace

    args.plot = args.png or args.svg
    if not _plot_ready(args):
        return 2
    rec = trace.run_scenario(duration=args.duration, readers=args.readers)
    print(rec.to_text(width=args.width, ascii=args.ascii))
    if args.png:
        rec.to_png(args.png)
        print(f"timeline drawn to {args.png}")
    if args.svg:
        rec.to_svg(args.svg)
        print(f"timeline drawn to {args.svg}")
    bad = rec.violations()
    for line in bad:
        print(f"VIOLATION: {line}")
    if bad:
        return 1
    print(
        f"ok: {len(rec.grace_periods)} grace period(s), {len(rec.sections)} read-side "
        "section(s); every grace period waited for the sections that began before it"
    )
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    """Print the long explanation of a kbind error or warning."""
    from kbind._explanations import EXPLANATIONS, UnknownNameError, explain

    if args.list or not args.name:
        for name, expl in EXPLANATIONS.items():
            print(f"{name:<26} {expl.summary}")
        return 0 if args.list else 2
    try:
        print(explain(args.name))
    except UnknownNameError as exc:
        print(f"kbind explain: {exc}", file=sys.stderr)
        return 2
    return 0


def _readers(text: str) -> int:
    value = _count(text)
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"must be in [1, 16]: {value}")
    return value


def _width(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 20 <= value <= 400:
        raise argparse.ArgumentTypeError(f"must be in [20, 400]: {value}")
    return value


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

    lit = sub.add_parser(
        "litmus",
        help="run memory-model litmus tests on this CPU and judge them against the LKMM",
    )
    lit.add_argument(
        "tests",
        nargs="*",
        choices=[*litmus.TESTS, []],
        metavar="TEST",
        help=f"tests to run (default: all of {', '.join(litmus.TESTS)})",
    )
    lit.add_argument(
        "--variant",
        action="append",
        choices=list(litmus.VARIANTS),
        help="only these variants (repeatable; default: every variant of each test)",
    )
    lit.add_argument(
        "--iterations",
        type=_positive_int,
        default=None,
        help="iterations per variant (default: each test's own)",
    )
    lit.add_argument(
        "--max-seconds", type=float, default=60.0, help="time bound per variant (default 60)"
    )
    lit.add_argument(
        "--busted-barrier",
        action="store_true",
        help="compile smp_mb() as a compiler barrier only, to see the tests catch it",
    )
    lit.add_argument("--histograms", action="store_true", help="print every outcome's count")
    lit.add_argument("--json", action="store_true", help="print results as JSON")
    lit.add_argument("--plot", metavar="FILE.png", help="draw the outcome histograms")
    lit.set_defaults(func=cmd_litmus)

    tor = sub.add_parser("torture", help="run a native torture test (C threads, GIL released)")
    tor.add_argument(
        "kind",
        choices=list(TORTURES),
        help="; ".join(f"{k}: {v.about}" for k, v in TORTURES.items()),
    )
    tor.add_argument("--readers", type=_count, default=2, help="reader threads (default 2)")
    tor.add_argument("--updaters", type=_count, default=1, help="updater threads (default 1)")
    tor.add_argument("--duration", type=_duration, default=1.0, help="seconds (default 1)")
    tor.add_argument(
        "--busted",
        metavar="VARIANT",
        default=None,
        help="run a deliberately broken variant (the test must fail)",
    )
    tor.add_argument("--json", action="store_true", help="print the result as JSON")
    tor.add_argument("--plot", metavar="FILE.png", help="draw the result")
    tor.set_defaults(func=cmd_torture)

    tr = sub.add_parser(
        "trace",
        help="record readers, grace periods and callbacks, and draw the timeline",
    )
    tr.add_argument("--duration", type=_duration, default=0.6, help="seconds (default 0.6)")
    tr.add_argument("--readers", type=_readers, default=3, help="reader threads, 1-16 (default 3)")
    tr.add_argument("--width", type=_width, default=72, help="text timeline width (default 72)")
    tr.add_argument("--ascii", action="store_true", help="draw sections with '=' instead of '█'")
    tr.add_argument("--png", metavar="FILE.png", help="also draw the timeline to a PNG file")
    tr.add_argument("--svg", metavar="FILE.svg", help="also draw the timeline to an SVG file")
    tr.set_defaults(func=cmd_trace, plot=None)

    ex = sub.add_parser("explain", help="explain a kbind error or warning (the rule, examples)")
    ex.add_argument("name", nargs="?", help="an error or warning class, e.g. LifetimeError")
    ex.add_argument("--list", action="store_true", help="list the errors and warnings")
    ex.set_defaults(func=cmd_explain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kbind`` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
