"""Pictures of litmus results and of the designs' workload (optional: needs matplotlib).

``pip install 'kbind[plot]'`` installs matplotlib.  Without it, :func:`require`
raises :class:`PlotUnavailableError` with that instruction, and the ``kbind``
command checks before it runs anything.

:func:`plot_litmus` draws what decides each verdict: per litmus test one
panel, per variant one bar - how often the ``exists`` outcome was seen, out
of how many iterations - coloured by what the LKMM says of that outcome.
(Torture verdicts are not drawn: each is one number, which the text report
already states.)  :func:`plot_scaling` draws the scaling curve of
``kbind torture KIND --scale``: reads and updates per second against readers.

:func:`workload` draws a :func:`kbind.compare.workload.run_workload` report:
the trade-off between freeing by waiting and freeing by callback, updates
per second against the memory retired objects hold, and how long each
update blocked the updater.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kbind.litmus import LitmusResult

if TYPE_CHECKING:
    from kbind.compare.workload import WorkloadReport

__all__ = [
    "COLOURS",
    "FREE_COLOURS",
    "PlotUnavailableError",
    "litmus_figure",
    "plot_litmus",
    "plot_scaling",
    "require",
    "workload",
    "workload_figure",
]

#: Bar colour per kind of result, with the legend's words for it.
COLOURS: dict[str, tuple[str, str]] = {
    "allowed": ("tab:blue", "LKMM allows it (Sometimes)"),
    "forbidden": ("tab:green", "LKMM forbids it (Never): stays 0"),
    "broken": ("tab:red", "forbidden but observed: broken barrier"),
}


class PlotUnavailableError(RuntimeError):
    """matplotlib is not installed, so no picture can be drawn."""


def require() -> Any:
    """Return matplotlib's pyplot (non-interactive backend), or raise with how to install it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise PlotUnavailableError(
            "drawing pictures needs matplotlib: pip install 'kbind[plot]'"
        ) from exc
    return plt


def _kind(r: LitmusResult) -> str:
    """Return the :data:`COLOURS` key of a result: allowed, forbidden or broken."""
    if r.lkmm == "Sometimes":
        return "allowed"
    return "broken" if r.forbidden_observed else "forbidden"


def plot_litmus(results: Sequence[LitmusResult], path: str) -> None:
    """Draw ``results`` (see :func:`litmus_figure`) to the picture file ``path``.

    Raises:
        PlotUnavailableError: matplotlib is not installed.
        ValueError: ``results`` is empty (there is nothing to draw).
    """
    plt = require()
    fig = litmus_figure(results)
    try:
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def litmus_figure(results: Sequence[LitmusResult]) -> Any:
    """Return a matplotlib figure of ``results``: one panel per test, one bar per variant.

    Each bar is the count of the test's ``exists`` outcome (a symmetric log
    scale, so that 0 sits at the axis, marked by a square of the bar's
    colour), labelled ``count of iterations: verdict``; zero counts are
    labelled too.  A test with more threads than usable CPUs says so in its
    panel's title.

    Raises:
        PlotUnavailableError: matplotlib is not installed.
        ValueError: ``results`` is empty (there is nothing to draw).
    """
    if not results:
        raise ValueError("no litmus results to draw")
    plt = require()
    from matplotlib.patches import Patch

    by_test: dict[str, list[LitmusResult]] = {}
    for r in results:  # a pattern's variants share a panel; any other test has its own
        by_test.setdefault(r.pattern or r.test, []).append(r)
    ncols = 1 if len(by_test) == 1 else 2
    nrows = -(-len(by_test) // ncols)
    rows = max(len(rs) for rs in by_test.values())
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(max(9.0, 7.5 * ncols), (0.42 * rows + 1.3) * nrows + 0.9),
        squeeze=False,
    )
    top = max(max(r.exists_count for r in results), max(r.iterations for r in results))
    for ax, (test, rs) in zip(axes.flat, by_test.items(), strict=False):
        names = [r.variant or r.test for r in rs]
        counts = [r.exists_count for r in rs]
        ax.barh(names, counts, color=[COLOURS[_kind(r)][0] for r in rs], height=0.6)
        ax.set_xscale("symlog", linthresh=1)
        ax.set_xlim(0, top * 30)
        ax.invert_yaxis()  # first variant on top, as in the text report
        for y, r in enumerate(rs):
            colour = COLOURS[_kind(r)][0]
            ax.plot([0], [y], marker="s", color=colour, markersize=7, clip_on=False)
            ax.text(
                r.exists_count * 1.15 + 0.2,
                y,
                f"{r.exists_count:,} of {r.iterations:,}: {r.verdict}",
                va="center",
                fontsize=8,
                color="black" if r.exists_count else colour,
            )
        crowded = (
            f"  [{rs[0].threads} threads > {rs[0].cpus} CPUs]" if rs[0].threads_exceed_cpus else ""
        )
        ax.set_title(f"{test}: {rs[0].condition}{crowded}", fontsize=9)
        ax.set_xlabel(f"runs ending in exists ({rs[0].exists_label})", fontsize=8)
        ax.set_ylabel("variant" if rs[0].variant else "test", fontsize=8)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(by_test) :]:
        ax.set_visible(False)
    handles = [Patch(color=colour, label=label) for colour, label in COLOURS.values()]
    fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=8, frameon=False)
    cpus = results[0].cpus
    busted = ", smp_mb() busted" if any(r.busted_barrier for r in results) else ""
    fig.suptitle(f"kbind litmus on {results[0].arch} ({cpus} usable CPUs{busted})", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


# ------------------------------------------------------------------ workload

#: Point colour and marker per way of freeing, with the legend's words for it.
FREE_COLOURS: dict[bool, tuple[str, str, str]] = {
    True: ("tab:orange", "o", "frees by waiting: a grace period per update"),
    False: ("tab:blue", "s", "frees by callback: call_rcu / kfree_rcu"),
}


def workload(report: WorkloadReport, path: str) -> None:
    """Draw ``report`` (see :func:`workload_figure`) to the picture file ``path``.

    Raises:
        PlotUnavailableError: matplotlib is not installed.
        ValueError: the report has no rows.
    """
    plt = require()
    fig = workload_figure(report)
    try:
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)


