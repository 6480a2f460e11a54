"""Shared test helpers: bounded thread runners."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest


def run_threads(n: int, target: Callable[[int], None], timeout: float = 60.0) -> None:
    """Run target(i) on n threads released together by a Barrier; fail if any hangs or raises."""
    start = threading.Barrier(n)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            start.wait(timeout=timeout)
            target(i)
        except BaseException as exc:  # re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=body, args=(i,), name=f"worker-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    hung = [t.name for t in threads if t.is_alive()]
    if hung:
        pytest.fail(f"threads did not finish within {timeout} s: {hung}")
    if errors:
        raise errors[0]
