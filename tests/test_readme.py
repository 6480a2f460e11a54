"""README's Quickstart is exactly two commands, and CI runs the test one verbatim."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = re.search(r"^## Quickstart\n(.*?)^## ", text, flags=re.S | re.M)
    assert section, "README.md has no '## Quickstart' section"
    return re.findall(r"```sh\n(.*?)\n```", section.group(1), flags=re.S)


def test_readme_quickstart_has_exactly_two_commands() -> None:
    """One command installs and runs the tour, one installs and runs the tests."""
    commands = quickstart_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands)
    assert "kbind tour" in commands[0] and "pip install" in commands[0]
    assert "pytest" in commands[1] and "pip install" in commands[1]


def test_ci_runs_readme_test_command_verbatim() -> None:
    """.ci/run contains the README's test command as a line of its own."""
    test_command = quickstart_commands()[1]
    ci_lines = (ROOT / ".ci/run").read_text().splitlines()
    assert test_command in ci_lines


def test_ci_checks_both_configurations_and_examples_types() -> None:
    """.ci/run runs the no-liburcu/no-matplotlib configuration and type-checks the examples."""
    ci_lines = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert "python3 .ci/check_optional_deps.py" in ci_lines
    assert "python3 -m mypy --strict examples" in ci_lines
    assert "python3 -m mypy --strict src/kbind" in ci_lines
