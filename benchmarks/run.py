"""Run kbind's benchmarks: ``python benchmarks/run.py [SUITE ...]``.

Each suite measures kbind against a baseline in the same run and prints
Markdown tables with ratios (the machine is noisy: compare ratios, not
absolute numbers across runs).  With no argument every suite runs; each
suite runs in its own process so one cannot disturb another.

Suites that need extra software say so and are reported as skipped:
``foundation`` compares with the PyPI package ``atomics``
(``pip install -e '.[bench]'``); ``rcu-backends`` (kbind's RCU engine vs
liburcu natively, and kbind's two RCU backends through its C API) needs
liburcu (``apt-get install -y liburcu-dev``); ``rcu-scaling`` (native read-side
scaling at 1..N threads of kbind's RCU engine, liburcu and the seqlock) reports
kbind alone without it.
"""

from __future__ import annotations

import argparse
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent

#: suite name -> (script in benchmarks/, its arguments).
SUITES: dict[str, tuple[str, list[str]]] = {
    "foundation": ("bench_foundation.py", []),
    "rcu-api": ("rcu_api_bench.py", []),
    "seqlock": ("seqlock_bench.py", []),
    "rcu-list-native": ("rcu_list_native_bench.py", []),
    "locks": ("lock_bench.py", []),
    "designs": ("designs_bench.py", []),
    "rcu-list": ("rcu_list_bench.py", []),
    "rcu-backends": ("rcu_backends.py", ["--reps", "3", "--markdown"]),
    "rcu-scaling": ("rcu_scaling.py", []),
    "litmus": ("litmus_bench.py", []),
    "litmus-model": ("litmus_model_bench.py", []),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="default: all")
    args = parser.parse_args()
    failed = []
    for name in args.suites or list(SUITES):
        script, extra = SUITES[name]
        print(f"## {name}\n", flush=True)
        rc = subprocess.run([sys.executable, str(HERE / script), *extra], check=False).returncode
        if rc != 0:
            failed.append(f"{name} (exit {rc})")
        print(flush=True)
    if failed:
        print("suites that did not run to the end: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
