"""Docs and docstrings name real sources, not labels only the project's authors could look up."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCANNED = ("src", "csrc", "docs", "examples", "tests", "benchmarks")
TOP_FILES = ("README.md", "setup.py", "MANIFEST.in", "pyproject.toml")
SUFFIXES = {".py", ".pyi", ".md", ".c", ".h", ".txt", ".toml", ".in", ".cfg", ".sh", ".rst"}

#: Labels an outsider cannot look up, and what to write instead.
LABELS: dict[str, str] = {
    r"\bseeds?\s+\d{3}\b": "cite the thread, RFC or blog post itself",
    r"\b[Ss]eed (?:proposal|use case)s?\b|(?<!\w)\(seed\)": "cite the thread or post itself",
    r"\b[Ii]ssue\s+\d+\b": "name the feature or the section of the docs instead of an issue number",
    r"\bthe issue's\b": "say whose targets or requirements they are",
    r"\bMISUSE\.md\b|\bmisuse matrix\b": "point at docs/misuse.md",
    r"\bANCHORS\b|\bSTYLE\.md\b|\bRUST-2026\b": "name the real source (kernel file, thread, crate)",
    r"shared/reference|\.\./shared\b": "the repository must carry what it refers to",
    r"/work/(?:wt|main|venvs|shared)\b": "no absolute paths of a development machine",
}


def scanned_files() -> list[pathlib.Path]:
    files = [ROOT / name for name in TOP_FILES if (ROOT / name).is_file()]
    for top in SCANNED:
        files += [p for p in (ROOT / top).rglob("*") if p.is_file() and p.suffix in SUFFIXES]
    return sorted(p for p in files if p != pathlib.Path(__file__).resolve())


@pytest.mark.parametrize(
    ("pattern", "sample"),
    [
        (r"\bseeds?\s+\d{3}\b", "the design of seed 002"),
        (r"\b[Ss]eed (?:proposal|use case)s?\b|(?<!\w)\(seed\)", "Rcu<T> (seed proposal)"),
        (r"\b[Ii]ssue\s+\d+\b", "## Sequence locks (issue 5)"),
        (r"\bthe issue's\b", "Against the issue's targets"),
        (r"\bMISUSE\.md\b|\bmisuse matrix\b", "raise as listed in MISUSE.md"),
        (r"\bANCHORS\b|\bSTYLE\.md\b|\bRUST-2026\b", "see STYLE.md"),
        (r"shared/reference|\.\./shared\b", "../shared/reference/seeds"),
        (r"/work/(?:wt|main|venvs|shared)\b", "/work/wt/docs/kbind"),
    ],
)
def test_label_pattern_catches_its_example(pattern: str, sample: str) -> None:
    """Each label pattern matches the kind of text it exists to keep out."""
    assert pattern in LABELS
    assert re.search(pattern, sample)


@pytest.mark.parametrize(
    "text",
    [
        "seed: int = 1",  # the torture tests' random seed
        "seeds the updaters' choices",
        "not {type(seed).__name__}",
        "fishinabarrel/linux-kernel-module-rust#143",
        "rust-lang/rfcs#3301",
        "a known issue with the GIL",
    ],
)
def test_label_patterns_spare_legitimate_text(text: str) -> None:
    """Random seeds, repository#number references and the plain word 'issue' are not labels."""
    assert not any(re.search(p, text) for p in LABELS)


def test_no_internal_labels_in_the_repository() -> None:
    """No file in the package, docs, examples, tests or benchmarks uses an internal label."""
    files = scanned_files()
    assert any(p.name == "misuse.md" for p in files)  # the scan reaches docs/
    found = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}  ({fix})"
        for path in files
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        for pattern, fix in LABELS.items()
        if re.search(pattern, line)
    ]
    assert not found, "internal labels:\n" + "\n".join(found)
