"""kbind.compare.workload: the reader/updater workload over every design that can update and free.

Short runs, and only assertions that follow from how each design frees,
never from how fast it runs (speed targets live in benchmarks/): a row
that waits for a grace period on every update completes at least one
grace period per update and never has more than the object it just
retired awaiting free; a row that frees by callback has nothing awaiting
once ``rcu_barrier()`` has run.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kbind.compare import workload_designs
from kbind.compare.workload import (
    DESIGNS,
    WorkloadReport,
    WorkloadRow,
    run_workload,
)
from kbind.kernel.sync import rcu

SECONDS = 0.2


@pytest.fixture(scope="module")
def report() -> WorkloadReport:
    """One short run of every default design, with two readers."""
    return run_workload(seconds=SECONDS, readers=2, payload=1024)


def test_every_default_design_has_its_rows(report: WorkloadReport) -> None:
    """Each design runs each of its free modes, in order; each row is named ``design (mode)``."""
    assert [r.design for r in report.rows] == [
        d for d in DESIGNS for _ in workload_designs.ROWS[d]()
    ]
    names = [r.name for r in report.rows]
    assert len(set(names)) == len(names)
    for r in report.rows:
        assert r.name == f"{r.design} ({r.free_mode})"
    assert {r.waits for r in report.rows} == {True, False}  # both ways of freeing are there


def test_every_row_reads_and_updates(report: WorkloadReport) -> None:
    """Readers and the updater all made progress in every row."""
    for r in report.rows:
        assert r.reads > 0 and r.reads_per_s > 0, r.name
        assert r.updates > 0 and r.updates_per_s > 0, r.name
        assert r.elapsed >= SECONDS
        assert not r.stopped_early, r.name


def _waiting(report: WorkloadReport) -> list[WorkloadRow]:
    rows = [r for r in report.rows if r.waits]
    assert rows
    return rows


def _callback(report: WorkloadReport) -> list[WorkloadRow]:
    rows = [r for r in report.rows if not r.waits]
    assert rows
    return rows


def test_freeing_by_waiting_takes_a_grace_period_per_update(report: WorkloadReport) -> None:
    """synchronize_rcu() per update: each update's own grace period, one object held at a time."""
    for r in _waiting(report):
        assert r.gp_per_update >= 0.99, r.name
        assert 1 <= r.awaiting_peak <= 2, r.name
        assert r.awaiting_at_stop == 0 and r.awaiting_end == 0, r.name
        assert r.held_peak_bytes == r.awaiting_peak * report.payload


def test_freeing_by_callback_leaves_nothing_after_the_barrier(report: WorkloadReport) -> None:
    """call_rcu/kfree_rcu: objects wait for their callbacks, and all are freed after the barrier."""
    for r in _callback(report):
        assert r.flushed, r.name
        assert r.awaiting_end == 0, r.name
        assert r.awaiting_peak >= 1, r.name  # sampled right after the retirement
        assert r.held_peak_bytes == r.awaiting_peak * report.payload
        assert r.held_at_stop_bytes == r.awaiting_at_stop * report.payload


def test_blocking_statistics_are_ordered(report: WorkloadReport) -> None:
    """The updater's blocking times are positive and p50 <= p99 <= max, mean <= max."""
    for r in report.rows:
        assert 0 < r.block_p50_us <= r.block_p99_us <= r.block_max_us, r.name
        assert 0 < r.block_mean_us <= r.block_max_us, r.name


def test_as_dict_is_json(report: WorkloadReport) -> None:
    """as_dict() round-trips through JSON with its parameters, machine facts and rows."""
    data: dict[str, Any] = json.loads(json.dumps(report.as_dict()))
    assert data["parameters"] == {
        "seconds": SECONDS, "readers": 2, "updaters": 1, "payload_bytes": 1024, "hold_us": 0.0,
    }  # fmt: skip
    assert data["machine"]["cpus"] >= 1 and data["machine"]["usable_cpus"] >= 1
    assert [r["name"] for r in data["rows"]] == [r.name for r in report.rows]
    assert "kb_rcu_gp_count" in data["gp_counter"]


def test_markdown_has_one_line_per_row(report: WorkloadReport) -> None:
    """A header, a separator, then one table line per row."""
    lines = report.markdown().splitlines()
    assert len(lines) == 2 + len(report.rows)
    assert all(line.startswith("| ") and line.endswith(" |") for line in lines)
    assert lines[1].startswith("| --- |")
    for line, r in zip(lines[2:], report.rows, strict=True):
        assert line.startswith(f"| {r.name} |")
    assert len({line.count(" | ") for line in lines}) == 1


