"""``kbind torture KIND --scale``: the scaling curve of a native torture test.

The same torture runs at 1, 2, 4, ... readers, up to the CPUs this process
may use (the last step is always that count), ``--duration`` seconds per
step with ``--updaters`` updaters, and the table gives per step the reads
and updates per second with their ratio to the one-reader step: how the read
side scales (kernel: the read-side scalability runs of ``rcuscale`` /
``refscale``, ``kernel/rcu/refscale.c``, done here with the torture's own
checked readers).  A step that fails its check fails the command (exit 1).
``--plot FILE`` draws the curve (:func:`kbind.plot.plot_scaling`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from kbind.cli.report import (
    CliError,
    Outcome,
    Warnings,
    require_rcu_backend,
    run_interruptibly,
    usable_cpus,
)
from kbind.torture._common import rate

__all__ = ["Scalable", "format_scale_table", "run_scale", "scale_steps"]


class Scalable(Protocol):
    """What a scaling run needs of a torture (:class:`kbind.cli.commands.TortureKind` has it)."""

    @property
    def run(self) -> Callable[..., Any]:
        """``run(readers, updaters, duration, busted, **options)`` -> result."""

    @property
    def threads(self) -> Callable[[int, int], int]:
        """``threads(readers, updaters)`` -> threads the run starts."""

    @property
    def counters(self) -> Callable[[Any], dict[str, int]]:
        """Map a result to its counters: reads first, updates second."""

    @property
    def scalable(self) -> bool:
        """Whether the torture has a reader side to scale."""

    @property
    def uses_rcu(self) -> bool:
        """Whether it runs over the RCU engine."""

    @property
    def options(self) -> tuple[str, ...]:
        """Command-line options passed on to ``run`` by name."""


def scale_steps(cpus: int) -> list[int]:
    """Return the reader counts of a scaling run: 1, 2, 4, ... below ``cpus``, then ``cpus``."""
    steps: list[int] = []
    k = 1
    while k < cpus:
        steps.append(k)
        k *= 2
    steps.append(max(1, cpus))
    return steps


def _ratio(value: float, base: float) -> float:
    """Return ``value / base`` rounded, 0.0 when there is no base."""
    return round(value / base, 3) if base > 0 else 0.0


def format_scale_table(tag: str, steps: list[dict[str, Any]]) -> str:
    """Render the steps of a scaling run: readers, reads/s, updates/s, ratios, verdict."""
    lines = [f"{'readers':>7}  {'reads/s':>10}  {'x1 reader':>9}  {'updates/s':>10}  "
             f"{'x1 reader':>9}  verdict"]  # fmt: skip
    for s in steps:
        lines.append(
            f"{s['readers']:>7}  {rate(s['reads'], s['elapsed']):>10}  {s['read_ratio']:>8.2f}x  "
            f"{rate(s['updates'], s['elapsed']):>10}  {s['update_ratio']:>8.2f}x  "
            f"{'SUCCESS' if s['passed'] else 'FAILURE'}"
        )
    return "\n".join(f"{tag}: {line}" for line in lines)


def run_scale(args: argparse.Namespace, kind: Scalable, scalable: Sequence[str]) -> Outcome:
    """Run ``kind`` at each step of :func:`scale_steps`; exit 1 if a step failed.

    ``scalable`` names the tortures ``--scale`` applies to (for the error).

    Raises:
        CliError: the torture has no reader side to scale, or ``--busted`` was given.
    """
    if not kind.scalable:
        names = ", ".join(scalable)
        raise CliError(f"--scale applies to {names}, not {args.kind} (no reader side to scale)")
    if args.busted is not None:
        raise CliError("--scale runs the real primitive: leave out --busted")
    if kind.uses_rcu:
        require_rcu_backend()
    options = {name: getattr(args, name) for name in kind.options if getattr(args, name)}
    cpus = usable_cpus()
    warnings = Warnings()
    if kind.threads(cpus, args.updaters) > cpus:
        warnings.add(
            f"the last step runs {kind.threads(cpus, args.updaters)} threads on {cpus} usable "
            "CPU(s): readers and updaters share CPUs there, so that step measures time-sharing too"
        )
    tag = f"{args.kind}-torture"
    steps: list[dict[str, Any]] = []
    interrupted = False
    for readers in scale_steps(cpus):
        result, interrupted = run_interruptibly(
            lambda readers=readers: kind.run(  # type: ignore[misc]
                readers, args.updaters, args.duration, None, **options
            ),
            f"{tag} --scale: {readers} reader(s), {args.duration:g} s",
            None,
            tag,
        )
        if result is None:
            break
        c = kind.counters(result)
        reads, updates = list(c.values())[:2]
        el = float(result.elapsed)
        steps.append({
            "readers": readers, "updaters": args.updaters,
            "threads": kind.threads(readers, args.updaters),
            "reads": reads, "updates": updates, "elapsed": round(el, 6),
            "reads_per_s": round(reads / el, 1) if el > 0 else 0.0,
            "updates_per_s": round(updates / el, 1) if el > 0 else 0.0,
            "passed": bool(result.passed),
        })  # fmt: skip
        if interrupted:
            break
    for s in steps:
        s["read_ratio"] = _ratio(s["reads_per_s"], steps[0]["reads_per_s"])
        s["update_ratio"] = _ratio(s["updates_per_s"], steps[0]["updates_per_s"])
    head = (
        f"{tag} --scale: readers {' '.join(str(s['readers']) for s in steps)} "
        f"({cpus} usable CPUs), {args.updaters} updater(s), {args.duration:g} s per step"
    )
    failed = [s["readers"] for s in steps if not s["passed"]]
    end = "SUCCESS" if not failed else f"FAILURE at {failed} readers"
    text = f"{head}\n{format_scale_table(tag, steps)}\n{tag}:--- End of scaling: {end}"
    pictures: list[tuple[str, Any]] = []
    if args.plot:
        from kbind.plot import plot_scaling

        points = [(s["readers"], s["reads_per_s"], s["updates_per_s"]) for s in steps]
        title = f"kbind torture {args.kind} --scale ({cpus} usable CPUs)"
        pictures.append(
            (args.plot, (lambda: plot_scaling(title, points, args.plot)) if steps else None)
        )
    report = {"kind": args.kind, "scale": True, "cpus": cpus, "updaters": args.updaters,
              "duration_per_step": args.duration, "steps": steps, "passed": not failed,
              "warnings": warnings}  # fmt: skip
    return Outcome(
        result=report,
        text=f"interrupted: partial curve follows\n{text}" if interrupted else text,
        pictures=pictures,
        failed=bool(failed) and not interrupted,
        interrupted=interrupted,
    )
