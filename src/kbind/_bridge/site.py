"""Call sites and thread identity: where and on which thread something happened.

Every kbind guard, scope and error records sites: the code object and the
instruction offset of the user's line (kbind's own frames skipped), turned
into a file, line and function only when a message needs them.  Threads are
known by their :data:`ThreadToken` (never reused, unlike thread idents).
The C core (``kbind._bridge._hotpath``) records sites by the same rule: it is given
this module's table of kbind's own files at import.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from types import CodeType, FrameType
from typing import Final

from kbind._bridge.native import hot

__all__ = [
    "RawSite",
    "Site",
    "ThreadToken",
    "capture",
    "thread_name",
    "thread_token",
    "user_frame",
]

#: kbind's own folder (this file is kbind/_bridge/site.py), with a trailing
#: separator: every frame from a file under it is kbind's, not the user's.
_PACKAGE_DIR: Final = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
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
        site.thread = _tls.me.name
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
#: thread (kept in the thread's state, made in C by kbind._bridge._hotpath),
#: compared with ``is``; a guard keeps its owner's token alive, so no later
#: thread can ever have the same one.  ``exited`` turns True when the thread
#: ends.
ThreadToken = hot.ThreadToken


class _ThreadLocal(threading.local):
    """Per-thread state: the thread's token, which also carries its name.

    ``threading.local`` runs ``__init__`` once in each thread on first use,
    so ``_tls.me`` is always there; ``_tls.me.name`` is the thread's name
    when its token was made (``threading.current_thread()`` is slow).
    """

    me: ThreadToken

    def __init__(self) -> None:
        self.me = hot.current_thread()


def thread_token() -> ThreadToken:
    """Return the calling thread's :class:`ThreadToken` (compare owners with ``is``)."""
    return _tls.me


#: A site recorded but not yet turned into a :class:`Site`: the code object,
#: the instruction offset, the thread name and how it happened.  Hot paths
#: (RCU read guards) keep the parts in their own slots and build the tuple,
#: then the Site, only when a message needs it.
RawSite = tuple[CodeType, int, str, str]


def thread_name() -> str:
    """Return the calling thread's name, as its token recorded it (and as sites record it)."""
    return _tls.me.name


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
