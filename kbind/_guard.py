"""Shared guard bookkeeping: call sites, owner threads, drop state.

Every kbind guard (lock guards, RCU read guards, drop guards, seqlock views)
records where and on which thread it was created, and where it was dropped,
so misuse errors can name both sites.  Recording a site costs one frame
lookup; nothing here formats text until an error is built.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from typing import ClassVar, Final

from kbind.errors import GuardError, LifetimeError

__all__ = ["GuardBase", "Site"]

_PACKAGE_DIR: Final = os.path.dirname(os.path.abspath(__file__))


class Site:
    """A source location and thread, as recorded when a guard is created or dropped.

    Attributes:
        filename: the source file (absolute, as Python reports it).
        lineno: the line.
        function: the enclosing function's name.
        thread: the name of the thread that executed it.
        how: how the event happened when the line alone does not say it
            (e.g. "leaving its with block": Python reports the ``with`` line).
    """

    __slots__ = ("filename", "function", "how", "lineno", "thread")

    def __init__(
        self, filename: str, lineno: int, function: str, thread: str, how: str = ""
    ) -> None:
        self.filename = filename
        self.lineno = lineno
        self.function = function
        self.thread = thread
        self.how = how

    @classmethod
    def here(cls, depth: int = 1, how: str = "") -> Site:
        """Return the site ``depth`` frames up the stack (1: whoever called this method).

        Frames of kbind's implementation are skipped, so the site is always
        the user's line even when kbind calls itself.  Modules of kbind that
        are user code themselves (the command-line tour) set
        ``KBIND_USER_CODE = True`` and are not skipped.
        """
        frame = sys._getframe(depth)
        while (
            frame.f_back is not None
            and frame.f_code.co_filename.startswith(_PACKAGE_DIR)
            and not frame.f_globals.get("KBIND_USER_CODE", False)
        ):
            frame = frame.f_back
        code = frame.f_code
        return cls(
            code.co_filename, frame.f_lineno, code.co_name, threading.current_thread().name, how
        )

    @property
    def location(self) -> str:
        """``file:line``, relative to the working directory when under it."""
        path = self.filename
        try:
            rel = os.path.relpath(path)
        except ValueError:
            rel = path
        if not rel.startswith(".."):
            path = rel
        return f"{path}:{self.lineno}"

    def __str__(self) -> str:
        how = f" ({self.how})" if self.how else ""
        return f"{self.location} in {self.function}() on thread {self.thread!r}{how}"

    def __repr__(self) -> str:
        return f"Site({self.location!r}, function={self.function!r}, thread={self.thread!r})"


class GuardBase:
    """Bookkeeping common to every guard: identity, owner thread, sites, drop state.

    Invariants:
        ``created_at`` and ``owner`` are set once, at creation, on the creating
        thread.  ``dropped_at`` is None while the guard is live and set exactly
        once, by the owner thread, when it is dropped.
    """

    __slots__ = ("__weakref__", "created_at", "dropped_at", "number", "owner")

    #: The name used in messages ("LockGuard", "RcuReadGuard", ...).
    KIND: ClassVar[str] = "Guard"
    _numbers: ClassVar[itertools.count[int]] = itertools.count(1)

    def __init__(self, depth: int = 2) -> None:
        self.number = next(GuardBase._numbers)
        self.owner = threading.get_ident()
        self.created_at = Site.here(depth + 1)
        self.dropped_at: Site | None = None

    @property
    def name(self) -> str:
        """``KIND#number``, unique in the process."""
        return f"{self.KIND}#{self.number}"

    @property
    def alive(self) -> bool:
        """True until the guard is dropped."""
        return self.dropped_at is None

    def check_alive(self, op: str, hint: str | None = None) -> None:
        """Raise LifetimeError if the guard was dropped; ``op`` says what was attempted."""
        if self.dropped_at is not None:
            raise LifetimeError(
                op,
                f"{self.name} was dropped, so what it protected may no longer be used",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                hint=hint or "copy what you need out while the guard is held",
            )

    def check_owner(self, op: str) -> None:
        """Raise GuardError unless called on the thread that created the guard."""
        if threading.get_ident() != self.owner:
            raise GuardError(
                op,
                f"{self.name} belongs to thread {self.created_at.thread!r}; guards cannot "
                f"move between threads (Rust: the guard is !Send), and this is thread "
                f"{threading.current_thread().name!r}",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                hint="create a guard on the thread that needs it",
            )

    def mark_dropped(self, op: str, depth: int = 2, how: str = "") -> Site:
        """Check this drop is legal (owner thread, first drop) and record its site.

        ``how`` qualifies the site, e.g. "leaving its with block".

        Raises:
            GuardError: on another thread, or if already dropped.
        """
        self.check_owner(op)
        if self.dropped_at is not None:
            raise GuardError(
                op,
                f"{self.name} was already dropped; a guard is dropped exactly once",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                hint="drop it either with .drop()/.unlock() or by leaving its with block, not both",
            )
        site = Site.here(depth + 1, how)
        self.dropped_at = site
        return site
