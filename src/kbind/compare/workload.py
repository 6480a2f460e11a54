"""One reader/updater workload over every RCU design that can update and free.

``kbind compare --workload``.  Where the rest of :mod:`kbind.compare` asks
what each design catches, this asks what each costs when used as intended:
``readers`` Python threads loop *guard, dereference, read a field, drop*
while one updater thread replaces the published object as fast as it can,
for ``seconds`` per row.  A row is one design with one way of freeing the
old object, named ``design (free mode)``:

* freeing by waiting, ``synchronize_rcu()`` on every update:
  ``kernel_c`` (``synchronize_rcu(); kfree(old)``), ``rcu``
  (``RcuDropGuard.drop()``), ``rfc.rcu_pointer`` (``RcuOld.drop()``),
  ``kernel.sync.srcu`` (``Srcu::synchronize()`` then ``kfree(old)``: SRCU
  has no pointer type yet, so the slot is a plain attribute holding a
  :func:`kbind.kernel_c.kmalloc` allocation);
* freeing by callback, never waiting: ``kernel_c`` (``kfree_rcu(old)``),
  ``rcu`` (``RcuDropGuard.defer()``), ``rfc.rcu_box`` (``RcuBox.drop()``:
  dropped in an RCU callback; ``RcuFreeBox.drop()``: cleaned up now, freed
  by callback).

``kernel_c+debug`` (the C API with PROVE_RCU, PROVE_LOCKING and
DEBUG_ATOMIC_SLEEP on) runs when named; ``kernel.sync.rcu`` has no
RCU-protected pointer, so it has no row.

What a row reports:

* reads/s and updates/s over the row's window;
* grace periods per update: the engine's completed-grace-period counter
  (``kb_rcu_gp_count()``, csrc/engine/rcu_api.c; for SRCU the domain's,
  :meth:`kbind.kernel.sync.srcu.Srcu.grace_periods`), read before the row
  and when the updater has stopped, divided by the updates;
* objects awaiting free: retired (unpublished) and not yet freed, by the
  design's own ``freed`` flag, sampled by the updater right after each
  retirement (the count only rises there, so the peak is exact), again
  when the updater has stopped, and after ``rcu_barrier()``;
* memory held by those objects: each published object carries a payload
  of ``payload`` bytes (a ``bytes`` object), so held memory is the payload
  bytes of the objects awaiting free (exact and free of overhead, unlike
  tracemalloc, which would slow every allocation of every thread);
* how long the updater blocks per update (publish plus free): mean, p50,
  p99 and max.

The readers yield the interpreter (``time.sleep(0)``) after every 16 reads,
outside their read-side sections.  Kernel readers run on CPUs of their own;
CPython's threads share one interpreter lock, and a reader that never
yields keeps it for a whole switch interval (5 ms).  Every call into the C
engine releases that lock (cffi does), so the updater, whose publish and
free make such calls, would wait a switch interval for each: the run
would measure that convoy, not the designs.

Rows do not disturb each other: each starts on fresh threads after every
thread of the row before was stopped and joined and its callbacks were
flushed (``rcu_barrier()``, bounded).  Nothing waits without bound: joins
and barriers have timeouts, and a thread that fails is reported as a
``RuntimeError`` naming the row.

Example::

    from kbind.compare.workload import run_workload
    print(run_workload(["rcu"], seconds=0.5).render())
"""

from __future__ import annotations

import functools
import gc
import math
import os
import platform
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from kbind import rcu as proposal
from kbind._bridge.native import lib
from kbind.compare.workload_designs import DESIGNS, ROWS, Row, Value
from kbind.rcu_backend import current_backend

__all__ = ["DESIGNS", "MAX_READERS", "Value", "WorkloadReport", "WorkloadRow", "run_workload"]

#: Most reader threads a run may ask for.
MAX_READERS: Final = 64
#: Largest payload per object, in bytes (16 MiB).
MAX_PAYLOAD: Final = 16 << 20
#: Longest row, in seconds.
MAX_SECONDS: Final = 3600.0
#: Longest hold of a reader's section, in microseconds (``hold_us``).
MAX_HOLD_US: Final = 100_000.0
#: Most payload bytes a row may leave awaiting free before its updater stops early.
MAX_HELD_BYTES: Final = 512 << 20
#: Reads between two looks at the stop flag.
_READ_BATCH: Final = 16
#: How long stopping a row's threads, or flushing its callbacks, may take.
_JOIN_S: Final = 20.0
_BARRIER_S: Final = 30.0


# ------------------------------------------------------------- the report


