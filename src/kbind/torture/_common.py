"""What the three torture wrappers share: argument checks, the run step, the report's lines.

Each wrapper (:mod:`kbind.torture.rcu`, :mod:`kbind.torture.seqlock`,
:mod:`kbind.torture.atomic`) checks its arguments, runs its C driver from
``csrc/tools/`` with the GIL released so that Ctrl-C stops it early, builds its
result from the C result struct and renders an rcutorture-style report.  The
common parts are here: the one duration bound and the argument checks (their
messages name the function), :func:`run_driver` and the struct readers, and the
report's verdict, rates and last lines; each primitive's own parts stay in its
module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final

from kbind._bridge.interruptible import run_stoppable
from kbind._bridge.native import ffi, lib

__all__ = [
    "MAX_DURATION",
    "busted_arg",
    "counts",
    "duration_arg",
    "elapsed",
    "finish_report",
    "int_arg",
    "pinned",
    "rate",
    "result_dict",
    "run_driver",
    "verdict",
]

#: The same duration bound, in seconds, for every torture.
MAX_DURATION: Final = 3600.0


def int_arg(fn: str, name: str, value: object, lo: int, hi: int) -> int:
    """Return ``value`` if it is an int in ``[lo, hi]`` (TypeError, ValueError if not)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{fn}(): {name} must be an int, not {type(value).__name__}")
    if not lo <= value <= hi:
        raise ValueError(f"{fn}(): {name} must be in [{lo}, {hi}], not {value}")
    return value


def duration_arg(fn: str, value: object) -> float:
    """Return ``value`` as seconds if in ``(0, MAX_DURATION]`` (TypeError, ValueError if not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{fn}(): duration must be a number of seconds, not {type(value).__name__}")
    if not 0 < value <= MAX_DURATION:  # also rejects NaN
        raise ValueError(f"{fn}(): duration must be in (0, {MAX_DURATION:g}] seconds, not {value}")
    return float(value)


def busted_arg(fn: str, value: object, variants: Iterable[str]) -> None:
    """Refuse a ``busted`` that is neither None nor one of ``variants`` (ValueError)."""
    names = tuple(variants)
    if value is not None and value not in names:
        listed = ", ".join(repr(v) for v in names)
        raise ValueError(f"{fn}(): busted must be None or one of {listed}, not {value!r}")


@contextlib.contextmanager
def pinned(cpus: Sequence[int] | None) -> Iterator[None]:
    """Pin the threads of the torture runs started inside to ``cpus``, round robin.

    Thread i of a run is pinned to ``cpus[i % len(cpus)]`` by the driver
    (``kb_torture_pin()``, csrc/tools/torture.c), like the kernel's torture
    threads bound with ``torture_sched_setaffinity()``.  The calling thread's
    affinity is also set to ``cpus`` for the duration, so a driver that does not
    pin its threads one by one still runs them on those CPUs only (threads
    inherit the affinity of the thread that creates them).  ``None`` pins
    nothing.  Both are restored on exit.

    Raises:
        ValueError: a CPU number out of range or not usable by this process.
    """
    if cpus is None:
        yield
        return
    wanted = list(cpus)
    before = os.sched_getaffinity(0)
    bad = sorted(set(wanted) - before)
    if not wanted or bad:
        raise ValueError(f"CPUs {bad or wanted} are not usable here (usable: {sorted(before)})")
    if lib.kb_torture_set_cpus(ffi.new("int32_t[]", wanted), len(wanted)) != lib.KB_OK:
        raise ValueError(f"kb_torture_set_cpus() refused the CPU list {wanted}")
    try:
        os.sched_setaffinity(0, wanted)
        yield
    finally:
        lib.kb_torture_set_cpus(ffi.NULL, 0)
        os.sched_setaffinity(0, before)


def run_driver(
    fn: str,
    driver: Callable[[Any, Any], int],
    cfg: Any,
    result_type: str,
    *,
    failure: type[Exception] = RuntimeError,
    refused: Callable[[int], Exception | None] = lambda rc: None,
) -> tuple[Any, bool]:
    """Run ``driver(cfg, res)`` interruptibly; return the filled ``res`` and ``stopped_early``.

    The worker thread is named ``kbind-rcu-torture`` for ``fn="rcu_torture"``.
    Raises the error ``refused(status)`` returns, if any; ValueError if the C
    side rejected the configuration (a bug: the Python checks match the C
    ones); ``failure`` if the driver could not start its threads.
    """
    res = ffi.new(result_type)
    tag = fn.replace("_", "-")
    rc, stopped = run_stoppable(lambda: int(driver(cfg, res)), tag)
    own = refused(rc)
    if own is not None:
        raise own
    if rc == lib.KB_EINVAL:  # pragma: no cover - the checks in Python match the C ones
        raise ValueError(f"{fn}(): the C core rejected the configuration")
    if rc != lib.KB_OK:
        raise failure(
            f"{fn}(): could not start the threads (status {rc}): out of threads or memory"
        )
    return res, stopped


def counts(res: Any, *fields: str) -> dict[str, int]:
    """Return the named counters of a C result struct as Python ints."""
    return {name: int(getattr(res, name)) for name in fields}


def elapsed(res: Any) -> float:
    """Return a C result struct's ``elapsed_ns`` in seconds."""
    return int(res.elapsed_ns) / 1e9


def result_dict(result: Any, **extra: object) -> dict[str, object]:
    """Return a result dataclass as a plain dict (JSON-serialisable), with ``extra`` added."""
    d = dataclasses.asdict(result)
    d.update(extra)
    return d


def verdict(passed: bool) -> str:
    """Return ``"SUCCESS"`` or ``"FAILURE"``, the word a torture report ends with."""
    return "SUCCESS" if passed else "FAILURE"


def rate(n: int, seconds: float) -> str:
    """Return ``n`` per second, scaled (``1.25M/s``)."""
    r = n / seconds if seconds > 0 else 0.0
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if r >= scale:
            return f"{r / scale:.2f}{unit}/s"
    return f"{r:.0f}/s"


def finish_report(tag: str, lines: list[str], end: str, *, stopped_early: bool = False) -> str:
    """Join ``lines``, the "stopped early" line if so, and rcutorture's last line.

    The last line is ``TAG:--- End of test: END`` (``rcu-torture:--- End of test: SUCCESS``).
    """
    out = list(lines)
    if stopped_early:
        out.append(f"{tag}: stopped early (interrupted): the counts are partial")
    out.append(f"{tag}:--- End of test: {end}")
    return "\n".join(out)
