"""``kbind stress``: every native torture, pinned on the chosen CPUs, and one summary table.

Runs each torture of :data:`~kbind.cli.commands.TORTURES` (rcu, srcu,
seqlock, atomic, rcu-list, lock) for ``--duration`` seconds on all usable
CPUs, or on the ``--cpus`` list (``0-15``, ``0,2,4-7``): one thread per CPU
(one updater, the rest readers; the lock torture half writers), thread i
pinned to CPU ``cpus[i % n]`` (``kb_torture_pin()``, csrc/tools/torture.c;
the kernel's torture threads are bound the same way by
``torture_sched_setaffinity()``).  The table gives per torture its threads,
its key counters as rates and its verdict, under a line describing the
machine (CPU model, usable CPUs, architecture, RCU backend).  Exit status 1
if any torture failed.
"""

from __future__ import annotations

import argparse
import os
import platform
from typing import Any

from kbind.cli.commands import TORTURES
from kbind.cli.report import (
    CliError,
    Outcome,
    Warnings,
    bounded_float,
    command,
    machine,
    run_interruptibly,
)
from kbind.torture._common import pinned, rate

__all__ = ["add_parser", "cmd_stress", "cpu_model", "format_cpus", "parse_cpus", "split_threads"]

#: The tortures ``kbind stress`` runs, in order.
STRESS_ORDER = ("rcu", "srcu", "seqlock", "atomic", "rcu-list", "lock")


def parse_cpus(text: str) -> list[int]:
    """Argparse ``type=`` for a CPU list: ``0-15``, ``3``, ``0,2,4-7`` (sorted, no repeats)."""
    cpus: set[int] = set()
    for part in text.split(","):
        lo, sep, hi = part.strip().partition("-")
        try:
            first = int(lo, 10)
            last = int(hi, 10) if sep else first
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not a CPU list: {text!r} (write it like 0-15 or 0,2,4-7)"
            ) from None
        if first < 0 or last < first or last >= 1024:
            raise argparse.ArgumentTypeError(
                f"bad CPU range {part.strip()!r} in {text!r} (0 <= first <= last < 1024)"
            )
        cpus.update(range(first, last + 1))
    return sorted(cpus)


def format_cpus(cpus: list[int]) -> str:
    """Return a CPU list in the short form :func:`parse_cpus` reads (``0-3,6``)."""
    ranges: list[list[int]] = []
    for c in sorted(set(cpus)):
        if ranges and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges)


def cpu_model() -> str:
    """Return the CPU's model name (``/proc/cpuinfo``), or what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            info = f.read()
    except OSError:
        info = ""
    for key in ("model name", "Model", "Hardware", "cpu model", "uarch"):
        for line in info.splitlines():
            name, sep, value = line.partition(":")
            if sep and name.strip() == key and value.strip():
                return value.strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def split_threads(kind: str, cpus: int) -> tuple[int, int]:
    """Return ``(readers, updaters)`` filling ``cpus`` CPUs with one thread each."""
    if kind == "lock":
        writers = max(1, cpus // 2)
        return max(1, cpus - writers), writers
    return max(1, cpus - 1), 1


def add_parser(sub: Any) -> None:
    """Add the ``stress`` subcommand to the ``kbind`` parser's subparsers ``sub``."""
    st = sub.add_parser(
        "stress",
        help="run every native torture pinned on all usable CPUs (or --cpus) and summarize",
    )
    st.add_argument(
        "--duration",
        type=bounded_float(3600),
        default=1.0,
        help="seconds per torture, up to 3600 (default 1)",
    )
    st.add_argument(
        "--cpus",
        type=parse_cpus,
        default=None,
        metavar="LIST",
        help="CPUs to run on, e.g. 0-15 or 0,2,4-7 (default: every usable CPU)",
    )
    st.add_argument("--json", action="store_true", help="print the result as JSON")
    st.set_defaults(func=cmd_stress)


def _rates(counters: dict[str, int], elapsed: float) -> str:
    """Render key counters as rates: ``reads 1.2M/s updates 3.4k/s``."""
    return "  ".join(f"{name.replace('_', '-')} {rate(n, elapsed)}" for name, n in counters.items())


@command(uses_rcu=True, usage_errors=(ValueError, TypeError))
def cmd_stress(args: argparse.Namespace) -> Outcome:
    """Run every native torture on the CPUs; exit 1 if any failed, 130 if interrupted."""
    usable = sorted(os.sched_getaffinity(0))
    cpus = usable if args.cpus is None else args.cpus
    bad = sorted(set(cpus) - set(usable))
    if bad:
        raise CliError(
            f"--cpus {format_cpus(args.cpus)}: CPU(s) {format_cpus(bad)} not usable "
            f"(usable: {format_cpus(usable)})"
        )
    desc = {**machine(), "cpu_model": cpu_model(), "usable_cpus": len(usable),
            "stress_cpus": format_cpus(cpus)}  # fmt: skip
    runs: list[dict[str, Any]] = []
    interrupted = False
    warnings = Warnings()
    if len(cpus) < 2:
        warnings.add(
            f"only {len(cpus)} CPU chosen: each torture's threads take turns on it instead of "
            "racing, so fewer races are tried"
        )
    with pinned(cpus):
        for name in STRESS_ORDER:
            kind = TORTURES[name]
            readers, updaters = split_threads(name, len(cpus))
            result, interrupted = run_interruptibly(
                lambda kind=kind, r=readers, u=updaters: kind.run(  # type: ignore[misc]
                    r, u, args.duration, None
                ),
                f"stress: {name} ({kind.threads(readers, updaters)} threads, {args.duration:g} s)",
                None,
                name,
            )
            if result is None:
                break
            counters = kind.counters(result)
            el = float(result.elapsed)
            runs.append({
                "torture": name, "threads": kind.threads(readers, updaters),
                "readers": readers, "updaters": updaters, "elapsed": round(el, 6),
                "counters": counters,
                "rates": {k: round(v / el, 1) if el > 0 else 0.0 for k, v in counters.items()},
                "passed": bool(result.passed), "verdict": "SUCCESS" if result.passed else "FAILURE",
                "little": kind.little(result) if result.passed else "",
            })  # fmt: skip
            if interrupted:
                break
    failed = [r["torture"] for r in runs if not r["passed"]]
    lines = [
        f"kbind stress: {len(runs)} tortures x {args.duration:g} s on CPUs "
        f"{format_cpus(cpus)}, threads pinned round robin",
        f"machine: {desc['cpu_model']} | {len(usable)} usable CPUs | {desc['arch']} | "
        f"RCU backend {desc['backend']}",
        f"{'torture':<9} {'threads':>7}  {'verdict':<8} key rates",
    ]
    for r in runs:
        note = f"  ({r['little']}: run longer)" if r["little"] else ""
        lines.append(
            f"{r['torture']:<9} {r['threads']:>7}  {r['verdict']:<8} "
            f"{_rates(r['counters'], r['elapsed'])}{note}"
        )
    end = f"FAILURE: {', '.join(failed)} failed" if failed else f"all {len(runs)} passed"
    lines.append(f"stress:--- End of test: {end if runs else 'nothing ran'}")
    report = {"machine": desc, "cpus": cpus, "duration_each": args.duration, "runs": runs,
              "failed": failed, "passed": not failed, "warnings": warnings}  # fmt: skip
    text = "\n".join(lines)
    return Outcome(
        result=report,
        text=f"interrupted: partial summary follows\n{text}" if interrupted else text,
        failed=bool(failed) and not interrupted,
        interrupted=interrupted,
    )
