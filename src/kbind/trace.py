"""Grace-period timelines: record read-side sections, grace periods and callbacks, then draw them.

The picture every RCU course draws on a whiteboard, from a real run: one
row per thread with its read-side critical sections, and one row per
grace-period wait, so a learner sees that a grace period waits for exactly
the readers whose sections began before it, and not for the ones that
began after.  Kernel: the picture of Documentation/RCU/whatisRCU.rst
("grace period" and "read-side critical section"); the ``rcu:`` trace
events (``rcu_grace_period``, ``rcu_invoke_callback``) record the same.

Usage::

    from kbind import trace

    with trace.record() as rec:
        ...                      # readers, replace()/drop(), call_rcu(), ...
    print(rec.to_text(width=72))
    rec.to_png("gp.png")         # needs matplotlib: pip install 'kbind[plot]'
    assert not rec.violations()  # the rule, checked on what was recorded

What is recorded, and when (the order makes :meth:`Recording.violations` a
sound check, not a tautology):

* a section's *begin* is stamped just after the thread entered it (so the
  real begin is no later), its *end* just before it leaves (the real end is
  no earlier);
* a grace-period wait's *start* is stamped just before the grace period to
  wait for is chosen (``synchronize_rcu()``; for ``RcuDropGuard.drop()`` it
  is the ``replace``/``update`` that retired the value; for ``call_rcu`` the
  queueing), its *end* just after the waiter learnt it had ended (the call
  returned, or the callback is about to run).

So "every section that began before a grace period started ended before
the grace period ended" holds for the recorded times exactly when it holds
for the real ones; a broken engine (``KB_RCU_BUSTED_NO_WAIT``) makes it fail.

Cost when no recording is active: one module-global ``is not None`` check
on each read-guard enter and exit (see docs/performance.md).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "GracePeriod",
    "Recording",
    "Section",
    "active",
    "record",
    "run_scenario",
]

_now = time.perf_counter_ns

GpKind = Literal["synchronize_rcu", "drop", "call_rcu"]


@dataclass
class Section:
    """One read-side critical section (one guard) as recorded.

    Attributes:
        thread: the name of the thread that held it.
        guard: the guard's name (``RcuReadGuard#n``).
        begin: ns since the recording started, stamped after entering.
        end: ns since the recording started, stamped before leaving, or
            None if the section was still open when the recording stopped.
        depth: nesting depth on its thread when it began (1: outermost).
    """

    thread: str
    guard: str
    begin: int
    end: int | None = None
    depth: int = 1


@dataclass
class GracePeriod:
    """One grace-period wait as recorded: who waited, from when, until when.

    Attributes:
        number: 1, 2, ... in order of start.
        kind: ``synchronize_rcu``, ``drop`` (``RcuDropGuard.drop()``) or
            ``call_rcu`` (a callback, including ``RcuDropGuard.defer()``).
        thread: the thread that started the wait (the updater).
        label: what was waited for, in words.
        start: ns; when the grace period to wait for was chosen.
        wait_start: ns; when the caller began to block (``drop()`` may block
            long after the ``replace()`` that started its grace period; for
            callbacks, the queueing time).
        end: ns; when the wait was over (for callbacks: when it was invoked),
            or None if it had not ended when the recording stopped.
        callback_end: for callbacks, when the callback returned.
    """

    number: int
    kind: GpKind
    thread: str
    label: str
    start: int
    wait_start: int
    end: int | None = None
    callback_end: int | None = None


@dataclass
class Recording:
    """What one :func:`record` block saw; renderers and checks.

    Times are nanoseconds since the recording started
    (``time.perf_counter_ns``).

    Attributes:
        sections: every read-side section begun while recording.
        grace_periods: every grace-period wait (and callback) begun while recording.
        duration: ns from start to stop (None while recording).
    """

    sections: list[Section] = field(default_factory=list)
    grace_periods: list[GracePeriod] = field(default_factory=list)
    duration: int | None = None
    _t0: int = 0
    _numbers: itertools.count[int] = field(default_factory=lambda: itertools.count(1), repr=False)
    #: id(guard) -> its open Section
    _open: dict[int, Section] = field(default_factory=dict, repr=False)
    #: grace-period cookie -> latest retire time (for drop())
    _retired: dict[int, int] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------- hooks (kbind.rcu)

    # The hooks take no lock: they may run in finalizers (a leaked drop
    # guard queues its free from __del__), and list.append / dict operations
    # are atomic under the GIL.

    def _section_begin(self, guard: object, thread: str, depth: int) -> None:
        t = _now() - self._t0
        sec = Section(thread, _guard_name(guard), t, None, depth)
        self.sections.append(sec)
        self._open[id(guard)] = sec

    def _section_end(self, guard: object) -> None:
        t = _now() - self._t0
        sec = self._open.pop(id(guard), None)
        if sec is not None:
            sec.end = t

    # kbind.lifetime observer protocol (RcuReadGuard._kb_hooks.observer)
    def _scope_begin(self, guard: Any, depth: int) -> None:
        self._section_begin(guard, guard.owner.name, depth)

    def _scope_end(self, guard: object) -> None:
        self._section_end(guard)

    def _stamp(self) -> int:
        return _now() - self._t0

    def _retire(self, cookie: int, t: int) -> None:
        if t > self._retired.get(cookie, -1):
            self._retired[cookie] = t

    def _gp(self, kind: GpKind, label: str, start: int, wait_start: int) -> GracePeriod:
        gp = GracePeriod(
            next(self._numbers), kind, threading.current_thread().name, label, start, wait_start,
        )  # fmt: skip
        self.grace_periods.append(gp)
        return gp

    def _drop_start(self, cookie: int, label: str) -> GracePeriod:
        t = _now() - self._t0
        return self._gp("drop", label, self._retired.get(cookie, t), t)

    def _gp_end(self, gp: GracePeriod) -> None:
        gp.end = _now() - self._t0

    def _callback_end(self, gp: GracePeriod) -> None:
        gp.callback_end = _now() - self._t0

    # ----------------------------------------------------------------- queries

    @property
    def threads(self) -> list[str]:
        """Names of the threads that held read-side sections, in order of first section."""
        seen: dict[str, None] = {}
        for s in sorted(self.sections, key=lambda s: s.begin):
            seen.setdefault(s.thread, None)
        return list(seen)

    def _end_of(self, t: int | None) -> int:
        return t if t is not None else (self.duration or _now() - self._t0)

    def waited_for(self, gp: GracePeriod) -> list[Section]:
        """Sections the grace period had to wait for: begun before it started, open at its start."""
        return [
            s for s in self.sections
            if s.begin < gp.start and self._end_of(s.end) > gp.start
        ]  # fmt: skip

    def not_waited_for(self, gp: GracePeriod) -> list[Section]:
        """Sections that began after the grace period started and were still open when it ended.

        RCU does not wait for these: they cannot have seen the old value.
        """
        if gp.end is None:
            return []
        return [s for s in self.sections if gp.start < s.begin < gp.end < self._end_of(s.end)]

    def violations(self) -> list[str]:
        """Check the rule on what was recorded; return one line per violation.

        The rule: every section begun before a grace period started ended
        before the grace period ended.  Empty: the engine kept it.
        """
        out = []
        for gp in self.grace_periods:
            if gp.end is None:
                continue
            for s in self.sections:
                if s.begin < gp.start and (s.end is None or s.end > gp.end):
                    end = "still open" if s.end is None else f"ended at {_ms(s.end)}"
                    out.append(
                        f"GP{gp.number} ({gp.kind} on {gp.thread!r}) started at {_ms(gp.start)} "
                        f"and ended at {_ms(gp.end)}, but {s.guard} on {s.thread!r} began at "
                        f"{_ms(s.begin)} and {end}"
                    )
        return out

    # --------------------------------------------------------------- renderers

    def to_text(self, width: int = 72, ascii: bool = False) -> str:
        """Draw the recording as a terminal timeline.

        One row per thread (``█``, or ``=`` with ``ascii=True``, while the
        thread is inside a read-side section), one row per grace period
        (``|`` where it starts and ends, ``-`` between; a callback's
        invocation is ``*``), a time axis, and under it, for each grace
        period, which readers it waited for and which it did not.
        """
        width = max(10, width)
        total = max(1, self._end_of(self.duration))
        fill = "=" if ascii else "█"

        def col(t: int) -> int:
            return min(width - 1, max(0, t * width // total))

        rows: list[tuple[str, str]] = []
        for name in self.threads:
            cells = [" "] * width
            for s in self.sections:
                if s.thread != name:
                    continue
                for c in range(col(s.begin), col(self._end_of(s.end)) + 1):
                    cells[c] = fill
            rows.append((name, "".join(cells)))
        for gp in self.grace_periods:
            cells = [" "] * width
            a = col(gp.start)
            b = col(self._end_of(gp.end))
            for c in range(a, b + 1):
                cells[c] = "-"
            cells[a] = "|"
            if gp.kind == "call_rcu":
                cells[b] = "*" if gp.end is not None else ">"
            else:
                cells[b] = "|" if gp.end is not None else ">"
            rows.append((f"GP{gp.number} {gp.kind}", "".join(cells)))
        label_w = min(28, max([len(r[0]) for r in rows] + [4]))
        lines = [f"{r[0][:label_w]:<{label_w}} {r[1]}" for r in rows]
        axis = f"{'':<{label_w}} 0 ms{'':<{max(0, width - 4 - len(_ms(total)))}}{_ms(total)}"
        lines.append(axis)
        legend = f"{fill} read-side section   |---| grace period   |---* call_rcu callback run"
        lines.append(legend)
        for gp in self.grace_periods:
            lines.append(self._describe(gp))
        return "\n".join(lines)

    def _describe(self, gp: GracePeriod) -> str:
        head = f"GP{gp.number} {gp.kind} on {gp.thread!r} ({gp.label}): started {_ms(gp.start)}"
        if gp.end is None:
            return head + ", not ended when the recording stopped"
        waited = ", ".join(f"{s.thread} ({s.guard})" for s in self.waited_for(gp)) or "no reader"
        text = f"{head}, ended {_ms(gp.end)}; waited for {waited}"
        later = self.not_waited_for(gp)
        if later:
            text += "; did not wait for " + ", ".join(
                f"{s.thread} ({s.guard}, began {_ms(s.begin)}, after the GP started)" for s in later
            )
        return text

    def _figure(self) -> object:
        from kbind.plot import require

        plt = require()
        threads = self.threads
        n = len(threads) + len(self.grace_periods)
        fig, ax = plt.subplots(figsize=(10, 1.2 + 0.45 * max(n, 1)))
        total = self._end_of(self.duration) / 1e6
        labels: list[str] = []
        y = 0
        waited = {id(s) for gp in self.grace_periods for s in self.waited_for(gp)}
        for name in threads:
            for held_up in (True, False):
                spans = [
                    (s.begin / 1e6, max(self._end_of(s.end) - s.begin, 1) / 1e6)
                    for s in self.sections
                    if s.thread == name and (id(s) in waited) == held_up
                ]
                color = "tab:blue" if held_up else "lightsteelblue"
                ax.broken_barh(spans, (y - 0.35, 0.7), facecolors=color)
            labels.append(name)
            y += 1
        for gp in self.grace_periods:
            start = gp.start / 1e6
            end = self._end_of(gp.end) / 1e6
            color = "tab:green" if gp.kind == "call_rcu" else "tab:red"
            ax.plot([start, end], [y, y], color=color, linewidth=2)
            ax.plot([start], [y], marker="|", markersize=14, color=color)
            ax.plot([end], [y], marker="*" if gp.kind == "call_rcu" else "|",
                    markersize=14, color=color)  # fmt: skip
            ax.axvline(start, color=color, linestyle=":", linewidth=0.8, alpha=0.6)
            ax.axvline(end, color=color, linestyle=":", linewidth=0.8, alpha=0.6)
            labels.append(f"GP{gp.number} {gp.kind}")
            y += 1
        ax.set_yticks(range(len(labels)))
        ax.set_yticklabels(labels)
        ax.set_ylim(-0.7, max(len(labels), 1) - 0.3)
        ax.invert_yaxis()
        ax.set_xlim(0, max(total, 1e-3))
        ax.set_xlabel("time (ms)")
        ax.set_title(
            "RCU timeline. Blue: read-side critical sections (dark: a grace period waited "
            "for it).\nRed |--|: a grace period; it waits for the sections that began before "
            "it, not for later ones. Green *: a call_rcu callback runs.",
            fontsize=9,
        )
        ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
        return fig

    def to_png(self, path: str) -> None:
        """Draw the timeline to a PNG file (needs matplotlib: ``pip install 'kbind[plot]'``)."""
        self._save(path, "png")

    def to_svg(self, path: str) -> None:
        """Draw the timeline to an SVG file (needs matplotlib)."""
        self._save(path, "svg")

    def _save(self, path: str, fmt: str) -> None:
        from kbind.plot import require

        plt = require()
        fig = self._figure()
        try:
            fig.savefig(path, format=fmt, dpi=110)  # type: ignore[attr-defined]
        finally:
            plt.close(fig)


def _guard_name(guard: object) -> str:
    name = getattr(guard, "name", None)
    return name if isinstance(name, str) else repr(guard)


def _ms(ns: int) -> str:
    return f"{ns / 1e6:.2f} ms"


_lock = threading.Lock()
_current: Recording | None = None


def active() -> Recording | None:
    """Return the recording in progress, or None."""
    return _current


def _install(rec: Recording | None) -> None:
    global _current
    from kbind import rcu
    from kbind.rcu import _runtime as _rcu_runtime

    _current = rec
    rcu.RcuReadGuard._kb_hooks.observer = rec
    _rcu_runtime.tracer = rec


@contextmanager
def record() -> Iterator[Recording]:
    """Record RCU events of every thread for the body of a ``with`` block.

    One recording at a time per process (a second, nested one raises
    ``RuntimeError``).  Sections open when recording starts are not seen;
    sections and grace periods still open when it stops are drawn as
    running to the end.

    Context: any thread; the recording sees every thread's events.
    """
    rec = Recording()
    with _lock:
        if _current is not None:
            raise RuntimeError("a kbind.trace recording is already active (one at a time)")
        rec._t0 = _now()
        _install(rec)
    try:
        yield rec
    finally:
        with _lock:
            _install(None)
            rec.duration = _now() - rec._t0


def run_scenario(duration: float = 0.6, readers: int = 3, rounds: int = 2) -> Recording:
    """Record a small scripted run: readers with sections of varying length, one updater.

    Reader ``i`` loops: enter a section, hold it for ``i + 1`` slices
    (sections of different lengths), leave, pause one slice.  The updater,
    ``rounds`` times: waits until reader 0 is inside a section, then
    ``replace(new).drop()`` (a grace period that waits for the readers
    inside at the replace), queues a ``call_rcu`` callback and calls
    ``synchronize_rcu()``, then pauses.  A slice is ``duration / 24``
    seconds.  Sleeps here shape the picture (section lengths); nothing
    relies on them for correctness.

    Returns:
        The recording (all threads joined, all callbacks run).
    """
    from kbind.rcu import Rcu, RcuReadGuard, call_rcu, rcu_barrier, synchronize_rcu
    from kbind.rcu._runtime import check_timeout

    seconds = check_timeout(duration, "duration", "run_scenario()", none_ok=False)
    if seconds is None or not seconds < float("inf"):
        raise ValueError(f"run_scenario(): duration must be a finite number, not {duration!r}")
    duration = seconds
    if readers < 1 or rounds < 1:
        raise ValueError("the scenario needs at least one reader and one round")
    slice_s = max(duration / 24, 0.001)
    value = Rcu({"version": 0})
    stop = threading.Event()
    inside = threading.Event()
    errors: list[BaseException] = []

    def reader(i: int) -> None:
        try:
            while not stop.is_set():
                with RcuReadGuard() as g:
                    _ = value.read(g)["version"]
                    if i == 0:
                        inside.set()
                    time.sleep(slice_s * (i + 1))
                stop.wait(slice_s)
        except BaseException as exc:  # reported by the caller
            errors.append(exc)

    with record() as rec:
        threads = [
            threading.Thread(target=reader, args=(i,), name=f"reader-{i}") for i in range(readers)
        ]
        for t in threads:
            t.start()
        try:
            for version in range(1, rounds + 1):
                inside.clear()
                if not inside.wait(timeout=10):
                    raise RuntimeError("no reader entered a section within 10 s")
                value.replace({"version": version}).drop()
                call_rcu(lambda: None)
                synchronize_rcu()
                time.sleep(slice_s * 4)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
            rcu_barrier(timeout=30)
    if errors:
        raise errors[0]
    return rec
