"""Run the native RCU torture driver under ThreadSanitizer and AddressSanitizer+UBSan.

Builds tests/native/rcu_torture_main.c with the C core (csrc/[a-z]*.c) linked in
directly, with gcc's sanitizers, and runs it on a short bound: the real engine
must pass in every reclamation mode, each busted engine must be caught, and the
sanitizers must report nothing.  See docs/sanitizers.md.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
DRIVER = ROOT / "tests" / "native" / "rcu_torture_main.c"
BASE_FLAGS = ["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", "-fno-omit-frame-pointer"]
# gcc warns that TSan does not model atomic_thread_fence (the generic arch's
# smp_mb()); kbind's shared data is ordered by __atomic accesses TSan does model.
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
DURATION_MS = "200"

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def _build(tmp_path: pathlib.Path, flags: list[str]) -> pathlib.Path:
    exe = tmp_path / "rcu_torture"
    sources = [str(p) for p in sorted(CSRC.glob("[a-z]*.c"))] + [str(DRIVER)]
    r = subprocess.run(
        ["gcc", *BASE_FLAGS, *flags, f"-I{CSRC}", *sources, "-o", str(exe), "-pthread"],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0 and "cannot find" in r.stderr and "libtsan" in r.stderr + r.stdout:
        pytest.skip("the sanitizer runtime is not installed")
    assert r.returncode == 0, r.stderr
    return exe


@pytest.mark.parametrize("sanitizer", sorted(SANITIZERS))
def test_rcu_torture_under_sanitizer_clean(sanitizer: str, tmp_path: pathlib.Path) -> None:
    """The native torture passes (and catches the busted engines) with no sanitizer report."""
    flags, env_extra = SANITIZERS[sanitizer]
    exe = _build(tmp_path, flags)
    env = {**os.environ, **env_extra}
    r = subprocess.run(
        [str(exe), DURATION_MS, "1"], capture_output=True, text=True, env=env, timeout=300
    )
    out = r.stdout + r.stderr
    assert "ThreadSanitizer" not in out, out
    assert "AddressSanitizer" not in out and "LeakSanitizer" not in out, out
    assert "runtime error" not in out, out  # UBSan
    assert r.returncode == 0, out
    assert "PASS (0 failures)" in r.stdout
    assert r.stdout.count("busted=none") == 3
