"""The C RCU list (csrc/engine/rculist.c) and its native torture, ``kbind torture rcu-list``.

The list primitives are checked one call at a time through cffi (the
semantics of include/linux/rculist.h: what each links, what a delete
poisons, what the CONFIG_DEBUG_LIST-style checks refuse); the torture runs
real readers against real updaters: the real list passes, each busted
variant is caught, and so is a broken RCU engine under a correct list.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

from kbind._bridge.native import ffi, lib
from kbind.torture import (
    RCULIST_BUSTED_VARIANTS,
    RculistTortureResult,
    format_rculist_report,
    rculist_torture,
)
from tests.support import ROOT, child_env

#: A busted run that found nothing is run again until this many seconds have passed.
CATCH_DEADLINE = 8.0


def until_caught(run: Callable[[], RculistTortureResult]) -> RculistTortureResult:
    """Run ``run()`` until a run fails or CATCH_DEADLINE passes; return the last result."""
    deadline = time.monotonic() + CATCH_DEADLINE
    while True:
        result = run()
        if not result.passed or time.monotonic() > deadline:
            return result


# ---------------------------------------------------------------- the list


def _nodes(n: int) -> list[Any]:
    nodes = [ffi.new("kb_list_head_t *") for _ in range(n)]
    for node in nodes:
        lib.kb_list_init(node)
    return nodes


def _walk(head: Any) -> list[Any]:
    """The nodes after ``head``, following ->next with kb_list_next_rcu()."""
    out, p = [], lib.kb_list_next_rcu(head)
    while p != head:
        out.append(p)
        p = lib.kb_list_next_rcu(p)
    return out


def test_list_add_add_tail_and_traversal() -> None:
    """list_add_rcu() inserts after the head, list_add_tail_rcu() before it; prev links agree."""
    head, a, b, c = _nodes(4)
    assert lib.kb_list_empty(head) and lib.kb_list_first_or_null_rcu(head) == ffi.NULL
    assert lib.kb_list_add_rcu(b, head) == lib.KB_OK
    assert lib.kb_list_add_rcu(a, head) == lib.KB_OK
    assert lib.kb_list_add_tail_rcu(c, head) == lib.KB_OK
    assert _walk(head) == [a, b, c]
    assert (head.prev, c.prev, b.prev, a.prev) == (c, b, a, head)
    assert lib.kb_list_first_or_null_rcu(head) == a
    assert lib.kb_list_next_or_null_rcu(head, b) == c
    assert lib.kb_list_next_or_null_rcu(head, c) == ffi.NULL
    assert not lib.kb_list_empty(head)


def test_list_del_poisons_prev_only_and_refuses_a_second_del() -> None:
    """list_del_rcu() keeps ->next (a reader on it goes on) and poisons ->prev; twice is EINVAL."""
    head, a, b, c = _nodes(4)
    for node in (a, b, c):
        assert lib.kb_list_add_tail_rcu(node, head) == lib.KB_OK
    assert lib.kb_list_del_rcu(b) == lib.KB_OK
    assert _walk(head) == [a, c]
    assert b.next == c  # a reader standing on b still reaches c, then the head
    assert int(ffi.cast("uintptr_t", b.prev)) == lib.KB_LIST_POISON2
    assert lib.kb_list_del_rcu(b) == lib.KB_EINVAL
    assert _walk(head) == [a, c]
    lone = _nodes(1)[0]
    assert lib.kb_list_del_rcu(lone) == lib.KB_EINVAL  # on no list


def test_list_replace_and_the_add_checks() -> None:
    """list_replace_rcu() puts the new node in the old one's place; bad adds change nothing."""
    head, a, b, c, n = _nodes(5)
    for node in (a, b, c):
        lib.kb_list_add_tail_rcu(node, head)
    assert lib.kb_list_replace_rcu(b, n) == lib.KB_OK
    assert _walk(head) == [a, n, c]
    assert b.next == c and int(ffi.cast("uintptr_t", b.prev)) == lib.KB_LIST_POISON2
    assert lib.kb_list_replace_rcu(b, a) == lib.KB_EINVAL  # b is gone already
    assert lib.kb_list_replace_rcu(a, a) == lib.KB_EINVAL
    assert lib.kb_list_add_rcu(head, head) == lib.KB_EINVAL
    assert lib.kb_list_add_rcu(a, head) == lib.KB_EINVAL  # a is already right after head
    assert _walk(head) == [a, n, c]


def _hnodes(n: int) -> list[Any]:
    nodes = [ffi.new("kb_hlist_node_t *") for _ in range(n)]
    for node in nodes:
        lib.kb_hlist_node_init(node)
    return nodes


def _hwalk(h: Any) -> list[Any]:
    out, n = [], lib.kb_hlist_first_rcu(h)
    while n != ffi.NULL:
        out.append(n)
        n = lib.kb_hlist_next_rcu(n)
    return out


