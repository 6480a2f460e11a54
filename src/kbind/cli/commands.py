"""The ``kbind torture``, ``litmus``, ``trace`` and ``explain`` commands.

Each command is a body returning an :class:`~kbind.cli.report.Outcome`,
wrapped in the runner :func:`~kbind.cli.report.command`, which keeps the
command line's contract (exit status, ``--json`` envelope, one-line errors).
:data:`TORTURES` says how ``kbind torture NAME`` runs each native torture test.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kbind import litmus
from kbind.cli.report import (
    CliError,
    Outcome,
    Warnings,
    command,
    require_rcu_backend,
    run_interruptibly,
    usable_cpus,
)
from kbind.cli.torture_rcu import rcu_options, reject_rcu_options
from kbind.explain import UnknownNameError, explain, listing
from kbind.torture.atomic import atomic_torture, format_atomic_report
from kbind.torture.rcu import format_rcu_report, rcu_torture
from kbind.torture.rculist import format_rculist_report, rculist_torture
from kbind.torture.seqlock import format_seqlock_report, seqlock_torture
from kbind.torture.srcu import format_srcu_report, srcu_torture

__all__ = [
    "LITTLE",
    "MAX_TORTURE_THREADS",
    "TORTURES",
    "TortureKind",
    "cmd_explain",
    "cmd_litmus",
    "cmd_torture",
    "cmd_trace",
]


#: The commands run kbind as a user would: sites recorded under them (the
#: trace scenario's call_rcu) point at this file, not past it.
KBIND_USER_CODE = True


@dataclass(frozen=True)
class TortureKind:
    """How ``kbind torture NAME`` runs one native torture test.

    Attributes:
        run: ``run(readers, updaters, duration, busted, **options)`` -> result (blocks in C).
        report: result -> text report.
        busted: the names of its deliberately broken variants.
        about: one line for --help.
        threads: ``threads(readers, updaters)`` -> how many threads the run starts.
        little: result -> what it did too little of to trust a SUCCESS ("" if enough).
        uses_rcu: whether the test runs over the RCU engine.
        options: ``options(args)`` -> the keyword arguments of ``run`` that the
            kind's own options ask for (the default refuses them all).
    """

    run: Callable[..., Any]
    report: Callable[[Any], str]
    busted: tuple[str, ...]
    about: str
    threads: Callable[[int, int], int]
    little: Callable[[Any], str]
    uses_rcu: bool = False
    options: Callable[[argparse.Namespace], dict[str, Any]] = reject_rcu_options


#: Below this many grace periods, writes or checks a torture SUCCESS says little.
LITTLE = 100


def _too_few(**counts: int) -> str:
    """Name the counts under :data:`LITTLE` ("" when none is)."""
    few = [f"{n} {what.replace('_', ' ')}" for what, n in counts.items() if n < LITTLE]
    return f"only {' and '.join(few)}" if few else ""


#: Torture tests the command knows; later subsystems add theirs.
TORTURES: dict[str, TortureKind] = {
    "rcu": TortureKind(
        run=lambda r, u, d, b, **kw: rcu_torture(
            readers=r, updaters=u, duration=d, busted=b.replace("-", "_") if b else None, **kw
        ),
        report=format_rcu_report,
        busted=("no-wait", "reader", "early-cb", "barrier"),
        about="QSBR RCU: readers check elements are not freed and at most one grace period old",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(grace_periods=res.grace_periods),
        uses_rcu=True,
        options=rcu_options,
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
    "srcu": TortureKind(
        run=lambda r, u, d, b: srcu_torture(readers=r, updaters=u, duration=d, busted=b),
        report=format_srcu_report,
        busted=("no-flip", "wrong-index"),
        about="sleepable RCU: sleeping readers check their element is not freed under them",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(grace_periods=res.grace_periods, reads=res.reads),
    ),
    "rcu-list": TortureKind(
        run=lambda r, u, d, b: rculist_torture(readers=r, updaters=u, duration=d, busted=b),
        report=format_rculist_report,
        busted=("free-no-gp", "publish-before-init"),
        about="RCU list and hash list: readers check each element they visit is live, "
        "initialised and at most one grace period old",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(grace_periods=res.grace_periods, updates=res.updates),
        uses_rcu=True,
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


@command(outputs=("--plot",))
def cmd_litmus(args: argparse.Namespace) -> Outcome:
    """Run litmus tests; exit 1 if any forbidden outcome was observed."""
    plan = _litmus_plan(args)
    cpus = usable_cpus()
    warnings = Warnings()
    for name in dict.fromkeys(name for name, _ in plan):
        threads = litmus.TESTS[name].threads
        if threads > cpus:
            warnings.add(
                f"{name} runs {threads} threads on {cpus} usable CPU(s): they take turns "
                "instead of racing, so 'not observed' means little here"
            )
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
    pictures: list[tuple[str, Callable[[], None] | None]] = []
    if args.plot:
        from kbind.plot import plot_litmus

        pictures.append((args.plot, (lambda: plot_litmus(results, args.plot)) if results else None))
    forbidden = f"\nFORBIDDEN outcomes observed (a broken barrier): {', '.join(broken)}"
    report = {"runs": [r.as_dict() for r in results], "forbidden_observed": broken,
              "warnings": warnings}  # fmt: skip
    return Outcome(
        result=report,
        text="interrupted: the results above are partial" if interrupted else "",
        pictures=pictures,
        closing=forbidden if broken else "",
        failed=bool(broken),
        interrupted=interrupted,
    )


@command(usage_errors=(ValueError, TypeError))  # the checks here should have caught them
def cmd_torture(args: argparse.Namespace) -> Outcome:
    """Run one native torture test; exit 1 if it found an error, 130 if interrupted."""
    kind = TORTURES[args.kind]
    if args.busted is not None and args.busted not in kind.busted:
        raise CliError(
            f"{args.kind} has no busted variant {args.busted!r} "
            f"(choose from {', '.join(kind.busted)})"
        )
    options = kind.options(args)
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
    warnings = Warnings()
    if threads > cpus:
        warnings.add(
            f"{threads} threads on {cpus} usable CPU(s) take turns, so fewer races are tried"
        )
    flavor = f"busted: {args.busted}" if args.busted else "real"
    result, interrupted = run_interruptibly(
        lambda: kind.run(args.readers, args.updaters, args.duration, args.busted, **options),
        f"{args.kind}-torture: running for {args.duration:g} s ({flavor}; "
        "Ctrl-C stops with a partial report)",
        None if args.json else args.duration,
        f"{args.kind}-torture",
    )
    if result is None:
        return Outcome(
            text="interrupted before the run started: nothing to report", interrupted=True
        )
    little = kind.little(result) if result.passed else ""
    if little:
        warnings.add(f"{little} in {result.elapsed:.3f} s: too little to trust; run longer")
    report = {"kind": args.kind, **_result_dict(result), "busted": args.busted,
              "threads": threads, "threads_exceed_cpus": threads > cpus,
              "warnings": warnings}  # fmt: skip
    text = kind.report(result)
    return Outcome(
        result=report,
        text=f"interrupted: partial report follows\n{text}" if interrupted else text,
        failed=not result.passed and not interrupted,  # an interrupted run exits 130
        interrupted=interrupted,
    )


@command(outputs=("--png", "--svg"), uses_rcu=True)
def cmd_trace(args: argparse.Namespace) -> Outcome:
    """Record the scripted scenario of kbind.trace and print (and draw) its timeline."""
    from kbind import trace

    rec = trace.run_scenario(duration=args.duration, readers=args.readers)
    pictures: list[tuple[str, Callable[[], None] | None]] = []
    if args.png:
        pictures.append((args.png, lambda: rec.to_png(args.png)))
    if args.svg:
        pictures.append((args.svg, lambda: rec.to_svg(args.svg)))
    bad = rec.violations()
    closing = "\n".join(f"VIOLATION: {line}" for line in bad) or (
        f"ok: {len(rec.grace_periods)} grace period(s), {len(rec.sections)} read-side "
        "section(s); every grace period waited for the sections that began before it"
    )
    return Outcome(
        text=rec.to_text(width=args.width, ascii=args.ascii),
        pictures=pictures,
        closing=closing,
        failed=bool(bad),
    )


@command(usage_errors=(UnknownNameError,))
def cmd_explain(args: argparse.Namespace) -> Outcome:
    """Print the long explanation of a kbind error or warning, or of a rule code (R05).

    With no name (or ``--list``) it lists every error, warning and rule code.
    """
    return Outcome(text=listing() if args.list or not args.name else explain(args.name))
