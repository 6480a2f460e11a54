"""Litmus tests on the real CPU: kernel-format ``.litmus`` files, compiled and run by kbind.

The Linux-kernel memory model's tests are C litmus files
(``tools/memory-model/litmus-tests/*.litmus`` in the kernel tree; thousands
more in Paul McKenney's public ``litmus`` repository), each with the LKMM's
verdict in a ``Result:`` comment.  herdtools' ``litmus7``/``klitmus7`` run
them on hardware; kbind does it built in:

* :mod:`kbind.litmus.parser` reads the format (:func:`parse_file`);
* :mod:`kbind.litmus.cgen` translates a test to C over kbind's own
  primitives - marked accesses, barriers, atomics, spinlocks, and RCU and
  SRCU on kbind's engine;
* :mod:`kbind.litmus.native` compiles it at run time through cffi
  (``-O2``, cached by a hash of the source) and runs it in kbind's harness
  (csrc/tools/litmus.c): threads pinned to distinct CPUs, many instances
  per synchronised round, every outcome counted;
* :mod:`kbind.litmus.result` judges the outcomes against the file's
  ``Result:`` - ``FORBIDDEN BUT OBSERVED`` is a broken barrier, engine or CPU.

``run_file("SB+fencembonceonces")`` runs a shipped test (:mod:`kbind.litmus.catalog`);
``model("SB+fencembonceonces")`` answers as herd7 with the kernel's
``linux-kernel.cat`` does, with the reasons (:mod:`kbind.litmus.model`);
``run("SB", "mb")`` runs a classic pattern's variant by its short names, as
``kbind litmus SB`` does.  See docs/litmus.md.
"""

from __future__ import annotations

from pathlib import Path

from kbind.litmus.catalog import TESTS, VARIANTS, Pattern, corpus_dir, shipped, shipped_path

# The LKMM evaluator's package, kbind.litmus.model; the name ``model`` in this
# package is its entry point, the function below (defined after the import).
from kbind.litmus.model import ModelResult, ModelTimeoutError, evaluate_test, format_model
from kbind.litmus.parser import (
    LitmusError,
    LitmusSyntaxError,
    LitmusUnsupportedError,
    parse,
    parse_file,
)
from kbind.litmus.result import LitmusResult, format_results
from kbind.litmus.runner import BUSTED_RCU, BUSTED_SRCU, run_test, usable_cpus
from kbind.litmus.syntax import LitmusTest

__all__ = [
    "BUSTED_RCU",
    "BUSTED_SRCU",
    "TESTS",
    "VARIANTS",
    "LitmusError",
    "LitmusResult",
    "LitmusSyntaxError",
    "LitmusTest",
    "LitmusUnsupportedError",
    "ModelResult",
    "ModelTimeoutError",
    "Pattern",
    "corpus_dir",
    "format_model",
    "format_results",
    "load",
    "model",
    "parse",
    "parse_file",
    "run",
    "run_file",
    "run_test",
    "shipped",
    "shipped_path",
    "usable_cpus",
]


def load(target: str | Path) -> LitmusTest:
    """Parse a ``.litmus`` file, or the shipped test of that name (``SB+poonceonces``).

    Raises:
        FileNotFoundError: neither a file nor a shipped test.
        LitmusSyntaxError, LitmusUnsupportedError: as :func:`parse`.
    """
    p = Path(target)
    if p.is_file():
        return parse_file(p)
    found = shipped_path(str(target))
    if found is None:
        raise FileNotFoundError(f"{target}: no such file, and no shipped litmus test of that name")
    return parse_file(found)


def run_file(target: str | Path, iterations: int | None = None, **options: object) -> LitmusResult:
    """Parse and run a ``.litmus`` file (or a shipped test by name); see :func:`run_test`.

    Raises:
        FileNotFoundError, LitmusError: as :func:`load`.
        ValueError, RuntimeError: as :func:`run_test`.
    """
    return run_test(load(target), iterations, **options)  # type: ignore[arg-type]


def run(
    test: str,
    variant: str = "once",
    iterations: int | None = None,
    *,
    max_seconds: float = 60.0,
    until_observed: int = 0,
    busted_barrier: bool = False,
    pin: bool = True,
) -> LitmusResult:
    """Run a classic pattern's variant (``run("SB", "mb")``): its shipped file, by short names.

    Raises:
        ValueError: an unknown pattern or variant, or a bound out of range.
    """
    if test not in TESTS:
        raise ValueError(f"unknown litmus test {test!r}; choose from {', '.join(TESTS)}")
    spec = TESTS[test]
    if variant not in spec.files:
        raise ValueError(
            f"test {test} has no variant {variant!r}; choose from {', '.join(spec.files)}"
        )
    n = spec.default_iterations if iterations is None else iterations
    result = run_test(
        load(spec.files[variant]),
        n,
        max_seconds=max_seconds,
        until_observed=until_observed,
        busted_barrier=busted_barrier,
        pin=pin,
    )
    result.pattern, result.variant = test, variant
    return result


def model(
    test: LitmusTest | str | Path, *, reasons: bool = True, max_seconds: float | None = None
) -> ModelResult:
    """Evaluate a litmus test under the LKMM, as herd7 with linux-kernel.cat does.

    ``test`` is a parsed test, a ``.litmus`` file or a shipped test's name.
    The result holds the verdict for the condition (herd7's Observation:
    ``Never``, ``Sometimes``, ``Always``), the allowed final states with their
    counts of candidate executions, the reasons (axiom and cycle) for each
    forbidden state the condition asks about, and the comparison with the
    file's ``Result:`` (:attr:`ModelResult.agreement`).  With ``max_seconds``,
    a test too large to judge in that time raises :class:`ModelTimeoutError`.
    See docs/litmus.md, "The LKMM's verdict".

    Raises:
        FileNotFoundError: neither a file nor a shipped test.
        LitmusSyntaxError: a malformed file.
        LitmusUnsupportedError: a construct the evaluator does not support (named).
        ModelTimeoutError: ``max_seconds`` passed first.
    """
    if not isinstance(test, LitmusTest):
        test = load(test)
    return evaluate_test(test, reasons=reasons, max_seconds=max_seconds)
