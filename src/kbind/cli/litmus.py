"""``kbind litmus``: run kernel-format litmus tests on this CPU and judge them against the LKMM.

Each target is a classic pattern's short name (``SB``: its variants), a
shipped test's name (``SB+fencembonceonces``), a ``.litmus`` file, or a
folder of them; with no target, every shipped test runs.  A file that
cannot be parsed or uses an unsupported construct is one line on stderr
(``FILE:LINE: ...``) and the others still run; several files end with a
summary.  Exit status: 1 if an outcome the LKMM forbids was observed, else
2 if a file could not be run (or for bad usage), else 0.  With ``--model``,
kbind's LKMM evaluator judges the tests instead (:mod:`kbind.cli.litmus_model`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kbind import litmus
from kbind.cli.litmus_files import (
    error_record,
    files_text,
    parse_or_report,
    run_on_cpu,
    turns_warning,
)
from kbind.cli.litmus_model import check_options, model_outcome
from kbind.cli.report import (
    CliError,
    Outcome,
    Warnings,
    bounded_float,
    bounded_int,
    command,
    run_interruptibly,
    usable_cpus,
)

__all__ = ["add_parser", "cmd_litmus", "plan"]


def add_parser(sub: Any) -> None:
    """Add the ``litmus`` subcommand to the ``kbind`` parser's subparsers ``sub``."""
    lit = sub.add_parser(
        "litmus",
        help="run kernel-format litmus tests (.litmus files) on this CPU, judged against the LKMM",
    )
    lit.add_argument(
        "tests",
        nargs="*",
        metavar="TEST",
        help=f"a pattern ({', '.join(litmus.TESTS)}: its variants), a shipped test's name, "
        "a .litmus file or a folder of them (default: every shipped test)",
    )
    lit.add_argument(
        "--variant",
        action="append",
        choices=list(litmus.VARIANTS),
        help="only these variants of the patterns named (repeatable; with no TEST, these "
        "variants of every pattern; "
        + "; ".join(f"{k}: {v}" for k, v in litmus.VARIANTS.items())
        + ")",
    )
    lit.add_argument(
        "--iterations",
        type=bounded_int(1, 10**10),
        default=None,
        help="instances per test, 1 to 10**10 (default: 1,000,000 for two processes, "
        "20,000 for more, 100,000 with RCU or SRCU)",
    )
    lit.add_argument(
        "--max-seconds",
        type=bounded_float(3600),
        default=10.0,
        help="time bound per test (a run, or with --model the model's search), in (0, 3600] "
        "(default 10)",
    )
    lit.add_argument(
        "--until-observed",
        type=bounded_int(0, 10**9),
        default=0,
        metavar="N",
        help="stop a test once its condition held N times (default 0: run it all)",
    )
    lit.add_argument(
        "--size",
        type=bounded_int(1, 100_000),
        default=None,
        help="instances per synchronised round (default 1000; 100 with RCU or SRCU)",
    )
    lit.add_argument(
        "--busted-barrier",
        action="store_true",
        help="compile smp_mb() and fully ordered RMWs broken, to see the tests catch it",
    )
    lit.add_argument(
        "--busted-rcu",
        choices=list(litmus.BUSTED_RCU),
        default=None,
        help="run on a broken RCU engine (no_wait: grace periods do not wait; reader: "
        "readers invisible to them)",
    )
    lit.add_argument(
        "--busted-srcu",
        choices=list(litmus.BUSTED_SRCU),
        default=None,
        help="run SRCU domains broken (no-flip, wrong-index)",
    )
    lit.add_argument(
        "--model",
        action="store_true",
        help="judge each test by kbind's LKMM evaluator instead of running it: the verdict, "
        "the final states the model allows, the axiom and cycle behind each forbidden state, "
        "and agree/DISAGREE with the file's Result: (exit 1 on a disagreement)",
    )
    lit.add_argument(
        "--run",
        action="store_true",
        help="with --model: also run each test on this CPU, and table the model's verdict "
        "against the outcomes seen (one the model forbids is a failure)",
    )
    lit.add_argument("--histograms", action="store_true", help="print every outcome's count")
    lit.add_argument("--json", action="store_true", help="print results as JSON")
    lit.add_argument(
        "--plot", metavar="FILE.png", help="draw each test's exists counts (needs matplotlib)"
    )
    lit.set_defaults(func=cmd_litmus)


@dataclass
class Item:
    """One test to run: the file, and the pattern and variant it stands for (if any)."""

    path: Path
    pattern: str = ""
    variant: str = ""


