"""kbind litmus --model (and --model --run): verdicts, reasons, agreement, exit codes, the table.

Also the evaluator's rules that the command line shows best: a DATARACE
Result: (judged as the kernel's judgelitmus.sh judges it), control
dependencies that end with their if, values that justify themselves, and
the time bound.  Every test file here is written for kbind.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

from kbind import litmus
from kbind.barrier import arch
from kbind.cli.parser import main
from tests.support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]

two_cpus = pytest.mark.skipif(
    litmus.usable_cpus() < 2, reason="a hardware run needs two usable CPUs to show reorderings"
)
x86 = pytest.mark.skipif(arch() != "x86_64", reason="the expected outcomes are x86-64's (TSO)")


def kbind_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kbind", *args], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env=child_env())  # fmt: skip


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``kbind ARGS`` in this process; return (exit status, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


SB = """C {name}
(*
 * Result: {result}
 *)
{{}}

P0(int *x, int *y)
{{
	int r0;

	WRITE_ONCE(*x, 1);
	{fence}
	r0 = READ_ONCE(*y);
}}

P1(int *x, int *y)
{{
	int r0;

	WRITE_ONCE(*y, 1);
	{fence}
	r0 = READ_ONCE(*x);
}}

exists (0:r0=0 /\\ 1:r0=0)
"""


def sb(tmp: pathlib.Path, name: str, result: str, fence: str = "") -> pathlib.Path:
    p = tmp / f"{name}.litmus"
    p.write_text(SB.format(name=name, result=result, fence=fence))
    return p


def test_model_prints_verdict_states_and_the_cycle(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "litmus", "--model", "SB+fencembonceonces")
    assert code == 0
    assert "SB+fencembonceonces: model Never; Result: Never (agree)" in out
    assert "allowed states (3;" in out and "0:r0=1; 1:r0=1  [1]" in out
    assert "state 0:r0=0; 1:r0=0:" in out and "forbidden by propagation" in out
    assert out.count("--fre-->") == 2 and out.count("--strong fence (smp_mb())-->") == 2
    assert "back to P0 line 20: r0 = READ_ONCE(*y); reads y=0" in out


def test_a_disagreement_exits_1(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    wrong = sb(tmp_path, "SB+wrong", "Never")  # no fence: the LKMM allows 0/0
    right = sb(tmp_path, "SB+right", "Never", "smp_mb();")
    code, out, _ = cli(capsys, "litmus", "--model", str(wrong), str(right))
    assert code == 1
    assert "SB+wrong: model Sometimes; Result: Never (DISAGREE)" in out
    assert "SB+right: model Never; Result: Never (agree)" in out
    assert "judged 2: agree 1, DISAGREE 1, no Result 0" in out
    assert out.rstrip().endswith("DISAGREE with the file's Result: SB+wrong")


def test_no_result_agrees_and_unsupported_exits_2(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "NoResult.litmus"
    plain.write_text(SB.format(name="NoResult", result="", fence="").replace("Result: ", ""))
    code, out, err = cli(capsys, "litmus", "--model", str(plain))
    assert code == 0 and "(no Result)" in out and err == ""
    odd = tmp_path / "Odd.litmus"
    odd.write_text(
        "C Odd\n{}\nP0(atomic_t *v)\n{\n\tint r0;\n\n\tr0 = atomic_add_unless(v, 1, 0);\n}\n"
        "exists (0:r0=1)\n"
    )
    code, out, err = cli(capsys, "litmus", "--model", str(plain), str(odd))
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith(f"kbind litmus: {odd}:7: unsupported construct 'atomic_add_unless()'")
    assert "unsupported 1, malformed 0, too large 0" in out


def test_json_report(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "litmus", "--model", "--json", "MP+pooncerelease+poacquireonce")
    assert code == 0
    result = json.loads(out)["result"]
    (m,) = result["models"]
    assert m["verdict"] == "Never" and m["agreement"] == "agree"
    assert {s["state"] for s in m["states"]} == {"1:r0=0; 1:r1=0", "1:r0=0; 1:r1=1",
                                                 "1:r0=1; 1:r1=1"}  # fmt: skip
    (f,) = m["forbidden"]
    assert f["state"] == "1:r0=1; 1:r1=0" and f["axiom"] == "happens-before"
    assert result["summary"]["agree"] == 1 and result["disagree"] == []


def test_options_that_need_a_run_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(capsys, "litmus", "--run", "SB+poonceonces")
    assert code == 2 and err.strip() == (
        "kbind litmus: error: --run goes with --model "
        "(a plain `kbind litmus` already runs the tests)"
    )
    code, _, err = cli(capsys, "litmus", "--model", "--busted-barrier", "--iterations", "5", "SB")
    assert code == 2
    assert err.strip().endswith("--iterations, --busted-barrier: only a hardware run reads this; "
                                "add --run")  # fmt: skip


def test_too_large_for_the_bound_exits_2(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Five processes around one cmpxchg lock: millions of coherence orders of the lock word.
    procs = "".join(
        f"P{i}(int *sl, int *a{i}, int *a{(i + 1) % 5})\n{{\n\tint r1;\n\tint r2;\n\n"
        f"\tr2 = cmpxchg_acquire(sl, 0, 1);\n\tWRITE_ONCE(*a{i}, 1);\n"
        f"\tr1 = READ_ONCE(*a{(i + 1) % 5});\n\tsmp_store_release(sl, 0);\n}}\n\n"
        for i in range(5)
    )
    big = tmp_path / "Big.litmus"
    big.write_text("C Big\n{}\n\n" + procs + "exists (0:r1=0 /\\ 1:r1=0)\n")
    code, out, err = cli(capsys, "litmus", "--model", "--max-seconds", "0.3", str(big))
    assert code == 2
    assert "Big: the model gave up after 0.3 s" in err and "too large" in err
    assert len(err.splitlines()) == 1 and "model" not in out


@two_cpus
def test_model_and_run_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "litmus", "--model", "--run", "--iterations", "20000",
                       "SB+poonceonces", "MP+pooncerelease+poacquireonce")  # fmt: skip
    assert code == 0, out
    header = next(line for line in out.splitlines() if line.startswith("test "))
    assert "final states" in header and "forbidden by the model but seen on this CPU" in header
    rows = [line for line in out.splitlines()
            if line.startswith(("SB+poonce", "MP+poonce")) and ": model" not in line]  # fmt: skip
    assert len(rows) == 2 and all(line.rstrip().endswith("-") for line in rows)
    assert "run on this CPU 2, FORBIDDEN BY THE MODEL BUT SEEN 0" in out


@two_cpus
@x86
def test_model_and_run_flags_what_the_model_forbids() -> None:
    """A broken smp_mb() shows SB's 0/0 state, which the model forbids: exit 1."""
    proc = kbind_cli("litmus", "--model", "--run", "--busted-barrier", "--iterations",
                     "10000000", "--until-observed", "1", "--max-seconds", "60",
                     "SB+fencembonceonces", "--json")  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(proc.stdout)["result"]
    (row,) = result["table"]
    assert row["model"] == "Never" and row["agreement"] == "agree"
    assert set(row["forbidden_by_model_but_seen"]) == {"0:r0=0; 1:r0=0"}
    assert result["forbidden_by_model_but_seen"] == ["SB+fencembonceonces"]


