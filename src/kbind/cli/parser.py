"""The ``kbind`` command (also ``python -m kbind``).

``kbind tour`` is the main job: a short run of what kbind is for, ending in
a summary table; its exit status is 0 only if everything behaved.  Each
step is a function returning a :class:`StepResult`; later subsystems add
their steps to :data:`TOUR_STEPS`.

Every command keeps one contract (kbind/cli/report.py): exit status 0 on
success, 1 when the test found a failure, 2 for bad usage or a tool error,
with one line on stderr and never a traceback; ``--json`` reports share one
top-level shape.
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
from typing import Any, NoReturn

from kbind import __version__, barrier, litmus
from kbind.atomic import AtomicI32, AtomicI64
from kbind.cli.report import (
    CliError,
    bounded_float,
    bounded_int,
    check_output_path,
    draw_picture,
    envelope,
    one_line,
    require_rcu_backend,
    run_interruptibly,
    usable_cpus,
    warn,
)
from kbind.errors import DeadlockError, KbindError, LifetimeError, OrderingError
from kbind.ordering import Acquire, Full, Relaxed, Release
from kbind.sync import Mutex, SpinLock
from kbind.torture import format_rcu_report, rcu_torture
from kbind.torture.atomic import atomic_torture, format_atomic_report
from kbind.torture.seqlock import format_seqlock_report, seqlock_torture

__all__ = ["TOUR_STEPS", "StepResult", "main"]

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


def cmd_tour(args: argparse.Namespace) -> int:
    """Run every tour step and print a summary table; 0 only if all behaved."""
    require_rcu_backend()
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
    print(format_tour_summary(results))
    return 0 if all(r.ok for _, r, _ in results) else 1


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


@dataclass(frozen=True)
class TortureKind:
    """How ``kbind torture NAME`` runs one native torture test.

    Attributes:
        run: ``run(readers, updaters, duration, busted)`` -> result (blocks in C).
        report: result -> text report.
        busted: the names of its deliberately broken variants.
        about: one line for --help.
        threads: ``threads(readers, updaters)`` -> how many threads the run starts.
        little: result -> what it did too little of to trust a SUCCESS ("" if enough).
        uses_rcu: whether the test runs over the RCU engine.
    """

    run: Callable[[int, int, float, Any], Any]
    report: Callable[[Any], str]
    busted: tuple[str, ...]
    about: str
    threads: Callable[[int, int], int]
    little: Callable[[Any], str]
    uses_rcu: bool = False


#: Below this many grace periods, writes or checks a torture SUCCESS says little.
LITTLE = 100


def _too_few(**counts: int) -> str:
    """Name the counts under :data:`LITTLE` ("" when none is)."""
    few = [f"{n} {what.replace('_', ' ')}" for what, n in counts.items() if n < LITTLE]
    return f"only {' and '.join(few)}" if few else ""


#: Torture tests the command knows; later subsystems add theirs.
TORTURES: dict[str, TortureKind] = {
    "rcu": TortureKind(
        run=lambda r, u, d, b: rcu_torture(
            readers=r, updaters=u, duration=d, busted=b.replace("-", "_") if b else None
        ),
        report=format_rcu_report,
        busted=("no-wait", "reader", "early-cb"),
        about="QSBR RCU: readers check elements are not freed and at most one grace period old",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(grace_periods=res.grace_periods),
        uses_rcu=True,
    ),
    "atomic": TortureKind(
        run=lambda r, u, d, b: atomic_torture(threads=max(2, r + u), duration=d, busted=b),
        report=format_atomic_report,
        busted=("torn-rmw", "early-publish"),
        about="LKMM atomics: exact counts, try_cmpxchg loops, release/acquire messages",
        threads=lambda r, u: max(2, r + u),
        little=lambda res: _too_few(increments=res.increments, message_checks=res.message_checks),
    ),
    "seqlock": TortureKind(
        run=lambda r, u, d, b: seqlock_torture(readers=r, writers=u, duration=d, busted=b),
        report=format_seqlock_report,
        busted=("reader-no-retry", "writer-no-increment", "writer-no-barrier"),
        about="sequence locks: readers check a multi-word invariant writers keep",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(writes=res.writes, checked_reads=res.successful_reads),
    ),
}

#: Most threads one torture run may start (the C side's limit).
MAX_TORTURE_THREADS = 64


def _result_dict(result: Any) -> dict[str, Any]:
    """Return a torture result as a JSON-ready dict that includes ``passed``."""
    data: dict[str, Any] = (
        result.as_dict() if hasattr(result, "as_dict") else dataclasses.asdict(result)
    )
    data.setdefault("passed", bool(result.passed))
    return data


def _litmus_plan(args: argparse.Namespace) -> list[tuple[str, str]]:
    """Return the (test, variant) pairs to run; refuse a selection that runs nothing."""
    named = list(dict.fromkeys(args.tests))
    plan: list[tuple[str, str]] = []
    for name in named or list(litmus.TESTS):
        spec = litmus.TESTS[name]
        wanted = [v for v in args.variant or spec.verdicts if v in spec.verdicts]
        if named and not wanted:
            raise CliError(
                f"{name} has no variant {', '.join(args.variant)} "
                f"(its variants: {', '.join(spec.verdicts)}): nothing to test"
            )
        plan.extend((name, v) for v in wanted)
    if not plan:
        raise CliError(f"no litmus test has the variant {', '.join(args.variant)}")
    return plan


def cmd_litmus(args: argparse.Namespace) -> int:
    """Run litmus tests; exit 1 if any forbidden outcome was observed."""
    if args.plot:
        check_output_path(args.plot, "--plot")
    plan = _litmus_plan(args)
    t0 = time.monotonic()
    cpus = usable_cpus()
    warnings: list[str] = []
    for name in dict.fromkeys(name for name, _ in plan):
        threads = litmus.TESTS[name].threads
        if threads > cpus:
            warnings.append(
                f"{name} runs {threads} threads on {cpus} usable CPU(s): they take turns "
                "instead of racing, so 'not observed' means little here"
            )
    for line in warnings:
        warn(line)
    results: list[litmus.LitmusResult] = []
    interrupted = False
    announce = "litmus: running (Ctrl-C stops and keeps the results so far)"
    for name, variant in plan:
        result, interrupted = run_interruptibly(
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
    broken = [f"{r.test}/{r.variant}" for r in results if r.forbidden_observed]
    if args.json:
        report = {"runs": [r.as_dict() for r in results], "forbidden_observed": broken,
                  "warnings": warnings}  # fmt: skip
        print(json.dumps(envelope(args, time.monotonic() - t0, interrupted, report), indent=2))
    elif interrupted:
        print("interrupted: the results above are partial")
    if args.plot:
        if results:
            from kbind.plot import plot_litmus

            draw_picture(lambda: plot_litmus(results, args.plot), args.plot, args.json)
        else:
            warn(f"nothing ran, so {args.plot} was not drawn")
    if broken and not args.json:
        print(f"\nFORBIDDEN outcomes observed (a broken barrier): {', '.join(broken)}")
    if broken:
        return 1
    return 130 if interrupted else 0


def cmd_torture(args: argparse.Namespace) -> int:
    """Run one native torture test; exit 1 if it found an error, 130 if interrupted."""
    kind = TORTURES[args.kind]
    if args.busted is not None and args.busted not in kind.busted:
        raise CliError(
            f"{args.kind} has no busted variant {args.busted!r} "
            f"(choose from {', '.join(kind.busted)})"
        )
    threads = kind.threads(args.readers, args.updaters)
    if threads > MAX_TORTURE_THREADS:
        raise CliError(f"{threads} threads in all: at most {MAX_TORTURE_THREADS}")
    if kind.uses_rcu:
        require_rcu_backend()
        from kbind.rcu_backend import current_backend

        if args.busted == "early-cb" and current_backend() != "builtin":
            raise CliError(
                "busted variant early-cb needs the builtin RCU backend, not "
                f"{current_backend()!r} (its call_rcu thread always waits)"
            )
    cpus = usable_cpus()
    warnings: list[str] = []
    if threads > cpus:
        warnings.append(
            f"{threads} threads on {cpus} usable CPU(s) take turns, so fewer races are tried"
        )
    for line in warnings:
        warn(line)
    flavor = f"busted: {args.busted}" if args.busted else "real"
    t0 = time.monotonic()
    try:
        result, interrupted = run_interruptibly(
            lambda: kind.run(args.readers, args.updaters, args.duration, args.busted),
            f"{args.kind}-torture: running for {args.duration:g} s ({flavor}; "
            "Ctrl-C stops with a partial report)",
            None if args.json else args.duration,
            f"{args.kind}-torture",
        )
    except (ValueError, TypeError) as exc:  # the checks above should have caught it
        raise CliError(one_line(exc)) from None
    if result is None:
        print("interrupted before the run started: nothing to report")
        return 130
    little = kind.little(result) if result.passed else ""
    if little:
        warnings.append(f"{little} in {result.elapsed:.3f} s: too little to trust; run longer")
        warn(warnings[-1])
    if args.json:
        report = {"kind": args.kind, **_result_dict(result), "busted": args.busted,
                  "threads": threads, "threads_exceed_cpus": threads > cpus,
                  "warnings": warnings}  # fmt: skip
        print(json.dumps(envelope(args, time.monotonic() - t0, interrupted, report), indent=2))
    else:
        if interrupted:
            print("interrupted: partial report follows")
        print(kind.report(result))
    if interrupted:
        return 130
    return 0 if result.passed else 1


def cmd_trace(args: argparse.Namespace) -> int:
    """Record the scripted scenario of kbind.trace and print (and draw) its timeline."""
    from kbind import trace

    for option, path in (("--png", args.png), ("--svg", args.svg)):
        if path:
            check_output_path(path, option)
    require_rcu_backend()
    rec = trace.run_scenario(duration=args.duration, readers=args.readers)
    print(rec.to_text(width=args.width, ascii=args.ascii))
    if args.png:
        draw_picture(lambda: rec.to_png(args.png), args.png, False)
    if args.svg:
        draw_picture(lambda: rec.to_svg(args.svg), args.svg, False)
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
    """Print the long explanation of a kbind error or warning, or of a rule code (R05).

    With no name (or ``--list``) it lists every error, warning and rule code.
    """
    from kbind.explain import UnknownNameError, explain, listing

    if args.list or not args.name:
        print(listing())
        return 0
    try:
        print(explain(args.name))
    except UnknownNameError as exc:
        raise CliError(one_line(exc)) from None
    return 0


def _litmus_test(text: str) -> str:
    """Argparse ``type=`` for a litmus test name."""
    if text not in litmus.TESTS:
        raise argparse.ArgumentTypeError(
            f"unknown test {text!r} (choose from {', '.join(litmus.TESTS)})"
        )
    return text


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``kbind`` command."""
    parser = _Parser(
        prog="kbind",
        description="Laboratory for Rust-style bindings of the kernel's RCU, seqlocks, atomics. "
        "Exit status: 0 success, 1 the test found a failure, 2 bad usage or a tool error.",
    )
    parser.add_argument("--version", action="version", version=f"kbind {__version__}")
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
        type=_litmus_test,
        metavar="TEST",
        help=f"tests to run (default: all of {', '.join(litmus.TESTS)})",
    )
    lit.add_argument(
        "--variant",
        action="append",
        choices=list(litmus.VARIANTS),
        help="only these variants (repeatable; default: every variant of each test; each TEST "
        "named must have one of them, unnamed tests without them are left out; "
        + "; ".join(f"{k}: {v[1]}" for k, v in litmus.VARIANTS.items())
        + ")",
    )
    lit.add_argument(
        "--iterations",
        type=bounded_int(1, 10**10),
        default=None,
        help="iterations per variant, 1 to 10**10 (default: each test's own)",
    )
    lit.add_argument(
        "--max-seconds",
        type=bounded_float(3600),
        default=60.0,
        help="time bound per variant, in (0, 3600] (default 60)",
    )
    lit.add_argument(
        "--busted-barrier",
        action="store_true",
        help="compile smp_mb() as a compiler barrier only, to see the tests catch it",
    )
    lit.add_argument("--histograms", action="store_true", help="print every outcome's count")
    lit.add_argument("--json", action="store_true", help="print results as JSON")
    lit.add_argument(
        "--plot", metavar="FILE.png", help="draw each test's exists counts (needs matplotlib)"
    )
    lit.set_defaults(func=cmd_litmus)

    tor = sub.add_parser("torture", help="run a native torture test (C threads, GIL released)")
    tor.add_argument(
        "kind",
        choices=list(TORTURES),
        help="; ".join(f"{k}: {v.about}" for k, v in TORTURES.items()),
    )
    count = bounded_int(1, MAX_TORTURE_THREADS)
    tor.add_argument("--readers", type=count, default=2, help="reader threads, 1-64 (default 2)")
    tor.add_argument(
        "--updaters", type=count, default=1, help="updater (writer) threads, 1-64 (default 1)"
    )
    tor.add_argument(
        "--duration", type=bounded_float(3600), default=1.0, help="seconds, up to 3600 (default 1)"
    )
    tor.add_argument(
        "--busted",
        metavar="VARIANT",
        default=None,
        help="run a deliberately broken variant (the test must fail): "
        + "; ".join(f"{k}: {', '.join(v.busted)}" for k, v in TORTURES.items()),
    )
    tor.add_argument("--json", action="store_true", help="print the result as JSON")
    tor.set_defaults(func=cmd_torture)

    tr = sub.add_parser(
        "trace",
        help="record readers, grace periods and callbacks, and draw the timeline",
    )
    tr.add_argument(
        "--duration", type=bounded_float(3600), default=0.6, help="seconds (default 0.6)"
    )
    tr.add_argument(
        "--readers", type=bounded_int(1, 16), default=3, help="reader threads, 1-16 (default 3)"
    )
    tr.add_argument(
        "--width", type=bounded_int(20, 400), default=72, help="text timeline width (default 72)"
    )
    tr.add_argument("--ascii", action="store_true", help="draw sections with '=' instead of '█'")
    tr.add_argument("--png", metavar="FILE.png", help="also draw the timeline to a PNG file")
    tr.add_argument("--svg", metavar="FILE.svg", help="also draw the timeline to an SVG file")
    tr.set_defaults(func=cmd_trace)

    ex = sub.add_parser("explain", help="explain a kbind error or warning (the rule, examples)")
    ex.add_argument(
        "name", nargs="?", help="an error or warning class, e.g. LifetimeError (none: list them)"
    )
    ex.add_argument("--list", action="store_true", help="list the errors and warnings")
    ex.set_defaults(func=cmd_explain)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kbind`` command; returns the exit status.

    A usage or tool error (:class:`~kbind.cli.report.CliError`, or a kbind or
    operating-system error no command expected) is one line on stderr and
    exit status 2; Ctrl-C outside a run is 130.
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"kbind {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except (KbindError, OSError) as exc:
        print(f"kbind {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
