"""Build the seqlock core and torture with ThreadSanitizer and Address/UB sanitizers and run it."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
SOURCES = [
    ROOT / "tests" / "native" / "seqlock_torture_main.c",
    CSRC / "seqlock.c",
    CSRC / "seqlock_torture.c",
    CSRC / "lock.c",
    CSRC / "futex.c",
]
CFLAGS = ["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror", f"-I{CSRC}", "-pthread"]

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")


def build_and_run(tmp_path: pathlib.Path, sanitize: str) -> subprocess.CompletedProcess[str]:
    exe = tmp_path / f"seqlock_torture_{sanitize.replace(',', '_')}"
    # GCC warns that TSan does not model atomic_thread_fence() (the generic
    # smp_rmb()/smp_wmb() under TSan).  Every racing access in the seqlock
    # is itself an __atomic access, so TSan has no plain access whose
    # ordering depends on a fence; the fences' effect is what the torture's
    # invariant checks.  Hence -Wno-tsan, for the TSan build only.
    extra = ["-Wno-tsan"] if sanitize == "thread" else []
    build = subprocess.run(
        ["gcc", *CFLAGS, *extra, f"-fsanitize={sanitize}", "-fno-omit-frame-pointer",
         *map(str, SOURCES), "-o", str(exe)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if build.returncode != 0 and "cannot find" in build.stderr and "san" in build.stderr:
        pytest.skip(f"sanitizer runtime for {sanitize} not installed: {build.stderr.strip()}")
    assert build.returncode == 0, build.stderr
    env = dict(
        os.environ,
        TSAN_OPTIONS="halt_on_error=1 exitcode=66",
        ASAN_OPTIONS="halt_on_error=1 detect_leaks=1",
        UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1",
    )
    return subprocess.run(
        [str(exe), "300"], capture_output=True, text=True, timeout=120, check=False, env=env
    )


def test_seqlock_torture_under_tsan_no_reports(tmp_path: pathlib.Path) -> None:
    """The real torture under ThreadSanitizer passes with no data-race report."""
    proc = build_and_run(tmp_path, "thread")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "WARNING: ThreadSanitizer" not in proc.stderr


def test_seqlock_torture_under_asan_ubsan_no_reports(tmp_path: pathlib.Path) -> None:
    """The real torture under AddressSanitizer and UBSan passes with no report."""
    proc = build_and_run(tmp_path, "address,undefined")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "runtime error" not in proc.stderr and "AddressSanitizer" not in proc.stderr
