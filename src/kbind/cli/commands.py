"""The ``kbind torture``, ``trace`` and ``explain`` commands.

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

from kbind.cli.report import (
    CliError,
    Outcome,
    Warnings,
    command,
    require_rcu_backend,
    run_interruptibly,
    usable_cpus,
)
from kbind.cli.scale import run_scale
from kbind.cli.torture_rcu import rcu_options, reject_rcu_options
from kbind.explain import UnknownNameError, explain, listing
from kbind.torture.atomic import atomic_torture, format_atomic_report
from kbind.torture.lock import format_lock_report, lock_torture
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
        run: ``run(readers, updaters, duration, busted, **options)`` -> result
            (blocks in C).
        report: result -> text report.
        busted: the names of its deliberately broken variants.
        about: one line for --help.
        threads: ``threads(readers, updaters)`` -> how many threads the run starts.
        little: result -> what it did too little of to trust a SUCCESS ("" if enough).
        uses_rcu: whether the test runs over the RCU engine.
        counters: result -> its key counters by name, the read side first and
            the update side second (``kbind stress`` prints them as rates).
        scalable: whether ``--scale`` applies (the first two counters are
            reads and updates, and readers are what the steps vary).
        options: the command-line options passed on to ``run`` by name.
        kind_options: ``kind_options(args)`` -> the keyword arguments of ``run``
            that the kind's own options ask for (the default refuses them all).
    """

    run: Callable[..., Any]
    report: Callable[[Any], str]
    busted: tuple[str, ...]
    about: str
    threads: Callable[[int, int], int]
    little: Callable[[Any], str]
    uses_rcu: bool = False
    counters: Callable[[Any], dict[str, int]] = lambda res: {}
    scalable: bool = False
    options: tuple[str, ...] = ()
    kind_options: Callable[[argparse.Namespace], dict[str, Any]] = reject_rcu_options


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
        counters=lambda res: {
            "reads": res.reads,
            "updates": res.updates,
            "grace_periods": res.grace_periods,
        },
        scalable=True,
        kind_options=rcu_options,
    ),
    "atomic": TortureKind(
        run=lambda r, u, d, b: atomic_torture(threads=max(2, r + u), duration=d, busted=b),
        report=format_atomic_report,
        busted=("torn-rmw", "early-publish"),
        about="LKMM atomics: exact counts, try_cmpxchg loops, release/acquire messages",
        threads=lambda r, u: max(2, r + u),
        little=lambda res: _too_few(increments=res.increments, message_checks=res.message_checks),
        counters=lambda res: {
            "increments": res.increments,
            "cmpxchg": res.cmpxchg_increments,
            "messages": res.messages,
        },
    ),
    "seqlock": TortureKind(
        run=lambda r, u, d, b: seqlock_torture(readers=r, writers=u, duration=d, busted=b),
        report=format_seqlock_report,
        busted=("reader-no-retry", "writer-no-increment", "writer-no-barrier"),
        about="sequence locks: readers check a multi-word invariant writers keep",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(writes=res.writes, checked_reads=res.successful_reads),
        counters=lambda res: {
            "reads": res.successful_reads,
            "updates": res.writes,
            "retries": res.retries,
        },
        scalable=True,
    ),
    "srcu": TortureKind(
        run=lambda r, u, d, b: srcu_torture(readers=r, updaters=u, duration=d, busted=b),
        report=format_srcu_report,
        busted=("no-flip", "wrong-index"),
        about="sleepable RCU: sleeping readers check their element is not freed under them",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(grace_periods=res.grace_periods, reads=res.reads),
        counters=lambda res: {
            "reads": res.reads,
            "updates": res.updates,
            "grace_periods": res.grace_periods,
        },
        scalable=True,
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
        counters=lambda res: {
            "reads": res.reads,
            "updates": res.updates,
            "grace_periods": res.grace_periods,
        },
        scalable=True,
    ),
    "lock": TortureKind(
        run=lambda r, u, d, b, lock=None: lock_torture(
            lock=lock or "spin", writers=u, readers=r, duration=d, busted=b
        ),
        report=format_lock_report,
        busted=("no-lock", "no-rmw"),
        about="spinlock and futex mutex (--lock): writers and readers check no two holders "
        "are ever inside at once (locktorture)",
        threads=lambda r, u: r + u,
        little=lambda res: _too_few(acquisitions=res.total),
        counters=lambda res: {
            "reads": res.read_total,
            "updates": res.write_total,
            "fails": res.write_fail + res.read_fail,
        },
        scalable=True,
        options=("lock",),
    ),
}

#: Most threads one torture run may start (the C side's limit).
MAX_TORTURE_THREADS = 64


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the torture-specific options of ``args`` (``--lock``) by name."""
    names = {name for kind in TORTURES.values() for name in kind.options}
    return {name: getattr(args, name, None) for name in sorted(names)}


def _owner(option: str) -> str:
    """Name the torture(s) an option belongs to."""
    return " or ".join(k for k, v in TORTURES.items() if option in v.options)


def _result_dict(result: Any) -> dict[str, Any]:
    """Return a torture result as a JSON-ready dict that includes ``passed``."""
    data: dict[str, Any] = (
        result.as_dict() if hasattr(result, "as_dict") else dataclasses.asdict(result)
    )
    data.setdefault("passed", bool(result.passed))
    return data


@command(outputs=("--plot",), usage_errors=(ValueError, TypeError))  # checks should catch them
def cmd_torture(args: argparse.Namespace) -> Outcome:
    """Run one native torture test; exit 1 if it found an error, 130 if interrupted."""
    kind = TORTURES[args.kind]
    for name, value in _options(args).items():
        if value is not None and name not in kind.options:
            raise CliError(f"--{name} applies to the {_owner(name)} torture only, not {args.kind}")
    if args.plot and not args.scale:
        raise CliError("--plot draws the --scale curve: add --scale")
    if args.scale:
        return run_scale(args, kind, [k for k, v in TORTURES.items() if v.scalable])
    if args.busted is not None and args.busted not in kind.busted:
        raise CliError(
            f"{args.kind} has no busted variant {args.busted!r} "
            f"(choose from {', '.join(kind.busted)})"
        )
    rcu_opts = kind.kind_options(args)
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
    options = {k: v for k, v in _options(args).items() if v is not None} | rcu_opts
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