def test_hlist_adds_del_and_replace() -> None:
    """The hlist adds link where they say, pprev always points at the pointer to the node."""
    h = ffi.new("kb_hlist_head_t *")
    lib.kb_hlist_head_init(h)
    a, b, c, d, e = _hnodes(5)
    assert lib.kb_hlist_empty(h) and lib.kb_hlist_unhashed(a)
    assert lib.kb_hlist_add_head_rcu(b, h) == lib.KB_OK
    assert lib.kb_hlist_add_before_rcu(a, b) == lib.KB_OK
    assert lib.kb_hlist_add_tail_rcu(d, h) == lib.KB_OK
    assert lib.kb_hlist_add_behind_rcu(c, b) == lib.KB_OK
    assert _hwalk(h) == [a, b, c, d]
    assert a.pprev == ffi.addressof(h, "first") and d.pprev == ffi.addressof(c, "next")
    assert lib.kb_hlist_add_head_rcu(a, h) == lib.KB_EINVAL  # already first
    assert lib.kb_hlist_add_behind_rcu(e, _hnodes(1)[0]) == lib.KB_EINVAL  # unhashed
    assert lib.kb_hlist_del_rcu(b) == lib.KB_OK
    assert _hwalk(h) == [a, c, d] and b.next == c
    assert int(ffi.cast("uintptr_t", b.pprev)) == lib.KB_LIST_POISON2
    assert not lib.kb_hlist_unhashed(b)  # deleted, not unhashed: as the kernel's
    assert lib.kb_hlist_del_rcu(b) == lib.KB_EINVAL
    assert lib.kb_hlist_replace_rcu(c, e) == lib.KB_OK
    assert _hwalk(h) == [a, e, d] and d.pprev == ffi.addressof(e, "next")
    assert lib.kb_hlist_del_init_rcu(a) == lib.KB_OK and lib.kb_hlist_unhashed(a)
    assert lib.kb_hlist_del_init_rcu(a) == lib.KB_OK  # unhashed: nothing to do
    assert lib.kb_hlist_del_init_rcu(b) == lib.KB_EINVAL  # poisoned by hlist_del_rcu()
    assert _hwalk(h) == [e, d] and e.pprev == ffi.addressof(h, "first")


# ------------------------------------------------------------- the torture


@pytest.mark.parametrize("reclaim", ["sync", "call", "mix"])
def test_torture_real_list_no_errors(reclaim: str) -> None:
    """The real list under the real engine: many reads and updates, no error, ages 0 and 1 only."""
    r = rculist_torture(readers=2, updaters=1, duration=0.3, reclaim=reclaim)  # type: ignore[arg-type]
    assert r.passed, format_rculist_report(r)
    assert r.reads > 0 and r.hlist_reads > 0 and r.visits > 0
    assert r.updates == r.adds + r.deletes + r.replaces > 0
    assert r.adds > 0 and r.deletes > 0 and r.replaces > 0
    assert sum(r.pipe) == r.visits and sum(r.pipe[2:]) == 0
    assert r.grace_periods > 0 and 8 <= r.max_len <= 32
    assert (r.callbacks > 0) == (reclaim != "sync")
    assert format_rculist_report(r).endswith("End of test: SUCCESS")


def test_torture_many_threads_no_errors() -> None:
    """Three readers and two serialized updaters keep every reader safe."""
    r = rculist_torture(readers=3, updaters=2, duration=0.3, read_spin=0)
    assert r.passed, format_rculist_report(r)
    assert r.updates > 0


def test_torture_readers_only_is_a_baseline() -> None:
    """updaters=0 runs the readers alone: reads, no updates, no error."""
    r = rculist_torture(readers=2, updaters=0, duration=0.1)
    assert r.passed and r.reads > 0 and r.updates == 0 and r.pipe[1:] == (0,) * 9


@pytest.mark.parametrize("busted", sorted(RCULIST_BUSTED_VARIANTS))
def test_torture_busted_variant_caught(busted: str) -> None:
    """Each busted variant shows errors, each of its own kind, within a few short runs."""
    r = until_caught(lambda: rculist_torture(duration=0.3, busted=busted))  # type: ignore[arg-type]
    assert not r.passed, format_rculist_report(r)
    if busted == "free-no-gp":
        assert r.freed_seen > 0 and r.uninit_seen == 0
    else:
        assert r.uninit_seen > 0
    report = format_rculist_report(r)
    assert "FAILURE" in report and f"busted={busted}" in report


def test_torture_catches_a_broken_engine_under_a_correct_list() -> None:
    """Grace periods that do not wait (the engine's no_wait variant) show as too-old elements."""
    prev = lib.kb_rcu_get_busted()

    def run() -> RculistTortureResult:
        lib.kb_rcu_set_busted(lib.KB_RCU_BUSTED_NO_WAIT)
        try:
            return rculist_torture(duration=0.3, reclaim="sync")
        finally:
            lib.kb_rcu_set_busted(prev)

    r = until_caught(run)
    assert not r.passed and r.too_old > 0, format_rculist_report(r)
    assert sum(r.pipe[2:]) == r.too_old


