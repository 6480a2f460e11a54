"""The kbind command, driven as a user would: in a subprocess."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def kbind(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kbind", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_cli_tour_succeeds_with_summary_table() -> None:
    """`kbind tour` runs every step, prints the summary and exits 0."""
    proc = kbind("tour", "--verbose")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "summary" in proc.stdout
    assert "all steps behaved" in proc.stdout
    summary = proc.stdout.split("\nsummary\n", 1)[1].splitlines()
    steps = [line.split() for line in summary if line.startswith("  ")]
    assert {s[0] for s in steps} >= {"rcu-torture", "seqlock-torture", "litmus", "rcu-guards"}
    assert "obtained under RcuReadGuard" in proc.stdout  # the caught misuse, with its message
    assert all(s[1] == "ok" for s in steps), summary
    assert "LifetimeError" in proc.stdout or "was dropped" in proc.stdout


def test_cli_bad_arguments_exit_2_with_one_line_error() -> None:
    """Unknown commands and options give a usage error and exit status 2."""
    for args in (("frobnicate",), ("tour", "--no-such-option"), ()):
        proc = kbind(*args)
        assert proc.returncode == 2, args
        assert "error:" in proc.stderr


def test_cli_torture_real_passes_and_busted_fails() -> None:
    """`kbind torture` exits 0 for the real primitives and 1 when a busted variant is caught."""
    ok = kbind("torture", "atomic", "--duration", "0.3")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "End of test: SUCCESS" in ok.stdout
    bad = kbind("torture", "seqlock", "--duration", "0.3", "--busted", "reader-no-retry")
    assert bad.returncode == 1, bad.stdout + bad.stderr


def test_cli_torture_json_is_machine_readable() -> None:
    """--json prints one JSON object with the counts and the verdict."""
    import json

    proc = kbind("torture", "atomic", "--duration", "0.2", "--json")
    data = json.loads(proc.stdout)
    assert data["torture"] == "atomic" and data["passed"] is True
    assert data["counter"] == data["increments"] > 0


def test_cli_torture_bad_arguments_exit_2() -> None:
    """Bad kinds, variants, durations and counts are one-line errors with exit status 2."""
    for args in (
        ("torture", "nothing"),
        ("torture", "seqlock", "--busted", "nope"),
        ("torture", "atomic", "--duration", "-1"),
        ("torture", "atomic", "--duration", "soon"),
        ("torture", "atomic", "--readers", "1000"),
    ):
        proc = kbind(*args)
        assert proc.returncode == 2, args
        assert "error" in proc.stderr
        assert "Traceback" not in proc.stderr


def test_cli_torture_ctrl_c_stops_with_partial_report() -> None:
    """SIGINT during a long run stops it promptly with a partial report and exit status 130."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "kbind", "torture", "atomic", "--duration", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stderr is not None
    line = proc.stderr.readline()  # printed just before the run starts
    assert "Ctrl-C stops" in line
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted: partial report follows" in out
    assert "(stopped early)" in out


def test_cli_plot_writes_png() -> None:
    """--plot draws a PNG of the results."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "t.png")
        proc = kbind("torture", "atomic", "--duration", "0.2", "--plot", path)
        assert proc.returncode == 0, proc.stderr
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_cli_plot_without_matplotlib_says_how_to_install() -> None:
    """Without matplotlib, --plot is refused up front with the install command."""
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from kbind.cli import main\n"
        "sys.exit(main(['litmus', 'SB', '--iterations', '10', '--plot', 'x.png']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "pip install 'kbind[plot]'" in proc.stderr


TORTURE_CASES = [
    ("rcu", None), ("rcu", "no-wait"), ("rcu", "reader"), ("rcu", "early-cb"),
    ("seqlock", None), ("seqlock", "reader-no-retry"), ("seqlock", "writer-no-increment"),
    ("seqlock", "writer-no-barrier"),
    ("atomic", None), ("atomic", "torn-rmw"), ("atomic", "early-publish"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "busted"), TORTURE_CASES)
def test_cli_torture_each_kind_passes_real_and_catches_each_busted(
    kind: str, busted: str | None
) -> None:
    """Every torture passes on the real primitive and exits 1 on each busted variant."""
    args = ["torture", kind, "--duration", "0.5"] + (["--busted", busted] if busted else [])
    proc = kbind(*args)
    expected = 0 if busted is None else 1
    assert proc.returncode == expected, proc.stdout + proc.stderr
    assert ("SUCCESS" if busted is None else "FAILURE") in proc.stdout


def test_cli_litmus_ctrl_c_keeps_partial_results() -> None:
    """SIGINT during a long litmus run stops it promptly, keeps what ran, exits 130."""
    import signal

    proc = subprocess.Popen(
        [sys.executable, "-m", "kbind", "litmus", "SB", "--iterations", "1000000000",
         "--max-seconds", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stderr is not None
    assert "Ctrl-C stops" in proc.stderr.readline()  # printed once the run has started
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "interrupted: the results above are partial" in out
    assert "SB:" in out and "once" in out  # the interrupted run's counts so far
