"""The LKMM evaluator (kbind.litmus.model) over the shipped corpus: seconds per test.

Baseline, measured in the same run: parsing each test (kbind.litmus.parse_file,
the step every use of a file pays first), and, with two usable CPUs, a short
hardware run of SB+poonceonces (20,000 instances through kbind.litmus.run_test,
compiled once before timing).  Measured: model() on each shipped test (best
of 5 per test, interleaved with the parse and with reasons off), the whole
corpus (the sum, and the wall time of one pass from the files), the
two-thread tests alone, and the cost of the reasons (model(test,
reasons=False) against the default).  Target: a two-thread test answers in
well under a second (the slowest two-thread test < 0.5 s).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from _util import table

from kbind import litmus

REPS = 5
PASSES = 3
HW_TEST = "SB+poonceonces"
HW_ITERATIONS = 20_000
TARGET_S = 0.5


def _ms(s: float) -> str:
    return f"{s * 1e3:.2f} ms"


def _x(s: float, base: float) -> str:
    return f"{s / base:.1f}x"


def _time_parse(path: Path) -> float:
    t0 = time.perf_counter()
    litmus.parse_file(path)
    return time.perf_counter() - t0


def _time_model(test: litmus.LitmusTest, reasons: bool) -> tuple[float, bool]:
    """Seconds for one model() of a parsed test, and whether it agrees with the file."""
    t0 = time.perf_counter()
    r = litmus.model(test, reasons=reasons)
    return time.perf_counter() - t0, r.agrees


def _time_pass(paths: list[Path]) -> float:
    """Seconds for model() of every file, from the file (parse included)."""
    t0 = time.perf_counter()
    for p in paths:
        litmus.model(p)
    return time.perf_counter() - t0


def _time_hardware(test: litmus.LitmusTest) -> float:
    t0 = time.perf_counter()
    litmus.run_test(test, HW_ITERATIONS, max_seconds=10)
    return time.perf_counter() - t0


def main() -> int:
    tests: dict[str, tuple[Path, litmus.LitmusTest]] = {}
    skipped = []
    for p in litmus.shipped():
        test = litmus.parse_file(p)
        try:
            litmus.model(test, reasons=False)  # warm: imports, first-call caches
        except litmus.LitmusUnsupportedError as exc:
            skipped.append(f"{test.name} ({exc})")
            continue
        tests[test.name] = (p, test)
    parse = dict.fromkeys(tests, float("inf"))
    on, off = dict(parse), dict(parse)
    agree: set[str] = set()
    for _ in range(REPS):  # interleaved, so the three see the same machine
        for name, (p, test) in tests.items():
            parse[name] = min(parse[name], _time_parse(p))
            t, agrees = _time_model(test, reasons=True)
            on[name] = min(on[name], t)
            off[name] = min(off[name], _time_model(test, reasons=False)[0])
            if agrees:
                agree.add(name)
    files = [p for p, _ in tests.values()]
    passes = [_time_pass(files) for _ in range(PASSES)]

    n = len(tests)
    order = sorted(tests, key=lambda k: on[k])
    fast, slow = order[0], order[-1]
    mid, pmid = statistics.median(on.values()), statistics.median(parse.values())
    ratio = statistics.median(on[k] / parse[k] for k in tests)
    print(table(f"litmus-model: model() per test, {n} shipped tests, best of {REPS} each "
                "(baseline: parsing the test)",
                ["statistic", "test", "time", "x parse (median)"],
                [["median", "", _ms(mid), _x(mid, pmid)],
                 ["fastest", fast, _ms(on[fast]), _x(on[fast], pmid)],
                 ["slowest", slow, _ms(on[slow]), _x(on[slow], pmid)],
                 ["parse, median (baseline)", "", _ms(pmid), "1.0x"],
                 ["model / parse: median of the per-test ratios", "", "",
                  f"{ratio:.1f}x"]]))  # fmt: skip
    print()

    two = [k for k in tests if len(tests[k][1].threads) == 2]
    two_slow = max(two, key=lambda k: on[k])
    total, ptotal, wall = sum(on.values()), sum(parse.values()), statistics.median(passes)
    print(table(f"litmus-model: the whole corpus ({n} tests) and its two-thread tests ({len(two)})",
                ["measure", "time", "x parse"],
                [["corpus: sum of the per-test bests", _ms(total), _x(total, ptotal)],
                 [f"corpus: one pass from the files, median of {PASSES} (parse included)",
                  _ms(wall), _x(wall, ptotal)],
                 ["two-thread tests: median", _ms(statistics.median(on[k] for k in two)), ""],
                 [f"two-thread tests: slowest ({two_slow})", _ms(on[two_slow]),
                  _x(on[two_slow], parse[two_slow])]]))  # fmt: skip
    print()

    s_on, s_off = sum(on.values()), sum(off.values())
    costly = max(tests, key=lambda k: on[k] - off[k])
    print(table("litmus-model: reasons on (the default) against model(test, reasons=False)",
                ["measure", "reasons on", "reasons off", "on / off"],
                [["corpus: sum of the per-test bests", _ms(s_on), _ms(s_off),
                  f"{s_on / s_off:.2f}x"],
                 [f"largest difference ({costly})", _ms(on[costly]), _ms(off[costly]),
                  f"{on[costly] / off[costly]:.2f}x"]]))  # fmt: skip
    print()

    cpus = litmus.usable_cpus()
    if cpus >= 2:
        hw_test = tests[HW_TEST][1]
        litmus.run_test(hw_test, 1000)  # compiled (or loaded from the cache) before timing
        hw = statistics.median(_time_hardware(hw_test) for _ in range(REPS))
        print(table(f"litmus-model: the model's answer against a short hardware run of {HW_TEST}",
                    ["answer", "time", "x model"],
                    [[f"model({HW_TEST}), best of {REPS}", _ms(on[HW_TEST]), "1.0x"],
                     [f"run_test({HW_TEST}, {HW_ITERATIONS:,}) on this CPU, median of {REPS}",
                      _ms(hw), _x(hw, on[HW_TEST])]]))  # fmt: skip
        print()
    else:
        print(f"hardware baseline: needs two usable CPUs ({cpus} usable); skipped")
    if skipped:
        print("not evaluated (unsupported): " + "; ".join(skipped))
    print(f"verdicts agreeing with the file's Result: {len(agree)} of {n}")
    met = on[two_slow] < TARGET_S
    print(f"target met (slowest two-thread test < {TARGET_S} s): {'yes' if met else 'no'} "
          f"({two_slow}: {on[two_slow]:.4f} s)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
