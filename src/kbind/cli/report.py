"""What every ``kbind`` command does the same way: usage checks, errors, warnings, JSON.

The command line keeps one contract (tests/test_cli.py checks it in
subprocesses): exit status 0 on success, 1 when a test found a failure, 2
for bad usage or a tool error - then exactly one line on stderr, never a
traceback.  This module holds the pieces every command shares:

* :func:`command`, the runner each subcommand is wrapped in: it checks the
  output paths and the RCU backend before any work, prints the command's
  :class:`Outcome` (the ``--json`` envelope or the text, then its pictures),
  turns it into the exit status (0, 1, or 130 when interrupted), and prints
  a usage or tool error as one line, exit status 2;
* argparse ``type=`` functions that refuse out-of-range values while the
  arguments are parsed, before any work starts;
* :class:`CliError`, raised by a command for a usage or tool error and
  printed by the runner as ``kbind COMMAND: error: MESSAGE``;
* :func:`check_output_path`, run before a test so that an unwritable
  ``--plot`` path or a missing matplotlib is refused up front;
* :func:`require_rcu_backend`, asked by the commands that use RCU;
* :func:`run_interruptibly`, which runs a test that blocks in C so that
  Ctrl-C stops it with the results so far, and :func:`draw_picture`;
* :class:`Warnings`, which prints each warning and keeps it for ``--json``;
* :func:`envelope`, the one top-level shape of every ``--json`` report:
  ``{"command", "arguments", "machine": {"cpus", "arch", "backend"},
  "duration", "interrupted", "result"}``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kbind._bridge.interruptible import run_stoppable
from kbind.errors import KbindError

__all__ = [
    "JSON_KEYS",
    "CliError",
    "Outcome",
    "Warnings",
    "bounded_float",
    "bounded_int",
    "check_output_path",
    "command",
    "draw_picture",
    "envelope",
    "machine",
    "one_line",
    "progress",
    "require_rcu_backend",
    "run_interruptibly",
    "usable_cpus",
    "warn",
]

#: The top-level keys of every ``--json`` report, in order.
JSON_KEYS = ("command", "arguments", "machine", "duration", "interrupted", "result")


class CliError(Exception):
    """A usage or tool error of a ``kbind`` command: one line on stderr, exit status 2."""


def one_line(exc: BaseException) -> str:
    """Return an exception's message folded into one line (hints joined with ``; ``)."""
    parts = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(parts) or type(exc).__name__


def warn(message: str) -> None:
    """Print ``warning: MESSAGE`` on stderr."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


class Warnings(list[str]):
    """A run's warnings: each printed on stderr as it is added, all kept for ``--json``."""

    def add(self, message: str) -> None:
        """Print ``message`` as a warning and keep it."""
        warn(message)
        self.append(message)


def usable_cpus() -> int:
    """Return how many CPUs this process may run on (its affinity mask, not the machine's)."""
    return len(os.sched_getaffinity(0))


def bounded_int(lo: int, hi: int) -> Callable[[str], int]:
    """Return an argparse ``type=`` function accepting whole numbers in ``[lo, hi]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be in [{lo}, {hi:,}]: {value:,}")
        return value

    return parse


def bounded_float(
    hi: float, what: str = "seconds", *, zero: bool = False
) -> Callable[[str], float]:
    """Return an argparse ``type=`` accepting numbers in ``(0, hi]`` (``zero``: ``[0, hi]``)."""
    interval = f"[0, {hi:g}]" if zero else f"(0, {hi:g}]"

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of {what}: {text!r}") from None
        low_ok = value >= 0 if zero else value > 0
        if not (low_ok and value <= hi):  # also refuses NaN
            raise argparse.ArgumentTypeError(f"must be in {interval} {what}: {text}")
        return value

    return parse


def check_output_path(path: str, option: str) -> None:
    """Refuse, before any work, a picture that could not be written to ``path``.

    Checks that matplotlib can be imported and that ``path`` names a file in
    an existing, writable directory (and, if the file exists, that it is
    writable).

    Raises:
        CliError: the reason, with ``pip install 'kbind[plot]'`` when
            matplotlib is missing.
    """
    from kbind.plot import PlotUnavailableError, require

    try:
        require()
    except PlotUnavailableError as exc:
        raise CliError(f"{option} {exc}") from None
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise CliError(f"{option} {path}: is a directory, not a file name")
    if not os.path.isdir(directory):
        raise CliError(f"{option} {path}: no such directory {directory}")
    if not os.access(directory, os.W_OK | os.X_OK) or (
        os.path.exists(path) and not os.access(path, os.W_OK)
    ):
        raise CliError(f"{option} {path}: not writable")


def _json_value(value: Any) -> Any:
    """Return ``value`` as JSON can hold it (lists for sequences, text for anything else)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return str(value)


