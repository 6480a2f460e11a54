"""Tests for kbind.errors: the hierarchy, the fields, the message layout."""

from __future__ import annotations

import pickle

import pytest

import kbind
from kbind import (
    DeadlockError,
    GuardError,
    GuardLeakWarning,
    KbindError,
    KbindWarning,
    LifetimeError,
    OrderingError,
    Relaxed,
    Site,
)


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (LifetimeError, RuntimeError),
        (GuardError, RuntimeError),
        (DeadlockError, RuntimeError),
        (OrderingError, ValueError),
    ],
)
def test_error_inherits_root_and_builtin(cls: type, builtin: type) -> None:
    """Each error is a KbindError and also the builtin exception it means."""
    assert issubclass(cls, KbindError)
    assert issubclass(cls, builtin)
    assert cls.__name__.endswith("Error")


def test_warnings_hierarchy() -> None:
    """Warnings share the root KbindWarning; a leak is also a ResourceWarning."""
    assert issubclass(KbindWarning, Warning)
    assert issubclass(GuardLeakWarning, KbindWarning)
    assert issubclass(GuardLeakWarning, ResourceWarning)


def test_error_message_built_from_fields() -> None:
    """The message is the attempt and rule, one line per site, then the hint."""
    created = Site("/x/app.py", 41, "reader", "MainThread")
    dropped = Site("/x/app.py", 44, "reader", "MainThread")
    err = LifetimeError(
        "use reference to Rcu[Config]",
        "the guard was dropped",
        guard="RcuReadGuard#7",
        created_at=created,
        dropped_at=dropped,
        hint="copy what you need",
    )
    lines = str(err).splitlines()
    assert lines[0] == "cannot use reference to Rcu[Config]: the guard was dropped"
    assert lines[1] == "  RcuReadGuard#7 created at /x/app.py:41 in reader() on thread 'MainThread'"
    assert lines[2].startswith("  RcuReadGuard#7 dropped at /x/app.py:44 in reader()")
    assert lines[3] == "hint: copy what you need"
    assert err.guard == "RcuReadGuard#7" and err.created_at is created


def test_ordering_error_fields() -> None:
    """OrderingError keeps what was passed and what is allowed."""
    err = OrderingError("AtomicI32.load", Relaxed, ["Acquire"])
    assert err.ordering is Relaxed and err.allowed == ("Acquire",)
    assert "kbind.Acquire" in str(err)


def test_error_pickles_with_message() -> None:
    """Errors survive pickling (e.g. to a worker process) with class and text."""
    err = GuardError("unlock", "wrong thread", guard="LockGuard#1")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is GuardError and str(back) == str(err)


def test_site_location_relative_to_cwd(tmp_path: object) -> None:
    """Sites print paths relative to the working directory when they are under it."""
    site = Site.here()
    assert site.location.endswith(f"test_errors.py:{site.lineno}")
    assert site.function == "test_site_location_relative_to_cwd"


def test_public_names_reexported() -> None:
    """Everything in kbind.__all__ exists."""
    for name in kbind.__all__:
        assert hasattr(kbind, name), name
