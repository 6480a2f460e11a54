"""Shared guard bookkeeping: call sites, owner threads, drop state.

Every kbind guard (lock guards, RCU read guards, drop guards, seqlock views)
records where and on which thread it was created, and where it was dropped,
so misuse errors can name both sites.  Recording a site costs one frame
lookup; nothing here formats text until an error is built.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
from types import CodeType, FrameType
from typing import Any, ClassVar, Final, NoReturn, Self, SupportsIndex

from kbind._native import hot
from kbind.errors import CloneError, GuardError, LifetimeError

__all__ = [
    "GuardBase",
    "NotClone",
    "RawSite",
    "Sealed",
    "Site",
    "ThreadToken",
    "capture",
    "thread_name",
    "thread_token",
    "user_frame",
]

_PACKAGE_DIR: Final = os.path.dirname(os.path.abspath(__file__))
#: contextlib's frames stand between kbind's @contextmanager helpers and the
#: user's ``with`` line: skipped like kbind's own.
_CONTEXTLIB_FILE: Final = contextlib.__file__


class Site:
    """A source location and thread, as recorded when a guard is created or dropped.

    Recording is cheap (one frame lookup: the code object and the instruction
    offset); the file name, line and function are worked out only when a
    message needs them.

    Attributes:
        filename: the source file (absolute, as Python reports it).
        lineno: the line.
        function: the enclosing function's name.
        thread: the name of the thread that executed it (as of its first
            recorded site: renaming a thread later is not seen).
        how: how the event happened when the line alone does not say it
            (e.g. "leaving its with block": Python reports the ``with`` line).
    """

    __slots__ = ("_code", "_filename", "_function", "_lasti", "_lineno", "how", "thread")

    def __init__(
        self, filename: str, lineno: int, function: str, thread: str, how: str = ""
    ) -> None:
        self._code: CodeType | None = None
        self._lasti = -1
        self._filename = filename
        self._lineno = lineno
        self._function = function
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
        code = frame.f_code
        if _internal_files.get(code.co_filename) is not False:  # unknown or kbind's own
            while _is_internal(code.co_filename, frame) and frame.f_back is not None:
                frame = frame.f_back
                code = frame.f_code
        site = cls.__new__(cls)
        site._code = code
        site._lasti = frame.f_lasti
        site._lineno = 0  # 0: not computed yet
        try:
            site.thread = _tls.name
        except AttributeError:
            site.thread = _tls.name = threading.current_thread().name
        site.how = how
        return site

    @classmethod
    def from_raw(cls, raw: RawSite, how: str = "") -> Site:
        """Build the Site of a raw capture (see :func:`capture`); ``how`` overrides its own."""
        code, lasti, thread, raw_how = raw
        site = cls.__new__(cls)
        site._code = code
        site._lasti = lasti
        site._lineno = 0
        site.thread = thread
        site.how = how or raw_how
        return site

    @classmethod
    def from_frame(cls, frame: FrameType, how: str = "") -> Site:
        """Build the Site of the instruction ``frame`` is executing (its thread: the caller's)."""
        return cls.from_raw((frame.f_code, frame.f_lasti, thread_name(), how))

    @property
    def filename(self) -> str:
        """The source file."""
        return self._code.co_filename if self._code is not None else self._filename

    @property
    def function(self) -> str:
        """The enclosing function's name."""
        return self._code.co_name if self._code is not None else self._function

    @property
    def lineno(self) -> int:
        """The line (computed from the recorded instruction offset on first use)."""
        if not self._lineno and self._code is not None:
            self._lineno = _line_of(self._code, self._lasti)
        return self._lineno

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


#: The identity of one Python thread: never reused, unlike ``threading.get_ident()``.
#:
#: The OS reuses a thread's ident (and native id) as soon as it exits, so an
#: ident compared with ``==`` would let a new thread pass for a dead one and
#: use, or unlock, the dead thread's guards.  A token is one object per
#: thread (kept in the thread's state, made in C by kbind._hotpath),
#: compared with ``is``; a guard keeps its owner's token alive, so no later
#: thread can ever have the same one.  ``exited`` turns True when the thread
#: ends.
ThreadToken = hot.ThreadToken


class _ThreadLocal(threading.local):
    """Per-thread state: the thread's name (threading.current_thread() is slow) and its token.

    ``threading.local`` runs ``__init__`` once in each thread on first use,
    so ``_tls.me`` and ``_tls.name`` are always there.
    """

    name: str
    me: ThreadToken

    def __init__(self) -> None:
        self.name = threading.current_thread().name
        self.me = hot.current_thread()




def thread_token() -> ThreadToken:
    """Return the calling thread's :class:`ThreadToken` (compare owners with ``is``)."""
    return _tls.me


def owner_thread_error(
    op: str, guard: str, owner: ThreadToken, created_at: Site | None, what: str, hint: str,
    sites: list[tuple[str, Site]] | None = None, dropped_at: Site | None = None,
) -> GuardError:  # fmt: skip
    """Build the GuardError for a guard used off its owner thread (``what``: the Rust rule)."""
    here = threading.current_thread().name
    if owner.exited:
        whose = (
            f"{guard} belongs to thread {owner.name!r}, which has exited (another thread "
            "may since have been given the same thread ident; kbind does not go by idents)"
        )
    else:
        whose = f"{guard} belongs to thread {owner.name!r}"
    return GuardError(
        op,
        f"{whose}; {what}, and this is thread {here!r}",
        guard=guard,
        created_at=created_at,
        dropped_at=dropped_at,
        sites=sites or [],
        hint=hint,
    )


#: A site recorded but not yet turned into a :class:`Site`: the code object,
#: the instruction offset, the thread name and how it happened.  Hot paths
#: (RCU read guards) keep the parts in their own slots and build the tuple,
#: then the Site, only when a message needs it.
RawSite = tuple[CodeType, int, str, str]


def thread_name() -> str:
    """Return the calling thread's name, cached per thread (as recorded in sites)."""
    try:
        name: str = _tls.name
    except AttributeError:
        name = _tls.name = threading.current_thread().name
    return name


def capture(depth: int = 1, how: str = "") -> RawSite:
    """Record the site ``depth`` frames up (1: the caller's caller) without building a Site.

    Like :meth:`Site.here` (kbind's own frames are skipped) but returns the
    raw parts; :meth:`Site.from_raw` turns them into a Site when needed.
    """
    frame = sys._getframe(depth + 1)
    code = frame.f_code
    if _internal_files.get(code.co_filename) is not False:
        while _is_internal(code.co_filename, frame) and frame.f_back is not None:
            frame = frame.f_back
            code = frame.f_code
    return (code, frame.f_lasti, thread_name(), how)


#: co_filename -> whether it belongs to kbind's implementation.
_internal_files: dict[str, bool] = {}


def _is_internal(filename: str, frame: FrameType) -> bool:
    """Whether ``frame`` is kbind's implementation (skipped when recording sites)."""
    internal = _internal_files.get(filename)
    if internal is None:
        internal = filename == _CONTEXTLIB_FILE or (
            filename.startswith(_PACKAGE_DIR) and not frame.f_globals.get("KBIND_USER_CODE", False)
        )
        _internal_files[filename] = internal
    return internal


def user_frame(depth: int = 1) -> FrameType:
    """Return the frame ``depth`` up (1: the caller's caller), kbind's own frames skipped."""
    frame = sys._getframe(depth + 1)
    while _is_internal(frame.f_code.co_filename, frame) and frame.f_back is not None:
        frame = frame.f_back
    return frame


def _line_of(code: CodeType, lasti: int) -> int:
    """Return the source line of the instruction at byte offset ``lasti`` in ``code``."""
    line = code.co_firstlineno
    for start, end, lineno in code.co_lines():
        if start <= lasti < end:
            return lineno if lineno is not None else line
        if lineno is not None:
            line = lineno
    return line


# The C core records sites too (scopes): it skips kbind's frames by the same rule.
hot.configure(_internal_files, _is_internal, lambda: threading.current_thread().name)
_tls = _ThreadLocal()

# ------------------------------------------------------------ not Clone

#: What each kind of non-copyable object is, for messages.
_GUARD_HINT: Final = (
    "keep using the one guard, on its thread; to keep data past it, copy the protected "
    "value out while it is held (copy.deepcopy(g.value), copy.deepcopy(ref))"
)
_OWNER_HINT: Final = (
    "share the object itself (pass or store a reference to it, as Rust shares an Arc); to "
    "duplicate its data, read the value out under a guard and build a new one from it"
)
_PICKLE_HINT: Final = (
    "pickle the protected value instead, copied out while a guard is held; a guard, a lock "
    "or an Rcu cannot leave its process"
)


def clone_error(obj: object, verb: str) -> CloneError:
    """Build the CloneError for copying (``verb``: "copy", "deep-copy", "pickle") ``obj``."""
    kind = type(obj).__name__
    role = getattr(type(obj), "_CLONE_ROLE", "guard")
    if role == "guard":
        rule = (
            f"a {kind} is a guard: it is used exactly once and cannot be duplicated "
            "(Rust: it is not Clone/Copy)"
        )
        hint = _GUARD_HINT
    elif role == "capability":
        rule = (
            f"a {kind} is the one update capability of its Rcu and cannot be duplicated "
            "(Rust: it is not Clone/Copy)"
        )
        hint = "give the one writer to the thread that updates, or use Rcu.replace()/update()"
    else:
        rule = (
            f"a {kind} owns its state (one lock word, one published value, one cell of C "
            "memory) and cannot be duplicated: a copy would be a second owner of it "
            "(Rust: it is not Clone/Copy)"
        )
        hint = _OWNER_HINT
    return CloneError(
        f"{verb} a {kind}", rule, guard=f"the {kind}",
        hint=_PICKLE_HINT if verb == "pickle" else hint,
    )  # fmt: skip


class Sealed:
    """Mixin: refuses subclasses of classes marked ``@typing.final``.

    Rust types cannot be extended, and kbind checks exact types on its hot
    paths, so a subclass would half work: ``TypeError`` when it is defined
    (mypy rejects it too, through ``@final``).
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__mro__[1:]:
            if base.__dict__.get("__final__", False):
                raise TypeError(
                    f"cannot subclass {base.__module__}.{base.__qualname__}: kbind's "
                    "primitives are final (Rust types cannot be extended, and kbind checks "
                    f"exact types); wrap a {base.__name__} in a class of your own instead"
                )


class NotClone(Sealed):
    """Mixin: instances refuse ``copy.copy``, ``copy.deepcopy`` and pickling (``CloneError``).

    Classes set ``_CLONE_ROLE`` to "guard" (the default), "owner" or
    "capability" for the message.  Deep copies made by kbind's
    copy-on-write (:func:`kbind._immutable.deep_clone`) share such objects
    instead of copying them, so values holding locks or atomics still copy.
    """

    __slots__ = ()
    _CLONE_ROLE: ClassVar[str] = "guard"

    def __copy__(self) -> NoReturn:
        raise clone_error(self, "copy")

    def __deepcopy__(self, memo: dict[int, object]) -> NoReturn:
        raise clone_error(self, "deep-copy")

    def __reduce_ex__(self, protocol: SupportsIndex) -> NoReturn:
        raise clone_error(self, "pickle")

    def __reduce__(self) -> NoReturn:
        raise clone_error(self, "pickle")

    def __getstate__(self) -> NoReturn:
        raise clone_error(self, "pickle")


class GuardBase(NotClone):
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
        self.owner: ThreadToken = _tls.me
        self.created_at = Site.here(depth + 1)
        self.dropped_at: Site | None = None

    @property
    def name(self) -> str:
        """``KIND#number``, unique in the process."""
        return f"{self.KIND}#{self.number}"

    @property
    def alive(self) -> bool:
        """True until the guard is dropped (False for a guard that was never created properly)."""
        try:
            return self.dropped_at is None
        except AttributeError:
            return False

    def __enter__(self) -> Self:
        """Enter a ``with`` block on the guard (it must still be alive)."""
        if self.dropped_at is not None:  # message built only for the error
            self.check_alive(f"enter a with block on {self.name}")
        return self

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
        if _tls.me is not self.owner:
            raise owner_thread_error(
                op,
                self.name,
                self.owner,
                self.created_at,
                "guards cannot move between threads (Rust: the guard is !Send)",
                "create a guard on the thread that needs it",
                dropped_at=self.dropped_at,
            )

    def mark_dropped(self, verb: str, depth: int = 2, how: str = "") -> None:
        """Check this drop is legal (owner thread, first drop) and record its site.

        ``verb`` names the drop in messages ("unlock", "drop"); ``how``
        qualifies the site, e.g. "leaving its with block".  Nothing is
        formatted unless the drop is refused.

        Raises:
            GuardError: on another thread, or if already dropped.
        """
        if _tls.me is not self.owner:
            self.check_owner(f"{verb} {self.name}")
        if self.dropped_at is not None:
            raise GuardError(
                f"{verb} {self.name}",
                f"{self.name} was already dropped; a guard is dropped exactly once",
                guard=self.name,
                created_at=self.created_at,
                dropped_at=self.dropped_at,
                sites=[("second drop at", Site.here(depth + 1, how))],
                hint="drop it either explicitly or by leaving its with block, not both",
            )
        self.dropped_at = Site.here(depth + 1, how)
