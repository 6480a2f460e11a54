"""The options only ``kbind torture rcu`` takes, and how they reach ``rcu_torture()``.

``--reclaim``, ``--reader-kinds``, ``--flood``, ``--stall``, ``--stall-timeout``,
``--churn``, ``--no-barrier-test`` and ``--full`` (every reader kind, the whole
update-side mix and every optional check: the closest to a default rcutorture
run).  Other torture kinds refuse them with one usage line.  What each check
reports is in docs/torture.md.
"""

from __future__ import annotations

import argparse
from typing import Any

from kbind.cli.report import CliError, bounded_float
from kbind.torture.rcu import READER_KINDS, RECLAIM_MODES

__all__ = ["add_rcu_options", "rcu_options", "reject_rcu_options"]

#: The option strings and their defaults (a non-default value on another kind is refused).
_DEFAULTS: dict[str, tuple[str, Any]] = {
    "reclaim": ("--reclaim", None),
    "reader_kinds": ("--reader-kinds", None),
    "flood": ("--flood", False),
    "stall": ("--stall", False),
    "stall_timeout": ("--stall-timeout", None),
    "churn": ("--churn", False),
    "no_barrier_test": ("--no-barrier-test", False),
    "full": ("--full", False),
}


def _reader_kinds(text: str) -> tuple[str, ...]:
    """Argparse ``type=`` for a comma list of reader kinds."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in READER_KINDS]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"unknown reader kind {bad[0]!r} (choose from {', '.join(READER_KINDS)})"
            if bad
            else f"name at least one reader kind ({', '.join(READER_KINDS)})"
        )
    return tuple(dict.fromkeys(names))


def add_rcu_options(parser: argparse.ArgumentParser) -> None:
    """Add the ``kbind torture rcu`` options to the ``torture`` subcommand's ``parser``."""
    group = parser.add_argument_group("rcu options (kbind torture rcu only; docs/torture.md)")
    group.add_argument(
        "--reclaim",
        choices=list(RECLAIM_MODES),
        default=None,
        help="how updates retire elements: sync (synchronize_rcu), call (call_rcu), mix "
        "(either; the default), all (synchronize_rcu, polled get_state/poll_state with "
        "cond_synchronize_rcu, call_rcu, call_rcu + rcu_barrier)",
    )
    group.add_argument(
        "--reader-kinds",
        type=_reader_kinds,
        default=None,
        metavar="KINDS",
        help=f"comma list of reader kinds the readers take in turn: {', '.join(READER_KINDS)} "
        "(default plain)",
    )
    group.add_argument(
        "--flood", action="store_true", help="flood call_rcu for a quarter of the run"
    )
    group.add_argument(
        "--stall",
        action="store_true",
        help="make one reader hold its section past the stall timeout; the engine must name it",
    )
    group.add_argument(
        "--stall-timeout",
        type=bounded_float(1.0),
        default=None,
        help="the stall timeout during --stall, seconds in (0, 1] (default 0.02)",
    )
    group.add_argument(
        "--churn",
        action="store_true",
        help="readers register, go offline/online and exit/restart during the run",
    )
    group.add_argument(
        "--no-barrier-test", action="store_true", help="skip the rcu_barrier test (rtbe)"
    )
    group.add_argument(
        "--full",
        action="store_true",
        help="every reader kind, --reclaim all, --flood, --stall and --churn",
    )


def reject_rcu_options(args: argparse.Namespace) -> dict[str, Any]:
    """Refuse (CliError) the rcu-only options given to another torture kind; return ``{}``."""
    given = [
        opt for key, (opt, default) in _DEFAULTS.items() if getattr(args, key, default) != default
    ]
    if given:
        raise CliError(f"{', '.join(given)}: only for kbind torture rcu, not {args.kind}")
    return {}


def rcu_options(args: argparse.Namespace) -> dict[str, Any]:
    """Return the keyword arguments of :func:`~kbind.torture.rcu_torture` the options ask for."""
    if args.stall_timeout is not None and not (args.stall or args.full):
        raise CliError("--stall-timeout needs --stall (or --full)")
    if args.stall_timeout is not None and args.stall_timeout < 0.001:
        raise CliError(f"--stall-timeout must be at least 0.001 seconds: {args.stall_timeout}")
    full = bool(args.full)
    kinds = args.reader_kinds or (tuple(READER_KINDS) if full else ("plain",))
    return {
        "reclaim": args.reclaim or ("all" if full else "mix"),
        "reader_kinds": kinds,
        "barrier_test": not args.no_barrier_test,
        "flood": full or args.flood,
        "stall": full or args.stall,
        "stall_timeout": args.stall_timeout or 0.02,
        "churn": full or args.churn,
    }
