"""Shared test helpers: bounded thread runners, RCU backend parametrisation."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable
from typing import Any

import pytest

# Compiled litmus tests go to a cache of this run's own (children inherit it):
# a run starts from nothing and leaves nothing in the user's cache.
if not os.environ.get("KBIND_CACHE_DIR"):
    os.environ["KBIND_CACHE_DIR"] = tempfile.mkdtemp(prefix="kbind-test-cache-")


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


# ----------------------------------------------------------------- RCU backends
#
# A module marked ``pytestmark = pytest.mark.rcu_backends`` runs each of its
# tests once per RCU backend (ids ``[builtin]`` / ``[liburcu]``).  The backend
# is per process, so the cases of the backend this process does not use run
# in ONE child pytest per module (``KBIND_RCU_BACKEND=<backend>``, selecting
# those cases with ``-k <backend>``); the child records each outcome and the
# parent's case reports it: the same test code, the same assertions.

RCU_BACKENDS = ("builtin", "liburcu")
_RESULTS_ENV = "KBIND_TEST_RCU_BACKEND_RESULTS"
_CHILD_TIMEOUT = 900.0
_child_runs: dict[tuple[str, str], tuple[dict[str, list[str]], str]] = {}
_child_results: dict[str, list[str]] = {}
_RANK = {"passed": 0, "skipped": 1, "failed": 2}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rcu_backends: run the tests once per RCU backend (the other backend in a child pytest)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("rcu_backends") is not None:
        # indirect: the value goes through the fixture below, whose skip then runs
        # (direct parametrization would bypass the fixture).
        metafunc.parametrize("rcu_backend", RCU_BACKENDS, indirect=True)


@pytest.fixture(autouse=True)
def rcu_backend(request: pytest.FixtureRequest) -> str:
    """The RCU backend of this test case: skip it if it cannot run anywhere."""
    from kbind.rcu_backend import current_backend, liburcu_available

    current = current_backend()
    backend: str = getattr(request, "param", current)
    if backend != current:
        if os.environ.get(_RESULTS_ENV):
            pytest.skip(f"the {backend} case runs in the parent process")
        if backend == "liburcu" and not liburcu_available():
            pytest.skip(
                "liburcu is not installed (apt-get install liburcu8, or liburcu-dev): "
                "the liburcu backend cannot be tested"
            )
    return backend


def _run_child(item: pytest.Item, backend: str) -> tuple[dict[str, list[str]], str]:
    key = (str(item.path), backend)
    if key not in _child_runs:
        root = item.config.rootpath
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "results.json"
            env = {**os.environ, "KBIND_RCU_BACKEND": backend, _RESULTS_ENV: str(out)}
            cmd = [sys.executable, "-m", "pytest", "-q", str(item.path.relative_to(root))]
            r = subprocess.run(
                [*cmd, "-k", backend], cwd=root, env=env, capture_output=True, text=True,
                timeout=_CHILD_TIMEOUT, check=False,
            )  # fmt: skip
            results = json.loads(out.read_text()) if out.exists() else {}
        _child_runs[key] = (results, (r.stdout + r.stderr)[-6000:])
    return _child_runs[key]


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    callspec = getattr(pyfuncitem, "callspec", None)
    if callspec is None or "rcu_backend" not in callspec.params:
        return None
    from kbind.rcu_backend import current_backend

    backend = callspec.params["rcu_backend"]
    if backend == current_backend():
        return None
    results, tail = _run_child(pyfuncitem, backend)
    got = results.get(pyfuncitem.nodeid)
    if got is None:
        pytest.fail(f"the {backend} child run did not report this test:\n{tail}", pytrace=False)
    outcome, text = got
    if outcome == "skipped":
        pytest.skip(text)
    if outcome == "failed":
        pytest.fail(f"failed on the {backend} backend (child pytest):\n{text}", pytrace=False)
    return True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not os.environ.get(_RESULTS_ENV):
        return
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2]).removeprefix("Skipped: ")
    else:
        text = report.longreprtext
    old = _child_results.get(report.nodeid)
    if old is None or _RANK[report.outcome] > _RANK[old[0]]:
        _child_results[report.nodeid] = [report.outcome, text]


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = os.environ.get(_RESULTS_ENV)
    if path:
        pathlib.Path(path).write_text(json.dumps(_child_results))


@pytest.fixture(scope="session")
def compare_run() -> tuple[Any, dict[str, object]]:
    """Every misuse scenario run on every design once (kbind compare, mypy included).

    Returns the matrix and the state it must leave as it found it (the stall
    threshold, kbind.kernel_c's options), read before the run.
    """
    from kbind import compare, kernel_c
    from kbind.rcu import get_stall_timeout

    before = {"stall": get_stall_timeout(), "config": kernel_c.Config(**vars(kernel_c.config))}
    return compare.run(), before


@pytest.fixture(scope="session")
def compare_matrix(compare_run: tuple[Any, dict[str, object]]) -> Any:
    """The matrix of :func:`compare_run`."""
    return compare_run[0]
