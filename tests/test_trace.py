"""kbind.trace: recorded timelines are consistent, renderable, and catch a broken engine."""

from __future__ import annotations

import gc
import pathlib
import subprocess
import sys
import threading

import pytest

from kbind import rcu, trace
from kbind._bridge.native import lib
from kbind.rcu import Rcu, RcuReadGuard, call_rcu, rcu_barrier, synchronize_rcu
from tests.support import child_env

pytestmark = pytest.mark.rcu_backends

ROOT = pathlib.Path(__file__).resolve().parents[1]
TIMEOUT = 30.0


def _reader_before_and_after() -> tuple[trace.Recording, bool]:
    """Reader A inside before a replace, reader B entering after it; drop() in between."""
    value = Rcu({"v": 1})
    a_in, b_in, replaced, gp_over = (threading.Event() for _ in range(4))
    b_waited: list[bool] = []

    def a() -> None:
        with RcuReadGuard():
            a_in.set()
            b_in.wait(TIMEOUT)

    def b() -> None:
        replaced.wait(TIMEOUT)
        with RcuReadGuard():
            b_in.set()
            # Bounded: the GP may legitimately wait for B too (see below).
            b_waited.append(gp_over.wait(0.5))

    # RCU promises a grace period waits for the readers that began before it,
    # not that it ignores later ones: the cookie of replace() names the first
    # grace period that *starts* after it, so if one were already in progress
    # (say, for a callback queued when some old Rcu was collected), the next
    # one would begin only after A left, and would wait for B too.  So: no
    # callbacks pending, and no collection while A and B run.
    gc.collect()
    assert rcu_barrier(timeout=TIMEOUT)
    gc.disable()
    try:
        with trace.record() as rec:
            ts = [threading.Thread(target=a, name="A"), threading.Thread(target=b, name="B")]
            for t in ts:
                t.start()
            assert a_in.wait(TIMEOUT)
            old = value.replace({"v": 2})
            replaced.set()
            old.drop()
            gp_over.set()
            for t in ts:
                t.join(timeout=TIMEOUT)
    finally:
        gp_over.set()
        gc.enable()
    return rec, b_waited == [True]


def _synthetic(gp_end: int | None) -> trace.Recording:
    """A hand-made recording: A in [10, 50], B in [30, 90], a drop GP from 20 to ``gp_end``."""
    rec = trace.Recording(duration=100)
    rec.sections += [trace.Section("A", "RcuReadGuard#1", 10, 50),
                     trace.Section("B", "RcuReadGuard#2", 30, 90)]  # fmt: skip
    rec.grace_periods.append(trace.GracePeriod(1, "drop", "main", "free", 20, 20, gp_end))
    return rec


def test_recording_waited_for_and_not_waited_for_synthetic() -> None:
    """waited_for() is the sections open at the GP start; not_waited_for() the later ones."""
    rec = _synthetic(60)
    gp = rec.grace_periods[0]
    assert [s.thread for s in rec.waited_for(gp)] == ["A"]
    assert [s.thread for s in rec.not_waited_for(gp)] == ["B"]
    assert rec.violations() == []


def test_recording_violation_when_gp_ends_before_earlier_reader_synthetic() -> None:
    """A GP that ends before a section that began before it is reported, naming both."""
    bad = _synthetic(40).violations()
    assert len(bad) == 1 and "GP1 (drop" in bad[0] and "RcuReadGuard#1 on 'A'" in bad[0]
    assert _synthetic(None).violations() == []  # not ended: nothing to judge


def test_trace_gp_waits_for_earlier_reader() -> None:
    """The drop's grace period is recorded ending after the reader inside at the replace.

    Whether it also waited for B (which began after the replace) depends on
    whether another grace period was in progress; both are correct RCU.
    """
    rec, _ = _reader_before_and_after()
    (gp,) = rec.grace_periods
    a = next(s for s in rec.sections if s.thread == "A")
    assert gp.kind == "drop" and gp.end is not None and a.end is not None
    assert rec.waited_for(gp) == [a] and a.end < gp.end
    assert rec.violations() == []


def test_trace_scenario_every_gp_ends_after_earlier_sections() -> None:
    """In the scripted scenario every GP end follows the end of every section begun before it."""
    rec = trace.run_scenario(duration=0.3, readers=3, rounds=2)
    kinds = {gp.kind for gp in rec.grace_periods}
    assert kinds == {"drop", "call_rcu", "synchronize_rcu"}
    assert all(gp.end is not None for gp in rec.grace_periods)
    assert set(rec.threads) == {"reader-0", "reader-1", "reader-2"}
    assert all(s.end is not None for s in rec.sections)
    for gp in rec.grace_periods:  # the property, spelled out (violations() checks the same)
        assert gp.end is not None
        for s in rec.sections:
            if s.begin < gp.start:
                assert s.end is not None and s.end < gp.end, (gp, s)
    assert rec.violations() == []


