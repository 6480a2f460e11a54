"""What ``kbind litmus`` and ``kbind litmus --model`` share: reading each file, running it.

A file that does not parse is one line on stderr (``FILE:LINE: ...``) and a
record for the JSON report, and the other files still go on; a run on this
CPU takes its options from the command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kbind import litmus

__all__ = ["error_record", "files_text", "parse_or_report", "run_on_cpu", "turns_warning"]


def files_text(n: int) -> str:
    """Return ``1 file`` or ``N files``, for the summary lines."""
    return f"{n} file" if n == 1 else f"{n} files"


def error_record(path: Path, kind: str, message: str, line: int = 0) -> dict[str, object]:
    """Return the JSON report's record of a file that could not be judged or run."""
    return {"path": str(path), "line": line, "message": message, "kind": kind}


def parse_or_report(path: Path) -> tuple[litmus.LitmusTest | None, dict[str, object] | None]:
    """Parse ``path``; on a bad file print its one line and return (None, its error record).

    The record's kind is ``unsupported`` or ``malformed``.
    """
    try:
        return litmus.parse_file(path), None
    except litmus.LitmusError as exc:
        kind = "unsupported" if isinstance(exc, litmus.LitmusUnsupportedError) else "malformed"
        print(f"kbind litmus: {exc}", file=sys.stderr, flush=True)
        return None, error_record(path, kind, exc.message, exc.line)


def turns_warning(test: litmus.LitmusTest, cpus: int) -> str | None:
    """Return the warning for a test with more processes than usable CPUs, or None."""
    if len(test.threads) <= cpus:
        return None
    return (
        f"{test.name} runs {len(test.threads)} threads on {cpus} usable CPU(s): they take "
        "turns instead of racing, so an outcome not seen means little here"
    )


def run_on_cpu(test: litmus.LitmusTest, args: argparse.Namespace) -> litmus.LitmusResult:
    """Run ``test`` on this CPU with the hardware options of ``kbind litmus``'s ``args``."""
    return litmus.run_test(
        test,
        args.iterations,
        max_seconds=args.max_seconds,
        until_observed=args.until_observed,
        size=args.size,
        busted_barrier=args.busted_barrier,
        busted_rcu=args.busted_rcu,
        busted_srcu=args.busted_srcu,
    )
