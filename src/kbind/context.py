"""The execution-context model: which calls may sleep, and the sections in which none may.

Kernel: ``might_sleep()`` (include/linux/kernel.h) with
``CONFIG_DEBUG_ATOMIC_SLEEP``, which prints "BUG: sleeping function called
from invalid context" when a function that may sleep runs with preemption
or interrupts disabled: inside ``rcu_read_lock()``, a spinlock, an
interrupt-disabled section or an RCU callback.  Rust-for-Linux documents
the rule ("must not be called in atomic context") and leaves the check to
the out-of-tree ``klint`` lint; kbind checks it at run time.

Rule: a call that may sleep (:func:`might_sleep` says so first) raises
:class:`~kbind.errors.AtomicContextError` when the calling thread is in an
atomic section; the error names the section's site and the call's.

* A design marks its atomic sections with :func:`enter_atomic` and
  :func:`exit_atomic` (a spinlock guard, an interrupt-disabled token, a
  callback running in RCU callback context), in any nesting order.
* A primitive whose sections the engine tracks itself (the RCU read side:
  ``kbind.rcu``, ``kbind.kernel.sync.rcu``) registers a probe with
  :func:`register_probe`; the probe reports the thread's open section.
* :func:`sleep` is ``time.sleep`` through the model.

SRCU readers may sleep: an SRCU read-side section is not atomic.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Final

from kbind._bridge.site import Site, user_frame
from kbind.errors import AtomicContextError

__all__ = [
    "AtomicSection",
    "atomic_sections",
    "enter_atomic",
    "exit_atomic",
    "in_atomic",
    "might_sleep",
    "register_probe",
    "sleep",
]


class AtomicSection:
    """One open atomic section of a thread: what it is and where it began."""

    __slots__ = ("_stack", "site", "what")

    def __init__(self, what: str, site: Site) -> None:
        self.what = what
        self.site = site
        #: the open sections of the thread that entered it (set by enter_atomic)
        self._stack: list[AtomicSection] | None = None

    def close(self) -> bool:
        """End the section from any thread; return whether it was still open.

        For sections whose end may run elsewhere (a lock guard collected on
        another thread): :func:`exit_atomic` is the call on its own thread.
        """
        stack = self._stack
        if stack is None:
            return False
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self:
                del stack[i]
                return True
        return False

    def reopen(self) -> None:
        """Open the section again on this thread (after close(): a wait that retook its lock)."""
        stack = _tls.open
        self._stack = stack
        stack.append(self)

    def __repr__(self) -> str:
        return f"<AtomicSection {self.what} entered at {self.site.location}>"


class _Sections(threading.local):
    def __init__(self) -> None:
        self.open: list[AtomicSection] = []


_tls: Final = _Sections()

#: Probes of sections other layers track: each returns (what, site) for the
#: calling thread's open section, or None.
_probes: list[Callable[[], tuple[str, Site | None] | None]] = []


def register_probe(probe: Callable[[], tuple[str, Site | None] | None]) -> None:
    """Add a probe that reports the calling thread's open section of some kind (or None)."""
    _probes.append(probe)


def enter_atomic(what: str, site: Site | None = None) -> AtomicSection:
    """Open an atomic section on this thread (``what``: "a SpinLock section"); return it.

    ``site`` defaults to the caller's user frame.  End it with :func:`exit_atomic`.
    """
    section = AtomicSection(what, site if site is not None else Site.from_frame(user_frame()))
    section._stack = stack = _tls.open
    stack.append(section)
    return section


def exit_atomic(section: AtomicSection) -> None:
    """End an atomic section of this thread (sections may end in any order)."""
    stack = _tls.open
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is section:
            del stack[i]
            return
    raise ValueError(f"{section!r} is not open on this thread")


def _sections(ignore: AtomicSection | None) -> list[tuple[str, Site | None]]:
    found: list[tuple[str, Site | None]] = []
    for probe in _probes:
        hit = probe()
        if hit is not None:
            found.append(hit)
    found.extend((s.what, s.site) for s in _tls.open if s is not ignore)
    return found


def atomic_sections() -> list[tuple[str, Site | None]]:
    """Return the calling thread's open atomic sections, oldest first (probes' sections first)."""
    return _sections(None)


def in_atomic() -> bool:
    """Return whether the calling thread is in an atomic section (the kernel's ``in_atomic()``)."""
    return bool(_tls.open) or any(probe() is not None for probe in _probes)


def might_sleep(op: str, ignore: AtomicSection | None = None) -> None:
    """Say that ``op`` may sleep: raise AtomicContextError inside an atomic section.

    Kernel: ``might_sleep()``.  The error names the oldest open section (its
    kind and where it was entered) and the call.  ``ignore``: a section the
    call itself ends before it sleeps (a condition variable's wait releases
    the spinlock it was called under).
    """
    sections = _sections(ignore)
    if not sections:
        return
    what, entered = sections[0]
    sites = [("sleeping call at", Site.from_frame(user_frame()))]
    if entered is not None:
        sites.insert(0, (f"{what} entered at", entered))
    raise AtomicContextError(
        op,
        f"{op} may sleep, and this thread is inside {what}, where nothing may sleep "
        "(kernel: might_sleep(), 'sleeping function called from invalid context')",
        sites=sites,
        hint="leave the section first, or use a form that does not sleep "
        "(a deferred free, a try-lock, an SRCU reader)",
    )


def sleep(seconds: float) -> None:
    """``time.sleep(seconds)``, checked by the model first (it may sleep)."""
    might_sleep(f"sleep({seconds!r})")
    time.sleep(seconds)
