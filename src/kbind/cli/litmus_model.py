"""``kbind litmus --model``: the LKMM's verdict for each test; with ``--run``, the CPU's beside it.

For each test, kbind's evaluator (:func:`kbind.litmus.model`) gives the
verdict for the final condition (``Never``, ``Sometimes``, ``Always``), the
final states the model allows, and for each state the condition asks about
that the model forbids, the axiom and the cycle that forbid it.  Beside the
file's ``Result:``: agree or DISAGREE.  With ``--run``, each test also runs
on this CPU and a table sets the model against what the CPU showed; an
outcome the model forbids that the CPU showed is a failure.

Exit status: 1 if a verdict disagrees with its file's ``Result:`` or (with
``--run``) the CPU showed an outcome the model forbids; else 2 if a file
could not be judged (malformed, a construct the evaluator does not support,
or too large for ``--max-seconds``); else 0.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kbind import litmus
from kbind.cli.litmus_files import (
    error_record,
    files_text,
    parse_or_report,
    run_on_cpu,
    turns_warning,
)
from kbind.cli.report import CliError, Outcome, Warnings, run_interruptibly, usable_cpus

__all__ = ["Row", "check_options", "model_outcome", "row_for"]

#: Options that only a hardware run reads, with their defaults: refused with --model
#: unless --run is given too.
RUN_ONLY: dict[str, object] = {
    "iterations": None, "until_observed": 0, "size": None, "busted_barrier": False,
    "busted_rcu": None, "busted_srcu": None, "histograms": False, "plot": None,
}  # fmt: skip


class _Item(Protocol):
    path: Path


@dataclass
class Row:
    """One line of the ``--model --run`` table: the model's verdict, and what this CPU showed.

    Attributes:
        test: the test's name.
        model: the model's verdict, or why there is none (``gave up``).
        expected: the file's ``Result:``, or ``-``.
        agreement: ``agree``, ``DISAGREE``, ``no Result`` or ``-``.
        allowed: the final states the model allows (empty when it gave up).
        seen: outcome label -> count on this CPU (None: not run).
        witnesses: instances on the CPU that satisfied the condition.
        counted: instances judged on the CPU (after the filter).
        forbidden_seen: the outcomes the CPU showed that the model forbids, with counts.
        error: why the hardware run stopped, or "".
    """

    test: str
    model: str
    expected: str
    agreement: str
    allowed: frozenset[str] = frozenset()
    seen: dict[str, int] | None = None
    witnesses: int = 0
    counted: int = 0
    forbidden_seen: dict[str, int] = field(default_factory=dict)
    error: str = ""

    @property
    def failed(self) -> bool:
        """The verdict disagrees with the file, or the CPU showed what the model forbids."""
        return self.agreement == "DISAGREE" or bool(self.forbidden_seen)

    def cells(self) -> list[str]:
        """Return the row's cells as the table prints them."""
        if self.seen is None:
            cpu, cond = "not run", "-"
        else:
            cpu = f"{len(self.seen)} seen, {len(self.allowed) or '?'} allowed"
            cond = f"{self.witnesses:,}/{self.counted:,}"
        bad = self.forbidden_text()
        last = f"FORBIDDEN BY THE MODEL BUT SEEN: {bad}" if bad else self.error or "-"
        return [self.test, self.model, self.expected, self.agreement, cpu, cond, last]

    def forbidden_text(self) -> str:
        """Return the outcomes the model forbids that the CPU showed, with counts ("" if none)."""
        return "; ".join(f"{k} ({v:,})" for k, v in self.forbidden_seen.items())

    def as_dict(self) -> dict[str, object]:
        """Return the row for JSON."""
        return {
            "test": self.test,
            "model": self.model,
            "expected": self.expected,
            "agreement": self.agreement,
            "allowed_states": sorted(self.allowed),
            "seen_on_cpu": self.seen,
            "witnesses_on_cpu": self.witnesses,
            "counted_on_cpu": self.counted,
            "forbidden_by_model_but_seen": self.forbidden_seen,
            "error": self.error,
        }


HEADERS = ["test", "model", "Result", "agreement", "final states",
           "condition seen", "forbidden by the model but seen on this CPU"]  # fmt: skip


def row_for(m: litmus.ModelResult | None, name: str, hw: litmus.LitmusResult | None) -> Row:
    """Return the table row for one test's model result ``m`` (None: none) and CPU run ``hw``."""
    if m is None:
        row = Row(name, "gave up", "-", "-")
    else:
        row = Row(m.test, m.verdict, m.expected or "-", m.agreement, frozenset(m.allowed_labels()))
    if hw is not None:
        row.seen = dict(hw.histogram)
        row.witnesses, row.counted, row.error = hw.exists_count, hw.counted, hw.error
        if m is not None:
            row.forbidden_seen = {k: v for k, v in hw.histogram.items() if k not in row.allowed}
    return row


def _table(rows: Sequence[Row]) -> str:
    cells = [HEADERS, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADERS) - 1)]
    out = []
    for c in cells:
        out.append("  ".join(x.ljust(w) for x, w in zip(c, widths, strict=False)) + "  " + c[-1])
    return "\n".join(line.rstrip() for line in out)


@dataclass
class _Tally:
    files: int = 0
    parsed: int = 0
    judged: int = 0
    agree: int = 0
    disagree: list[str] = field(default_factory=list)
    no_result: int = 0
    unsupported: int = 0
    malformed: int = 0
    gave_up: int = 0
    run: int = 0
    forbidden_seen: list[str] = field(default_factory=list)

    def line(self, with_run: bool) -> str:
        text = (
            f"model summary: {files_text(self.files)}, parsed "
            f"{self.parsed}, judged {self.judged}: agree {self.agree}, DISAGREE "
            f"{len(self.disagree)}, no Result {self.no_result}; unsupported {self.unsupported}, "
            f"malformed {self.malformed}, too large {self.gave_up}"
        )
        if with_run:
            text += (
                f"; run on this CPU {self.run}, FORBIDDEN BY THE MODEL BUT SEEN "
                f"{len(self.forbidden_seen)}"
            )
        return text

    def as_dict(self) -> dict[str, object]:
        return {k: (len(v) if isinstance(v, list) else v) for k, v in vars(self).items()}


