"""The bridge between the C core and Python (private; its public face: lifetime, errors).

* ``_ffi`` -- the cffi module of the C core (csrc/engine/, csrc/tools/);
  blocking calls release the GIL.
* ``_hotpath`` -- the hand-written CPython extension (csrc/pyext/): the hot,
  non-blocking Python-facing types (scopes, references, guards, atomics,
  seqlock cores), calling the engine through addresses ``_ffi`` hands it.
* :mod:`.native` -- the one place that imports both and binds them together.
* :mod:`.site`, :mod:`.guard` -- call sites, thread tokens, owner checks.
* :mod:`.immutable`, :mod:`.interruptible`, :mod:`.tracing` -- the copy-out
  rules, Ctrl-C-friendly waits, and the hook protocol that tools implement.
"""

from __future__ import annotations

import types
from collections.abc import Iterable, Mapping


def present_as(package: str, namespace: Mapping[str, object], names: Iterable[str]) -> None:
    """Give each class and function in ``names`` the public path ``package`` as its ``__module__``.

    A primitive split into a package (``kbind.rcu``, ``kbind.seqlock``)
    re-exports its API from the package; this keeps what users see --
    reprs, pickling, ``help()``, error messages, the docs -- on the public
    path (``kbind.rcu.RcuReadGuard``), not on the file that defines it.
    """
    for name in names:
        obj = namespace[name]
        if isinstance(obj, (type, types.FunctionType)) and (
            obj.__module__ == package or obj.__module__.startswith(package + ".")
        ):
            obj.__module__ = package
