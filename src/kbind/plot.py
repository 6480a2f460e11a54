"""Pictures of litmus and torture results (optional: needs matplotlib).

``pip install 'kbind[plot]'`` installs matplotlib.  Without it, :func:`require`
raises :class:`PlotUnavailableError` with that instruction, and the ``kbind``
command checks before it runs anything.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from kbind.litmus import LitmusResult

__all__ = ["PlotUnavailableError", "plot_litmus", "plot_torture", "require"]


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


def plot_litmus(results: Sequence[LitmusResult], path: str) -> None:
    """Draw one outcome histogram per result (log scale), marking the exists outcome."""
    plt = require()
    n = max(1, len(results))
    fig, axes = plt.subplots(n, 1, figsize=(8, 1.8 * n + 0.6), squeeze=False)
    for ax, r in zip(axes[:, 0], results, strict=False):
        labels = sorted(r.histogram)
        counts = [r.histogram[k] for k in labels]
        colors = [
            ("tab:red" if r.lkmm == "Never" else "tab:orange")
            if k == r.exists_label
            else "tab:blue"
            for k in labels
        ]
        ax.barh(labels, counts, color=colors)
        ax.set_xscale("log")
        ax.set_title(f"{r.test} {r.variant}: LKMM {r.lkmm}, {r.verdict}", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_torture(kind: str, result: Any, path: str) -> None:
    """Draw a torture result: its pipeline histogram if it has one, else its counters."""
    plt = require()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    pipeline = getattr(result, "pipe", None)
    if pipeline:
        ax.bar([str(i) for i in range(len(pipeline))], list(pipeline), color="tab:blue")
        ax.set_yscale("log")
        ax.set_xlabel("element age seen by readers (grace periods); >= 2 is an error")
    else:
        fields = {
            k: v
            for k, v in dataclasses.asdict(result).items()
            if isinstance(v, int) and not isinstance(v, bool) and v > 0
        }
        ax.barh(list(fields), list(fields.values()), color="tab:blue")
        ax.set_xscale("log")
    state = "passed" if result.passed else "FAILED"
    busted = getattr(result, "busted", None)
    ax.set_title(f"{kind} torture ({'busted: ' + busted if busted else 'real'}): {state}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
