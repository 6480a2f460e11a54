"""Build hook: the cffi module of the C core, and the hot-path CPython extension.

``kbind._bridge._ffi`` (cffi, from csrc/*.c) is the engine; ``kbind._bridge._hotpath``
(csrc/pyext/*.c, hand-written C-API code) holds the Python-facing hot-path
types and reaches the engine's functions through addresses the cffi module
hands it at import (no second copy of the engine).  See ARCHITECTURE.md.
"""

import pathlib
import sys

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "csrc"))
from build_ffi import CFLAGS  # noqa: E402  (the project's C flags, one definition)

HOTPATH_SOURCES = sorted(p.as_posix() for p in pathlib.Path("csrc/pyext").glob("*.c"))

#: The C headers a litmus test compiled at run time includes (kbind/litmus/native.py),
#: installed as kbind/litmus/include/ (an editable install reads csrc/ itself).
RUNTIME_HEADERS = ["kbind.h", "kbind_api.h", *(f"engine/arch/{h}" for h in
                   ("barrier.h", "x86_64.h", "aarch64.h", "generic.h"))]


class BuildPyWithHeaders(build_py):
    """build_py that also copies the run-time headers into the package."""

    def run(self) -> None:
        super().run()
        for name in RUNTIME_HEADERS:
            dest = pathlib.Path(self.build_lib, "kbind", "litmus", "include", name)
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(str(pathlib.Path("csrc", name)), str(dest))


setup(
    cmdclass={"build_py": BuildPyWithHeaders},
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
