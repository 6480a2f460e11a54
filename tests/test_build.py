"""Build hygiene: the header is the API, the C core is -Werror clean, the fallback arch works."""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys

import pytest
from pycparser import c_ast, c_parser

from kbind._bridge.native import lib
from tests.support import CSRC, child_env, core_sources

ROOT = pathlib.Path(__file__).resolve().parents[1]
HEADER = CSRC / "kbind_api.h"
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror"]

needs_gcc = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc not installed")

# Types the header uses from <stdint.h>/<stdbool.h>/<stddef.h>; pycparser needs them declared.
PRELUDE = """
typedef int int32_t; typedef long int64_t; typedef unsigned int uint32_t;
typedef unsigned long uint64_t; typedef unsigned long size_t; typedef long intptr_t;
typedef unsigned long uintptr_t; typedef _Bool bool; typedef long ssize_t;
typedef unsigned char uint8_t; typedef signed char int8_t; typedef short int16_t;
"""


def header_declarations() -> tuple[set[str], set[str]]:
    """Parse kbind_api.h as C: return (function names, KB_ constant names)."""
    text = HEADER.read_text()
    consts = set(re.findall(r"^#define\s+(KB_\w+)\s+\S+", text, flags=re.M))
    body = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    body = "\n".join(line for line in body.splitlines() if not line.startswith("#"))
    ast = c_parser.CParser().parse(PRELUDE + body)
    funcs = {
        node.name
        for node in ast.ext
        if isinstance(node, c_ast.Decl) and isinstance(node.type, c_ast.FuncDecl)
    }
    enums: set[str] = set()
    for node in ast.ext:
        for sub in node:
            if isinstance(sub, c_ast.Enum) and sub.values is not None:
                enums.update(e.name for e in sub.values.enumerators)
    return funcs, consts | enums


def test_compiled_module_exposes_exactly_the_header() -> None:
    """Every function and constant kbind_api.h declares is in the module, and nothing else."""
    funcs, consts = header_declarations()
    assert len(funcs) > 250
    exposed = set(dir(lib))
    assert exposed == funcs | consts


def test_generated_atomic_block_is_current() -> None:
    """The atomic prototypes in the header are exactly what csrc/gen_atomic_api.py generates."""
    sys.path.insert(0, str(CSRC))
    try:
        import gen_atomic_api
    finally:
        sys.path.remove(str(CSRC))
    assert gen_atomic_api.prototypes() in HEADER.read_text()
    assert gen_atomic_api.small_prototypes() in HEADER.read_text()


def test_header_has_only_what_cdef_accepts() -> None:
    """The header holds no #include/#if/inline bodies (cffi's cdef would reject them)."""
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    for line in text.splitlines():
        if line.startswith("#"):
            assert re.match(r"#define KB_\w+ -?\d+$", line), line
    assert "static" not in text and "inline" not in text and "__attribute__" not in text


@needs_gcc
@pytest.mark.parametrize("arch", ["native", "generic"])
def test_c_core_compiles_warning_free_with_werror(arch: str, tmp_path: pathlib.Path) -> None:
    """Every csrc/*.c compiles under -std=c11 -Wall -Wextra -Werror, for this arch and generic."""
    extra = ["-DKB_FORCE_GENERIC_ARCH"] if arch == "generic" else []
    for src in core_sources():
        proc = subprocess.run(
            ["gcc", *CFLAGS, *extra, "-I", str(CSRC), "-c", str(src), "-o", str(tmp_path / "x.o")],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 0, f"{src.name}:\n{proc.stderr}"


@needs_gcc
@pytest.mark.parametrize("arch", ["native", "generic"])
def test_native_selftest_passes_on_each_arch_header(arch: str, tmp_path: pathlib.Path) -> None:
    """The atomics and barriers are correct natively with the arch asm and with the fallback."""
    exe = tmp_path / "selftest"
    extra = ["-DKB_FORCE_GENERIC_ARCH"] if arch == "generic" else []
    sources = [str(p) for p in core_sources()]
    build = subprocess.run(
        ["gcc", *CFLAGS, *extra, "-I", str(CSRC), str(ROOT / "tests/native/atomic_selftest.c"),
         *sources, "-o", str(exe), "-lpthread"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    expected = "generic" if arch == "generic" else lib_arch()
    assert f"arch {expected}: ok" in run.stdout


def lib_arch() -> str:
    from kbind.barrier import arch

    return arch()


def test_import_without_extension_fails_with_clear_message() -> None:
    """If kbind._bridge._ffi cannot be imported, `import kbind` says how to build it."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'kbind._bridge._ffi':\n"
        "            raise ImportError('simulated: extension not built')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import kbind\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env=child_env(),
    )  # fmt: skip
    assert proc.returncode != 0
    assert "C core (the extension module kbind._bridge._ffi) is not built" in proc.stderr
    assert "pip install" in proc.stderr


def test_import_without_hotpath_extension_fails_with_clear_message() -> None:
    """If kbind._bridge._hotpath cannot be imported, importing kbind says so and how to build it."""
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'kbind._bridge._hotpath':\n"
        "            raise ImportError('simulated: extension not built')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import kbind\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
        env=child_env(),
    )  # fmt: skip
    assert proc.returncode != 0
    assert (
        "hot-path extension (the extension module kbind._bridge._hotpath) is not built"
        in proc.stderr
    )
    assert "pip install" in proc.stderr


def test_hotpath_sources_compile_clean_standalone(tmp_path: pathlib.Path) -> None:
    """Every csrc/pyext/*.c compiles under -std=c11 -Wall -Wextra -Werror (-O0 and -O2) alone."""
    import sysconfig

    include = sysconfig.get_paths()["include"]
    for opt in ("-O0", "-O2"):
        for src in sorted((CSRC / "pyext").glob("*.c")):
            proc = subprocess.run(
                ["gcc", *CFLAGS, opt, "-fPIC", "-I", str(CSRC), "-I", str(CSRC / "pyext"),
                 "-I", include, "-c", str(src), "-o", str(tmp_path / "x.o")],
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert proc.returncode == 0, f"{src.name} {opt}:\n{proc.stderr}"
