"""The ``kbind`` command (also ``python -m kbind``).

``kbind tour`` is the main job: a short run of what kbind is for, ending in
a summary table; its exit status is 0 only if everything behaved.  The
command's parts:

* :mod:`kbind.cli.tour` -- the tour's steps (:data:`TOUR_STEPS`) and its summary;
* :mod:`kbind.cli.commands` -- ``torture``, ``trace``, ``explain``;
* :mod:`kbind.cli.litmus` -- ``litmus``: ``.litmus`` files on this CPU;
* :mod:`kbind.cli.parser` -- the argument parser and :func:`main`, the entry point;
* :mod:`kbind.cli.report` -- what every command does the same way.

Every command keeps one contract (kbind/cli/report.py): exit status 0 on
success, 1 when the test found a failure, 2 for bad usage or a tool error,
with one line on stderr and never a traceback; ``--json`` reports share one
top-level shape.  Everything is re-exported here: ``from kbind.cli import main``.
"""

from __future__ import annotations

from kbind.cli.commands import (
    LITTLE,
    MAX_TORTURE_THREADS,
    TORTURES,
    TortureKind,
    cmd_explain,
    cmd_torture,
    cmd_trace,
)
from kbind.cli.litmus import cmd_litmus
from kbind.cli.parser import build_parser, main
from kbind.cli.tour import (
    TOUR_STEPS,
    StepResult,
    cmd_tour,
    format_tour_summary,
    step_atomics,
    step_barriers,
    step_litmus,
    step_locks,
    step_rcu_guards,
    step_rcu_torture,
    step_seqlock_torture,
)

__all__ = [
    "LITTLE",
    "MAX_TORTURE_THREADS",
    "TORTURES",
    "TOUR_STEPS",
    "StepResult",
    "TortureKind",
    "build_parser",
    "cmd_explain",
    "cmd_litmus",
    "cmd_torture",
    "cmd_tour",
    "cmd_trace",
    "format_tour_summary",
    "main",
    "step_atomics",
    "step_barriers",
    "step_litmus",
    "step_locks",
    "step_rcu_guards",
    "step_rcu_torture",
    "step_seqlock_torture",
]
