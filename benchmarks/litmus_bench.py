"""Litmus files against kbind's former built-in harness: SB instances per second, compile times.

Baseline, measured in the same run: the hard-coded SB loop kbind had before
litmus files (benchmarks/native/litmus_builtin_bench.c: two barriers per
iteration).  Measured: SB+poonceonces.litmus (the same test, from its file)
through kbind.litmus: translated, compiled and run in csrc/tools/litmus.c
(many instances per synchronised round).  Target: >= 1x.  Also: the time of
a first run's compile (an empty cache) against a cached run's load.
"""

from __future__ import annotations

import os
import pathlib
import statistics
import subprocess
import sys
import tempfile

from _util import build_native, run_native, table

from kbind import litmus

HERE = os.path.dirname(os.path.abspath(__file__))
N = 2_000_000
REPS = 5


def main() -> int:
    if litmus.usable_cpus() < 2:
        print("litmus benchmark: needs two usable CPUs; skipped")
        return 0
    src = pathlib.Path(HERE, "native", "litmus_builtin_bench.c")
    exe = build_native("litmus_builtin_bench", [src], ["-ldl"])
    base, files = [], []
    test = litmus.load("SB+poonceonces")
    litmus.run_test(test, 1000)  # compiled once before timing
    for _ in range(REPS):  # interleaved, so both see the same machine
        base.append(run_native(exe, str(N))["iterations_per_s"])
        files.append(litmus.run_test(test, N, max_seconds=60).rate)
    b, f = statistics.median(base), statistics.median(files)
    rows = [
        ["former built-in SB harness", f"{b:,.0f}", f"{min(base):,.0f}-{max(base):,.0f}", "1.00x"],
        ["SB+poonceonces.litmus", f"{f:,.0f}", f"{min(files):,.0f}-{max(files):,.0f}",
         f"{f / b:.2f}x"],
    ]  # fmt: skip
    print(table(f"litmus: SB instances per second, median of {REPS} (target >= 1x)",
                ["harness", "instances/s", "range", "ratio"], rows))  # fmt: skip
    code = ("import kbind.litmus as l; r = l.run_file('SB+fencembonceonces', 1); "
            "print(r.compile_seconds, r.cached)")  # fmt: skip
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "KBIND_CACHE_DIR": cache}
        first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                               text=True, check=True).stdout.split()  # fmt: skip
        second = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, check=True).stdout.split()  # fmt: skip
    c1, c2 = float(first[0]), float(second[0])
    print(table("litmus: compiling a test (empty cache) against loading it (cached)",
                ["run", "seconds", "compiled"],
                [["first", f"{c1:.3f}", first[1] == "False"],
                 ["second", f"{c2:.4f}", second[1] == "False"],
                 ["ratio", f"{c1 / c2:.0f}x", ""]]))  # fmt: skip
    print(f"target met: {'yes' if f >= b else 'no'} ({f / b:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