def test_trace_busted_engine_gp_not_waiting_is_reported() -> None:
    """With an engine whose grace periods do not wait, violations() names the reader."""
    value = Rcu({"v": 1})
    inside, leave = threading.Event(), threading.Event()

    def reader() -> None:
        with RcuReadGuard():
            inside.set()
            leave.wait(TIMEOUT)

    try:
        busted = rcu._rt.busted_engine(lib.KB_RCU_BUSTED_NO_WAIT)
        busted.__enter__()
    except ValueError:
        pytest.skip("this backend has no busted no-wait engine")
    try:
        with trace.record() as rec:
            t = threading.Thread(target=reader, name="slow-reader")
            t.start()
            assert inside.wait(TIMEOUT)
            value.replace({"v": 2}).drop()  # returns at once: the engine does not wait
            leave.set()
            t.join(timeout=TIMEOUT)
    finally:
        leave.set()
        busted.__exit__(None, None, None)
    bad = rec.violations()
    assert len(bad) == 1 and "slow-reader" in bad[0] and "GP1 (drop" in bad[0]


def test_trace_call_rcu_callback_recorded_after_earlier_reader() -> None:
    """A call_rcu callback is recorded as invoked after the reader that was inside when queued."""
    inside, leave = threading.Event(), threading.Event()

    def reader() -> None:
        with RcuReadGuard():
            inside.set()
            leave.wait(TIMEOUT)

    with trace.record() as rec:
        t = threading.Thread(target=reader, name="r")
        t.start()
        assert inside.wait(TIMEOUT)
        call_rcu(lambda: None)
        leave.set()
        t.join(timeout=TIMEOUT)
        assert rcu_barrier(timeout=TIMEOUT)
    (gp,) = rec.grace_periods
    (sec,) = rec.sections
    assert gp.kind == "call_rcu" and gp.end is not None and gp.callback_end is not None
    assert sec.end is not None and sec.end < gp.end <= gp.callback_end
    assert rec.waited_for(gp) == [sec]


def test_trace_to_text_has_a_row_per_thread_and_grace_period() -> None:
    """The text timeline has one row per reader thread and per grace period, at the width."""
    rec = _synthetic(60)
    text = rec.to_text(width=50)
    rows = text.splitlines()
    a_row = next(r for r in rows if r.startswith("A "))
    b_row = next(r for r in rows if r.startswith("B "))
    gp_row = next(r for r in rows if r.startswith("GP1 drop"))
    assert "█" in a_row and "█" in b_row
    assert gp_row.count("|") == 2
    # columns: A covers 10..50 of 100, the GP 20..60: A's end is inside the GP's span
    label = len(a_row) - 50
    assert a_row[label + 5] == "█" and a_row[label + 30] == " "
    assert gp_row[label + 10] == "|" and gp_row[label + 30] == "|"
    assert len(a_row) == len(gp_row)
    assert "waited for A (" in text and "did not wait for B (" in text
    assert len(rows) == 2 + 1 + 2 + 1  # threads, GP, axis + legend, GP description
    assert "=" in rec.to_text(width=50, ascii=True).splitlines()[0]


def test_trace_hooks_off_outside_record_and_one_at_a_time() -> None:
    """Outside a record block the hooks are off; a nested record raises RuntimeError."""
    with trace.record() as rec:
        assert trace.active() is rec and rcu._rt.tracer is rec
        with pytest.raises(RuntimeError), trace.record():
            pass
        with RcuReadGuard():
            pass
        synchronize_rcu()
    assert trace.active() is None and rcu._rt.tracer is None
    assert len(rec.sections) == 1 and len(rec.grace_periods) == 1
    with RcuReadGuard():  # not recorded
        pass
    assert len(rec.sections) == 1


def test_trace_png_and_svg_written(tmp_path: pathlib.Path) -> None:
    """to_png() writes a PNG file and to_svg() an SVG file."""
    pytest.importorskip("matplotlib")
    rec, _ = _reader_before_and_after()
    png, svg = tmp_path / "t.png", tmp_path / "t.svg"
    rec.to_png(str(png))
    rec.to_svg(str(svg))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()


def _kbind_trace(*extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kbind", "trace", "--readers", "2", "--duration", "0.3", *extra],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=child_env(),
    )  # fmt: skip


def test_cli_trace_prints_timeline() -> None:
    """`kbind trace` prints a row per reader and per grace period and exits 0 (no matplotlib)."""
    proc = _kbind_trace()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert any(line.startswith("reader-0 ") for line in lines)
    assert any(line.startswith("reader-1 ") for line in lines)
    assert any(line.startswith("GP1 drop") for line in lines)
    assert "every grace period waited" in proc.stdout


def test_cli_trace_draws_png_and_svg(tmp_path: pathlib.Path) -> None:
    """`kbind trace --png --svg` draws both files (needs matplotlib, the [plot] extra)."""
    pytest.importorskip("matplotlib")
    png, svg = tmp_path / "gp.png", tmp_path / "gp.svg"
    proc = _kbind_trace("--png", str(png), "--svg", str(svg))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "every grace period waited" in proc.stdout
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in svg.read_text()