def workload_figure(report: WorkloadReport) -> Any:
    """Return a matplotlib figure of a workload report: the trade-off, and updater blocking.

    Left: one labelled point per row, updates per second (x) against the
    peak memory held by retired objects not yet freed (y), both on log
    scales, coloured by how the row frees.  Right: per row, how long one
    update blocked the updater (mean and p99 bars, max as a tick), log scale.

    Raises:
        PlotUnavailableError: matplotlib is not installed.
        ValueError: the report has no rows.
    """
    rows = report.rows
    if not rows:
        raise ValueError("no workload rows to draw")
    plt = require()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig, (trade, block) = plt.subplots(
        1, 2, figsize=(14.0, 0.35 * len(rows) + 4.5), gridspec_kw={"width_ratios": [1.1, 1.0]}
    )
    by_objects = report.payload == 0  # nothing to weigh: count the objects instead
    points = [
        (
            max(r.updates_per_s, 0.1),
            max(float(r.awaiting_peak if by_objects else r.held_peak_bytes / 1024), 0.1),
            r,
        )
        for r in rows
    ]
    # Labels of points at about the same height stack upwards, joined by a line.
    levels: dict[int, int] = {}
    for x, y, r in sorted(points, key=lambda p: (p[1], p[0])):
        colour, marker, _ = FREE_COLOURS[r.waits]
        trade.scatter([x], [y], color=colour, marker=marker, s=60, zorder=3)
        band = round(math.log10(y) * 2)
        level = levels.get(band, 0)
        levels[band] = level + 1
        trade.annotate(
            r.name, (x, y), xytext=(8, 8 + 13 * level), textcoords="offset points", fontsize=7,
            arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5} if level else None,
        )  # fmt: skip
    trade.set_xscale("log")
    trade.set_yscale("log")
    trade.margins(x=0.6, y=0.5)
    trade.set_xlabel("updates per second (updater thread)")
    trade.set_ylabel(
        "peak objects retired, not yet freed"
        if by_objects
        else f"peak memory held by retired objects (KiB; {report.payload:,} B each)"
    )
    trade.set_title("updates/s against memory held until freed", fontsize=10)
    trade.grid(True, which="major", alpha=0.3)
    trade.legend(
        handles=[
            Line2D([], [], color=c, marker=m, linestyle="", label=label)
            for c, m, label in FREE_COLOURS.values()
        ],
        fontsize=8,
        loc="best",
    )

    ys = range(len(rows))
    names = [r.name for r in rows]
    means = [max(r.block_mean_us, 0.01) for r in rows]
    p99s = [max(r.block_p99_us, 0.01) for r in rows]
    colours = [FREE_COLOURS[r.waits][0] for r in rows]
    block.barh([y - 0.2 for y in ys], means, height=0.38, color=colours, alpha=0.55)
    block.barh([y + 0.2 for y in ys], p99s, height=0.38, color=colours)
    block.scatter([max(r.block_max_us, 0.01) for r in rows], list(ys), marker="|", s=160,
                  color="black", zorder=3)  # fmt: skip
    block.set_yticks(list(ys), names, fontsize=8)
    block.invert_yaxis()  # first row on top, as in the text report
    block.set_xscale("log")
    block.set_xlabel("time one update (publish + free) blocked the updater (µs)")
    block.set_title("updater blocking per update (colour: how the row frees)", fontsize=10)
    block.grid(True, axis="x", which="major", alpha=0.3)
    block.legend(
        handles=[
            Patch(color="grey", alpha=0.55, label="mean"),
            Patch(color="grey", label="p99"),
            Line2D([], [], color="black", marker="|", linestyle="", markersize=12, label="max"),
        ],
        fontsize=8,
        loc="lower right",
    )

    fig.suptitle(
        f"kbind workload: {report.readers} reader thread(s), 1 updater, {report.seconds:g} s "
        f"per row; {report.usable_cpus} usable CPU(s), RCU backend {report.backend}",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    return fig


def plot_scaling(title: str, points: Sequence[tuple[int, float, float]], path: str) -> None:
    """Draw a scaling curve to the picture file ``path``.

    ``points`` are ``(readers, reads_per_s, updates_per_s)``, one per step.
    Left: reads per second against readers, with the ideal (linear from the
    one-reader step) dashed; right: updates per second against readers.

    Raises:
        PlotUnavailableError: matplotlib is not installed.
        ValueError: no points.
    """
    if not points:
        raise ValueError("no scaling steps to draw")
    plt = require()
    readers = [p[0] for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    try:
        base = points[0][1] / max(1, points[0][0])
        left.plot(readers, [p[1] for p in points], "o-", color="tab:blue", label="measured")
        left.plot(readers, [base * r for r in readers], "--", color="grey", label="linear")
        left.set_xlabel("readers")
        left.set_ylabel("reads per second")
        left.legend()
        right.plot(readers, [p[2] for p in points], "s-", color="tab:orange")
        right.set_xlabel("readers")
        right.set_ylabel("updates per second")
        for ax in (left, right):
            ax.set_xticks(readers)
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
        fig.suptitle(title)
        fig.tight_layout()
        fig.savefig(path, dpi=100)
    finally:
        plt.close(fig)