def test_render_is_an_aligned_table(report: WorkloadReport) -> None:
    """The terminal table names every row; its lines have one width; units are in the headers."""
    text = report.render()
    lines = text.splitlines()
    table = lines[1 : 3 + len(report.rows)]
    assert len({len(line) for line in table}) == 1
    assert "updates/s" in table[0] and "(KiB)" in table[0] and "(us)" in table[0]
    for r in report.rows:
        assert r.name in text


def test_named_designs_only_and_the_debug_variant() -> None:
    """A list of names runs those designs only, once each; kernel_c+debug runs when named."""
    r = run_workload(["kernel_c+debug", "rcu", "rcu"], seconds=0.1, readers=1, payload=0)
    assert [row.design for row in r.rows] == ["kernel_c+debug"] * 2 + ["rcu"] * 2
    assert all(row.reads > 0 and row.updates > 0 for row in r.rows)
    assert all(row.held_peak_bytes == 0 for row in r.rows)  # no payload, nothing weighed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"designs": ["kernel_c", "nope"]}, r"no workload for design\(s\) 'nope'; known: kernel_c"),
        ({"designs": []}, "no designs"),
        ({"seconds": 0}, "seconds must be > 0"),
        ({"seconds": -1.0}, "seconds must be > 0"),
        ({"seconds": float("nan")}, "seconds must be > 0"),
        ({"seconds": True}, "seconds must be a number"),
        ({"readers": 0}, "readers must be between 1 and 64"),
        ({"readers": 65}, "readers must be between 1 and 64"),
        ({"readers": 1.5}, "readers must be an int"),
        ({"payload": -1}, "payload must be between"),
        ({"hold_us": -1}, "hold_us must be between"),
        ({"hold_us": float("inf")}, "hold_us must be between"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs: dict[str, Any], match: str) -> None:
    """Unknown designs and parameters out of range raise ValueError before anything runs."""
    with pytest.raises(ValueError, match=match):
        run_workload(**kwargs)


def test_readers_hold_their_sections_for_hold_us() -> None:
    """With hold_us, each read takes at least that long: reads/s cannot beat readers / hold."""
    hold_us = 2000.0
    rep = run_workload(["rcu"], seconds=0.2, readers=2, payload=64, hold_us=hold_us)
    assert rep.hold_us == hold_us and "hold each section 2000 us more" in rep.render()
    for row in rep.rows:
        assert row.reads > 0 and row.updates > 0
        bound = 2 * row.elapsed / (hold_us / 1e6)  # two readers, each read >= hold_us
        assert row.reads <= bound * 1.05 + 32, (row.name, row.reads, bound)  # a batch's slack
        if row.waits:
            assert row.gp_per_update == 1.0  # one grace period per update, as without a hold


def test_refused_inside_a_reader() -> None:
    """A run inside a read-side section would hold up every grace period it waits for."""
    with rcu.Guard(), pytest.raises(RuntimeError, match="read-side critical section"):
        run_workload(["rcu"], seconds=0.1)


class _BrokenReader(workload_designs.Row):
    """A row whose readers fail: the run must stop every thread and say which one failed."""

    design = "broken"
    mode = "reader raises"

    def start(self, first: workload_designs.Value) -> None:
        self.current = first

    def reader(self) -> Any:
        def read() -> int:
            raise ZeroDivisionError("reader failed")

        return read

    def retire(self, new: workload_designs.Value) -> Any:
        old, self.current = self.current, new
        return old

    def free(self, old: Any) -> None:
        """Free nothing: the objects are plain."""

    def freed(self, old: Any) -> bool:
        return True


def test_a_failing_thread_stops_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """A thread that raises stops the row at once: RuntimeError naming the row and the thread."""
    monkeypatch.setitem(workload_designs.ROWS, "broken", lambda: [_BrokenReader()])
    with pytest.raises(RuntimeError, match=r"broken \(reader raises\): the reader0 thread raised"):
        run_workload(["broken"], seconds=30, readers=1)


def test_plot_writes_a_png(report: WorkloadReport, tmp_path: Any) -> None:
    """plot.workload() draws the report to a PNG file (skipped without matplotlib)."""
    pytest.importorskip("matplotlib")
    from kbind import plot

    path = tmp_path / "workload.png"
    plot.workload(report, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = WorkloadReport([], 1.0, 1, 0, 1, 1, "builtin")
    with pytest.raises(ValueError, match="no workload rows"):
        plot.workload(empty, str(tmp_path / "empty.png"))