@dataclass
class WorkloadRow:
    """What one ``design (free mode)`` did in its window.  Times in seconds unless named."""

    name: str
    design: str
    free_mode: str
    #: The update waits for a grace period (False: the free runs in an RCU callback).
    waits: bool
    elapsed: float
    reads: int
    updates: int
    reads_per_s: float
    updates_per_s: float
    grace_periods: int
    gp_per_update: float
    #: Objects retired and not yet freed: the peak, when the updater stopped, after the barrier.
    awaiting_peak: int
    awaiting_at_stop: int
    awaiting_end: int
    #: Payload bytes of those objects.
    held_peak_bytes: int
    held_at_stop_bytes: int
    #: How long one update (publish plus free) blocked the updater, in microseconds.
    block_mean_us: float
    block_p50_us: float
    block_p99_us: float
    block_max_us: float
    #: How long flushing the row's callbacks (``rcu_barrier()``) took, and whether it finished.
    barrier_s: float
    flushed: bool
    #: Reads that found the object dropped between load and borrow (``rfc.rcu_box`` only).
    reader_retries: int = 0
    #: The updater stopped before the window ended: the backlog reached MAX_HELD_BYTES.
    stopped_early: bool = False


#: The table's columns: header (units in it), WorkloadRow field, format.
_COLUMNS: Final = (
    ("row", "name", "{}"),
    ("frees by", "waits", "{}"),
    ("reads/s", "reads_per_s", "{:,.0f}"),
    ("updates/s", "updates_per_s", "{:,.0f}"),
    ("GPs/update", "gp_per_update", "{:.2f}"),
    ("awaiting peak", "awaiting_peak", "{:,}"),
    ("at stop", "awaiting_at_stop", "{:,}"),
    ("after barrier", "awaiting_end", "{:,}"),
    ("held peak (KiB)", "held_peak_bytes", "{:,.0f}"),
    ("block mean (us)", "block_mean_us", "{:,.1f}"),
    ("block p99 (us)", "block_p99_us", "{:,.1f}"),
    ("block max (us)", "block_max_us", "{:,.0f}"),
)


#: The first columns hold text (left-aligned); the others numbers.
_TEXT_COLUMNS: Final = 2


def _cell(row: WorkloadRow, attr: str, fmt: str) -> str:
    value = getattr(row, attr)
    if attr == "waits":
        return "waiting" if value else "callback"
    if attr.endswith("_bytes"):
        value = value / 1024
    if attr == "name" and row.stopped_early:
        value = f"{value} [backlog cap]"
    return fmt.format(value)


@dataclass
class WorkloadReport:
    """Every row of one run, its parameters, and the machine it ran on."""

    rows: list[WorkloadRow]
    seconds: float
    readers: int
    payload: int
    cpus: int
    usable_cpus: int
    backend: str
    hold_us: float = 0.0
    python: str = field(default_factory=platform.python_version)
    gp_counter: str = (
        "the engine's completed grace periods, kb_rcu_gp_count() (SRCU: Srcu.grace_periods())"
    )

    def _header(self) -> str:
        return (
            f"{self.readers} reader thread(s) and 1 updater, {self.seconds:g} s per row, "
            f"payload {self.payload:,} B per object, readers hold each section "
            f"{self.hold_us:g} us more; {self.usable_cpus} usable CPU(s) of "
            f"{self.cpus}, RCU backend {self.backend}, Python {self.python}"
        )

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        heads = [c[0] for c in _COLUMNS]
        body = [[_cell(r, attr, fmt) for _, attr, fmt in _COLUMNS] for r in self.rows]
        return heads, body

    def render(self) -> str:
        """Return the report as an aligned terminal table, parameters above it."""
        heads, body = self._cells()
        widths = [max(len(x) for x in col) for col in zip(heads, *body, strict=True)]

        def line(cells: list[str]) -> str:
            padded = [
                c.ljust(w) if i < _TEXT_COLUMNS else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ]
            return "  ".join(padded).rstrip()

        out = [f"workload: {self._header()}", line(heads), "  ".join("-" * w for w in widths)]
        out += [line(cells) for cells in body]
        out.append(
            "held: payload bytes of objects retired and not yet freed; awaiting: those objects; "
            "block: time one update (publish + free) kept the updater; GPs: " + self.gp_counter
        )
        if any(not r.flushed for r in self.rows):
            out.append(f"warning: a row's callbacks did not all run within {_BARRIER_S:g} s")
        return "\n".join(out)

    def markdown(self) -> str:
        """Return the rows as a markdown table (header, separator, one line per row)."""
        heads, body = self._cells()
        align = ["---" if i < _TEXT_COLUMNS else "---:" for i in range(len(heads))]
        lines = [heads, align, *body]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in lines)

    def as_dict(self) -> dict[str, Any]:
        """Return the report as plain JSON-ready data: parameters, machine, rows."""
        return {
            "parameters": {
                "seconds": self.seconds,
                "readers": self.readers,
                "updaters": 1,
                "payload_bytes": self.payload,
                "hold_us": self.hold_us,
            },
            "machine": {
                "cpus": self.cpus,
                "usable_cpus": self.usable_cpus,
                "backend": self.backend,
                "python": self.python,
            },
            "gp_counter": self.gp_counter,
            "rows": [asdict(r) for r in self.rows],
        }


