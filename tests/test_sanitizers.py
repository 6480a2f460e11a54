"""Run the native torture drivers under ThreadSanitizer and AddressSanitizer+UBSan.

Each driver in tests/native/ is built with the whole C core (csrc/*.c, linked
directly, not through cffi) with one of gcc's sanitizers and run on a short
bound: the real primitives must pass, the busted variants the driver tries
must be caught, and the sanitizer must report nothing.  See docs/sanitizers.md.

gcc warns that TSan does not model ``atomic_thread_fence`` (the generic
arch's barriers, which csrc/engine/arch/barrier.h selects under TSan); every racing
access in kbind is itself an ``__atomic`` access TSan does model, so
``-Wno-tsan`` is passed for the TSan build only.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

from kbind.rcu_backend import liburcu_available
from tests.support import CSRC, core_sources

ROOT = pathlib.Path(__file__).resolve().parent.parent
NATIVE = ROOT / "tests" / "native"
BASE_FLAGS = ["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", "-fno-omit-frame-pointer"]
SANITIZERS = {
    "thread": (["-fsanitize=thread", "-Wno-tsan"], {"TSAN_OPTIONS": "halt_on_error=1:exitcode=66"}),
    "address,undefined": (
        ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
        {
            "ASAN_OPTIONS": "halt_on_error=1:detect_leaks=1:exitcode=66",
            "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        },
    ),
}
# driver (source, then a variant label) -> (arguments, text its stdout must contain)
DRIVERS = {
    "rcu_torture_main.c": (["200", "1"], "PASS (0 failures)"),
    "rcu_torture_main.c liburcu": (["200", "1", "liburcu"], "PASS (0 failures)"),
    "seqlock_torture_main.c": (["300"], ""),
    "atomic_torture_main.c": (["200"], "PASS (0 failures)"),
    "srcu_torture_main.c": (["200"], "PASS (0 failures)"),
    "rculist_torture_main.c": (["200"], "PASS (0 failures)"),
    "lock_torture_main.c": (["200"], "PASS (0 failures)"),
}

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def build(tmp_path: pathlib.Path, driver: str, flags: list[str]) -> pathlib.Path:
    source = driver.split()[0]
    exe = tmp_path / source.removesuffix(".c")
    sources = [str(p) for p in core_sources()] + [str(NATIVE / source)]
    r = subprocess.run(
        ["gcc", *BASE_FLAGS, *flags, f"-I{CSRC}", *sources, "-o", str(exe), "-pthread", "-ldl"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    if r.returncode != 0 and "cannot find" in r.stderr and "san" in r.stderr:
        pytest.skip(f"the sanitizer runtime is not installed: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    return exe


@pytest.mark.parametrize("driver", sorted(DRIVERS))
@pytest.mark.parametrize("sanitizer", sorted(SANITIZERS))
def test_native_torture_under_sanitizer_clean(
    sanitizer: str, driver: str, tmp_path: pathlib.Path
) -> None:
    """The native torture passes (and catches its busted variants) with no sanitizer report."""
    flags, env_extra = SANITIZERS[sanitizer]
    args, expected = DRIVERS[driver]
    if driver.endswith(" liburcu") and not liburcu_available():
        pytest.skip("liburcu is not installed (apt-get install liburcu8): its backend is not run")
    exe = build(tmp_path, driver, flags)
    r = subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, **env_extra},
    )  # fmt: skip
    out = r.stdout + r.stderr
    assert "ThreadSanitizer" not in out, out
    assert "AddressSanitizer" not in out and "LeakSanitizer" not in out, out
    assert "runtime error" not in out, out  # UBSan
    assert r.returncode == 0, out
    assert expected in r.stdout


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_hotpath_extension_under_asan_runs_misuse_tests(tmp_path: pathlib.Path) -> None:
    """kbind._bridge._hotpath built with ASan+UBSan survives the misuse and lifetime tests.

    A copy of the package gets an ASan-instrumented kbind._bridge._hotpath (the cffi
    engine stays as built); Python runs with libasan preloaded (the
    interpreter itself is not instrumented, so leak checking is off: CPython
    keeps objects until exit by design).  Any heap error, use after free or
    undefined behaviour in the extension aborts the run.
    """
    import sysconfig

    libasan = subprocess.run(
        ["gcc", "-print-file-name=libasan.so"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not os.path.isabs(libasan):
        pytest.skip("gcc has no libasan.so")
    import kbind._bridge._hotpath as built

    pkg = tmp_path / "kbind"
    shutil.copytree(ROOT / "src" / "kbind", pkg, ignore=shutil.ignore_patterns("_hotpath*.so"))
    out = pkg / pathlib.Path(built.__file__).resolve().relative_to(ROOT / "src" / "kbind")
    srcs = sorted(str(p) for p in (CSRC / "pyext").glob("*.c"))
    include = sysconfig.get_paths()["include"]
    build = subprocess.run(
        ["gcc", *BASE_FLAGS, "-fPIC", "-shared", "-fsanitize=address,undefined",
         "-fno-sanitize-recover=all", "-I", str(CSRC), "-I", str(CSRC / "pyext"), "-I", include,
         *srcs, "-o", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    env = {
        **os.environ,
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}",
        "LD_PRELOAD": libasan,
        "ASAN_OPTIONS": "detect_leaks=0:halt_on_error=1:exitcode=66",
        "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
        "KBIND_RCU_BACKEND": "builtin",
    }
    tests = ["tests/test_lifetime.py", "tests/test_misuse.py", "tests/test_guard_copying.py",
             "tests/test_thread_identity.py", "tests/test_hotpath_atomic.py",
             "tests/test_hotpath_srcu.py", "tests/test_kernel_srcu.py"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p",
         "no:randomly", *tests, "-k", "not liburcu"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    tail = (proc.stdout + proc.stderr)[-4000:]
    assert "_hotpath" not in tail or proc.returncode == 0, tail
    assert (
        str(tmp_path)
        in subprocess.run(
            [sys.executable, "-c", "import kbind._bridge._hotpath as h; print(h.__file__)"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        ).stdout
    ), "the instrumented copy was not the one imported"
    assert proc.returncode == 0, tail
    assert re.search(r"\b[1-9][0-9]+ passed", proc.stdout), tail
