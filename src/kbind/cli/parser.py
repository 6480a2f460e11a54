"""The ``kbind`` command's argument parser and its entry point, :func:`main`.

Usage errors are one line on stderr with exit status 2, as every other error
of the command line (kbind/cli/report.py); values out of range are refused
while the arguments are parsed, before any work starts.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import NoReturn

from kbind import __version__
from kbind.cli.commands import (
    MAX_TORTURE_THREADS,
    TORTURES,
    cmd_explain,
    cmd_torture,
    cmd_trace,
)
from kbind.cli.compare import add_parser as add_compare_parser
from kbind.cli.litmus import add_parser as add_litmus_parser
from kbind.cli.report import bounded_float, bounded_int
from kbind.cli.stress import add_parser as add_stress_parser
from kbind.cli.torture_rcu import add_rcu_options
from kbind.cli.tour import cmd_tour

__all__ = ["build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``PROG: error: MESSAGE (see PROG --help)`` and exit with status 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser of the ``kbind`` command."""
    parser = _Parser(
        prog="kbind",
        description="Laboratory for Rust-style bindings of the kernel's RCU, seqlocks, atomics. "
        "Exit status: 0 success, 1 the test found a failure, 2 bad usage or a tool error.",
    )
    parser.add_argument("--version", action="version", version=f"kbind {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    tour = sub.add_parser("tour", help="a short tour: every subsystem exercised, then a summary")
    tour.add_argument("-v", "--verbose", action="store_true", help="print the caught errors")
    tour.set_defaults(func=cmd_tour)

    add_litmus_parser(sub)

    tor = sub.add_parser("torture", help="run a native torture test (C threads, GIL released)")
    tor.add_argument(
        "kind",
        choices=list(TORTURES),
        help="; ".join(f"{k}: {v.about}" for k, v in TORTURES.items()),
    )
    count = bounded_int(1, MAX_TORTURE_THREADS)
    tor.add_argument("--readers", type=count, default=2, help="reader threads, 1-64 (default 2)")
    tor.add_argument(
        "--updaters", type=count, default=1, help="updater (writer) threads, 1-64 (default 1)"
    )
    tor.add_argument(
        "--duration", type=bounded_float(3600), default=1.0, help="seconds, up to 3600 (default 1)"
    )
    tor.add_argument(
        "--busted",
        metavar="VARIANT",
        default=None,
        help="run a deliberately broken variant (the test must fail): "
        + "; ".join(f"{k}: {', '.join(v.busted)}" for k, v in TORTURES.items()),
    )
    tor.add_argument(
        "--lock",
        choices=["spin", "mutex"],
        default=None,
        help="the lock torture's lock: spin (kb_spinlock_t, the default) or mutex (kb_mutex_t); "
        "--updaters are its writers",
    )
    tor.add_argument(
        "--scale",
        action="store_true",
        help="scaling curve: run at 1, 2, 4, ... up to the usable CPUs readers (replaces "
        "--readers), --duration each, and print reads/s and updates/s with their ratio to one "
        "reader",
    )
    tor.add_argument(
        "--plot", metavar="FILE.png", help="with --scale: draw the curve (needs matplotlib)"
    )
    tor.add_argument("--json", action="store_true", help="print the result as JSON")
    add_rcu_options(tor)
    tor.set_defaults(func=cmd_torture)

    tr = sub.add_parser(
        "trace",
        help="record readers, grace periods and callbacks, and draw the timeline",
    )
    tr.add_argument(
        "--duration", type=bounded_float(3600), default=0.6, help="seconds (default 0.6)"
    )
    tr.add_argument(
        "--readers", type=bounded_int(1, 16), default=3, help="reader threads, 1-16 (default 3)"
    )
    tr.add_argument(
        "--width", type=bounded_int(20, 400), default=72, help="text timeline width (default 72)"
    )
    tr.add_argument("--ascii", action="store_true", help="draw sections with '=' instead of '█'")
    tr.add_argument("--png", metavar="FILE.png", help="also draw the timeline to a PNG file")
    tr.add_argument("--svg", metavar="FILE.svg", help="also draw the timeline to an SVG file")
    tr.set_defaults(func=cmd_trace)

    ex = sub.add_parser("explain", help="explain a kbind error or warning (the rule, examples)")
    ex.add_argument(
        "name", nargs="?", help="an error or warning class, e.g. LifetimeError (none: list them)"
    )
    ex.add_argument("--list", action="store_true", help="list the errors and warnings")
    ex.set_defaults(func=cmd_explain)

    add_compare_parser(sub)
    add_stress_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kbind`` command; returns the exit status.

    Each command runs in the runner of kbind/cli/report.py
    (:func:`~kbind.cli.report.command`): a usage or tool error
    (:class:`~kbind.cli.report.CliError`, or a kbind or operating-system
    error no command expected) is one line on stderr and exit status 2;
    Ctrl-C outside a run is 130.
    """
    args = build_parser().parse_args(argv)
    return int(args.func(args))