# ---------------------------------------------------------------- running


def _check(
    designs: list[str] | None, seconds: float, readers: int, payload: int, hold_us: float
) -> list[str]:
    """Return the design names to run, or raise ValueError naming the bad argument."""
    if isinstance(hold_us, bool) or not isinstance(hold_us, int | float):
        raise ValueError(f"hold_us must be a number of microseconds, not {hold_us!r}")
    if not (math.isfinite(hold_us) and 0 <= hold_us <= MAX_HOLD_US):
        raise ValueError(f"hold_us must be between 0 and {MAX_HOLD_US:g}, not {hold_us!r}")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise ValueError(f"seconds must be a number of seconds, not {seconds!r}")
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
        raise ValueError(f"seconds must be > 0 and at most {MAX_SECONDS:g}, not {seconds!r}")
    if isinstance(readers, bool) or not isinstance(readers, int):
        raise ValueError(f"readers must be an int, not {readers!r}")
    if not 1 <= readers <= MAX_READERS:
        raise ValueError(f"readers must be between 1 and {MAX_READERS}, not {readers}")
    if isinstance(payload, bool) or not isinstance(payload, int):
        raise ValueError(f"payload must be an int number of bytes, not {payload!r}")
    if not 0 <= payload <= MAX_PAYLOAD:
        raise ValueError(f"payload must be between 0 and {MAX_PAYLOAD} bytes, not {payload}")
    names = list(DESIGNS) if designs is None else list(dict.fromkeys(designs))
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise ValueError(
            f"no workload for design(s) {', '.join(map(repr, unknown))}; known: {', '.join(ROWS)}"
        )
    if not names:
        raise ValueError("no designs to run")
    return names


class _Flag:
    """The stop flag every thread of a row reads (one attribute load)."""

    __slots__ = ("up",)

    def __init__(self) -> None:
        self.up = False


@dataclass
class _Updates:
    """What the updater thread measured."""

    count: int = 0
    block_ns: list[int] = field(default_factory=list)
    outstanding: deque[Any] = field(default_factory=deque)
    peak: int = 0
    stopped_early: bool = False


