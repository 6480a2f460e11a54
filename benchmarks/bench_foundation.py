"""Foundation benchmark: barriers, atomics and locks, from Python and natively.

Python: per-call cost of smp_mb(), AtomicI64.fetch_add/load and SpinLock/Mutex
lock+unlock, against ``with threading.Lock(): pass`` and against the PyPI
package ``atomics`` (the only Python atomics library with memory orderings).
Native: kbind's inlined smp_mb() (a locked add, as the kernel does) against
mfence (what liburcu's cmm_smp_mb() uses), and the atomics in C.
All ratios are taken within this one run.
"""

from __future__ import annotations

import threading

from _util import ROOT, build_native, per_call_ns, run_native, table

from kbind import AtomicI64, Full, Mutex, Relaxed, SpinLock, barrier

FETCH_ADD_TARGET_NS = 300.0
#: Targets relative to ``with threading.Lock(): pass`` measured in the same run:
#: the atomics are C methods of kbind._bridge._hotpath (csrc/pyext/atomic_type.c).
RATIO_TARGETS = {
    "`AtomicI64.fetch_add(1, Full)`": 0.5,
    "`AtomicI64.load(Relaxed)`": 0.4,
}


def python_suite() -> tuple[str, dict[str, float]]:
    lock = threading.Lock()
    a = AtomicI64(0)
    spin, mutex = SpinLock(0), Mutex(0)
    env: dict[str, object] = {
        "lock": lock, "a": a, "spin": spin, "mutex": mutex, "Full": Full,
        "Relaxed": Relaxed, "smp_mb": barrier.smp_mb,
    }  # fmt: skip
    rows = {
        "`with threading.Lock(): pass` (baseline)": per_call_ns("with lock: pass", env),
        "`smp_mb()`": per_call_ns("smp_mb()", env),
        "`AtomicI64.fetch_add(1, Full)`": per_call_ns("a.fetch_add(1, Full)", env),
        "`AtomicI64.load(Relaxed)`": per_call_ns("a.load(Relaxed)", env),
        "`with SpinLock.lock(): pass`": per_call_ns("with spin.lock(): pass", env, number=50_000),
        "`with Mutex.lock(): pass`": per_call_ns("with mutex.lock(): pass", env, number=50_000),
    }
    try:
        import atomics

        pa = atomics.atomic(width=8, atype=atomics.INT)
        env["pa"] = pa
        rows["`atomics` fetch_add (PyPI)"] = per_call_ns("pa.fetch_add(1)", env, number=20_000)
        rows["`atomics` load (PyPI)"] = per_call_ns("pa.load()", env, number=20_000)
    except ImportError:
        pass
    base = rows["`with threading.Lock(): pass` (baseline)"]
    atom = rows.get("`atomics` fetch_add (PyPI)")
    out = []
    for name, ns in rows.items():
        vs_atomics = f"{ns / atom:.3f}" if atom else "n/a"
        out.append((name, f"{ns:.0f}", f"{ns / base:.2f}", vs_atomics))
    text = table(
        "From Python (ns per call, best of 7)",
        ["operation", "ns", "x threading.Lock", "x atomics.fetch_add"],
        out,
    )
    fa = rows["`AtomicI64.fetch_add(1, Full)`"]
    verdict = "met" if fa <= FETCH_ADD_TARGET_NS else "MISSED"
    text += f"\n\nTarget fetch_add <= {FETCH_ADD_TARGET_NS:.0f} ns: {fa:.0f} ns ({verdict})"
    for name, target in RATIO_TARGETS.items():
        ratio = rows[name] / base
        verdict = "met" if ratio <= target else "MISSED"
        text += (
            f"\nTarget {name} <= {target}x threading.Lock: {rows[name]:.0f} ns / "
            f"{base:.0f} ns = {ratio:.2f}x ({verdict})"
        )
    if atom is None:
        text += "\n(`atomics` not installed: `pip install -e '.[bench]'` adds that baseline)"
    return text, rows


def native_suite() -> tuple[str, dict[str, float]]:
    exe = build_native("barrier_bench", [ROOT / "benchmarks/native/barrier_bench.c"])
    r = run_native(exe)
    mf = r["mfence"]
    rows = [(name, f"{ns:.2f}", f"{ns / mf:.2f}") for name, ns in r.items()]
    text = table(
        f"Native C, inlined (ns per op, best of 7; arch {barrier.arch()})",
        ["operation", "ns", "x mfence"],
        rows,
    )
    text += (
        f"\n\nsmp_mb() (kernel-style locked add) costs {r['smp_mb']:.2f} ns, "
        f"{r['smp_mb'] / mf:.2f}x an mfence ({mf:.2f} ns)"
    )
    return text, r


def main() -> None:
    for suite in (python_suite, native_suite):
        text, _ = suite()
        print(text, end="\n\n", flush=True)


if __name__ == "__main__":
    main()