def plan(targets: list[str], variants: list[str] | None) -> list[Item]:
    """Return the tests the targets name, in order; refuse a target that names nothing.

    Raises:
        CliError: an unknown target, or a pattern without the variants asked for.
    """
    items: list[Item] = []

    def pattern(name: str, named: bool) -> None:
        spec = litmus.TESTS[name]
        wanted = [v for v in variants or spec.files if v in spec.files]
        if named and not wanted:
            raise CliError(
                f"{name} has no variant {', '.join(variants or [])} "
                f"(its variants: {', '.join(spec.files)}): nothing to test"
            )
        for v in wanted:
            found = litmus.shipped_path(spec.files[v])
            assert found is not None, spec.files[v]  # shipped with the package
            items.append(Item(found, name, v))

    if not targets:
        if variants:
            for name in litmus.TESTS:
                pattern(name, False)
            if not items:
                raise CliError(f"no litmus test has the variant {', '.join(variants)}")
            return items
        return [Item(p) for p in litmus.shipped()]
    for t in dict.fromkeys(targets):
        p = Path(t)
        if t in litmus.TESTS:
            pattern(t, True)
        elif p.is_dir():
            found = sorted(p.rglob("*.litmus"))
            if not found:
                raise CliError(f"{t}: no .litmus files in this folder")
            items.extend(Item(f) for f in found)
        elif p.is_file():
            items.append(Item(p))
        elif (shipped := litmus.shipped_path(t)) is not None:
            items.append(Item(shipped))
        else:
            raise CliError(
                f"{t!r}: not a pattern ({', '.join(litmus.TESTS)}), a shipped test, "
                "a file or a folder"
            )
    return items


@dataclass
class _Tally:
    parsed: int = 0
    run: int = 0
    unsupported: int = 0
    malformed: int = 0
    failed: int = 0
    observed: int = 0
    forbidden: int = 0
    errors: list[dict[str, object]] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"summary: {files_text(self.parsed + self.malformed + self.unsupported)}, "
            f"parsed {self.parsed}, "
            f"run {self.run}, unsupported {self.unsupported}, malformed {self.malformed}, "
            f"failed to run {self.failed}, observed {self.observed}, "
            f"FORBIDDEN BUT OBSERVED {self.forbidden}"
        )


@command(outputs=("--plot",), usage_errors=(ValueError,))
def cmd_litmus(args: argparse.Namespace) -> Outcome:
    """Run litmus tests; exit 1 if a forbidden outcome was observed, 2 if a file could not run."""
    check_options(args)
    items = plan(list(args.tests), args.variant)
    if args.model:
        return model_outcome(items, args)
    cpus = usable_cpus()
    warnings = Warnings()
    tally = _Tally()
    results: list[litmus.LitmusResult] = []
    interrupted = False
    announce = "litmus: running (Ctrl-C stops and keeps the results so far)"
    for item in items:
        test, error = parse_or_report(item.path)
        if test is None:
            assert error is not None
            tally.unsupported += error["kind"] == "unsupported"
            tally.malformed += error["kind"] == "malformed"
            tally.errors.append(error)
            continue
        tally.parsed += 1
        if (warning := turns_warning(test, cpus)) is not None:
            warnings.add(warning)

        def one(test: litmus.LitmusTest = test) -> litmus.LitmusResult:
            return run_on_cpu(test, args)

        try:
            result, interrupted = run_interruptibly(one, announce, None, "litmus")
        except (litmus.LitmusError, RuntimeError) as exc:
            tally.failed += 1
            first = str(exc).splitlines()[0]
            tally.errors.append(error_record(item.path, "failed", first))
            print(f"kbind litmus: {item.path}: {first}", file=sys.stderr)
            continue
        announce = ""
        if result is not None:
            result.pattern, result.variant = item.pattern, item.variant
            results.append(result)
            tally.run += 1
            tally.observed += result.exists_count > 0
            tally.forbidden += result.forbidden_observed
            if not args.json:
                print(litmus.format_results([result], histograms=args.histograms), flush=True)
        if interrupted:
            break
    broken = [r.test for r in results if r.forbidden_observed]
    pictures: list[tuple[str, Callable[[], None] | None]] = []
    if args.plot:
        from kbind.plot import plot_litmus

        pictures.append((args.plot, (lambda: plot_litmus(results, args.plot)) if results else None))
    closing = []
    if len(items) > 1:
        closing.append(tally.line())
    if broken:
        closing.append(
            f"FORBIDDEN outcomes observed (a broken barrier or engine): {', '.join(broken)}"
        )
    report = {
        "runs": [r.as_dict() for r in results],
        "summary": {k: v for k, v in vars(tally).items() if k != "errors"},
        "errors": tally.errors,
        "forbidden_observed": broken,
        "warnings": warnings,
    }
    if interrupted:
        closing.insert(0, "interrupted: the results above are partial")
    return Outcome(
        result=report,
        pictures=pictures,
        closing="\n".join(closing),
        failed=bool(broken),
        interrupted=interrupted,
        unrunnable=bool(tally.errors),
    )
