"""Compile a translated litmus test at run time and run it on this CPU.

The C of :mod:`kbind.litmus.cgen` is compiled through cffi with kbind's
own headers (``-O2``) into a small extension module, cached under a hash of
everything that goes into it (the generated source, the headers, the flags,
the interpreter), so that a second run of the same test compiles nothing.
The module's processes then run in kbind's harness (csrc/tools/litmus.c,
``kb_litmus_run()``), which lives in the one engine module,
``kbind._bridge._ffi``: the compiled test reaches the engine's functions
through addresses bound when it is loaded, so RCU, SRCU and the locks in a
test are the engine's own.

Cache: ``$KBIND_CACHE_DIR/litmus`` if set, else ``$XDG_CACHE_HOME/kbind/litmus``,
else ``~/.cache/kbind/litmus``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from kbind._bridge.native import ffi, lib
from kbind.litmus.cgen import Translation

__all__ = ["CompiledTest", "NativeRun", "cache_dir", "compile_test", "header_dir", "run_compiled"]

#: Flags for the generated C: kbind's warnings as errors, GNU C11 (the
#: busted RMWs are statement expressions).
CFLAGS = ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-strict-aliasing",
          "-Wno-unused-function", "-Wno-unused-parameter"]  # fmt: skip

_CDEF = """
uintptr_t kbl_prog(void);
void kbl_bind(const uintptr_t *kbl_addrs);
int kbl_setup(void);
void kbl_teardown(void);
"""

_HEADERS = ("kbind.h", "kbind_api.h", "engine/arch/barrier.h", "engine/arch/x86_64.h",
            "engine/arch/aarch64.h", "engine/arch/generic.h")  # fmt: skip


def header_dir() -> Path:
    """Return the folder with kbind's C headers (installed with the package, or the source tree).

    Raises:
        FileNotFoundError: neither is there.
    """
    here = Path(__file__).resolve().parent
    for d in (here / "include", here.parents[2] / "csrc"):
        if (d / "kbind_api.h").is_file() and (d / "engine" / "arch" / "barrier.h").is_file():
            return d
    raise FileNotFoundError(
        "kbind's C headers are missing (kbind/litmus/include in the installed package): "
        "reinstall kbind"
    )


def cache_dir() -> Path:
    """Return the folder compiled tests are cached in (created when first used)."""
    if os.environ.get("KBIND_CACHE_DIR"):
        return Path(os.environ["KBIND_CACHE_DIR"]) / "litmus"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kbind" / "litmus"


def _key(source: str) -> str:
    h = hashlib.sha256()
    inc = header_dir()
    for part in (source, *CFLAGS, sys.implementation.cache_tag, platform.machine(), sys.version):
        h.update(part.encode())
        h.update(b"\0")
    for name in _HEADERS:
        h.update((inc / name).read_bytes())
    return h.hexdigest()[:24]


@dataclass
class CompiledTest:
    """A loaded compiled test.

    Attributes:
        module: the extension module (``ffi``, ``lib``).
        path: its file in the cache.
        cached: True when it was in the cache (nothing was compiled).
        compile_seconds: time spent compiling and loading (or only loading).
        translation: what was compiled.
    """

    module: Any
    path: Path
    cached: bool
    compile_seconds: float
    translation: Translation


_LOADED: dict[str, ModuleType] = {}


def compile_test(translation: Translation) -> CompiledTest:
    """Compile ``translation`` (or take it from the cache) and load it.

    Raises:
        RuntimeError: the C compiler failed (the message has its output).
    """
    t0 = time.perf_counter()
    key = _key(translation.source)
    name = f"_kbl_{key}"
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}{_suffix()}"
    cached = target.is_file()
    if name in _LOADED:
        return CompiledTest(_LOADED[name], target, True, time.perf_counter() - t0, translation)
    if not cached:
        _build(name, translation.source, target)
    spec = importlib.util.spec_from_file_location(name, target)
    if spec is None or spec.loader is None:  # pragma: no cover - a file we just wrote
        raise RuntimeError(f"cannot load the compiled litmus test {target}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    _bind(module, translation.functions)
    _LOADED[name] = module
    return CompiledTest(module, target, cached, time.perf_counter() - t0, translation)


def _suffix() -> str:
    import importlib.machinery

    return importlib.machinery.EXTENSION_SUFFIXES[0]


def _build(name: str, source: str, target: Path) -> None:
    from cffi import FFI  # type: ignore[import-untyped]

    builder = FFI()
    builder.cdef(_CDEF)
    builder.set_source(name, source, include_dirs=[str(header_dir())], extra_compile_args=CFLAGS)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=target.parent))
    try:
        import contextlib
        import io

        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                built = builder.compile(tmpdir=str(work), verbose=False)
        except Exception as exc:  # cffi raises distutils' CompileError and friends
            raise RuntimeError(
                f"compiling the litmus test failed: {exc}\n{out.getvalue()}"
            ) from exc
        os.replace(built, target)  # atomic: a concurrent run sees the old file or this one
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bind(module: Any, functions: list[str]) -> None:
    addrs = [int(ffi.cast("uintptr_t", ffi.addressof(lib, f))) for f in functions]
    module.lib.kbl_bind(module.ffi.new("uintptr_t[]", addrs or [0]))


@dataclass
class NativeRun:
    """The raw counts of one run of :func:`run_compiled`."""

    outcomes: list[tuple[tuple[int, ...], int]]
    instances: int
    matches: int
    filtered: int
    lost: int
    rounds: int
    elapsed: float
    threads: int
    cpus: int
    error: int


#: Distinct outcomes a run can count (more are counted as lost).
MAX_OUTCOMES = 1 << 14


def run_compiled(
    compiled: CompiledTest,
    *,
    instances: int,
    size: int,
    max_seconds: float,
    stop_matches: int = 0,
    pin: bool = True,
) -> NativeRun:
    """Run a compiled test in kbind's harness (GIL released) and return its counts.

    Raises:
        RuntimeError: the harness could not start (memory, threads), or an
            SRCU domain of the test could not be set up.
    """
    glib = compiled.module.lib
    if glib.kbl_setup() != 0:
        raise RuntimeError("could not set up the test's SRCU domains")
    try:
        prog = ffi.cast("kb_litmus_prog_t *", glib.kbl_prog())
        nobs = int(prog.nobs)
        cfg = ffi.new(
            "kb_litmus_config_t *",
            {
                "instances": instances,
                "size": size,
                "max_ns": max(1, int(max_seconds * 1e9)),
                "stop_matches": stop_matches,
                "max_outcomes": MAX_OUTCOMES,
                "pin": int(pin),
            },
        )
        res = ffi.new("kb_litmus_result_t *")
        keys = ffi.new("int64_t[]", MAX_OUTCOMES * nobs)
        counts = ffi.new("int64_t[]", MAX_OUTCOMES)
        rc = lib.kb_litmus_run(prog, cfg, res, keys, counts)
    finally:
        glib.kbl_teardown()
    if rc != lib.KB_OK:
        raise RuntimeError(f"the litmus harness failed to start (status {rc})")
    outcomes = [
        (tuple(int(keys[i * nobs + k]) for k in range(nobs)), int(counts[i]))
        for i in range(int(res.noutcomes))
    ]
    return NativeRun(outcomes, int(res.instances), int(res.matches), int(res.filtered),
                     int(res.lost), int(res.rounds), res.elapsed_ns / 1e9, int(res.nthreads),
                     int(res.cpus), int(res.error))  # fmt: skip
