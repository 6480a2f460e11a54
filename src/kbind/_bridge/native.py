"""The compiled C core, imported in one place with a clear error if missing.

Every kbind module gets ``ffi`` and ``lib`` (the engine, through cffi) and
``hot`` (the hot-path extension) from here.

* ``lib`` exposes the functions and constants declared in csrc/kbind_api.h;
  cffi releases the GIL around every call into it (what can wait goes there).
* ``hot`` is ``kbind._bridge._hotpath``, the hand-written CPython extension holding
  the Python-facing hot-path types; its calls never release the GIL.  It
  links no copy of the engine: here, once, it is given the address of each
  engine function it calls, taken from the cffi module.
"""

from __future__ import annotations

_HINT = (
    "Install kbind so that its extensions are compiled: `pip install .` (or `pip install -e .` "
    "in a checkout); this needs a C compiler (gcc) and the Python headers."
)

try:
    from kbind._bridge._ffi import ffi, lib
except ImportError as exc:  # pragma: no cover - exercised by tests/test_build.py in a subprocess
    raise ImportError(
        "kbind's C core (the extension module kbind._bridge._ffi) is not built or cannot be "
        "loaded: "
        f"{exc}.\n{_HINT}"
    ) from exc

try:
    from kbind._bridge import _hotpath as hot
except ImportError as exc:  # pragma: no cover - exercised by tests/test_build.py in a subprocess
    raise ImportError(
        "kbind's hot-path extension (the extension module kbind._bridge._hotpath) is not built or "
        f"cannot be loaded: {exc}.\n{_HINT}"
    ) from exc


def _bind() -> None:
    addresses = {
        name: int(ffi.cast("uintptr_t", ffi.addressof(lib, name)))
        for name in hot.engine_functions()
    }
    hot.bind_engine(addresses)


_bind()

__all__ = ["ffi", "hot", "lib"]
