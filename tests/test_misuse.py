"""The misuse catalog: docs/misuse.md and kbind.explain.rules agree; every rule code has a row."""

from __future__ import annotations

import builtins
import pathlib
import re
import subprocess
import sys

import pytest

import kbind.errors
from kbind.compare.render import BEGIN as GENERATED
from kbind.explain import EXPLANATIONS, UnknownNameError, explain, lookup
from kbind.explain.rules import DOC, FAMILIES, RULES, MisuseRule, is_rule_code, rule
from tests.support import child_env

ROOT = pathlib.Path(__file__).resolve().parents[1]
CODE = re.compile(r"\b[RSAL]\d\d\b")


def doc_tables() -> dict[str, list[list[str]]]:
    """Parse docs/misuse.md: family heading -> rows of cells (header and rule lines dropped)."""
    tables: dict[str, list[list[str]]] = {}
    heading = None
    for line in (ROOT / DOC).read_text().splitlines():
        if line == GENERATED:  # the matrix kbind compare writes: tests/test_compare_doc.py
            break
        if line.startswith("## "):
            heading = line[3:].strip()
        elif line.startswith("| ") and heading is not None:
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if cells[0] == "id":
                assert len(cells) == 7, line
                continue
            tables.setdefault(heading, []).append(cells)
    return tables


def names_cell(values: tuple[str, ...]) -> str:
    return ", ".join(f"`{v}`" for v in values) if values else "—"


def test_docs_misuse_has_one_table_per_family_with_every_code() -> None:
    """docs/misuse.md has one table per family (R, S, A, L) with that family's codes, in order."""
    tables = doc_tables()
    assert list(tables) == [f"{name} ({prefix})" for prefix, name in FAMILIES.items()]
    for prefix, name in FAMILIES.items():
        codes = [cells[0] for cells in tables[f"{name} ({prefix})"]]
        assert codes == [c for c in RULES if c.startswith(prefix)]


def test_docs_misuse_rows_match_package_data() -> None:
    """Each row of docs/misuse.md says exactly what kbind.explain.rules (kbind explain) says."""
    for rows in doc_tables().values():
        for cells in rows:
            r = RULES[cells[0]]
            want = [r.code, r.misuse, r.kernel, r.rust, r.kbind]
            want += [names_cell(r.raises), names_cell(r.tests)]
            assert cells == want, f"docs/misuse.md row {r.code} differs from kbind/explain/rules.py"


def test_catalog_covers_every_family_without_gaps() -> None:
    """The R, S and A families are numbered in order; L has L01-L08, L10 (leaks), L11.

    R26 belongs to the RCU lists (written on another branch), R27 and R28 to
    keeping objects past a reader.
    """

    def numbers(prefix: str) -> list[int]:
        return [int(c[1:]) for c in RULES if c.startswith(prefix)]

    assert numbers("R") == list(range(1, 29))
    assert numbers("S") == list(range(1, 12))
    assert numbers("A") == list(range(1, 8))
    assert numbers("L") == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]


@pytest.mark.parametrize("code", list(RULES))
def test_row_is_complete_and_names_real_classes(code: str) -> None:
    """Each row has every column, no table-breaking '|', and names only kbind or builtin classes."""
    r = RULES[code]
    for text in (r.misuse, r.kernel, r.rust, r.kbind):
        assert text.strip() and "|" not in text and "\n" not in text
    for name in r.raises:
        cls = getattr(kbind.errors, name, None) or getattr(builtins, name, None)
        assert isinstance(cls, type) and issubclass(cls, BaseException), name
    if not r.raises:
        # a row that raises nothing says why: allowed, serialized, documented or not applicable
        assert re.search(
            r"allowed|serialize|documented|not applicable|not checked|impossible|"
            r"not a user error|rcu_barrier",
            r.kbind,
        ), code


def _test_functions() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        found.update(re.findall(r"^def (test_\w+)", path.read_text(), flags=re.M))
    return found


