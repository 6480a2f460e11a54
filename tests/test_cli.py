"""The kbind command, driven as a user would: in a subprocess."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import IO

import pytest

import kbind as kbind_package
from kbind.cli import StepResult, build_parser, format_tour_summary
from kbind.cli.report import JSON_KEYS
from kbind.rcu_backend import liburcu_available
from tests.support import child_env, child_pythonpath

ROOT = pathlib.Path(__file__).resolve().parents[1]
BACKEND_VARS = ("KBIND_RCU_BACKEND", "KBIND_LIBURCU_QSBR")


def kbind(
    *args: str, timeout: float = 300, prefix: tuple[str, ...] = (), **env: str
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kbind ARGS`` as a user would (``env`` added, backend variables unset)."""
    base = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "kbind", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**base, "PYTHONPATH": child_pythonpath(), **env},
    )


def _have_matplotlib() -> bool:
    """Whether matplotlib imports here (CI's second configuration hides it)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def assert_usage_error(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit status 2, nothing on stdout, and one clear line on stderr naming ``words``."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kbind") and "error:" in lines[0], lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert proc.stdout == ""


def announcement(stderr: IO[str]) -> str:
    """Read stderr lines past the warnings to the run's announcement (or the end)."""
    line = "warning"
    while line.startswith("warning"):
        line = stderr.readline()
    return line


one_cpu = pytest.mark.skipif(shutil.which("taskset") is None, reason="needs taskset (util-linux)")


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
    assert all(s[1] in ("ok", "skip") for s in steps), summary
    assert "LifetimeError" in proc.stdout or "was dropped" in proc.stdout


