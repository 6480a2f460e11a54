"""The litmus tests shipped with kbind, and the classic patterns' names.

``kbind/litmus/corpus/*.litmus`` are kbind's own tests (MIT), written in the
naming style of the kernel's ``tools/memory-model/litmus-tests``, each with
its LKMM ``Result:``: the eight classic patterns (SB, MP, LB, R, S, 2+2W,
WRC, IRIW) in the variants that matter, and tests of RCU, SRCU, locks,
dependencies and atomicity that exercise kbind's engine itself.

:data:`TESTS` names the classic patterns as ``kbind litmus SB`` knows them:
pattern -> variant -> file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = ["TESTS", "VARIANTS", "Pattern", "corpus_dir", "shipped", "shipped_path"]


def corpus_dir() -> Path:
    """Return the folder of the shipped ``.litmus`` files."""
    return Path(__file__).resolve().parent / "corpus"


def shipped() -> list[Path]:
    """Return every shipped ``.litmus`` file, sorted by name."""
    return sorted(corpus_dir().glob("*.litmus"))


def shipped_path(name: str) -> Path | None:
    """Return the shipped file of the test called ``name`` (its ``C`` line), or None."""
    p = corpus_dir() / f"{name}.litmus"
    return p if p.is_file() else None


#: What each variant puts between a process's two accesses.
VARIANTS: Final[dict[str, str]] = {
    "once": "READ_ONCE/WRITE_ONCE only (a compiler barrier, no CPU fence)",
    "mb": "smp_mb()",
    "wmb-rmb": "smp_wmb() between stores, smp_rmb() between loads",
    "rel-acq": "smp_load_acquire() for first loads, smp_store_release() for last stores",
    "atomic": "a fully ordered atomic RMW (xchg() on a variable of its own)",
}


@dataclass(frozen=True)
class Pattern:
    """A classic pattern and the shipped file of each of its variants.

    Attributes:
        name: the pattern's short name (``SB``).
        threads: its processes.
        files: variant -> the test's name (its file in :func:`corpus_dir`).
        default_iterations: a default run length.
    """

    name: str
    threads: int
    files: dict[str, str]
    default_iterations: int = 1_000_000

    @property
    def verdicts(self) -> dict[str, str]:
        """Variant -> file name (kept as the variants' mapping for older callers)."""
        return self.files


def _p(name: str, threads: int, **files: str) -> Pattern:
    return Pattern(name, threads, {k.replace("_", "-"): v for k, v in files.items()},
                   1_000_000 if threads == 2 else 20_000)  # fmt: skip


TESTS: Final[dict[str, Pattern]] = {
    p.name: p
    for p in (
        _p("SB", 2, once="SB+poonceonces", mb="SB+fencembonceonces",
           rel_acq="SB+poreleaseacquires", atomic="SB+mbrmwonceonces"),
        _p("MP", 2, once="MP+poonceonces", mb="MP+fencembonceonces",
           wmb_rmb="MP+fencewmbonceonce+fencermbonceonce",
           rel_acq="MP+pooncerelease+poacquireonce", atomic="MP+mbrmwonceonces"),
        _p("LB", 2, once="LB+poonceonces", mb="LB+fencembonceonces",
           rel_acq="LB+poacquirereleases", atomic="LB+mbrmwonceonces"),
        _p("R", 2, once="R+poonceonces", mb="R+fencembonceonces",
           wmb_rmb="R+fencewmbonceonce+poonceonce",
           rel_acq="R+pooncerelease+poreleaseacquire", atomic="R+mbrmwonceonces"),
        _p("S", 2, once="S+poonceonces", mb="S+fencembonceonces",
           wmb_rmb="S+fencewmbonceonce+poonceonce",
           rel_acq="S+pooncerelease+poacquirerelease", atomic="S+mbrmwonceonces"),
        _p("2+2W", 2, once="2+2W+poonceonces", mb="2+2W+fencembonceonces",
           atomic="2+2W+mbrmwonceonces"),
        _p("WRC", 3, once="WRC+poonceonces+Once", mb="WRC+fencembonceonces+Once",
           wmb_rmb="WRC+poonceonce+fencermbonceonce+Once",
           rel_acq="WRC+poacquirerelease+poacquireonce+Once", atomic="WRC+mbrmwonceonces+Once"),
        _p("IRIW", 4, once="IRIW+poonceonces+OnceOnce", mb="IRIW+fencembonceonces+OnceOnce",
           wmb_rmb="IRIW+fencermbonceonces+OnceOnce", rel_acq="IRIW+poacquireonces+OnceOnce",
           atomic="IRIW+mbrmwonceonces+OnceOnce"),
    )
}  # fmt: skip