def machine() -> dict[str, Any]:
    """Return what the run depends on: usable CPUs, architecture, RCU backend."""
    from kbind.barrier import arch
    from kbind.rcu_backend import current_backend

    return {"cpus": usable_cpus(), "arch": arch(), "backend": current_backend()}


def envelope(
    args: argparse.Namespace, duration: float, interrupted: bool, result: Any
) -> dict[str, Any]:
    """Return a ``--json`` report in the one shape every command uses (:data:`JSON_KEYS`).

    ``arguments`` holds the parsed options (JSON-ready; the handler left out),
    ``duration`` the command's wall time in seconds, ``result`` what the
    command found.
    """
    arguments = {k: _json_value(v) for k, v in vars(args).items() if k not in ("func", "command")}
    return {
        "command": args.command,
        "arguments": arguments,
        "machine": machine(),
        "duration": round(duration, 4),
        "interrupted": interrupted,
        "result": result,
    }


def require_rcu_backend() -> None:
    """Refuse to run a command that uses RCU when ``KBIND_RCU_BACKEND`` could not be applied."""
    from kbind.rcu_backend import environment_error

    exc = environment_error()
    if exc is not None:
        raise CliError(one_line(exc))


def draw_picture(draw: Callable[[], None], path: str, to_stderr: bool) -> None:
    """Draw a picture to ``path`` and say ``wrote PATH``; remove a half-written file."""
    try:
        draw()
    except Exception as exc:
        if os.path.exists(path):
            os.unlink(path)
        raise CliError(f"could not draw {path}: {one_line(exc)}") from None
    print(f"wrote {path}", file=sys.stderr if to_stderr else sys.stdout)


def progress(stop: threading.Event, duration: float, label: str) -> None:
    """Draw a progress bar on stderr until ``stop`` is set (only on a terminal)."""
    t0 = time.monotonic()
    width = 30
    while not stop.wait(0.1):
        frac = min(1.0, (time.monotonic() - t0) / duration)
        bar = "#" * int(frac * width)
        sys.stderr.write(f"\r{label} [{bar:<{width}}] {frac * 100:5.1f} %")
        sys.stderr.flush()
    sys.stderr.write("\r" + " " * (len(label) + width + 12) + "\r")
    sys.stderr.flush()


def run_interruptibly(
    fn: Callable[[], Any], announce: str, duration: float | None, bar_label: str
) -> tuple[Any, bool]:
    """Run ``fn`` (which blocks in C) on a worker thread; Ctrl-C asks C to stop early.

    Returns ``(result, interrupted)``; ``result`` is None if the interrupt came
    before the run started.  Errors raised by ``fn`` are re-raised here.  A
    progress bar is drawn on stderr when it is a terminal and ``duration`` is
    known; ``announce`` is printed to stderr once the run has started.  The
    worker and the stop request are :func:`kbind._bridge.interruptible.run_stoppable`'s.
    """
    stop_bar = threading.Event()
    bar = None

    def started() -> None:
        if announce:
            print(announce, file=sys.stderr, flush=True)

    try:
        if duration is not None and sys.stderr.isatty():
            bar = threading.Thread(
                target=progress, args=(stop_bar, duration, bar_label), daemon=True
            )
            bar.start()
        try:
            return run_stoppable(fn, "run", on_start=started)
        except KeyboardInterrupt:
            return None, True  # before the run began
    finally:
        stop_bar.set()
        if bar is not None:
            bar.join(timeout=5)


