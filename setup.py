"""Build hook: the cffi module of the C core, and the hot-path CPython extension.

``kbind._bridge._ffi`` (cffi, from csrc/*.c) is the engine; ``kbind._bridge._hotpath``
(csrc/pyext/*.c, hand-written C-API code) holds the Python-facing hot-path
types and reaches the engine's functions through addresses the cffi module
hands it at import (no second copy of the engine).  See ARCHITECTURE.md.
"""

import pathlib
import sys

from setuptools import Extension, setup

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "csrc"))
from build_ffi import CFLAGS  # noqa: E402  (the project's C flags, one definition)

HOTPATH_SOURCES = sorted(p.as_posix() for p in pathlib.Path("csrc/pyext").glob("*.c"))

setup(
    cffi_modules=["csrc/build_ffi.py:ffibuilder"],
    ext_modules=[
        Extension(
            "kbind._bridge._hotpath",
            sources=HOTPATH_SOURCES,
            include_dirs=["csrc", "csrc/pyext"],
            depends=sorted(p.as_posix() for p in pathlib.Path("csrc").rglob("*.h")),
            extra_compile_args=CFLAGS,
        )
    ],
)
