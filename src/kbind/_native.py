"""The compiled C core, imported in one place with a clear error if missing.

Every kbind module gets ``ffi`` and ``lib`` from here.  ``lib`` exposes the
functions and constants declared in csrc/kbind_api.h; cffi releases the GIL
around every call into it.
"""

from __future__ import annotations

try:
    from kbind._ffi import ffi, lib
except ImportError as exc:  # pragma: no cover - exercised by tests/test_build.py in a subprocess
    raise ImportError(
        "kbind's C core (the extension module kbind._ffi) is not built or cannot be loaded: "
        f"{exc}.\n"
        "Install kbind so that the extension is compiled: `pip install .` (or `pip install -e .` "
        "in a checkout); this needs a C compiler (gcc) and the Python headers."
    ) from exc

__all__ = ["ffi", "lib"]