def check_options(args: argparse.Namespace) -> None:
    """Refuse ``--run`` without ``--model``, and hardware-only options without ``--run``.

    Raises:
        CliError: the combination makes no sense.
    """
    if args.run and not args.model:
        raise CliError("--run goes with --model (a plain `kbind litmus` already runs the tests)")
    if args.model and not args.run:
        given = [k for k, default in RUN_ONLY.items() if getattr(args, k) != default]
        if given:
            names = ", ".join("--" + k.replace("_", "-") for k in given)
            raise CliError(f"{names}: only a hardware run reads this; add --run")


def model_outcome(items: Sequence[_Item], args: argparse.Namespace) -> Outcome:
    """Judge each test by the model (with ``args.run``, run it too); return the outcome."""
    tally = _Tally(files=len(items))
    results: list[litmus.ModelResult] = []
    runs: list[litmus.LitmusResult] = []
    rows: list[Row] = []
    errors: list[dict[str, object]] = []
    warnings = Warnings()
    cpus = usable_cpus()
    interrupted = False
    for item in items:
        test, error = parse_or_report(item.path)
        if test is None:
            assert error is not None
            tally.unsupported += error["kind"] == "unsupported"
            tally.malformed += error["kind"] == "malformed"
            errors.append(error)
            continue
        tally.parsed += 1
        m: litmus.ModelResult | None = None
        try:
            m = litmus.model(test, max_seconds=args.max_seconds)
        except litmus.LitmusUnsupportedError as exc:
            tally.unsupported += 1
            errors.append(error_record(item.path, "unsupported", exc.message, exc.line))
            print(f"kbind litmus: {exc}", file=sys.stderr, flush=True)
            continue
        except litmus.ModelTimeoutError as exc:
            tally.gave_up += 1
            errors.append(error_record(item.path, "too large", str(exc)))
            print(f"kbind litmus: {item.path}: {exc}", file=sys.stderr, flush=True)
        if m is not None:
            tally.judged += 1
            results.append(m)
            if m.agreement == "agree":
                tally.agree += 1
            elif m.agreement == "DISAGREE":
                tally.disagree.append(m.test)
            else:
                tally.no_result += 1
            if not args.json:
                print(litmus.format_model(m), flush=True)
        if not args.run:
            continue
        if (warning := turns_warning(test, cpus)) is not None:
            warnings.add(warning)
        hw, interrupted, failure = _run_one(test, args)
        if failure:
            errors.append(error_record(item.path, "failed to run", failure))
        if hw is not None:
            runs.append(hw)
            tally.run += 1
        row = row_for(m, test.name, hw)
        rows.append(row)
        if row.forbidden_seen:
            tally.forbidden_seen.append(row.test)
        if hw is not None and not args.json:
            print(f"  on this CPU: {hw.counted:,} instances, {len(hw.histogram)} distinct "
                  f"outcomes, condition held {hw.exists_count:,} times"
                  + (f"; FORBIDDEN BY THE MODEL BUT SEEN: {row.forbidden_text()}"
                     if row.forbidden_seen else ""), flush=True)  # fmt: skip
        if interrupted:
            break
    closing = []
    if args.run and rows:
        closing.append(_table(rows))
    if len(items) > 1 or args.run:
        closing.append(tally.line(args.run))
    if tally.disagree:
        closing.append("DISAGREE with the file's Result: " + ", ".join(tally.disagree))
    if tally.forbidden_seen:
        closing.append("outcomes the model forbids were seen on this CPU (a broken barrier, "
                       "engine or CPU): " + ", ".join(tally.forbidden_seen))  # fmt: skip
    if interrupted:
        closing.insert(0, "interrupted: the results above are partial")
    pictures: list[tuple[str, Callable[[], None] | None]] = []
    if args.run and args.plot:
        from kbind.plot import plot_litmus

        pictures.append((args.plot, (lambda: plot_litmus(runs, args.plot)) if runs else None))
    report: dict[str, object] = {
        "models": [r.as_dict() for r in results],
        "summary": tally.as_dict(),
        "disagree": tally.disagree,
        "errors": errors,
        "warnings": warnings,
    }
    if args.run:
        report["runs"] = [r.as_dict() for r in runs]
        report["table"] = [r.as_dict() for r in rows]
        report["forbidden_by_model_but_seen"] = tally.forbidden_seen
    return Outcome(
        result=report,
        pictures=pictures,
        closing="\n".join(closing),
        failed=bool(tally.disagree or tally.forbidden_seen),
        interrupted=interrupted,
        unrunnable=bool(errors),
    )


def _run_one(
    test: litmus.LitmusTest, args: argparse.Namespace
) -> tuple[litmus.LitmusResult | None, bool, str]:
    """Run ``test`` on this CPU: (its result or None, interrupted, why it could not run)."""

    def one() -> litmus.LitmusResult:
        return run_on_cpu(test, args)

    try:
        result, interrupted = run_interruptibly(one, "", None, "litmus")
    except (litmus.LitmusError, RuntimeError) as exc:
        first = str(exc).splitlines()[0]
        print(f"kbind litmus: {test.path}: {first}", file=sys.stderr)
        return None, False, first
    return result, interrupted, ""
