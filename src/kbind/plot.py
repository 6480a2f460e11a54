"""Pictures of litmus results (optional: needs matplotlib).

``pip install 'kbind[plot]'`` installs matplotlib.  Without it, :func:`require`
raises :class:`PlotUnavailableError` with that instruction, and the ``kbind``
command checks before it runs anything.

:func:`plot_litmus` draws what decides each verdict: per litmus test one
panel, per variant one bar - how often the ``exists`` outcome was seen, out
of how many iterations - coloured by what the LKMM says of that outcome.
(Torture results are not drawn: their verdict is one number, which the text
report already states.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kbind.litmus import TESTS, LitmusResult

__all__ = ["COLOURS", "PlotUnavailableError", "litmus_figure", "plot_litmus", "require"]

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
    for r in results:
        by_test.setdefault(r.test, []).append(r)
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
        spec = TESTS[test]
        names = [r.variant for r in rs]
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
            f"  [{spec.threads} threads > {rs[0].cpus} CPUs]" if rs[0].threads_exceed_cpus else ""
        )
        ax.set_title(f"{test}: {' | '.join(spec.program)}{crowded}", fontsize=9)
        ax.set_xlabel(f"runs ending in exists ({rs[0].exists_label})", fontsize=8)
        ax.set_ylabel("variant", fontsize=8)
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
