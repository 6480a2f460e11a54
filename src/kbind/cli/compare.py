"""``kbind compare``: run every misuse scenario on every design, or the workloads.

Without options it prints the terminal grid (:func:`kbind.compare.render.table`);
``--design``/``--row`` narrow the run and print each cell's account;
``--markdown`` prints the generated section of docs/misuse.md and
``--write-doc FILE`` puts it into FILE; ``--json`` the whole matrix;
``--expect FILE`` exits 1 when a cell differs from FILE (a JSON report of an
earlier run, or ``ROW DESIGN VERDICT`` lines).  ``--workload`` runs the
reader/updater workload over the RCU designs instead (``--plot FILE`` draws
it).  Exit status: 0, 1 only for an unmet expectation, 2 for bad usage or a
scenario that failed to run (a bug in kbind, reported as one line).
"""

from __future__ import annotations

import argparse
from typing import Any

from kbind.cli.report import CliError, Outcome, Warnings, bounded_float, bounded_int, command

__all__ = ["add_parser", "cmd_compare"]


def _design_name(text: str) -> str:
    from kbind import compare

    names = list(dict.fromkeys(d.name for d in compare.DESIGNS))
    if text not in names:
        raise argparse.ArgumentTypeError(
            f"unknown design {text!r} (choose from {', '.join(names)})"
        )
    return text


def _row_id(text: str) -> str:
    from kbind import compare

    ids = [s.id for s in compare.SCENARIOS]
    if text.upper() not in ids:
        raise argparse.ArgumentTypeError(f"unknown row {text!r} (one of {ids[0]}..{ids[-1]})")
    return text.upper()


def add_parser(sub: Any) -> None:
    """Add the ``compare`` subcommand to the ``kbind`` parser's subparsers ``sub``."""
    cmp = sub.add_parser(
        "compare",
        help="run every misuse scenario on every design (ruled out, caught, let through), "
        "or the reader/updater workloads",
    )
    cmp.add_argument(
        "--design",
        action="append",
        type=_design_name,
        metavar="NAME",
        help="only this design (repeatable), e.g. rcu, kernel_c, rfc.rcu_pointer",
    )
    cmp.add_argument(
        "--row", action="append", type=_row_id, metavar="ID", help="only this row (repeatable)"
    )
    out = cmp.add_mutually_exclusive_group()
    out.add_argument("--markdown", action="store_true", help="print the docs/misuse.md section")
    out.add_argument("--json", action="store_true", help="print the result as JSON")
    cmp.add_argument(
        "--write-doc",
        metavar="FILE",
        help="replace the generated section of FILE (docs/misuse.md) with this run's",
    )
    cmp.add_argument(
        "--expect",
        metavar="FILE",
        help="exit 1 if a cell differs from FILE (a --json report, or ROW DESIGN VERDICT lines)",
    )
    cmp.add_argument(
        "--no-typecheck",
        action="store_true",
        help="do not ask mypy to confirm the ruled-out cells",
    )
    cmp.add_argument(
        "--workload",
        action="store_true",
        help="run the reader/updater workload over each RCU design instead",
    )
    cmp.add_argument(
        "--seconds",
        type=bounded_float(600),
        default=1.0,
        help="workload: seconds per design (default 1)",
    )
    cmp.add_argument(
        "--readers",
        type=bounded_int(1, 64),
        default=2,
        help="workload: reader threads, 1-64 (default 2)",
    )
    cmp.add_argument(
        "--hold-us",
        type=bounded_float(100_000, "microseconds", zero=True),
        default=0.0,
        help="workload: each reader holds its section this many microseconds longer, busy in C "
        "with the GIL released, as a kernel reader walking a structure (default 0)",
    )
    cmp.add_argument("--plot", metavar="FILE.png", help="workload: also draw it to a picture")
    cmp.set_defaults(func=cmd_compare)


def _workload(args: argparse.Namespace) -> Outcome:
    from kbind.compare import workload

    try:
        report = workload.run_workload(
            args.design, seconds=args.seconds, readers=args.readers, hold_us=args.hold_us
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    warnings = Warnings()
    threads = args.readers + 1
    if report.usable_cpus < threads:
        warnings.add(
            f"{threads} threads (readers and the updater) share {report.usable_cpus} usable "
            "CPU(s): the rows measure time-sharing as much as the designs"
        )
    pictures: list[tuple[str, Any]] = []
    if args.plot:
        from kbind import plot

        pictures.append((args.plot, lambda: plot.workload(report, args.plot)))
    return Outcome(
        result=report.as_dict() | {"warnings": warnings}, text=report.render(), pictures=pictures
    )


@command(outputs=("--plot",), uses_rcu=True)
def cmd_compare(args: argparse.Namespace) -> Outcome:
    """Run every scenario on every design (or the workloads) and print it as asked."""
    from kbind import compare
    from kbind.compare import render

    if args.workload:
        if args.row or args.markdown or args.expect or args.write_doc:
            raise CliError(
                "--workload takes only --design, --seconds, --readers, --hold-us, --json, --plot"
            )
        return _workload(args)
    if args.plot:
        raise CliError("--plot draws the workload: add --workload")
    expected = None
    if args.expect:
        try:
            with open(args.expect, encoding="utf-8") as f:
                expected = render.parse_expectations(f.read(), args.expect)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    warnings = Warnings()
    matrix = compare.run(args.design, args.row, typecheck=not args.no_typecheck)
    unchecked = {
        c.typecheck for c in matrix.cells if c.typecheck and c.typecheck.startswith("not checked")
    }
    for note in sorted(unchecked):
        warnings.add(f"the ruled-out cells are {note} (pip install mypy to check them)")
    broken = matrix.errors()
    if broken:
        c = broken[0]
        raise CliError(
            f"{len(broken)} scenario(s) failed to run, first {c.row} on {c.design}: "
            f"{c.summary} ({c.detail[:200]})"
        )
    if args.write_doc:
        with open(args.write_doc, encoding="utf-8") as f:
            text = f.read()
        with open(args.write_doc, "w", encoding="utf-8") as f:
            f.write(render.replace_section(text, render.markdown(matrix)))
    if args.markdown:
        text = render.markdown(matrix)
    elif args.design or args.row:
        text = render.details(matrix)
    else:
        text = render.table(matrix)
    unmet = render.check_expectations(matrix, expected) if expected is not None else []
    closing = "\n".join(f"UNMET: {line}" for line in unmet)
    if expected is not None and not unmet:
        closing = f"ok: all {len(expected)} expectation(s) of {args.expect} met"
    return Outcome(
        result=render.as_dict(matrix) | {"unmet": unmet, "warnings": warnings},
        text=text,
        closing=closing,
        failed=bool(unmet),
    )
