"""Tests of kbind.rcu_backend: choosing the RCU engine, and its errors.

The backend is per process and frozen at first use, so every test that
selects one runs a small script in a fresh interpreter (``run_script``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import kbind
from kbind.errors import BackendError, BackendUnavailableError, KbindError
from kbind.rcu_backend import BACKENDS, ENV_VAR, current_backend, liburcu_available

needs_liburcu = pytest.mark.skipif(
    not liburcu_available(), reason="liburcu is not installed (apt-get install liburcu8)"
)


def run_script(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``env`` added (and the backend variables unset)."""
    base = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "KBIND_LIBURCU_QSBR")}
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", textwrap.dedent(code)],
        env={**base, **env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_errors_inherit_root_and_builtin() -> None:
    """BackendError is a RuntimeError, BackendUnavailableError an ImportError; both KbindError."""
    assert issubclass(BackendError, KbindError) and issubclass(BackendError, RuntimeError)
    assert issubclass(BackendUnavailableError, KbindError)
    assert issubclass(BackendUnavailableError, ImportError)
    assert kbind.BackendError is BackendError
    assert kbind.BackendUnavailableError is BackendUnavailableError


def test_default_backend_is_builtin() -> None:
    """Without KBIND_RCU_BACKEND the builtin engine is used."""
    r = run_script("from kbind.rcu_backend import current_backend; print(current_backend())")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "builtin"


def test_backends_table_matches_c_names() -> None:
    """Every backend name maps to the C number whose name is that name."""
    from kbind._bridge.native import ffi, lib

    for name, number in BACKENDS.items():
        assert ffi.string(lib.kb_rcu_backend_name(number)).decode() == name
    assert lib.kb_rcu_backend_name(len(BACKENDS)) == ffi.NULL
    assert lib.kb_rcu_set_backend(-1) == lib.KB_EINVAL
    assert lib.kb_rcu_set_backend(len(BACKENDS)) == lib.KB_EINVAL


@pytest.mark.parametrize(("name", "exc"), [("urcu", ValueError), ("", ValueError), (1, TypeError)])
def test_select_backend_unknown_name_raises(name: object, exc: type[Exception]) -> None:
    """An unknown backend name is a ValueError (a non-str a TypeError); nothing changes."""
    from kbind.rcu_backend import select_backend

    before = current_backend()
    with pytest.raises(exc):
        select_backend(name)  # type: ignore[arg-type]
    assert current_backend() == before


def test_select_backend_current_always_allowed() -> None:
    """Selecting the backend already in use succeeds even after first use."""
    from kbind._bridge.native import lib
    from kbind.rcu_backend import select_backend

    lib.kb_get_state_synchronize_rcu()  # freezes the selection
    select_backend(current_backend())


def test_env_unknown_value_fails_at_import() -> None:
    """KBIND_RCU_BACKEND with an unknown value makes ``import kbind`` fail, naming the choices."""
    r = run_script("import kbind", KBIND_RCU_BACKEND="fast")
    assert r.returncode != 0
    assert "KBIND_RCU_BACKEND='fast' is not an RCU backend" in r.stderr
    assert "['builtin', 'liburcu']" in r.stderr


def test_select_backend_after_first_use_raises_backend_error() -> None:
    """Choosing another backend once the engine was used raises BackendError with a hint."""
    r = run_script(
        """
        from kbind._bridge.native import lib
        from kbind.errors import BackendError
        from kbind.rcu_backend import current_backend, select_backend
        assert lib.kb_rcu_register_thread() == lib.KB_OK
        try:
            select_backend("liburcu")
        except BackendError as e:
            print(e.backend, e.current, current_backend())
            print(e)
        else:
            raise SystemExit("no error")
        """
    )
    assert r.returncode == 0, r.stderr
    first, *message = r.stdout.splitlines()
    assert first == "liburcu builtin builtin"
    assert message[0].startswith("cannot select the RCU backend 'liburcu': the RCU engine is")
    assert any("KBIND_RCU_BACKEND=liburcu" in line for line in message)


@pytest.mark.parametrize(
    "first_use",
    [
        "lib.kb_rcu_register_thread()",
        "lib.kb_get_state_synchronize_rcu()",
        "lib.kb_synchronize_rcu()",
        "lib.kb_call_rcu_token(1)",
    ],
)
def test_set_backend_after_each_first_use_returns_ebusy(first_use: str) -> None:
    """Registration, a cookie, a grace period and call_rcu each freeze the selection (KB_EBUSY)."""
    r = run_script(
        f"""
        from kbind._bridge.native import lib
        assert not lib.kb_rcu_backend_in_use()
        {first_use}
        assert lib.kb_rcu_backend_in_use()
        print(lib.kb_rcu_set_backend(lib.KB_RCU_BACKEND_LIBURCU) == lib.KB_EBUSY)
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"


def test_queries_before_selection_do_not_freeze_it() -> None:
    """Read-only queries (counts, nesting, stall settings) leave the backend selectable."""
    r = run_script(
        """
        from kbind._bridge.native import lib
        lib.kb_rcu_gp_count(); lib.kb_rcu_pending_callbacks(); lib.kb_rcu_read_lock_nesting()
        lib.kb_rcu_is_registered(); lib.kb_rcu_stall_count(); lib.kb_rcu_barrier()
        print(bool(lib.kb_rcu_backend_in_use()))
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"


def test_missing_library_raises_unavailable_with_install_hint() -> None:
    """If liburcu cannot be loaded, selecting it raises an ImportError saying how to install it."""
    r = run_script(
        """
        from kbind.rcu_backend import current_backend, liburcu_available, select_backend
        print(liburcu_available())
        try:
            select_backend("liburcu")
        except ImportError as e:
            print(type(e).__name__, current_backend())
            print(e)
        else:
            raise SystemExit("no error")
        """,
        KBIND_LIBURCU_QSBR="liburcu-qsbr-does-not-exist.so.99",
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "False"
    assert lines[1] == "BackendUnavailableError builtin"
    assert "liburcu-qsbr-does-not-exist.so.99" in lines[2]
    assert "apt-get install liburcu8" in r.stdout
    assert "liburcu-dev" in r.stdout


def test_missing_library_from_environment_fails_import_clearly() -> None:
    """KBIND_RCU_BACKEND=liburcu without the library fails ``import kbind`` with the apt hint."""
    r = run_script(
        "import kbind",
        KBIND_RCU_BACKEND="liburcu",
        KBIND_LIBURCU_QSBR="liburcu-qsbr-does-not-exist.so.99",
    )
    assert r.returncode != 0
    assert "BackendUnavailableError" in r.stderr
    assert "apt-get install liburcu8" in r.stderr


def test_library_without_urcu_symbols_reports_version() -> None:
    """A library that loads but lacks the urcu_qsbr_* functions is refused, naming the version."""
    r = run_script(
        """
        from kbind._bridge.native import ffi, lib
        print(lib.kb_rcu_set_backend(lib.KB_RCU_BACKEND_LIBURCU) == lib.KB_ENOENT)
        print(ffi.string(lib.kb_rcu_backend_error()).decode())
        """,
        KBIND_LIBURCU_QSBR="libm.so.6",
    )
    assert r.returncode == 0, r.stderr
    ok, message = r.stdout.splitlines()
    assert ok == "True"
    assert "lacks the urcu_qsbr_* functions (liburcu >= 0.11 needed)" in message


@needs_liburcu
def test_env_selects_liburcu() -> None:
    """KBIND_RCU_BACKEND=liburcu at import selects liburcu, and a grace period runs over it."""
    r = run_script(
        """
        from kbind._bridge.native import lib
        from kbind.rcu_backend import current_backend
        assert lib.kb_synchronize_rcu() == lib.KB_OK
        print(current_backend(), lib.kb_rcu_gp_count() >= 1)
        """,
        KBIND_RCU_BACKEND="liburcu",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "liburcu True"


@needs_liburcu
def test_select_backend_liburcu_then_builtin_too_late() -> None:
    """select_backend('liburcu') before first use works; switching back after use is refused."""
    r = run_script(
        """
        from kbind._bridge.native import lib
        from kbind.errors import BackendError
        from kbind.rcu_backend import current_backend, select_backend
        select_backend("liburcu")
        select_backend("builtin")  # still unused: allowed
        select_backend("liburcu")
        assert lib.kb_call_rcu_token(5) == lib.KB_OK
        lib.kb_rcu_barrier()
        try:
            select_backend("builtin")
        except BackendError:
            print(current_backend(), lib.kb_rcu_tokens_ready())
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "liburcu 1"


@needs_liburcu
def test_liburcu_early_cb_busted_variant_refused() -> None:
    """On liburcu the early_cb busted variant does not exist: KB_ENOTSUP, and nothing changes."""
    r = run_script(
        """
        from kbind._bridge.native import lib
        from kbind.rcu_backend import select_backend
        select_backend("liburcu")
        print(lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_EARLY_CB) == lib.KB_ENOTSUP,
              lib.kb_rcu_get_busted() == lib.KB_RCU_BUSTED_NONE,
              all(lib.kb_rcu_busted_supported(v) for v in (0, 1, 2)))
        """
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True True True"