def test_every_cited_test_exists() -> None:
    """Each test a row cites is a test function (or test file) in tests/."""
    functions = _test_functions()
    for r in RULES.values():
        for t in r.tests:
            if t.startswith("tests/"):
                assert (ROOT / t).is_file(), f"{r.code} cites missing file {t}"
            else:
                assert t in functions, f"{r.code} cites missing test {t}"


def test_explanations_and_rows_agree() -> None:
    """A class's explanation lists exactly the rows that raise it (or a subclass of it)."""
    for name, expl in EXPLANATIONS.items():
        cls = getattr(kbind.errors, name)
        covered = {
            code
            for code, r in RULES.items()
            for x in r.raises
            if hasattr(kbind.errors, x) and issubclass(getattr(kbind.errors, x), cls)
        }
        direct = {code for code, r in RULES.items() if name in r.raises}
        assert direct <= set(expl.misuse) <= covered, name


def test_rule_codes_cited_in_the_package_are_in_the_catalog() -> None:
    """Every rule code in kbind/ (error messages, docstrings) and csrc/ is a catalog row."""
    cited: dict[str, set[str]] = {}
    for path in [*(ROOT / "src" / "kbind").rglob("*.py"), *(ROOT / "csrc").rglob("*.[ch]")]:
        for code in CODE.findall(path.read_text()):
            cited.setdefault(code, set()).add(str(path.relative_to(ROOT)))
    assert {"R05", "S04", "L04", "A01"} <= set(cited)  # the scan does find the codes
    unknown = {code: files for code, files in cited.items() if code not in RULES}
    assert not unknown


def test_error_messages_cite_codes_whose_row_raises_that_error() -> None:
    """An error raised by kbind that cites a code names a class that the row lists."""
    from kbind import DeadlockError, SeqLock
    from kbind.rcu import RcuReadGuard, synchronize_rcu

    with RcuReadGuard(), pytest.raises(DeadlockError) as info:
        synchronize_rcu()
    assert "R05" in str(info.value) and "DeadlockError" in RULES["R05"].raises
    with pytest.raises(TypeError) as tinfo:
        SeqLock(p=1.5)  # type: ignore[arg-type]
    assert "S04" in str(tinfo.value) and "TypeError" in RULES["S04"].raises


@pytest.mark.parametrize("name", ["R01", "r01", " s03 ", "A01", "l02"])
def test_lookup_rule_code_case_insensitive(name: str) -> None:
    """lookup() and rule() accept a rule code in any case and return that catalog row."""
    got = lookup(name)
    assert isinstance(got, MisuseRule) and got is rule(name)
    assert got.code == name.strip().upper() and is_rule_code(name)


def test_explain_rule_code_prints_the_row() -> None:
    """explain("R05") prints the misuse, the kernel and Rust columns, what kbind raises, the doc."""
    text = explain("R05")
    r = RULES["R05"]
    assert text.startswith("R05 (RCU): " + r.misuse)
    assert "Illegal synchronize_rcu()" in text and "DeadlockError" in text
    assert "kbind explain DeadlockError" in text and DOC in text
    assert "test_r05_synchronize_rcu_inside_reader_raises_deadlock_error" in text


def test_explain_unknown_rule_code_lists_codes() -> None:
    """A code-shaped name that is not a row raises UnknownNameError listing the codes."""
    with pytest.raises(UnknownNameError) as info:
        lookup("R99")
    assert "R99" in str(info.value) and "R22" in str(info.value) and "L10" in str(info.value)
    assert not is_rule_code("R5") and not is_rule_code("LifetimeError")


def test_class_explanation_points_to_its_rule_codes() -> None:
    """A class's explanation names its rule codes and where the catalog is."""
    text = explain("GuardError")
    assert "Rule codes: R08" in text and "kbind explain R08" in text and DOC in text


def test_cli_explain_rule_code() -> None:
    """`kbind explain s06` prints the S06 row, exit 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "kbind", "explain", "s06"], capture_output=True, text=True,
        timeout=60, cwd=ROOT, env=child_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("S06 (Sequence locks): ") and "DeadlockError" in proc.stdout