# ------------------------------------------------------------------ the evaluator's rules


def model_of(tmp: pathlib.Path, text: str) -> litmus.ModelResult:
    p = tmp / "t.litmus"
    p.write_text(text)
    return litmus.model(p)


RACE = """C Race
(*
 * Result: Sometimes{flag}
 *)
{{}}

P0(int *x)
{{
	*x = 1;
}}

P1(int *x)
{{
	int r0;

	r0 = *x;
}}

exists (1:r0=1)
"""


def test_datarace_result_is_judged_by_the_flag(tmp_path: pathlib.Path) -> None:
    """``Result: ... DATARACE``: the race flag must be raised; then the verdict is not judged."""
    r = model_of(tmp_path, RACE.format(flag=" DATARACE"))
    assert "data-race" in r.flags and r.expected_data_race
    assert r.agreement == "agree"
    r = model_of(tmp_path, RACE.format(flag=""))
    assert r.agreement == "DISAGREE"  # a race the file did not announce
    marked = RACE.format(flag=" DATARACE").replace("*x = 1", "WRITE_ONCE(*x, 1)")
    r = model_of(tmp_path, marked.replace("r0 = *x", "r0 = READ_ONCE(*x)"))
    assert "data-race" not in r.flags and r.agreement == "DISAGREE"  # announced, not there


CTRL = """C LB+ctrl{where}
{{}}

P0(int *x, int *y)
{{
	int r0;

	r0 = READ_ONCE(*x);
	if (r0) {{
		{inside}
	}}
	{after}
}}

P1(int *x, int *y)
{{
	int r0;

	r0 = READ_ONCE(*y);
	smp_mb();
	WRITE_ONCE(*x, 1);
}}

exists (0:r0=1 /\\ 1:r0=1)
"""


