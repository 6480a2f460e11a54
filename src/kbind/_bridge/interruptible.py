"""Run a blocking native torture call so that Ctrl-C stops it early instead of being ignored.

A cffi call releases the GIL but still blocks the main thread, and Python
runs signal handlers (so raises ``KeyboardInterrupt``) only on the main
thread between bytecodes: a torture run of a minute ignored Ctrl-C for a
minute.  :func:`run_stoppable` makes the call on a worker thread while the
main thread waits in short, interruptible slices; on ``KeyboardInterrupt``
it asks the C threads to stop (``kb_torture_request_stop()``, which every
native torture loop checks), waits for the call to return what it saw so
far, and reports that the run stopped early.  A second Ctrl-C while it
waits propagates.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Final, TypeVar

from kbind._bridge.native import lib

__all__ = ["run_stoppable"]

T = TypeVar("T")

#: How long the main thread waits at a time (it takes signals in between).
_SLICE_S: Final = 0.1


def run_stoppable(
    call: Callable[[], T], name: str, on_start: Callable[[], None] | None = None
) -> tuple[T, bool]:
    """Return ``(call(), stopped_early)``; Ctrl-C on the main thread stops the run early.

    Off the main thread (no signal can reach it) ``call`` simply runs there.
    Errors raised by ``call`` are re-raised; ``on_start``, if given, runs on
    the calling thread once the worker has started (the command line
    announces the run there).

    Context: blocks until ``call`` returns; the main thread stays responsive
    to signals meanwhile.
    """
    if threading.current_thread() is not threading.main_thread():
        return call(), False
    box: dict[str, object] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["result"] = call()
        except BaseException as exc:  # re-raised by the calling thread
            box["error"] = exc
        finally:
            done.set()

    lib.kb_torture_clear_stop()
    # A daemon: a second Ctrl-C must not leave the process waiting for the run.
    worker = threading.Thread(target=work, name=f"kbind-{name}", daemon=True)
    stopped = False
    try:
        worker.start()
        if on_start is not None:
            on_start()
        # An Event, not Thread.join(): an interrupted join can return early
        # afterwards while the thread still runs.
        while not done.wait(_SLICE_S):
            pass
    except KeyboardInterrupt:
        stopped = True
        lib.kb_torture_request_stop()  # the C threads see it within one loop
        if worker.ident is None:  # interrupted before the run began
            raise
        while not done.wait(_SLICE_S):
            pass
    lib.kb_torture_clear_stop()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"], stopped  # type: ignore[return-value]
