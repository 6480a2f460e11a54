"""The C core on arm64: cross-compiled with -Werror, its barriers checked, its tests run under qemu.

kbind's arm64 barrier header (csrc/engine/arch/aarch64.h) is compiled only on
arm64, so on an x86-64 machine these tests build every C file with the
cross compiler and run the native self-test and the torture drivers under
qemu-user.  qemu runs the real arm64 instructions (LDAR/STLR, DMB), though
it does not reproduce the hardware's weak ordering, so the tortures here
check that the arm64 code runs correctly, not that they find reorderings.

Needs Debian's ``gcc-aarch64-linux-gnu`` and ``qemu-user`` (CI installs
both); without them the tests skip and say so.
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import subprocess

import pytest

from tests.support import CSRC, ROOT, core_sources

NATIVE = ROOT / "tests" / "native"
CC = "aarch64-linux-gnu-gcc"
QEMU = "qemu-aarch64"
SYSROOT = pathlib.Path("/usr/aarch64-linux-gnu")
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{CSRC}"]

needs_cross = pytest.mark.skipif(
    shutil.which(CC) is None,
    reason=f"{CC} is not installed (apt-get install gcc-aarch64-linux-gnu)",
)
needs_qemu = pytest.mark.skipif(
    shutil.which(QEMU) is None or shutil.which(CC) is None,
    reason=f"{QEMU} or {CC} is not installed (apt-get install qemu-user gcc-aarch64-linux-gnu)",
)

# driver -> (arguments, what its stdout must contain); the drivers also run
# their busted variants and fail unless each is caught.
DRIVERS = {
    "atomic_selftest": ([], "arch aarch64: ok"),
    "rcu_torture_main": (["200", "1"], "PASS (0 failures)"),
    "seqlock_torture_main": (["300"], " violations 0"),
    # 1 s, not 200 ms: emulated, the busted variants need more operations to be caught
    "atomic_torture_main": (["1000"], "PASS (0 failures)"),
    "rculist_torture_main": (["300"], "PASS (0 failures)"),
    "lock_torture_main": (["300"], "PASS (0 failures)"),
}


def _cross(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CC, *CFLAGS, *args], capture_output=True, text=True, timeout=300, check=False
    )


@needs_cross
@pytest.mark.parametrize("source", sorted(p.name for p in (CSRC / "pyext").glob("*.c")))
def test_aarch64_hotpath_extension_compiles_with_werror(
    source: str, tmp_path: pathlib.Path
) -> None:
    """Each csrc/pyext/*.c (kbind._bridge._hotpath) compiles for arm64 with -Wall -Wextra -Werror.

    With this interpreter's headers: pyconfig.h of x86-64 and arm64 Linux agree
    on every size the extension uses (both LP64).
    """
    import sysconfig

    include = sysconfig.get_paths()["include"]
    proc = _cross(["-fPIC", f"-I{CSRC / 'pyext'}", f"-I{include}", "-c",
                   str(CSRC / "pyext" / source), "-o", str(tmp_path / "x.o")])  # fmt: skip
    assert proc.returncode == 0, proc.stderr


@needs_cross
@pytest.mark.parametrize("source", core_sources(), ids=lambda p: p.relative_to(CSRC).as_posix())
def test_aarch64_every_c_file_compiles_with_werror(source: str, tmp_path: pathlib.Path) -> None:
    """Each csrc/*.c compiles for arm64 (the aarch64.h barriers) with -Wall -Wextra -Werror."""
    proc = _cross(["-c", str(source), "-o", str(tmp_path / "x.o")])
    assert proc.returncode == 0, proc.stderr


@needs_cross
def test_aarch64_barriers_are_the_kernel_instructions(tmp_path: pathlib.Path) -> None:
    """smp_mb/rmb/wmb are DMB ISH/ISHLD/ISHST; acquire/release are LDAR/STLR, as in the kernel."""
    proc = _cross(["-S", str(CSRC / "engine" / "barrier.c"), "-o", "-"])
    assert proc.returncode == 0, proc.stderr
    asm = proc.stdout
    for insn in (r"dmb\s+ish\b", r"dmb\s+ishld\b", r"dmb\s+ishst\b", r"ldar\s", r"stlr\s"):
        assert re.search(insn, asm), f"{insn} not in the arm64 code of csrc/engine/barrier.c"


@needs_qemu
@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_aarch64_native_tests_pass_under_qemu(driver: str, tmp_path: pathlib.Path) -> None:
    """The native self-test and each torture driver, built for arm64, pass under qemu-user."""
    exe = tmp_path / driver
    sources = [str(p) for p in core_sources()]
    build = _cross([*sources, str(NATIVE / f"{driver}.c"), "-o", str(exe), "-pthread", "-ldl"])
    assert build.returncode == 0, build.stderr
    args, expected = DRIVERS[driver]
    env = {**os.environ, "QEMU_LD_PREFIX": str(SYSROOT)}
    run = subprocess.run(
        [QEMU, str(exe), *args], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert expected in run.stdout, run.stdout
