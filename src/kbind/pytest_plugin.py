"""kbind's pytest plugin: a strict mode that makes users' own test suites enforce kbind's rules.

Installed with kbind (entry point ``pytest11``: ``kbind``), so any project
that tests code built on kbind gets it.  Strict mode is off by default;
turn it on

* for one test: request the ``kbind_strict`` fixture, or mark it
  ``@pytest.mark.kbind_strict``;
* for a run: ``pytest --kbind-strict``;
* for a project: ``kbind_strict = true`` in the ``[tool.pytest.ini_options]``
  (or ``[pytest]``) section.

A strict test fails (in its call phase, with one line per finding naming
where the object was created) when, during the test:

* any :class:`kbind.KbindWarning` was emitted (stall warnings, guards
  collected while held, ...), unless the test caught it itself with
  ``pytest.warns`` or ``warnings.catch_warnings``;
* an ``RcuReadGuard`` created during the test is still held at its end
  (kernel: a missing ``rcu_read_unlock()``, rule R09), or a ``LockGuard``
  is (a missing unlock, L10): checked after a garbage collection, so a
  guard that was dropped by being collected shows up as its warning;
* an ``RcuDropGuard`` was neither dropped nor deferred (R14);
* ``call_rcu`` callbacks (including ``RcuDropGuard.defer()`` frees) are
  still pending at its end (kernel: a missing ``rcu_barrier()`` before
  teardown, Documentation/RCU/rcubarrier.rst; R19).

After the check, strict mode cleans up so the next test starts clean:
leaked guards of the test's thread are dropped, undropped drop guards are
deferred, and pending callbacks are drained with a bounded ``rcu_barrier()``.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

from kbind._bridge.guard import thread_token
from kbind.errors import KbindWarning

if TYPE_CHECKING:
    from kbind._bridge.guard import Site

# Every pytest session of a project with kbind installed loads this plugin.
# Loading it imports kbind (as any import of it does) but must not start the
# RCU engine, which would freeze the backend choice (kbind.rcu_backend): the
# engine is touched only when a strict test runs.

__all__ = ["kbind_strict", "strict_findings"]

#: Bound of the rcu_barrier() calls that drain callbacks around a strict test.
DRAIN_TIMEOUT_S = 10.0
#: At most this many sites listed per kind of finding.
MAX_LISTED = 10

_STRICT = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register ``--kbind-strict`` and the ``kbind_strict`` ini option."""
    group = parser.getgroup("kbind", "kbind (RCU, seqlocks, atomics)")
    group.addoption(
        "--kbind-strict",
        action="store_true",
        default=False,
        help="fail tests that emit kbind warnings, leak kbind guards or leave call_rcu "
        "callbacks pending",
    )
    parser.addini(
        "kbind_strict",
        "fail tests that emit kbind warnings, leak kbind guards or leave callbacks pending",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``kbind_strict`` marker."""
    config.addinivalue_line(
        "markers",
        "kbind_strict: fail the test if it emits a kbind warning, leaks a kbind guard or "
        "leaves call_rcu callbacks pending (kbind's strict mode)",
    )


@pytest.fixture
def kbind_strict(request: pytest.FixtureRequest) -> None:
    """Run the requesting test in kbind's strict mode (see the module docstring)."""
    request.node.stash[_STRICT] = True


def _is_strict(item: pytest.Item) -> bool:
    if item.stash.get(_STRICT, False) or item.get_closest_marker("kbind_strict") is not None:
        return True
    config = item.config
    return bool(config.getoption("kbind_strict", False)) or bool(config.getini("kbind_strict"))


def _sites(label: str, items: list[tuple[str, Site | None]]) -> list[str]:
    lines = [f"{label}:"]
    for name, site in items[:MAX_LISTED]:
        lines.append(f"  {name}, created at {site}" if site is not None else f"  {name}")
    if len(items) > MAX_LISTED:
        lines.append(f"  ... and {len(items) - MAX_LISTED} more")
    return lines


def strict_findings(caught: list[warnings.WarningMessage], before_guards: set[int]) -> list[str]:
    """Check the state at the end of a strict test; return what broke the rules, one line each.

    Also cleans up what it reports (drops this thread's leaked read and lock
    guards, defers undropped drop guards) so a bounded ``rcu_barrier()``
    can drain the callbacks afterwards.
    """
    from kbind import rcu, sync
    from kbind._bridge.guard import Site
    from kbind.rcu import _callbacks as _cb
    from kbind.rcu import _runtime as _rt

    lines: list[str] = []
    kb = [w for w in caught if issubclass(w.category, KbindWarning)]
    if kb:
        lines.append(f"{len(kb)} kbind warning(s) emitted:")
        for w in kb[:MAX_LISTED]:
            text = str(w.message).replace("\n", "\n    ")
            lines.append(f"  {w.category.__name__} at {w.filename}:{w.lineno}: {text}")
    leaked_read = [g for g in rcu.open_guards() if id(g) not in before_guards]
    if leaked_read:
        lines += _sites(
            f"{len(leaked_read)} RcuReadGuard(s) still held at the end of the test "
            "(a read-side critical section never ended, R09)",
            [(g.name, g.created_at) for g in leaked_read],
        )
    leaked_locks = sync.tracked_guards()
    if leaked_locks:
        lines += _sites(
            f"{len(leaked_locks)} LockGuard(s) still held at the end of the test (L10)",
            [(g.name, g.created_at) for g in leaked_locks],
        )
    undropped = rcu.tracked_drop_guards()
    if undropped:
        lines += _sites(
            f"{len(undropped)} RcuDropGuard(s) neither dropped nor deferred (R14)",
            [(f"the RcuDropGuard of the old {g._box.label} value", g.retired_at)
             for g in undropped],
        )  # fmt: skip
    with _cb.callbacks.cond:
        _cb.callbacks._adopt_late()
        pending = [Site.from_raw(cb.queued_at) for cb in _cb.callbacks.pending.values()]
    if pending:
        lines += _sites(
            f"{len(pending)} call_rcu callback(s) still pending at the end of the test "
            "(call rcu_barrier() before teardown, R19)",
            [("callback queued", s) for s in pending],
        )
    # Clean up, so the next test starts clean.
    me = _rt.current_state()
    for g in leaked_read:
        if me is not None and any(g is x for x in me.guards):
            g.drop()
    for lg in leaked_locks:
        if lg.owner is thread_token():
            lg.unlock()
    for d in undropped:
        d.defer()
    return lines


def _drain() -> None:
    from kbind import rcu
    from kbind.rcu import _runtime as _rt

    me = _rt.current_state()
    if me is None or not me.guards:
        rcu.rcu_barrier(timeout=DRAIN_TIMEOUT_S)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Run a strict test with kbind's checks around it."""
    if not _is_strict(item):
        return (yield)
    from kbind import rcu, sync

    _drain()  # what earlier, non-strict tests queued is not this test's
    before = {id(g) for g in rcu.open_guards()}
    sync.track_guards(True)
    rcu.track_drop_guards(True)
    findings: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", KbindWarning)
            try:
                result = yield
            except BaseException:
                gc.collect()
                strict_findings(caught, before)  # the test failed anyway: only clean up
                raise
            gc.collect()  # guards collected undropped warn now, inside the recording
            findings = strict_findings(caught, before)
    finally:
        sync.track_guards(False)
        rcu.track_drop_guards(False)
        _drain()
    if findings:
        pytest.fail("kbind strict mode: " + "\n".join(findings), pytrace=False)
    return result