@dataclasses.dataclass
class Outcome:
    """What one run of a command found; :func:`command` prints it and picks the exit status.

    Attributes:
        result: the ``--json`` report's ``result`` (None: no JSON report).
        text: printed once the run is over, unless a JSON report is.
        pictures: ``(path, draw)`` pairs drawn after that; ``draw`` None means
            nothing ran, and the picture is skipped with a warning.
        closing: printed last, without ``--json``.
        failed: the test found a failure: exit status 1.
        interrupted: Ctrl-C stopped the run: exit status 130 (unless failed).
        unrunnable: part of the work could not run (a file that does not
            parse, say; each was reported on stderr): exit status 2, unless
            failed or interrupted.
    """

    result: Any = None
    text: str = ""
    pictures: list[tuple[str, Callable[[], None] | None]] = dataclasses.field(default_factory=list)
    closing: str = ""
    failed: bool = False
    interrupted: bool = False
    unrunnable: bool = False

    @property
    def status(self) -> int:
        """Return the exit status: 1 failure found, 130 interrupted, 2 not all could run, 0."""
        return 1 if self.failed else 130 if self.interrupted else 2 if self.unrunnable else 0


Command = Callable[[argparse.Namespace], int]


def command(
    *,
    outputs: Sequence[str] = (),
    uses_rcu: bool = False,
    usage_errors: tuple[type[Exception], ...] = (),
) -> Callable[[Callable[[argparse.Namespace], Outcome]], Command]:
    """Wrap a subcommand's body in the runner that keeps the command line's contract.

    Before the body runs, each option in ``outputs`` (``"--plot"``) that names
    a file is checked with :func:`check_output_path`, then the RCU backend if
    ``uses_rcu``.  The body returns an :class:`Outcome`; the runner prints it
    (with ``--json``, the :func:`envelope` of its ``result``, timed over the
    body) and returns its exit status.  A :class:`CliError`, a
    :class:`~kbind.errors.KbindError`, an :class:`OSError` or one of
    ``usage_errors`` is one line on stderr and exit status 2; Ctrl-C outside
    a run is 130.
    """

    def wrap(body: Callable[[argparse.Namespace], Outcome]) -> Command:
        @functools.wraps(body)
        def run(args: argparse.Namespace) -> int:
            try:
                return _run(args, body, outputs, uses_rcu, usage_errors)
            except CliError as exc:
                print(f"kbind {args.command}: error: {exc}", file=sys.stderr)
                return 2
            except (KbindError, OSError) as exc:
                print(f"kbind {args.command}: error: {one_line(exc)}", file=sys.stderr)
                return 2
            except KeyboardInterrupt:
                print("\ninterrupted", file=sys.stderr)
                return 130

        return run

    return wrap


def _run(
    args: argparse.Namespace,
    body: Callable[[argparse.Namespace], Outcome],
    outputs: Sequence[str],
    uses_rcu: bool,
    usage_errors: tuple[type[Exception], ...],
) -> int:
    """Check, run ``body``, print its outcome; return the exit status (errors propagate)."""
    for option in outputs:
        path = getattr(args, option.lstrip("-").replace("-", "_"))
        if path:
            check_output_path(path, option)
    if uses_rcu:
        require_rcu_backend()
    json_report = bool(getattr(args, "json", False))
    t0 = time.monotonic()
    try:
        outcome = body(args)
    except usage_errors as exc:
        raise CliError(one_line(exc)) from None
    if json_report and outcome.result is not None:
        report = envelope(args, time.monotonic() - t0, outcome.interrupted, outcome.result)
        print(json.dumps(report, indent=2))
    elif outcome.text:
        print(outcome.text)
    for path, draw in outcome.pictures:
        if draw is None:
            warn(f"nothing ran, so {path} was not drawn")
        else:
            draw_picture(draw, path, json_report)
    if outcome.closing and not json_report:
        print(outcome.closing)
    return outcome.status
