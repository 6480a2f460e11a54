"""CI's second configuration: the optional dependencies absent, every test passes or skips.

A fresh user's machine may lack liburcu and matplotlib, which CI installs for
its full run.  This script runs the test modules that depend on them once
more with liburcu made unloadable (``KBIND_LIBURCU_QSBR`` names a file that
does not exist) and matplotlib hidden (``.ci/without-matplotlib`` first on
``PYTHONPATH``), and fails unless:

* nothing failed or errored;
* every ``[liburcu]`` case was skipped, saying how to install liburcu;
* at least one plot test was skipped, saying that matplotlib is missing.

Usage: ``python3 .ci/check_optional_deps.py`` from the repository root.
"""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: Modules with plot tests (besides the backend-parametrized ones, found below).
PLOT_MODULES = ("tests/test_cli.py", "tests/test_litmus.py", "tests/test_trace.py")


def backend_modules() -> list[str]:
    """Return the test modules marked to run once per RCU backend."""
    pattern = re.compile(r"^pytestmark\s*=.*rcu_backends", re.M)
    return sorted(
        str(p.relative_to(ROOT))
        for p in (ROOT / "tests").glob("test_*.py")
        if pattern.search(p.read_text())
    )


def run(modules: list[str], junit: pathlib.Path) -> int:
    """Run pytest on ``modules`` with liburcu unloadable and matplotlib hidden."""
    env = {
        **os.environ,
        "KBIND_LIBURCU_QSBR": "/nonexistent/liburcu-qsbr.so",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / ".ci" / "without-matplotlib"), os.environ.get("PYTHONPATH")) if p
        ),
    }
    env.pop("KBIND_RCU_BACKEND", None)
    cmd = [sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *modules]
    print("+ KBIND_LIBURCU_QSBR=/nonexistent/... PYTHONPATH=.ci/without-matplotlib", *cmd[1:])
    sys.stdout.flush()
    return subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode


def main() -> int:
    """Run the configuration and check its outcome; return the exit status."""
    modules = backend_modules()
    if not modules:
        print("check_optional_deps: no module is marked rcu_backends", file=sys.stderr)
        return 1
    modules += [m for m in PLOT_MODULES if m not in modules and (ROOT / m).exists()]
    with tempfile.TemporaryDirectory() as tmp:
        junit = pathlib.Path(tmp) / "junit.xml"
        status = run(modules, junit)
        cases = list(ET.parse(junit).getroot().iter("testcase")) if junit.exists() else []
    problems: list[str] = []
    if status != 0:
        problems.append(f"pytest exited {status}")
    liburcu_cases = [c for c in cases if c.get("name", "").endswith("[liburcu]")]
    if not liburcu_cases:
        problems.append("no [liburcu] case was collected")
    plot_skips = 0
    for case in cases:
        skipped = case.find("skipped")
        message = "" if skipped is None else skipped.get("message", "")
        name = f"{case.get('classname')}::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            problems.append(f"{name} failed")
        if name.endswith("[liburcu]") and (skipped is None or "apt-get install" not in message):
            problems.append(f"{name} was not skipped with the install command ({message!r})")
        if skipped is not None and "matplotlib" in message:
            plot_skips += 1
    if plot_skips == 0:
        problems.append("no plot test was skipped for the missing matplotlib")
    if problems:
        print("check_optional_deps: FAILED", *problems, sep="\n  ", file=sys.stderr)
        return 1
    print(
        f"check_optional_deps: ok: {len(cases)} cases, {len(liburcu_cases)} [liburcu] cases "
        f"skipped, {plot_skips} plot tests skipped, nothing failed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
