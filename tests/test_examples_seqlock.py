"""The seqlock use-case examples exist (tests/test_examples.py runs every example)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import threading

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("seqlock_*.py"))


def test_examples_seqlock_present() -> None:
    """The seqlock examples exist (one per use case in "Can Rust Code Own Sequence Locks?")."""
    names = {p.stem for p in EXAMPLES}
    assert {
        "seqlock_timestamp",
        "seqlock_helpers",
        "seqlock_long_compute",
        "seqlock_sdma_flush",
        "seqlock_retry_in_helper",
        "seqlock_memcpy",
    } <= names


def test_seqlock_reader_inside_rcu_reader() -> None:
    """Use case 6 (neigh_ha_snapshot()): a seqlock read inside an RCU reader, racing a writer."""
    from kbind import SeqLock
    from kbind.rcu import Rcu, RcuReadGuard

    class Entry:
        def __init__(self) -> None:
            self.lock = SeqLock(a=0, b=0)

    entry = Entry()
    table = Rcu({"k": entry})
    start = threading.Barrier(2)
    seen: list[tuple[int, int]] = []

    def writer() -> None:
        start.wait(timeout=10)
        for i in range(1, 2001):
            with entry.lock.write() as w:
                w.a = i
                w.b = -i

    t = threading.Thread(target=writer)
    t.start()
    start.wait(timeout=10)
    for _ in range(2000):
        with RcuReadGuard() as g:
            e = table.read(g)["k"]
            assert type(e.lock) is SeqLock  # comes out as is: it synchronizes itself
            seen.append(e.lock.read(lambda v: (int(v.a), int(v.b))))
    t.join(timeout=30)
    assert not t.is_alive()
    assert all(a == -b for a, b in seen)
    assert "seqlock_inside_rcu_reader" in {p.stem for p in EXAMPLES}


def test_seqlock_bench_quick_runs() -> None:
    """benchmarks/seqlock_bench.py --quick runs and prints its ratios."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "seqlock_bench.py"), "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "ratio to Lock" in proc.stdout and "ratio to 0 writers" in proc.stdout