@contextmanager
def _threads(name: str, targets: list[tuple[str, Callable[[], None]]]) -> Iterator[_Flag]:
    """Start ``targets`` together; on exit, raise their first error, or if one did not stop."""
    flag = _Flag()
    errors: list[tuple[str, BaseException]] = []
    ready = threading.Barrier(len(targets) + 1, timeout=_JOIN_S)

    def main(label: str, fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                ready.wait()
                fn()
            except BaseException as exc:  # reported by the joining thread
                errors.append((label, exc))
                flag.up = True
                ready.abort()

        return run

    threads = [
        threading.Thread(target=main(label, fn), name=f"kbind-workload-{label}", daemon=True)
        for label, fn in targets
    ]
    for t in threads:
        t.start()
    try:
        try:
            ready.wait()
        except threading.BrokenBarrierError:  # a thread failed before the start
            flag.up = True
        yield flag
    finally:
        flag.up = True
        deadline = time.monotonic() + _JOIN_S
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
    if errors:
        label, exc = errors[0]
        raise RuntimeError(f"workload {name}: the {label} thread raised {exc!r}") from exc
    stuck = [t.name for t in threads if t.is_alive()]
    if stuck:
        raise RuntimeError(f"workload {name}: {', '.join(stuck)} did not stop in {_JOIN_S:g} s")


def _percentile(ordered: list[int], q: float) -> float:
    if not ordered:
        return 0.0
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def _unfreed(row: Row, outstanding: deque[Any]) -> int:
    return sum(1 for old in outstanding if not row.freed(old))


def _run_row(row: Row, seconds: float, readers: int, payload: int, hold_us: float) -> WorkloadRow:
    """Run one row: readers and the updater for ``seconds``, then stop, join and flush."""
    if hold_us > 0:
        row.hold = functools.partial(lib.kb_ndelay, int(hold_us * 1000))
    cap = max(1000, MAX_HELD_BYTES // max(1, payload))
    reads = [0] * readers
    up = _Updates()
    row.start(Value(0, bytes(payload)))

    def reader(i: int) -> Callable[[], None]:
        def loop() -> None:
            read, yield_cpu = row.reader(), time.sleep
            n = 0
            while not flag.up:
                for _ in range(_READ_BATCH):
                    read()
                n += _READ_BATCH
                yield_cpu(0)
            reads[i] = n

        return loop

    def updater() -> None:
        clock, retire, free, freed = time.perf_counter_ns, row.retire, row.free, row.freed
        outstanding, block = up.outstanding, up.block_ns
        i = 0
        while not flag.up:
            i += 1
            new = Value(i, bytes(payload))  # a fresh object of `payload` bytes, unclocked
            t0 = clock()
            old = retire(new)
            t1 = clock()
            outstanding.append(old)
            while outstanding and freed(outstanding[0]):
                outstanding.popleft()
            held = len(outstanding)
            if held > up.peak:
                up.peak = held
            t2 = clock()
            free(old)
            block.append(t1 - t0 + clock() - t2)
            if held >= cap:
                up.stopped_early = True
                break
        up.count = i

    gp0 = row.grace_periods()
    with row.session():
        targets = [(f"reader{i}", reader(i)) for i in range(readers)]
        try:
            with _threads(row.name, [*targets, ("updater", updater)]) as flag:
                t_start = time.perf_counter()
                deadline = t_start + seconds
                while not flag.up and (left := deadline - time.perf_counter()) > 0:
                    time.sleep(min(left, 0.05))
                elapsed = time.perf_counter() - t_start
        except BaseException:
            proposal.rcu_barrier(timeout=_BARRIER_S)  # what it queued does not leak into later
            raise
        gp1 = row.grace_periods()
        at_stop = _unfreed(row, up.outstanding)
        t_barrier = time.perf_counter()
        row.stop()
        flushed = proposal.rcu_barrier(timeout=_BARRIER_S)
        barrier_s = time.perf_counter() - t_barrier
    gc.collect()  # what the row left behind is not the next row's work
    end = _unfreed(row, up.outstanding)
    block = sorted(up.block_ns)
    updates = up.count
    return WorkloadRow(
        name=row.name,
        design=row.design,
        free_mode=row.mode,
        waits=row.waits,
        elapsed=elapsed,
        reads=sum(reads),
        updates=updates,
        reads_per_s=sum(reads) / elapsed,
        updates_per_s=updates / elapsed,
        grace_periods=gp1 - gp0,
        gp_per_update=(gp1 - gp0) / updates if updates else 0.0,
        awaiting_peak=up.peak,
        awaiting_at_stop=at_stop,
        awaiting_end=end,
        held_peak_bytes=up.peak * payload,
        held_at_stop_bytes=at_stop * payload,
        block_mean_us=sum(block) / len(block) / 1e3 if block else 0.0,
        block_p50_us=_percentile(block, 0.50) / 1e3,
        block_p99_us=_percentile(block, 0.99) / 1e3,
        block_max_us=block[-1] / 1e3 if block else 0.0,
        barrier_s=barrier_s,
        flushed=flushed,
        reader_retries=row.retries,
        stopped_early=up.stopped_early,
    )


def run_workload(
    designs: list[str] | None = None,
    *,
    seconds: float = 1.0,
    readers: int = 2,
    payload: int = 4096,
    hold_us: float = 0.0,
) -> WorkloadReport:
    """Run the reader/updater workload over ``designs`` (default :data:`DESIGNS`); one row per mode.

    ``seconds`` per row, ``readers`` reader threads (1 to :data:`MAX_READERS`),
    ``payload`` bytes carried by each published object; ``hold_us``: each
    reader holds its section that many microseconds longer, busy in C with
    the interpreter lock released (``kb_ndelay()``), as a kernel reader that
    walks a structure does.  Must not run inside a read-side section.

    Raises:
        ValueError: an unknown design name, or a parameter out of range.
        RuntimeError: a thread of a row raised, or did not stop in time.
    """
    names = _check(designs, seconds, readers, payload, hold_us)
    if lib.kb_rcu_read_lock_nesting() > 0:
        raise RuntimeError("run_workload() cannot run inside an RCU read-side critical section")
    proposal.rcu_barrier(timeout=_BARRIER_S)  # callbacks queued before the run stay out of it
    rows = [
        _run_row(row, float(seconds), readers, payload, float(hold_us))
        for name in names
        for row in ROWS[name]()
    ]
    cpus = os.cpu_count() or 1
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    return WorkloadReport(
        rows=rows,
        seconds=float(seconds),
        readers=readers,
        payload=payload,
        cpus=cpus,
        usable_cpus=usable,
        backend=str(current_backend()),
        hold_us=float(hold_us),
    )