def test_cli_bad_arguments_exit_2_with_one_line_error() -> None:
    """Unknown commands and options give a one-line usage error and exit status 2."""
    for args in (("frobnicate",), ("tour", "--no-such-option"), ()):
        assert_usage_error(kbind(*args))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("litmus", "SB", "--max-seconds", "0"), ("--max-seconds", "(0, 3600]")),
        (("litmus", "SB", "--max-seconds", "99999"), ("--max-seconds",)),
        (("litmus", "SB", "--max-seconds", "nan"), ("--max-seconds",)),
        (("litmus", "SB", "--iterations", "100000000000"), ("--iterations",)),
        (("litmus", "SB", "--iterations", "0"), ("--iterations",)),
        (("litmus", "NOPE"), ("'NOPE'", "SB")),
        (("litmus", "2+2W", "--variant", "wmb-rmb"), ("2+2W", "wmb-rmb", "nothing to test")),
        (("litmus", "SB", "--variant", "plain"), ("'plain'", "once")),
        (("litmus", "SB", "--plot", "/nonexistent/x.png"), ("--plot", "/nonexistent")),
        (("trace", "--png", "/nonexistent/x.png"), ("--png", "/nonexistent")),
        (("torture", "seqlock", "--readers", "0"), ("--readers",)),
        (("torture", "seqlock", "--updaters", "0"), ("--updaters",)),
        (("torture", "atomic", "--readers", "40", "--updaters", "40"), ("80 threads",)),
        (("torture", "seqlock", "--busted", "no-wait"), ("reader-no-retry",)),
        (("torture", "rcu", "--plot", "x.png"), ("--plot",)),
        (("explain", "NoSuchError"), ("NoSuchError",)),
    ],
)
def test_cli_bad_usage_exits_2_before_any_work(
    args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """Out-of-range values, empty selections and unwritable pictures: one line, exit 2, no run."""
    if "/nonexistent" in words and not _have_matplotlib():
        # without matplotlib the picture is refused first, with the install hint
        words = (words[0], "pip install 'kbind[plot]'")
    proc = kbind(*args, timeout=60)
    assert_usage_error(proc, *words)
    assert "running" not in proc.stderr  # refused before the test started


def test_cli_bad_backend_fails_only_commands_that_use_rcu() -> None:
    """KBIND_RCU_BACKEND=bogus: seqlock and litmus run; rcu torture, trace, tour exit 2."""
    ok = kbind("torture", "seqlock", "--duration", "0.1", KBIND_RCU_BACKEND="bogus")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "SUCCESS" in ok.stdout
    lit = kbind("litmus", "MP", "--variant", "mb", "--iterations", "100", KBIND_RCU_BACKEND="bogus")
    assert lit.returncode == 0, lit.stdout + lit.stderr
    for args in (("torture", "rcu", "--duration", "0.1"), ("trace",), ("tour",)):
        bad = kbind(*args, KBIND_RCU_BACKEND="bogus")
        assert_usage_error(bad, "KBIND_RCU_BACKEND='bogus'", "'builtin'", "'liburcu'")


def test_cli_unloadable_backend_is_one_line_with_the_install_hint() -> None:
    """KBIND_RCU_BACKEND=liburcu with a library that cannot load: exit 2, one line, apt hint."""
    env = {"KBIND_RCU_BACKEND": "liburcu", "KBIND_LIBURCU_QSBR": "liburcu-qsbr-missing.so.99"}
    bad = kbind("torture", "rcu", "--duration", "0.1", **env)
    assert_usage_error(bad, "liburcu-qsbr-missing.so.99", "apt-get install liburcu8")
    ok = kbind("torture", "atomic", "--duration", "0.1", **env)
    assert ok.returncode == 0, ok.stdout + ok.stderr


@pytest.mark.skipif(not liburcu_available(), reason="liburcu is not installed")
def test_cli_rcu_busted_early_cb_on_liburcu_is_refused_in_one_line() -> None:
    """early-cb exists only on the builtin backend: over liburcu it is a usage error."""
    proc = kbind("torture", "rcu", "--busted", "early-cb", KBIND_RCU_BACKEND="liburcu")
    assert_usage_error(proc, "early-cb", "builtin")


def test_cli_version_prints_the_package_version() -> None:
    """`kbind --version` prints ``kbind VERSION`` and exits 0."""
    proc = kbind("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"kbind {kbind_package.__version__}"


def test_cli_explain_without_a_name_lists_and_exits_0() -> None:
    """`kbind explain` with no name lists the errors and warnings, like --list, and exits 0."""
    proc = kbind("explain")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == kbind("explain", "--list").stdout
    assert "LifetimeError" in proc.stdout


def test_cli_help_lists_variants_without_stray_brackets() -> None:
    """--help names every busted and litmus variant and shows no ``[]`` choice."""
    torture = kbind("torture", "--help", COLUMNS="1000").stdout
    for variant in ("no-wait", "early-cb", "reader-no-retry", "writer-no-barrier", "torn-rmw"):
        assert variant in torture
    litmus_help = kbind("litmus", "--help", COLUMNS="1000").stdout
    assert "[]" not in litmus_help and "once" in litmus_help and "plain" not in litmus_help
    assert "--scale" in torture  # --plot there draws only the --scale curve


def json_commands() -> set[str]:
    """The subcommands that have a --json option."""
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {
        name
        for name, p in sub.choices.items()  # type: ignore[union-attr]
        if any("--json" in a.option_strings for a in p._actions)
    }


JSON_CASES = {
    "litmus": ("litmus", "SB", "--variant", "mb", "--iterations", "200", "--json"),
    "torture": ("torture", "atomic", "--duration", "0.1", "--json"),
    "compare": ("compare", "--row", "R05", "--design", "rcu", "--json"),
    "stress": ("stress", "--duration", "0.02", "--json"),
}


def test_cli_every_json_report_has_the_same_top_level_shape() -> None:
    """Each --json command prints command, arguments, machine, duration, interrupted, result."""
    assert json_commands() == set(JSON_CASES)
    for name, args in JSON_CASES.items():
        proc = kbind(*args)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        data = json.loads(proc.stdout)
        assert tuple(data) == JSON_KEYS
        assert data["command"] == name
        assert set(data["machine"]) == {"cpus", "arch", "backend"}
        assert data["machine"]["cpus"] == len(os.sched_getaffinity(0))
        assert data["machine"]["backend"] == "builtin"
        assert data["interrupted"] is False
        assert isinstance(data["duration"], float) and data["duration"] >= 0
        assert data["arguments"]["json"] is True
        assert isinstance(data["result"]["warnings"], list)


def test_cli_torture_real_passes_and_busted_fails() -> None:
    """`kbind torture` exits 0 for the real primitives and 1 when a busted variant is caught."""
    ok = kbind("torture", "atomic", "--duration", "0.3")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "End of test: SUCCESS" in ok.stdout
    bad = kbind("torture", "seqlock", "--duration", "0.3", "--busted", "reader-no-retry")
    assert bad.returncode == 1, bad.stdout + bad.stderr


def test_cli_torture_json_is_machine_readable() -> None:
    """--json prints one JSON object with the counts and the verdict."""
    proc = kbind("torture", "atomic", "--duration", "0.2", "--json")
    data = json.loads(proc.stdout)["result"]
    assert data["kind"] == "atomic" and data["passed"] is True
    assert data["counter"] == data["increments"] > 0
    assert data["threads"] == 3
    assert data["threads_exceed_cpus"] is (len(os.sched_getaffinity(0)) < 3)


def test_cli_torture_json_spells_busted_variants_as_the_command_line() -> None:
    """`--busted no-wait` is ``no-wait`` in the JSON and the text report, never ``no_wait``."""
    proc = kbind("torture", "rcu", "--duration", "0.2", "--busted", "no-wait", "--json")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["result"]["busted"] == "no-wait"
    text = kbind("torture", "rcu", "--duration", "0.2", "--busted", "no-wait")
    assert "busted-no-wait" in text.stdout and "no_wait" not in text.stdout


def test_cli_torture_that_did_little_says_so() -> None:
    """A real torture run with under 100 grace periods warns that it is too little to trust."""
    proc = kbind("torture", "rcu", "--duration", "0.001", "--readers", "1", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["result"]
    warned = [w for w in result["warnings"] if "grace periods" in w]
    assert bool(warned) == (result["grace_periods"] < 100), result
    if warned:
        assert "too little to trust" in proc.stderr


def test_cli_torture_little_names_the_short_counts() -> None:
    """Each torture kind names the counts under 100 and nothing when all are enough."""
    from kbind.cli import TORTURES
    from kbind.torture.seqlock import seqlock_torture

    result = seqlock_torture(readers=1, writers=1, duration=0.05, max_reads=10)
    assert result.successful_reads <= 10
    assert f"{result.successful_reads} checked reads" in TORTURES["seqlock"].little(result)
    assert TORTURES["seqlock"].little(seqlock_torture(duration=0.2)) == ""


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
        env=child_env(),
    )  # fmt: skip
    assert proc.stderr is not None
    assert "Ctrl-C stops" in announcement(proc.stderr)  # printed just before the run starts
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, out + err
    assert "interrupted: partial report follows" in out
    assert "(stopped early)" in out


def png_size(path: pathlib.Path) -> tuple[int, int]:
    """Return a PNG file's (width, height) from its IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_cli_plot_writes_a_png_and_says_so(tmp_path: pathlib.Path) -> None:
    """`litmus --plot` writes a PNG of a sane size and prints ``wrote FILE``."""
    pytest.importorskip("matplotlib")
    path = tmp_path / "t.png"
    proc = kbind("litmus", "SB", "MP", "IRIW", "--iterations", "500", "--plot", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"wrote {path}" in proc.stdout.splitlines()
    width, height = png_size(path)
    assert 600 <= width <= 2000 and 300 <= height <= 2000, (width, height)


def test_cli_plot_with_json_keeps_stdout_json(tmp_path: pathlib.Path) -> None:
    """With --json, ``wrote FILE`` goes to stderr so stdout stays one JSON document."""
    pytest.importorskip("matplotlib")
    path = tmp_path / "t.png"
    proc = kbind("litmus", "SB", "--iterations", "200", "--json", "--plot", str(path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["command"] == "litmus"
    assert f"wrote {path}" in proc.stderr
    assert path.exists()


def test_plot_litmus_draws_every_count_axis_labels_and_legend() -> None:
    """One panel per test, a label per variant (zero counts too), axis labels and a legend."""
    pytest.importorskip("matplotlib")
    from kbind import litmus
    from kbind.plot import litmus_figure, require

    results = [litmus.run("SB", v, 300) for v in ("once", "mb")] + [litmus.run("MP", "mb", 300)]
    fig = litmus_figure(results)
    try:
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert [ax.get_title().split(":")[0] for ax in panels] == ["SB", "MP"]
        texts = [t.get_text() for ax in panels for t in ax.texts]
        assert "0 of 300: never observed" in texts  # a zero count is drawn
        assert sum("of 300:" in t for t in texts) == 3
        assert all(ax.get_xlabel().startswith("runs ending in exists") for ax in panels)
        labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
        assert any("forbids" in t for t in labels) and any("allows" in t for t in labels)
    finally:
        require().close(fig)
    with pytest.raises(ValueError, match="no litmus results"):
        litmus_figure([])


def test_cli_plot_without_matplotlib_says_how_to_install() -> None:
    """Without matplotlib, --plot is refused up front with the install command."""
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from kbind.cli import main\n"
        "sys.exit(main(['litmus', 'SB', '--iterations', '10', '--plot', 'x.png']))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
        env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "pip install 'kbind[plot]'" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr
    assert proc.stdout == ""  # refused before running


def test_tour_summary_shows_a_skipped_step_as_skip() -> None:
    """A skipped step reads ``skip`` in the table and the last line says it tested nothing."""
    text = format_tour_summary(
        [("atomics", StepResult(True, "fine"), 0.1),
         ("litmus", StepResult(True, "skipped: one CPU", skipped=True), 0.0)]
    )  # fmt: skip
    rows = {line.split()[0]: line.split()[1] for line in text.splitlines() if line.startswith("  ")}
    assert rows == {"atomics": "ok", "litmus": "skip"}
    assert "all steps behaved" not in text
    assert text.splitlines()[-1] == "all steps run behaved; skipped (nothing tested): litmus"
    failed = format_tour_summary([("locks", StepResult(False, "broken"), 0.1)])
    assert failed.splitlines()[-1] == "FAILED: locks"


@one_cpu
def test_cli_tour_on_one_cpu_skips_litmus_visibly() -> None:
    """`taskset -c 0 kbind tour`: the litmus step shows as skip, never as ok."""
    proc = kbind("tour", prefix=("taskset", "-c", "0"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = [line.split() for line in proc.stdout.split("\nsummary\n", 1)[1].splitlines()]
    assert next(r[:2] for r in rows if r and r[0] == "litmus") == ["litmus", "skip"]
    assert "skipped (nothing tested): litmus" in proc.stdout


@one_cpu
def test_cli_litmus_on_one_cpu_warns_and_json_says_so() -> None:
    """`taskset -c 0 kbind litmus SB`: a warning on stderr, threads_exceed_cpus in the JSON."""
    proc = kbind("litmus", "SB", "--variant", "once", "--iterations", "300", "--json",
                 prefix=("taskset", "-c", "0"))  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "means little" in proc.stderr
    data = json.loads(proc.stdout)
    assert data["machine"]["cpus"] == 1
    (run,) = data["result"]["runs"]
    assert run["threads"] == 2 and run["threads_exceed_cpus"] is True
    assert any("means little" in w for w in data["result"]["warnings"])
    if run["exists_count"] == 0:
        assert "means little" in run["note"]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) >= 4, reason="IRIW fits on 4 or more CPUs")
def test_cli_litmus_iriw_on_few_cpus_warns() -> None:
    """IRIW (4 threads) on fewer than 4 CPUs warns that 'not observed' means little."""
    proc = kbind("litmus", "IRIW", "--variant", "mb", "--iterations", "100")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "IRIW+fencembonceonces+OnceOnce runs 4 threads" in proc.stderr
        and "means little" in proc.stderr
    )


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
        env=child_env(),
    )  # fmt: skip
    assert proc.stderr is not None
    assert "Ctrl-C stops" in announcement(proc.stderr)  # printed once the run has started
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    assert "interrupted: the results above are partial" in out
    assert "SB+poonceonces  (SB once):" in out  # the interrupted run's counts so far
