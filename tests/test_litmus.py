"""Litmus files on this CPU: the translation of each primitive, the runner, the cache, the CLI."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest

from kbind import litmus
from kbind._bridge.native import ffi, lib
from kbind.barrier import arch
from kbind.litmus.cgen import translate
from tests.support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]

two_cpus = pytest.mark.skipif(
    litmus.usable_cpus() < 2, reason="litmus tests need two usable CPUs to show reorderings"
)
x86 = pytest.mark.skipif(arch() != "x86_64", reason="the expected outcomes are x86-64's (TSO)")

# Allowed outcomes are searched for up to this many instances, stopping at the first
# sighting; SB shows in 0.1-10 % of instances on the 2-CPU machines seen, so this is certain.
SEARCH = 10_000_000
SEARCH_SECONDS = 60.0


def one(body: str, params: str = "int *x, int *y", cond: str = "exists (x=1)", init: str = "{}"):
    return litmus.parse(f"C T\n{init}\nP0({params})\n{{\n{body}\n}}\n{cond}\n", "t.litmus")


# ------------------------------------------------------------------ translation

PRIMITIVES = [
    ("int r0; r0 = READ_ONCE(*x);", "KB_READ_ONCE(*KBL_SLOT(0))", None),
    ("WRITE_ONCE(*x, 1);", "KB_WRITE_ONCE(*KBL_SLOT(0), INT64_C(1));", None),
    ("int r0; r0 = *x;", "KB_READ_ONCE(*KBL_SLOT(0))", None),  # plain: marked in C (no UB)
    ("int r0; r0 = smp_load_acquire(x);", "kb_smp_load_acquire(KBL_SLOT(0))", None),
    ("smp_store_release(x, 1);", "kb_smp_store_release(KBL_SLOT(0), INT64_C(1));", None),
    ("rcu_assign_pointer(*x, y);", "kb_smp_store_release(KBL_SLOT(0), (int64_t)(intptr_t)KBL_SLOT(1));", None),
    ("int r0; r0 = rcu_dereference(*x);", "KB_READ_ONCE(*KBL_SLOT(0))", None),
    ("smp_mb();", "kb_smp_mb();", None),
    ("smp_rmb();", "kb_smp_rmb();", None),
    ("smp_wmb();", "kb_smp_wmb();", None),
    ("smp_mb__before_atomic();", "kb_smp_mb__before_atomic();", None),
    ("smp_mb__after_atomic();", "kb_smp_mb__after_atomic();", None),
    ("smp_mb__after_spinlock();", "kb_smp_mb__after_spinlock();", None),
    ("smp_mb__after_unlock_lock();", "kb_smp_mb__after_unlock_lock();", None),
    ("barrier();", "kb_barrier();", None),
    ("int r0; r0 = xchg(x, 2);", "kbl_fn_kb_atomic64_xchg((kb_atomic64_t *)(void *)KBL_SLOT(0), INT64_C(2))", "kb_atomic64_xchg"),
    ("int r0; r0 = cmpxchg_acquire(x, 0, 1);", "kbl_fn_kb_atomic64_cmpxchg_acquire(", "kb_atomic64_cmpxchg_acquire"),
    ("rcu_read_lock();", "kbl_fn_kb_rcu_read_lock();", "kb_rcu_read_lock"),
    ("rcu_read_unlock();", "kbl_fn_kb_rcu_read_unlock();", "kb_rcu_read_unlock"),
    ("synchronize_rcu();", "kbl_fn_kb_synchronize_rcu_timeout(KBL_WAIT_NS)", "kb_synchronize_rcu_timeout"),
]  # fmt: skip

ATOMICS = [
    ("atomic_inc(v);", "kbl_fn_kb_atomic_inc((kb_atomic_t *)(void *)KBL_SLOT(0))"),
    ("r0 = atomic_fetch_add_release(3, v);",
     "kbl_fn_kb_atomic_fetch_add_release((int32_t)(INT64_C(3)), (kb_atomic_t *)(void *)KBL_SLOT(0))"),
    ("r0 = atomic_cmpxchg_relaxed(v, 1, 2);",
     "kbl_fn_kb_atomic_cmpxchg_relaxed((kb_atomic_t *)(void *)KBL_SLOT(0), (int32_t)(INT64_C(1)), (int32_t)(INT64_C(2)))"),
    ("r0 = atomic_dec_and_test(v);", "kbl_fn_kb_atomic_dec_and_test((kb_atomic_t *)(void *)KBL_SLOT(0))"),
    ("r0 = atomic_read_acquire(v);", "kbl_fn_kb_atomic_read_acquire("),
    ("atomic_set(v, 4);", "kbl_fn_kb_atomic_set((kb_atomic_t *)(void *)KBL_SLOT(0), (int32_t)(INT64_C(4)));"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "c", "fn"), PRIMITIVES)
def test_each_primitive_maps_to_kbinds_c(body: str, c: str, fn: str | None) -> None:
    tr = translate(one(body))
    assert c in tr.source
    if fn is not None:
        assert fn in tr.functions and hasattr(lib, fn)


@pytest.mark.parametrize(("body", "c"), ATOMICS)
def test_atomic_t_operations_map_to_the_engines_functions(body: str, c: str) -> None:
    tr = translate(one(f"int r0;\n{body}", "atomic_t *v", "exists (v=1)"))
    assert c in tr.source
    assert all(hasattr(lib, f) for f in tr.functions)


def test_locks_and_srcu_map_to_the_engine() -> None:
    tr = translate(one("int r0; spin_lock(l); r0 = spin_trylock(l); spin_unlock(l); "
                       "r0 = spin_is_locked(l);", "spinlock_t *l, int *x"))  # fmt: skip
    for f in ("kb_spin_lock_timeout", "kb_spin_trylock", "kb_spin_unlock", "kb_spin_is_locked",
              "kb_spin_lock_init"):  # fmt: skip
        assert f in tr.functions
    tr = translate(one("int i; i = srcu_read_lock(s); srcu_read_unlock(s, i); synchronize_srcu(s);",
                       "struct srcu_struct *s, int *x"))  # fmt: skip
    assert "static kb_srcu_t kbl_srcu_s;" in tr.source
    for f in ("kb_srcu_read_lock", "kb_srcu_read_unlock", "kb_synchronize_srcu_timeout",
              "kb_srcu_init", "kb_cleanup_srcu_struct"):  # fmt: skip
        assert f in tr.functions and hasattr(lib, f)


def test_busted_barrier_compiles_full_fences_and_rmws_broken() -> None:
    t = one("smp_mb(); int r0; r0 = xchg(y, 1); smp_rmb();")
    good, bad = translate(t).source, translate(t, busted_barrier=True).source
    assert "kb_smp_mb();" in good and "kb_smp_mb();" not in bad
    assert "kb_atomic64_xchg" in good and "kb_atomic64_xchg" not in bad
    assert "kb_smp_rmb();" in bad  # only the full fences are broken


def test_a_compiler_barrier_follows_every_statement() -> None:
    src = translate(one("WRITE_ONCE(*x, 1);\nint r0;\nr0 = READ_ONCE(*y);")).source
    body = src[src.index("static void kbl_P0") :]
    assert body.count("kb_barrier();") == 2


# ------------------------------------------------------------------ running


@two_cpus
@x86
def test_sb_with_marked_accesses_only_is_observed_on_x86() -> None:
    r = litmus.run("SB", "once", SEARCH, until_observed=1, max_seconds=SEARCH_SECONDS)
    assert r.exists_count >= 1 and r.verdict == "observed", litmus.format_results([r])
    assert r.witnesses == {"0:r0=0; 1:r0=0"}
    assert sum(r.histogram.values()) == r.counted


NEVER = [p.stem for p in litmus.shipped() if litmus.parse_file(p).result == "Never"]


@two_cpus
@pytest.mark.parametrize("name", NEVER)
def test_forbidden_outcomes_are_never_observed(name: str) -> None:
    t = litmus.load(name)
    n = 20_000 if len(t.threads) == 2 else 1_000
    r = litmus.run_test(t, n, max_seconds=30)
    assert r.iterations > 0 and not r.error
    assert r.exists_count == 0 and r.verdict == "never observed", litmus.format_results([r])
    assert sum(r.histogram.values()) + r.lost == r.counted


def test_an_always_test_counts_every_outcome() -> None:
    r = litmus.run_file("RMW+atomicincreturns", 20_000)
    assert r.lkmm == "Always" and r.exists_count == r.counted == 20_000
    assert r.verdict == "always observed"
    assert (
        set(r.histogram)
        == {"0:r0=1; 1:r0=2; v=2", "0:r0=2; 1:r0=1; v=2"} & set(r.histogram)
        != set()
    )


def test_filter_leaves_outcomes_out_and_the_condition_is_judged_on_the_rest() -> None:
    r = litmus.run_file("CoRR+poonceonce+Once", 20_000)
    assert r.filtered + r.counted == r.iterations == 20_000
    assert all(label.startswith("1:r0=1") for label in r.histogram)
    assert r.exists_count == 0


@two_cpus
@x86
def test_busted_smp_mb_is_caught_as_forbidden() -> None:
    r = litmus.run("SB", "mb", SEARCH, until_observed=1, busted_barrier=True,
                   max_seconds=SEARCH_SECONDS)  # fmt: skip
    assert r.forbidden_observed and r.verdict == "FORBIDDEN BUT OBSERVED"
    assert "busted smp_mb" in litmus.format_results([r])


@two_cpus
@x86
def test_busted_fully_ordered_rmw_is_caught_as_forbidden() -> None:
    r = litmus.run("SB", "atomic", SEARCH, until_observed=1, busted_barrier=True,
                   max_seconds=SEARCH_SECONDS)  # fmt: skip
    assert r.forbidden_observed


@two_cpus
@x86
@pytest.mark.parametrize("name", ["MP", "LB", "S", "2+2W"])
def test_x86_tso_shows_no_reordering_but_store_to_load(name: str) -> None:
    r = litmus.run(name, "once", 20_000)
    assert r.exists_count == 0 and r.verdict == "not observed"
    assert "x86-64 is TSO" in r.note and r.note in litmus.format_results([r])


def test_the_c_condition_and_the_python_condition_agree() -> None:
    r = litmus.run("SB", "once", 50_000)
    assert r.lost == 0
    assert r.exists_count == sum(c for label, c in r.histogram.items() if label in r.witnesses)


def test_pointer_values_are_named_and_bad_pointers_stop_the_run() -> None:
    r = litmus.run_file("MP+onceassign+derefonce", 5_000)
    assert set(r.histogram) <= {"1:r0=a; 1:r1=0", "1:r0=b; 1:r1=1", "1:r0=b; 1:r1=0"}
    bad = one("int *r0; int r1; r0 = READ_ONCE(*x); r1 = READ_ONCE(*r0);", "int *x",
              "exists (0:r1=0)")  # fmt: skip
    res = litmus.run_test(bad, 1_000)
    assert "dereferenced a value that is no variable's address" in res.error
    assert res.iterations <= 1_000


def test_a_deadlocking_test_stops_with_an_error_instead_of_hanging() -> None:
    t = one("spin_lock(l);\nspin_lock(l);\nspin_unlock(l);", "spinlock_t *l, int *x")
    r = litmus.run_test(t, 10, size=1)
    assert "deadlocks" in r.error
    u = one("spin_unlock(l);", "spinlock_t *l, int *x")
    assert "not held" in litmus.run_test(u, 10).error


def test_the_harness_refuses_bad_arguments() -> None:
    res = ffi.new("kb_litmus_result_t *")
    keys = ffi.new("int64_t[]", 4)
    counts = ffi.new("int64_t[]", 4)
    cfg = ffi.new("kb_litmus_config_t *", {"instances": 1, "size": 1, "max_outcomes": 4})
    assert lib.kb_litmus_run(ffi.NULL, cfg, res, keys, counts) == lib.KB_EINVAL
    prog = ffi.new("kb_litmus_prog_t *", {"nthreads": 0})
    assert lib.kb_litmus_run(prog, cfg, res, keys, counts) == lib.KB_EINVAL
    t = litmus.load("SB+poonceonces")
    from kbind.litmus.native import compile_test

    good = ffi.cast("kb_litmus_prog_t *", compile_test(translate(t)).module.lib.kbl_prog())
    for bad in ({"instances": 0}, {"size": 0}, {"size": 100_001}, {"max_outcomes": 0},
                {"stop_matches": -1}):  # fmt: skip
        c = ffi.new("kb_litmus_config_t *", {"instances": 1, "size": 1, "max_outcomes": 4, **bad})
        assert lib.kb_litmus_run(good, c, res, keys, counts) == lib.KB_EINVAL, bad
    assert lib.kb_litmus_run(good, cfg, res, keys, counts) == lib.KB_OK
    assert res.instances == 1 and res.noutcomes == 1 and counts[0] == 1


def test_bad_run_arguments_raise_value_error() -> None:
    t = litmus.load("SB+poonceonces")
    for kwargs, words in (({"max_seconds": 0}, "max_seconds"), ({"size": 0}, "size"),
                          ({"until_observed": -1}, "until_observed"),
                          ({"busted_rcu": "nope"}, "busted_rcu")):  # fmt: skip
        with pytest.raises(ValueError, match=words):
            litmus.run_test(t, 10, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="iterations"):
        litmus.run_test(t, 0)
    with pytest.raises(ValueError, match="unknown litmus test 'NOPE'"):
        litmus.run("NOPE")
    with pytest.raises(ValueError, match="no variant 'plain'"):
        litmus.run("SB", "plain", 10)
    with pytest.raises(FileNotFoundError):
        litmus.load("no/such.litmus")


def test_tiny_max_seconds_is_a_bound_not_no_limit() -> None:
    r = litmus.run("SB", "once", 10**9, max_seconds=1e-10)
    assert r.iterations < 10**9 and r.elapsed < 5.0


# ------------------------------------------------------------------ the cache


def test_a_second_run_compiles_nothing(tmp_path: pathlib.Path) -> None:
    env = child_env(KBIND_CACHE_DIR=str(tmp_path))
    code = ("import json, kbind.litmus as l; r = l.run_file('SB+fencembonceonces', 100); "
            "print(json.dumps([r.cached, r.compile_seconds]))")  # fmt: skip

    def run() -> tuple[bool, float]:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=120, check=True).stdout  # fmt: skip
        cached, seconds = json.loads(out)
        return bool(cached), float(seconds)

    first = run()
    files = sorted(p.name for p in (tmp_path / "litmus").iterdir())
    second = run()
    assert first[0] is False and second[0] is True
    assert sorted(p.name for p in (tmp_path / "litmus").iterdir()) == files
    assert len([f for f in files if f.endswith(".so")]) == 1
    # a different source (the busted build) is another entry
    code_busted = code.replace("100)", "100, busted_barrier=True)")
    subprocess.run([sys.executable, "-c", code_busted], env=env, check=True, timeout=120,
                   capture_output=True)  # fmt: skip
    assert len(list((tmp_path / "litmus").glob("*.so"))) == 2


def test_in_one_process_a_test_is_loaded_once() -> None:
    litmus.run_file("S+poonceonces", 10)
    assert litmus.run_file("S+poonceonces", 10).cached


# ------------------------------------------------------------------ verdicts


def fake(lkmm: str | None, seen: int, counted: int = 100) -> litmus.LitmusResult:
    return litmus.LitmusResult(test="T", path="", lkmm=lkmm, condition="exists (x=1)",  # type: ignore[arg-type]
                               observables=("x",), histogram={}, witnesses=frozenset(),
                               exists_count=seen, iterations=counted, arch="x86_64")  # fmt: skip


@pytest.mark.parametrize(
    ("lkmm", "seen", "verdict", "forbidden"),
    [("Never", 0, "never observed", False), ("Never", 1, "FORBIDDEN BUT OBSERVED", True),
     ("Sometimes", 0, "not observed", False), ("Sometimes", 5, "observed", False),
     ("Always", 100, "always observed", False), ("Always", 99, "FORBIDDEN BUT OBSERVED", True),
     (None, 0, "not observed", False), (None, 3, "observed", False)],
)  # fmt: skip
def test_verdicts_against_the_files_result(
    lkmm: str | None, seen: int, verdict: str, forbidden: bool
) -> None:
    r = fake(lkmm, seen)
    assert r.verdict == verdict and r.forbidden_observed is forbidden
    assert r.as_dict()["verdict"] == verdict


# ------------------------------------------------------------------ the command line


def kbind_cli(*args: str, cwd: pathlib.Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kbind", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd, env=child_env())  # fmt: skip


BAD_FILE = "C Bad\n{}\nP0(int *x)\n{\n\twhile (1) { }\n}\nexists (x=1)\n"


def test_cli_runs_files_and_folders_and_reports_unsupported_ones(tmp_path: pathlib.Path) -> None:
    good = tmp_path / "sub" / "Good.litmus"
    good.parent.mkdir()
    good.write_text((litmus.corpus_dir() / "LB+poonceonces.litmus").read_text())
    (tmp_path / "Bad.litmus").write_text(BAD_FILE)
    proc = kbind_cli("litmus", str(tmp_path), "--iterations", "500")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "Bad.litmus" in line]
    assert errors == [f"kbind litmus: {tmp_path / 'Bad.litmus'}:5: unsupported construct 'while': "
                      "loops are not supported (a litmus test runs each process once, "
                      "straight through)"]  # fmt: skip
    assert "Traceback" not in proc.stderr
    assert "LB+poonceonces: exists (0:r0=1 /\\ 1:r0=1)" in proc.stdout
    assert ("summary: 2 files, parsed 1, run 1, unsupported 1, malformed 0, failed to run 0, "
            "observed 0, FORBIDDEN BUT OBSERVED 0") in proc.stdout  # fmt: skip
    one_file = kbind_cli("litmus", str(good), "--iterations", "500", "--json")
    assert one_file.returncode == 0, one_file.stderr
    report = json.loads(one_file.stdout)["result"]
    assert [r["test"] for r in report["runs"]] == ["LB+poonceonces"]
    assert report["runs"][0]["lkmm"] == "Sometimes" and report["errors"] == []
    bad = kbind_cli("litmus", str(tmp_path / "Bad.litmus"), "--json")
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["result"]["errors"][0]["kind"] == "unsupported"


def test_cli_pattern_names_and_shipped_names_still_work() -> None:
    proc = kbind_cli("litmus", "SB", "--iterations", "2000", "--json")
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(proc.stdout)["result"]["runs"]
    assert [r["variant"] for r in runs] == list(litmus.TESTS["SB"].files)
    assert {r["lkmm"] for r in runs} == {"Sometimes", "Never"}
    named = kbind_cli("litmus", "MP+pooncelocks", "--iterations", "200")
    assert named.returncode == 0 and "never observed" in named.stdout


def test_cli_bad_targets_exit_2_with_one_line() -> None:
    for args in (["litmus", "NOPE"], ["litmus", "SB", "--iterations", "many"],
                 ["litmus", "SB", "--busted-rcu", "nope"]):  # fmt: skip
        proc = kbind_cli(*args)
        assert proc.returncode == 2, args
        assert len(proc.stderr.splitlines()) == 1 and "Traceback" not in proc.stderr


@two_cpus
@x86
def test_cli_busted_barrier_exits_1() -> None:
    proc = kbind_cli("litmus", "SB", "--variant", "mb", "--busted-barrier", "--iterations",
                     str(SEARCH), "--until-observed", "1")  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FORBIDDEN BUT OBSERVED" in proc.stdout


def test_shipped_files_and_headers_are_found() -> None:
    from kbind.litmus.native import cache_dir, header_dir

    assert (header_dir() / "kbind_api.h").is_file()
    assert str(cache_dir()).startswith(os.environ["KBIND_CACHE_DIR"])
