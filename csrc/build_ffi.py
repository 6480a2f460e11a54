"""cffi build script: compiles the C core into the extension module ``kbind._bridge._ffi``.

Used by setup.py's ``cffi_modules``.  The C API is written once, in
csrc/kbind_api.h: that same file is passed verbatim to ``ffibuilder.cdef()``
and included by the C sources, so no prototype is typed twice.
"""

from __future__ import annotations

import pathlib

from cffi import FFI

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent

#: The folders of the C core, bottom up: the engine (barriers, atomics, locks,
#: the RCU engine and its backends, seqlocks) and the C that is a tool built
#: on it (the torture drivers, the litmus harness).  csrc/pyext/ is not here:
#: it is the hot-path extension, built by setup.py, linking none of the core.
CORE_PARTS = ("engine", "tools")


def core_sources() -> list[pathlib.Path]:
    """Return the C core's source files (absolute paths), engine first."""
    return [p for part in CORE_PARTS for p in sorted((HERE / part).glob("*.c"))]


#: The same sources relative to the project root (setuptools wants relative paths).
SOURCES = [p.relative_to(ROOT).as_posix() for p in core_sources()]

#: Flags the core must be clean under (the project's C standard).
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-fno-strict-aliasing"]


def api_header() -> str:
    """Return the text of csrc/kbind_api.h, the single C API declaration."""
    return (HERE / "kbind_api.h").read_text()


ffibuilder = FFI()
ffibuilder.cdef(api_header())
ffibuilder.set_source(
    "kbind._bridge._ffi",
    '#include "kbind.h"\n',
    sources=SOURCES,
    include_dirs=[str(HERE.relative_to(ROOT))],
    extra_compile_args=CFLAGS,
    # dl: liburcu is loaded at run time (csrc/engine/rcu_liburcu.c), never linked.
    libraries=["pthread", "dl"],
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