def test_torture_max_updates_stops_early() -> None:
    """max_updates bounds the run: it ends long before the duration."""
    r = rculist_torture(duration=5.0, max_updates=50, reclaim="call")
    assert 50 <= r.updates <= 51 and r.elapsed < 5.0 and r.passed


@pytest.mark.parametrize(
    ("kwargs", "exc"),
    [
        ({"readers": 0}, ValueError),
        ({"readers": 65}, ValueError),
        ({"updaters": -1}, ValueError),
        ({"updaters": 65}, ValueError),
        ({"readers": 1.5}, TypeError),
        ({"duration": 0}, ValueError),
        ({"duration": 3601}, ValueError),
        ({"duration": float("nan")}, ValueError),
        ({"duration": "1"}, TypeError),
        ({"busted": "nope"}, ValueError),
        ({"busted": "free-no-gp", "updaters": 0}, ValueError),
        ({"reclaim": "later"}, ValueError),
        ({"read_spin": -1}, ValueError),
        ({"max_updates": -1}, ValueError),
        ({"seed": "x"}, TypeError),
    ],
)
def test_torture_bad_arguments_raise(kwargs: dict[str, object], exc: type[Exception]) -> None:
    """Arguments of the wrong type or out of range raise before any thread starts."""
    with pytest.raises(exc):
        rculist_torture(**kwargs)  # type: ignore[arg-type]


def test_torture_c_rejects_bad_config() -> None:
    """The C entry point validates its configuration too (EINVAL, nothing run)."""
    cfg = ffi.new("kb_rculist_torture_config_t *")
    res = ffi.new("kb_rculist_torture_result_t *")
    assert lib.kb_rculist_torture(cfg, res) == lib.KB_EINVAL  # no readers, no duration
    cfg.readers, cfg.duration_ns = 1, 1_000_000
    cfg.busted = lib.KB_RCULIST_BUSTED_FREE_NO_GP  # with no updater to be busted
    assert lib.kb_rculist_torture(cfg, res) == lib.KB_EINVAL
    cfg.busted, cfg.updaters = lib.KB_RCULIST_BUSTED_NONE, lib.KB_RCULIST_TORTURE_MAX_THREADS + 1
    assert lib.kb_rculist_torture(cfg, res) == lib.KB_EINVAL
    assert lib.kb_rculist_torture(ffi.NULL, res) == lib.KB_EINVAL


def test_format_report_flags_weak_busted_run() -> None:
    """A busted run that found nothing is reported as a weak test."""
    r = rculist_torture(duration=0.05, max_updates=1)
    weak = dataclasses.replace(r, busted="free-no-gp")
    assert "too weak" in format_rculist_report(weak)
    assert "Reader Pipe:" in format_rculist_report(r)


# ---------------------------------------------------------- the command line


def kbind_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kbind ARGS`` in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "kbind", *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=child_env(),
    )  # fmt: skip


def test_cli_rcu_list_json_shape_and_exit_codes() -> None:
    """--json is the torture envelope with the list's counts; real exits 0, busted 1."""
    ok = kbind_cli("torture", "rcu-list", "--duration", "0.2", "--json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    data = json.loads(ok.stdout)
    assert data["command"] == "torture" and data["arguments"]["kind"] == "rcu-list"
    result = data["result"]
    assert result["kind"] == "rcu-list" and result["passed"] is True
    assert result["busted"] is None and result["threads"] == 3
    assert len(result["pipe"]) == 10 and sum(result["pipe"]) == result["visits"] > 0
    for key in ("reads", "updates", "freed_seen", "uninit_seen", "too_old", "lost", "errors"):
        assert isinstance(result[key], int)
    bad = kbind_cli("torture", "rcu-list", "--duration", "0.3", "--busted", "free-no-gp")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "End of test: FAILURE" in bad.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--busted", "no-wait"),
        ("--readers", "0"),
        ("--updaters", "65"),
        ("--duration", "0"),
        ("--readers", "40", "--updaters", "40"),
    ],
)
def test_cli_rcu_list_bad_arguments_exit_2(args: tuple[str, ...]) -> None:
    """Bad variants, counts and durations are one line on stderr and exit status 2."""
    proc = kbind_cli("torture", "rcu-list", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and "error:" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_cli_help_lists_the_rcu_list_variants() -> None:
    """`kbind torture --help` names the kind and both busted variants."""
    proc = subprocess.run(
        [sys.executable, "-m", "kbind", "torture", "--help"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=child_env(COLUMNS="1000"),
    )  # fmt: skip
    assert proc.returncode == 0
    for word in ("rcu-list", "free-no-gp", "publish-before-init"):
        assert word in proc.stdout
