"""Choose the engine under kbind's RCU API: kbind's own, or liburcu's QSBR flavour.

kbind's RCU API (grace periods, call_rcu, QSBR states, stall reports) runs
over one of two backends, with the same semantics and the same errors:

* ``"builtin"`` (the default): kbind's own QSBR engine (csrc/engine/rcu.c); needs
  nothing installed.
* ``"liburcu"``: liburcu's QSBR flavour (urcu-qsbr, the library the Rust
  binding proposals would wrap), loaded at run time, so kbind builds and
  imports without it.  kbind adds what liburcu lacks: bounded waits, stall
  reports and the token channel (docs/backends.md lists every difference).

The backend is per process and chosen before first use: call
:func:`select_backend` early, or set ``KBIND_RCU_BACKEND=builtin|liburcu``
in the environment (read when this module is imported, which ``import
kbind`` does; an unknown or unloadable value makes that import fail, except
in the ``kbind`` command, which reports it only for the commands that use
RCU - see :func:`environment_error`).

Like liburcu's ``rcu_flavor_struct`` (one table of operations per flavour);
C: ``kb_rcu_set_backend()``, ``kb_rcu_get_backend()``, ``struct
kb_rcu_backend`` in csrc/engine/rcu_backend.h.
"""

from __future__ import annotations

import os
import sys
from typing import Final, Literal, get_args

from kbind._bridge.native import ffi, lib
from kbind.errors import BackendError, BackendUnavailableError

__all__ = [
    "BACKENDS",
    "ENV_VAR",
    "Backend",
    "current_backend",
    "environment_error",
    "liburcu_available",
    "select_backend",
]

Backend = Literal["builtin", "liburcu"]

#: Backend name -> its number in C (``KB_RCU_BACKEND_*``).
BACKENDS: Final[dict[str, int]] = {
    "builtin": lib.KB_RCU_BACKEND_BUILTIN,
    "liburcu": lib.KB_RCU_BACKEND_LIBURCU,
}

#: The environment variable read at import: ``builtin`` or ``liburcu``.
ENV_VAR: Final = "KBIND_RCU_BACKEND"

assert set(get_args(Backend)) == set(BACKENDS)


def _check_name(name: object) -> str:
    if not isinstance(name, str):
        raise TypeError(f"the RCU backend must be a str, not {type(name).__name__}")
    if name not in BACKENDS:
        raise ValueError(f"unknown RCU backend {name!r}: choose one of {sorted(BACKENDS)}")
    return name


def current_backend() -> Backend:
    """Return the name of the RCU backend in use.

    C: ``kb_rcu_get_backend()``.

    Examples:
        >>> current_backend() in ("builtin", "liburcu")
        True
    """
    name: str = ffi.string(lib.kb_rcu_backend_name(lib.kb_rcu_get_backend())).decode()
    if name == "liburcu":
        return "liburcu"
    assert name == "builtin", name
    return "builtin"


def select_backend(name: Backend) -> None:
    """Run kbind's RCU API over backend ``name`` from now on.

    Selecting the backend already in use always succeeds.  Otherwise it
    must happen before the RCU engine is first used (a thread registered, a
    grace period waited for or a cookie taken, a callback queued).

    Args:
        name: ``"builtin"`` or ``"liburcu"``.

    Raises:
        TypeError: ``name`` is not a str.
        ValueError: ``name`` is not a backend.
        BackendError: the engine is already in use with another backend.
        BackendUnavailableError: the backend's library cannot be loaded
            (an ``ImportError``; the message says how to install it).

    Context:
        Any thread; loads the library (dlopen()) when needed.

    C: ``kb_rcu_set_backend()``.  Kernel: none (one RCU per kernel); liburcu:
    choosing a flavour (``urcu-qsbr.h`` vs ``urcu-memb.h``) at build time.

    Examples:
        >>> select_backend(current_backend())  # always allowed
    """
    _check_name(name)
    rc = lib.kb_rcu_set_backend(BACKENDS[name])
    if rc == lib.KB_OK:
        return
    if rc == lib.KB_EBUSY:
        raise BackendError(name, current_backend())
    if rc == lib.KB_ENOENT:
        raise BackendUnavailableError(name, ffi.string(lib.kb_rcu_backend_error()).decode())
    raise RuntimeError(f"kb_rcu_set_backend({name!r}) failed with status {rc}")  # pragma: no cover


def liburcu_available() -> bool:
    """Return True if liburcu's QSBR library can be loaded.

    Loads it (it stays loaded) without selecting it.  Honours
    ``KBIND_LIBURCU_QSBR`` (a soname or path to load instead of
    ``liburcu-qsbr.so.8``).

    C: ``kb_rcu_backend_probe(KB_RCU_BACKEND_LIBURCU)``.
    """
    return bool(lib.kb_rcu_backend_probe(lib.KB_RCU_BACKEND_LIBURCU) == lib.KB_OK)


def _is_kbind_command() -> bool:
    """Return True if this process is the ``kbind`` command (``kbind ...``, ``python -m kbind``)."""
    if os.path.basename(sys.argv[0]) == "kbind":
        return True
    argv = list(getattr(sys, "orig_argv", ()))
    return any(
        a == "-mkbind" or (a == "-m" and argv[i + 1 : i + 2] == ["kbind"])
        for i, a in enumerate(argv)
    )


#: Why ``KBIND_RCU_BACKEND`` could not be applied, when the ``kbind`` command
#: deferred the error (see :func:`environment_error`); None otherwise.
_ENV_ERROR: Exception | None = None


def environment_error() -> Exception | None:
    """Return the error ``KBIND_RCU_BACKEND`` raised at import, if it was deferred.

    In a program, an unknown or unloadable ``KBIND_RCU_BACKEND`` makes
    ``import kbind`` fail.  The ``kbind`` command defers that error instead
    (the builtin engine stays selected but unused), so that its commands that
    do not use RCU still run; those that do ask this function first and refuse
    to run.  Returns None when the variable was applied or is unset.
    """
    return _ENV_ERROR


def _select_from_environment() -> None:
    """Apply ``KBIND_RCU_BACKEND`` if it is set (at import of this module)."""
    global _ENV_ERROR
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return
    try:
        if value not in BACKENDS:
            raise ValueError(
                f"{ENV_VAR}={value!r} is not an RCU backend: choose one of {sorted(BACKENDS)}"
            )
        select_backend(value)  # type: ignore[arg-type]  # checked just above
    except (ValueError, BackendUnavailableError) as exc:
        if not _is_kbind_command():
            raise
        _ENV_ERROR = exc


_select_from_environment()
