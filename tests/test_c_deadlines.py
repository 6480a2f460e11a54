"""C waits with the largest timeout: deadlines saturate instead of overflowing.

``now + timeout`` for a timeout near INT64_MAX is a signed overflow (undefined
behaviour; in practice a deadline wrapped into the past).  The native driver
tests/native/deadline_main.c calls every bounded wait with INT64_MAX; built
with UBSan, any overflow in the deadline arithmetic fails the run.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

from tests.support import CSRC, ROOT, core_sources

FLAGS = ["-std=c11", "-g", "-O1", "-Wall", "-Wextra", "-Werror",
         "-fsanitize=undefined", "-fno-sanitize-recover=all"]  # fmt: skip


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_every_bounded_wait_with_int64_max_timeout_is_free_of_overflow(
    tmp_path: pathlib.Path,
) -> None:
    """Mutex, spinlock (contended), seqlock read, grace period and barrier waits: no overflow."""
    exe = tmp_path / "deadline_main"
    sources = [str(p) for p in core_sources()]
    build = subprocess.run(
        ["gcc", *FLAGS, f"-I{CSRC}", *sources, str(ROOT / "tests/native/deadline_main.c"),
         "-o", str(exe), "-pthread", "-ldl"],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if build.returncode != 0 and "cannot find" in build.stderr and "san" in build.stderr:
        pytest.skip(f"the UBSan runtime is not installed: {build.stderr.strip()}")
    assert build.returncode == 0, build.stderr
    run = subprocess.run(
        [str(exe)], capture_output=True, text=True, timeout=120, check=False,
        env={"UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"},
    )  # fmt: skip
    out = run.stdout + run.stderr
    assert "runtime error" not in out, out
    assert run.returncode == 0, out
    assert "PASS (0 failures)" in run.stdout
