"""What the LKMM evaluator answers for one test: verdict, allowed states, reasons.

The verdict is herd7's ``Observation`` for the condition's proposition over
the final states the model allows (after the test's ``filter``):
``Never`` (no allowed state satisfies it), ``Always`` (every one does),
``Sometimes``.  Beside it, the file's ``Result:`` and whether they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from kbind.litmus.model.explain import Reason

__all__ = ["ModelResult", "ModelTimeoutError", "StateCount", "format_model"]

Verdict = Literal["Never", "Sometimes", "Always"]


class ModelTimeoutError(RuntimeError):
    """The evaluator passed its time bound before it had judged every candidate execution.

    A test with many processes, or many writes to one location, has more
    candidates than a bounded run can judge (herd7 too takes minutes on
    such tests); the message names the test, the bound and how far it got.
    """

    def __init__(self, test: str, seconds: float, candidates: int) -> None:
        super().__init__(
            f"{test}: the model gave up after {seconds:g} s ({candidates:,} candidate "
            "executions judged, not all): too large for this bound (--max-seconds)"
        )
        self.test, self.seconds, self.candidates = test, seconds, candidates


@dataclass
class StateCount:
    """One final state: its label (``0:r0=0; 1:r0=1``), executions, and the proposition's truth."""

    label: str
    count: int
    satisfies: bool


@dataclass
class Forbidden:
    """A state the condition asks about that the model forbids, and why."""

    label: str
    reason: Reason


@dataclass
class ModelResult:
    """The LKMM's answer for one litmus test, as herd7 with linux-kernel.cat gives it.

    Attributes:
        test, path: the test's name and file.
        condition: the final condition as written.
        verdict: ``Never``, ``Sometimes`` or ``Always`` (herd7's Observation).
        expected: the file's ``Result:``, or None.
        expected_data_race: the ``Result:`` line adds ``DATARACE``: the model
            must flag a data race (and its verdict is then not judged).
        states: the allowed final states, with counts of candidate executions.
        forbidden: the states the condition asks about (those that satisfy an
            ``exists``, or break a ``forall``) that the model forbids, each
            with its reason.
        flags: herd's flags raised by an allowed execution (``data-race``,
            ``unbalanced-rcu-locking``), with an example.
        candidates: candidate executions checked (after coherence pruning);
            ``allowed``: those the model allows; ``filtered``: allowed ones
            the filter left out.
        elapsed: seconds taken.
    """

    test: str
    path: str
    condition: str
    verdict: Verdict
    expected: Verdict | None
    states: list[StateCount] = field(default_factory=list)
    forbidden: list[Forbidden] = field(default_factory=list)
    flags: dict[str, str] = field(default_factory=dict)
    candidates: int = 0
    allowed: int = 0
    filtered: int = 0
    elapsed: float = 0.0
    expected_data_race: bool = False

    @property
    def agreement(self) -> str:
        """Return ``agree``, ``DISAGREE`` or ``no Result`` (the file states none)."""
        if self.expected is None:
            return "no Result"
        raced = "data-race" in self.flags
        if raced or self.expected_data_race:
            # judgelitmus.sh: the flag must match the file's DATARACE, and a racy
            # test's verdict is forgiven (its outcome is undefined).
            return "agree" if raced == self.expected_data_race else "DISAGREE"
        return "agree" if self.expected == self.verdict else "DISAGREE"

    @property
    def agrees(self) -> bool:
        """Whether the verdict matches the file's ``Result:`` (True when there is none)."""
        return self.agreement != "DISAGREE"

    def allowed_labels(self) -> set[str]:
        """Return the labels of the states the model allows."""
        return {s.label for s in self.states}

    def as_dict(self) -> dict[str, object]:
        """Return the result for JSON."""
        return {
            "test": self.test,
            "path": self.path,
            "condition": self.condition,
            "verdict": self.verdict,
            "expected": self.expected,
            "expected_data_race": self.expected_data_race,
            "agreement": self.agreement,
            "states": [
                {"state": s.label, "executions": s.count, "satisfies": s.satisfies}
                for s in self.states
            ],
            "forbidden": [{"state": f.label, **f.reason.as_dict()} for f in self.forbidden],
            "flags": dict(self.flags),
            "candidates": self.candidates,
            "allowed": self.allowed,
            "filtered": self.filtered,
            "elapsed": round(self.elapsed, 6),
        }


def format_model(r: ModelResult) -> str:
    """Return the result as the text ``kbind litmus --model`` prints."""
    out = [
        f"{r.test}: model {r.verdict}{' (data race)' if 'data-race' in r.flags else ''}; "
        f"Result: {r.expected or '-'}{' DATARACE' if r.expected_data_race else ''} "
        f"({r.agreement})",
        f"  condition: {r.condition}",
        f"  allowed states ({len(r.states)}; {r.allowed} of {r.candidates} candidate executions):",
    ]
    for s in r.states:
        out.append(
            f"    {s.label}  [{s.count}]" + ("  <- satisfies the condition" if s.satisfies else "")
        )
    for name, text in r.flags.items():
        out.append(f"  Flag {name}: {text}")
    for f in r.forbidden:
        out.append(f"  state {f.label}:")
        out.extend("    " + line for line in f.reason.lines())
    return "\n".join(out)
