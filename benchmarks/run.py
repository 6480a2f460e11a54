"""Run kbind's benchmarks: ``python benchmarks/run.py [SUITE ...]``.

Each suite measures kbind against a baseline in the same run and prints
Markdown tables of ratios (the machine is noisy: compare ratios, not
absolute numbers across runs).  With no argument every suite runs.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

#: suite name -> module in benchmarks/ with a main() function.
SUITES = {
    "foundation": "bench_foundation",
    "rcu-api": "rcu_api_bench",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("suites", nargs="*", choices=[*SUITES, []], help="default: all")
    args = parser.parse_args()
    for name in args.suites or list(SUITES):
        print(f"## {name}\n", flush=True)
        importlib.import_module(SUITES[name]).main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
