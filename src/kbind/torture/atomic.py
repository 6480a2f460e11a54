"""Native atomic torture: C threads hammer the LKMM atomics and check invariants.

Three invariants that hold only if kbind's atomics are really atomic and
really ordered (csrc/tools/atomic_torture.c):

* exact counting: a shared ``atomic64_t`` incremented with every ordering
  ends at the sum of what each thread did;
* ``try_cmpxchg()`` retry loops lose no increment;
* message passing: a payload written before ``atomic64_set_release()`` of a
  flag is never older than the flag a reader sees with
  ``atomic64_read_acquire()``.

Busted variants prove each check can fail: ``"torn-rmw"`` makes every
increment a plain load then store (lost updates), ``"early-publish"``
stores the flag before the payload (stale payloads seen).
C: ``kb_atomic_torture()``.
"""

from __future__ import annotations

import dataclasses
from typing import Final, Literal, get_args

from kbind._bridge.native import ffi, lib
from kbind.torture._common import (
    busted_arg,
    counts,
    duration_arg,
    elapsed,
    finish_report,
    int_arg,
    result_dict,
    run_driver,
    verdict,
)

__all__ = ["AtomicBustedVariant", "AtomicTortureResult", "atomic_torture", "format_atomic_report"]

#: The deliberately broken variants.
AtomicBustedVariant = Literal["torn-rmw", "early-publish"]

_BUSTED: Final[dict[str | None, int]] = {
    None: lib.KB_ATOMIC_BUSTED_NONE,
    "torn-rmw": lib.KB_ATOMIC_BUSTED_TORN_RMW,
    "early-publish": lib.KB_ATOMIC_BUSTED_EARLY_PUBLISH,
}
_MAX_THREADS: Final = int(lib.KB_ATOMIC_TORTURE_MAX_THREADS)


@dataclasses.dataclass(frozen=True)
class AtomicTortureResult:
    """What one atomic torture run observed (totals over all threads).

    Attributes:
        threads, duration, busted: the configuration.
        increments / counter: increments tallied by the threads, and the
            shared counter's final value (equal unless updates were lost).
        cmpxchg_increments / cmpxchg_counter / cmpxchg_failures: the same for
            the try_cmpxchg loops, and how often a try_cmpxchg lost a race.
        messages / message_checks / message_violations: messages published,
            checked, and found with a payload older than their flag.
        elapsed: seconds.
        stopped_early: the run was interrupted (Ctrl-C).
    """

    threads: int
    duration: float
    busted: str | None
    increments: int
    counter: int
    cmpxchg_increments: int
    cmpxchg_counter: int
    cmpxchg_failures: int
    messages: int
    message_checks: int
    message_violations: int
    elapsed: float
    stopped_early: bool

    @property
    def lost_updates(self) -> int:
        """Increments that did not reach the counters (must be 0)."""
        return (self.increments - self.counter) + (self.cmpxchg_increments - self.cmpxchg_counter)

    @property
    def errors(self) -> int:
        """All invariant violations (must be 0 for the real atomics)."""
        return self.lost_updates + self.message_violations

    @property
    def passed(self) -> bool:
        """True when no invariant was broken."""
        return self.errors == 0

    def as_dict(self) -> dict[str, object]:
        """Return the result as a JSON-ready dict."""
        return result_dict(
            self, lost_updates=self.lost_updates, errors=self.errors, passed=self.passed
        )


def atomic_torture(
    threads: int = 2,
    duration: float = 0.5,
    busted: AtomicBustedVariant | None = None,
    max_ops: int = 0,
) -> AtomicTortureResult:
    """Run the atomic torture test in C threads (the GIL is released meanwhile).

    Args:
        threads: worker threads, 2 to 64.
        duration: seconds to run, in (0, 3600].
        busted: a deliberately broken variant, or None for the real atomics.
        max_ops: stop each thread after this many counter increments (0: none).

    Raises:
        ValueError / TypeError: an argument out of range or of the wrong type.
    """
    fn = "atomic_torture"
    int_arg(fn, "threads", threads, 2, _MAX_THREADS)
    duration = duration_arg(fn, duration)
    busted_arg(fn, busted, get_args(AtomicBustedVariant))
    if not isinstance(max_ops, int) or max_ops < 0:
        raise ValueError(f"{fn}(): max_ops must be an int >= 0, not {max_ops!r}")
    cfg = ffi.new(
        "kb_atomic_torture_config_t *",
        {
            "threads": threads,
            "busted": _BUSTED[busted],
            "duration_ns": max(1, int(duration * 1e9)),
            "max_ops": max_ops,
        },
    )
    res, stopped = run_driver(fn, lib.kb_atomic_torture, cfg, "kb_atomic_torture_result_t *")
    return AtomicTortureResult(
        threads=threads,
        duration=duration,
        busted=busted,
        **counts(res, "increments", "counter", "cmpxchg_increments", "cmpxchg_counter"),
        **counts(res, "cmpxchg_failures", "messages", "message_checks", "message_violations"),
        elapsed=elapsed(res),
        stopped_early=stopped or bool(res.stopped_early),
    )


def format_atomic_report(r: AtomicTortureResult) -> str:
    """Render a result as a locktorture-style text report."""
    flavor = f"busted:{r.busted}" if r.busted else "real"
    tag = "atomic-torture"
    lines = [
        f"{tag}: flavor {flavor}, {r.threads} threads, {r.elapsed:.2f} s"
        + (" (stopped early)" if r.stopped_early else ""),
        f"  increments: {r.increments} done, counter {r.counter} (lost {r.increments - r.counter})",
        f"  try_cmpxchg: {r.cmpxchg_increments} done, counter {r.cmpxchg_counter} "
        f"(lost {r.cmpxchg_increments - r.cmpxchg_counter}; {r.cmpxchg_failures} retries)",
        f"  release/acquire messages: {r.messages} published, {r.message_checks} checked, "
        f"{r.message_violations} stale payloads",
    ]
    # The header says "(stopped early)": no second line for it.
    return finish_report(tag, lines, verdict(r.passed))