def test_a_control_dependency_ends_with_its_if(tmp_path: pathlib.Path) -> None:
    """A write inside the if is ordered after the read; one after the if is not."""
    r = model_of(tmp_path, CTRL.format(where="in", inside="WRITE_ONCE(*y, 1);", after=""))
    assert r.verdict == "Never"
    r = model_of(tmp_path, CTRL.format(where="after", inside="r0 = r0 + 0;",
                                       after="WRITE_ONCE(*y, 1);"))  # fmt: skip
    assert r.verdict == "Sometimes"


HIDDEN = """C LB+hiddendep
{}

P0(int *x, int *y)
{
	int r1;

	r1 = 1;
	if (READ_ONCE(*x) == 0)
		r1 = 0;
	WRITE_ONCE(*y, r1);
}

P1(int *x, int *y)
{
	int r2;

	r2 = READ_ONCE(*y);
	WRITE_ONCE(*x, r2);
}

exists (0:r1=1)
"""


def test_a_value_that_justifies_itself_is_a_candidate(tmp_path: pathlib.Path) -> None:
    """x=1 read, y=1 written, y=1 read, x=1 written: no write stores 1 unless a read saw it.

    P0 stores a constant (its dependency on the read of x is hidden in the if),
    so the LKMM allows the cycle, as herd7 finds by solving the values.
    """
    r = model_of(tmp_path, HIDDEN)
    assert r.verdict == "Sometimes"
    assert "0:r1=1" in r.allowed_labels()


FAULT = """C MP+fault
{}

P0(int *x, int *y)
{
	WRITE_ONCE(*x, 1);
	smp_store_release(y, 1);
}

P1(int *x, int *y, int **z)
{
	int r1;
	int *r2;
	int r3;

	r1 = READ_ONCE(*y);
	if (r1) {
		WRITE_ONCE(*z, x);
		r2 = READ_ONCE(*z);
		r3 = READ_ONCE(*r2);
	}
}

exists (1:r1=1 /\\ 1:r2=x /\\ 1:r3=0)
"""


def test_a_pointer_written_before_a_read_that_would_fault_is_still_a_value(
    tmp_path: pathlib.Path,
) -> None:
    """z holds x only once P1 stores it; the read of z that sees 0 would fault, the other not.

    The read of x is not ordered after the read of y (the store and load of z
    in between are rfi, which ppo does not include), so r3=0 is allowed.
    """
    r = model_of(tmp_path, FAULT)
    assert r.verdict == "Sometimes"
    assert "1:r1=1; 1:r2=x; 1:r3=0" in r.allowed_labels()


def test_more_processes_than_the_harness_runs(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Nine processes: the model judges them; the hardware harness (eight at most) refuses by name."""
    procs = "".join(f"P{i}(int *x{i})\n{{\n\tWRITE_ONCE(*x{i}, 1);\n}}\n\n" for i in range(9))
    nine = tmp_path / "Nine.litmus"
    nine.write_text("C Nine\n(*\n * Result: Always\n *)\n{}\n\n" + procs + "forall (x8=1)\n")
    r = litmus.model(nine)
    assert r.verdict == "Always" and r.agreement == "agree"
    with pytest.raises(litmus.LitmusUnsupportedError, match="9 processes on this CPU"):
        litmus.run_test(litmus.parse_file(nine), 10)
    code, out, err = cli(capsys, "litmus", "--model", "--run", str(nine))
    assert code == 2 and "Nine: model Always; Result: Always (agree)" in out
    assert "hardware harness runs at most 8" in err


def test_an_rcu_reason_names_the_grace_period_and_the_law(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = cli(capsys, "litmus", "--model", "RCU-SB+rscs+sync")
    assert code == 0 and "forbidden by rcu" in out
    assert "--rcu-fence (P1 line 36 synchronize_rcu() .. P0 line 25 rcu_read_lock())-->" in out
    assert "the fundamental law of RCU" in out


@pytest.mark.parametrize("name", [p.stem for p in litmus.shipped()])
def test_every_state_the_cpu_shows_is_one_the_model_allows(name: str) -> None:
    """The hardware and the model write states alike, and this CPU shows only allowed ones.

    A short run of each shipped test: every outcome it shows is, as written,
    a state the model allows (``locations`` included, in herd7's order).
    """
    test = litmus.load(name)
    allowed = litmus.model(test, reasons=False).allowed_labels()
    run = litmus.run_test(test, 2000, max_seconds=5)
    assert run.histogram and set(run.histogram) <= allowed, (set(run.histogram), allowed)
