"""The misuse catalog: one :class:`MisuseRule` per rule code (R01, S03, A01, L02, ...).

A rule code names one way to misuse a primitive.  kbind's error messages
cite the code of the rule they enforce; ``kbind explain R05`` prints the
row; docs/misuse.md is the same catalog as tables (tests/test_misuse.py
fails when the two disagree, or when a row names an error class or a test
that does not exist).

Families: R = RCU, S = sequence locks, A = atomics, L = locks.  For each row:
what the misuse is, what the kernel's C and Rust-for-Linux do about it, and
what kbind does -- the error or warning it raises, or why it does not check
the rule at run time.

Sources for the kernel and Rust columns: Documentation/RCU/checklist.rst,
Documentation/RCU/whatisRCU.rst, Documentation/locking/lockdep-design.rst,
Documentation/locking/seqlock.rst and include/linux/seqlock.h,
Documentation/atomic_t.txt, Documentation/dev-tools/kcsan.rst; in the Rust
tree rust/kernel/sync/ (rcu.rs, lock.rs, atomic.rs), Boqun Feng's ``Rcu<P>``
RFC, and the ``SeqLock`` of the old Rust-for-Linux ``rust`` branch.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

__all__ = ["DOC", "FAMILIES", "RULES", "MisuseRule", "is_rule_code", "rule"]

#: Where the catalog lives as prose and tables, relative to the repository root.
DOC = "docs/misuse.md"

#: Rule-code prefix -> family name (the heading of its table in docs/misuse.md).
FAMILIES: dict[str, str] = {
    "R": "RCU",
    "S": "Sequence locks",
    "A": "Atomics",
    "L": "Locks",
}

_CODE = re.compile(r"[RSAL]\d\d")


@dataclass(frozen=True)
class MisuseRule:
    """One row of the misuse catalog.

    Attributes:
        code: the rule code (``R05``).
        misuse: what the program does wrong.
        kernel: what the kernel's C catches, and how (lockdep, KCSAN, nothing).
        rust: what Rust-for-Linux (or, for seqlocks, the old ``rust`` branch
            and crates) does.
        kbind: what kbind does: what it raises or warns, or why not.
        raises: the classes kbind raises or warns with for it (kbind errors
            and warnings, or builtins); empty where nothing is raised.
        tests: the tests that show it (test function names, or test files).
    """

    code: str
    misuse: str
    kernel: str
    rust: str
    kbind: str
    raises: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The rule code (so a rule and an error explanation share ``name``)."""
        return self.code

    @property
    def family(self) -> str:
        """The family the code belongs to (``RCU``, ``Sequence locks``, ...)."""
        return FAMILIES[self.code[0]]

    @property
    def summary(self) -> str:
        """One line: the misuse."""
        return self.misuse

    def render(self) -> str:
        """Return the row as text for a terminal (``kbind explain R05``)."""

        def para(label: str, text: str) -> list[str]:
            return [f"{label}:", textwrap.indent(textwrap.fill(text, 76), "  ")]

        lines = [f"{self.code} ({self.family}): {self.misuse}", ""]
        lines += para("Kernel C", self.kernel)
        lines += para("Rust", self.rust)
        lines += para("kbind", self.kbind)
        lines.append("")

        def item(label: str, values: list[str]) -> None:
            text = f"{label}: " + ", ".join(values)
            lines.append(textwrap.fill(text, 78, subsequent_indent="  "))

        item("Raises", list(self.raises) or ["nothing"])
        if self.tests:
            item("Tests", list(self.tests))
        explain = [r for r in self.raises if r not in _BUILTINS]
        if explain:
            item("See also", [f"kbind explain {r}" for r in explain])
        lines.append(f"Every design: kbind compare --row {self.code}")
        lines.append(f"Catalog: {DOC} ({self.family})")
        return "\n".join(lines)


#: Builtin exceptions a row may name in ``raises``.
_BUILTINS = frozenset({"TypeError", "OverflowError", "ValueError"})

_R = MisuseRule

#: What kbind does about a duplicated guard or owner (R23, S11, A06, L11).
KBIND_NOT_CLONE = (
    "`copy.copy()`, `copy.deepcopy()` and `pickle` raise `CloneError` (a `GuardError` and a "
    "`TypeError`); deep copies made by kbind's copy-on-write share these objects instead of "
    "copying them"
)

RULES: dict[str, MisuseRule] = {r.code: r for r in [
    # -- RCU --------------------------------------------------------------------------
    _R("R01", "a reference from a read-side critical section used after its guard is dropped",
       "not caught: a use-after-free once a grace period frees the object",
       "compile time: the reference borrows the guard (lifetime)",
       "every access through an `RcuRef` (attribute, item, iteration, `len`, `in`, "
       "comparison, hash, `str`, copy) checks the guard: `LifetimeError` naming where the "
       "guard was created and dropped",
       ("LifetimeError",),
       ("test_r01_reference_after_guard_dropped_raises_lifetime_error",
        "test_r01_every_protocol_checks_guard", "test_r01_iterator_kept_past_guard_raises")),
    _R("R02", "a reference stored in a long-lived object, or returned out of the `with` "
       "block or closure",
       "not caught", "compile time (lifetime)",
       "as R01 when it is used; `with_read(fn)` returning a reference raises at once; "
       "publishing an object that holds a reference (one level deep) raises `TypeError`",
       ("LifetimeError", "TypeError"),
       ("test_r02_reference_returned_from_with_read_raises",
        "test_r02_child_reference_stashed_raises_when_used",
        "test_r02_reference_stored_in_new_value_refused")),
    _R("R03", "the `Rcu` itself dropped while a guard-bound reference lives",
       "not caught",
       "allowed: the grace period protects the object",
       "allowed: the reference keeps the value alive while its guard is held",
       (), ("test_r03_rcu_dropped_while_reference_lives_allowed",)),
    _R("R04", "dereference with no read guard",
       "lockdep at run time (`rcu_dereference()` outside a reader, CONFIG_PROVE_RCU)",
       "compile time: `dereference()` needs `&Guard`",
       "impossible through the API: `read()` takes the guard (mypy rejects anything else; "
       "at run time a non-guard is a `TypeError`, a dropped guard a `LifetimeError`)",
       ("TypeError", "LifetimeError"),
       ("test_r04_read_with_non_guard_raises_type_error",
        "test_r04_read_with_dropped_guard_raises_lifetime_error", "tests/test_typing_rcu.py")),
    _R("R05", "`synchronize_rcu()` inside the caller's own read-side critical section",
       'lockdep at run time: "Illegal synchronize_rcu() in RCU read-side critical section" '
       "(kernel/rcu/tree.c); without lockdep a deadlock",
       "not caught at compile time",
       "`DeadlockError` instead of hanging, naming the outermost open guard and the call",
       ("DeadlockError",), ("test_r05_synchronize_rcu_inside_reader_raises_deadlock_error",)),
    _R("R06", "an implicit synchronize inside a reader: `RcuDropGuard.drop()` (or leaving its "
       "`with` block) inside a read-side critical section",
       "as R05", "not caught",
       "`DeadlockError`, as R05; the drop guard stays pending, so `defer()` still works",
       ("DeadlockError",),
       ("test_r06_drop_guard_drop_inside_reader_raises_and_stays_pending",
        "test_r06_drop_guard_with_block_inside_reader_raises")),
    _R("R07", "blocking inside a reader (a sleeping lock, a sleep, a grace-period wait)",
       "run time: might_sleep() and lockdep (Documentation/RCU/checklist.rst item 13: only "
       "SRCU readers may block)",
       "not caught",
       "kbind's own grace-period waits (`synchronize_rcu()`, `RcuDropGuard.drop()`, "
       "`rcu_barrier()`) check the thread and raise `DeadlockError`, and so does "
       "`rcu_barrier()` inside a `call_rcu` callback.  Not checked at run time for other "
       "blocking calls (`time.sleep()`, `queue.get()`, a `Mutex`): kbind cannot see them; "
       "they only hold up grace periods, which the stall warning (R22) reports",
       ("DeadlockError",),
       ("test_r07_rcu_barrier_inside_reader_raises_deadlock_error",
        "test_r07_rcu_barrier_inside_callback_reported_not_hung")),
    _R("R08", "a guard moved to, or dropped on, another thread",
       "not applicable (a read-side section belongs to a CPU or task)",
       "compile time: `Guard` is `!Send`",
       "`GuardError` when another thread drops it, leaves its `with` block or passes it to "
       "`read()`; the owner can still use it",
       ("GuardError",),
       ("test_r08_guard_dropped_on_other_thread_raises_guard_error",
        "test_r08_read_with_other_threads_guard_raises")),
    _R("R09", "a read-side critical section never ended (a leaked guard)",
       "an RCU CPU stall warning (Documentation/RCU/stallwarn.rst)",
       "a safe leak (`mem::forget`)",
       "the thread stays in its section, so waiters warn with `RcuStallWarning` naming the "
       "thread and where its guard was created; a thread that exits inside a section warns "
       "with `GuardLeakWarning` and the engine takes it offline; pytest `--kbind-strict` "
       "fails a test that leaves a guard held",
       ("RcuStallWarning", "GuardLeakWarning"),
       ("test_r09_thread_exiting_inside_reader_warns_and_engine_recovers",
        "test_r22_stalled_grace_period_warns_naming_thread_and_guard_site")),
    _R("R10", "exit without enter, or a guard dropped twice",
       "lockdep (unbalanced `rcu_read_unlock()`)",
       "compile time: `drop`/`unlock(self)` consumes the guard",
       "`GuardError` naming the creation and both drop sites; leaving a `with` block after "
       "an explicit `drop()` is fine",
       ("GuardError",),
       ("test_r10_guard_dropped_twice_raises_guard_error",
        "test_r10_exit_without_enter_raises_guard_error",
        "test_r10_with_block_after_explicit_drop_is_fine")),
    _R("R11", "nested guards dropped out of order",
       "fine: read-side sections nest by counting", "fine",
       "allowed and counted: the section ends with the last guard; `open_guards()` lists "
       "the open ones with their sites",
       (), ("test_r11_nested_guards_dropped_out_of_order_counted",)),
    _R("R12", "two updaters at once without update-side exclusion",
       "lockdep through `rcu_dereference_protected()`'s condition "
       "(Documentation/RCU/checklist.rst item 1)",
       "compile time in the `Rcu<P>` RFC: updates need `Pin<&mut Rcu>`",
       "`replace`/`update` serialize on the Rcu's own lock (no update is lost); an "
       "`RcuWrite` used by two threads at once, or updating an `Rcu.init()` Rcu without "
       "its `RcuWrite`, raises `GuardError`; updating the same Rcu inside its own "
       "`update()` function raises `DeadlockError`",
       ("GuardError", "DeadlockError"),
       ("test_r12_concurrent_updates_serialize_no_update_lost",
        "test_r12_rcu_write_used_by_two_threads_raises_guard_error",
        "test_r12_split_rcu_refuses_direct_update",
        "test_r12_update_inside_own_update_raises_deadlock_error")),
    _R("R13", "the old object freed before the grace period ends",
       "not caught (KASAN reports the use-after-free, Documentation/dev-tools/kasan.rst)",
       "compile time in the `Rcu<P>` RFC: dropping an `RcuOld` waits for a grace period",
       "only an `RcuDropGuard` frees, after a grace period; a freed object is poisoned, so "
       "a late access raises `UseAfterFreeError` naming where it was published, retired "
       "and freed (the busted engines of the torture tests make this happen)",
       ("UseAfterFreeError",),
       ("test_r13_only_drop_guard_frees_value_stays_alive_until_then",
        "test_r13_freed_object_access_raises_use_after_free_error",
        "tests/test_rcu_torture_py.py")),
    _R("R14", "an `RcuDropGuard` never dropped nor deferred",
       "a leak (the old object is never freed)",
       "freed on drop (`RcuOld`)",
       "`RcuDropGuardLeakWarning` naming the `replace()`/`update()` site when it is "
       "collected; the old object is still freed after a grace period, as `defer()` would",
       ("RcuDropGuardLeakWarning",), ("test_r14_drop_guard_collected_warns_and_frees_after_gp",)),
    _R("R15", "the same old object retired twice",
       "a double free (CONFIG_DEBUG_OBJECTS_RCU_HEAD catches a double `call_rcu()`)",
       "compile time: the guard is consumed by drop",
       "a drop guard dropped or deferred twice raises `GuardError`; so does publishing an "
       "object that is already published or retired but not yet freed (it would be retired "
       "twice); `update(fn)` returning the old reference raises `TypeError`; "
       "`kbind.rfc.callback.call_rcu()` refuses data already queued, or dropped by an "
       "earlier call while it still lives (`GuardError` naming both calls: Rust moves the "
       "data into the first)",
       ("GuardError", "TypeError"),
       ("test_r15_drop_guard_dropped_twice_raises_guard_error",
        "test_r15_same_object_published_twice_raises_guard_error",
        "test_r15_update_returning_old_reference_raises_type_error",
        "test_r15_callback_data_queued_twice_refused")),
    _R("R16", "a published object mutated in place through a reader's reference",
       "not caught (a data race with every reader)",
       "compile time: readers get `&T`",
       "`ReadOnlyError` (a `TypeError`) for assignment, deletion, the mutating methods of "
       "builtin containers, and `self.x = ...` in methods of your own classes; types that "
       "synchronize themselves (atomics, locks, seqlocks) come out as they are",
       ("ReadOnlyError",),
       ("test_r16_assignment_and_deletion_refused", "test_r16_mutating_container_methods_refused",
        "test_r16_user_method_mutating_self_refused")),
    _R("R17", "a guard from the wrong domain (another SRCU domain)",
       "lockdep (SRCU)", "compile time: `srcu::Guard` borrows its `Srcu`",
       "`GuardError`: an `srcu::Guard` (kbind.kernel.sync.srcu) remembers its domain, and "
       "`Srcu.check(guard)` with another domain's guard raises naming both domains' sites; a "
       "closed domain raises `LifetimeError`",
       ("GuardError",),
       ("test_r17_guard_of_another_domain_refused",)),
    _R("R18", "a `call_rcu` callback that depends on the caller's stack or thread",
       "not caught (Documentation/RCU/checklist.rst items 5 and 12: callbacks run later, "
       "elsewhere, maybe concurrently)",
       "compile time: the callback data is `Send + 'static`",
       "documented, not checked at run time (a closure's captured variables stay alive in "
       "Python; what it must not rely on is the caller's thread): callbacks run on the thread "
       "`kbind-rcu-callbacks`, after a grace period, one at a time",
       (), ("test_r18_callbacks_run_on_callback_thread",)),
    _R("R19", "teardown with callbacks still pending",
       "documentation: call `rcu_barrier()` before unloading "
       "(Documentation/RCU/rcubarrier.rst)",
       "dropping an `Srcu` runs a barrier",
       "`rcu_barrier()`; pending callbacks and deferred frees run before the interpreter "
       "exits; a callback's exception goes to `sys.unraisablehook` and the others still run; "
       "a callback queued by an atexit handler that runs after kbind's own is waited for "
       "there (`DeadlockError` inside a read-side section, where it could never run); "
       "pytest `--kbind-strict` fails a test that leaves callbacks pending",
       ("DeadlockError",),
       ("test_r19_pending_callbacks_run_before_interpreter_exit",
        "test_r19_callback_exception_reported_and_others_run",
        "test_r19_callback_exception_at_exit_printed_like_unraisable",
        "test_call_rcu_from_late_atexit_handler_runs_its_callback")),
    _R("R20", "an RCU list traversed outside a reader",
       "lockdep at run time with CONFIG_PROVE_RCU_LIST: \"RCU-list traversed in non-reader "
       "section!\" (include/linux/rculist.h); without it, a use-after-free once a grace "
       "period frees an element",
       "no RCU-aware list in Rust-for-Linux",
       "`kbind.rcu.RcuList`, `RcuHList` and `RcuHashTable` are read only through "
       "`iter(guard)`, `read(guard)`, `first(guard)`, `lookup(guard, key)` and the table's "
       "`items(guard)`, `keys(guard)`, `values(guard)`: the guard is required (mypy rejects "
       "a call without one; `for x in lst` raises `TypeError`) and "
       "must be an open `RcuReadGuard` of the thread, or a list's own update-side lock held "
       "(`lockdep_is_held()`); the iterator and every element reference die with the guard: "
       "`LifetimeError` naming where it was created and dropped; another thread's guard or "
       "another lock's guard raises `GuardError`",
       ("TypeError", "LifetimeError", "GuardError"),
       ("test_r20_traversal_without_a_guard_is_refused",
        "test_r20_iterator_used_after_its_guard_raises_naming_both_sites",
        "test_r20_guard_of_another_lock_refused", "test_r20_reading_without_a_guard_is_refused",
        "tests/test_compare_rcu.py")),
    _R("R21", "type-safe-by-RCU reuse (SLAB_TYPESAFE_BY_RCU) used without an identity recheck",
       "not caught: the reader uses another object's fields (include/linux/slab.h: a freed "
       "object is reused at once, only the slab's pages wait for a grace period)",
       "no counterpart (no SLAB_TYPESAFE_BY_RCU cache in Rust-for-Linux)",
       "`kbind.rcu.TypesafePool` is such a cache: a freed object is reused by the next "
       "allocation at once (`aggressive=True`: always, so a missing recheck fails on the first "
       "run of a test), and its memory leaves the type only after a grace period (`shrink()`, "
       "`close()`; later accesses raise `UseAfterFreeError`).  A reader that takes a count "
       "(`try_get()`) and reads without rechecking the key reads another object's data, let "
       "through by default; with `TypesafePool(..., checked=True)` a count taken on an object "
       "looked up under one key refuses reads of its other fields once it holds another key "
       "(`LifetimeError` naming where it was freed and reallocated); `TypesafePool.get()` is "
       "the correct reader (count, recheck, look again)",
       ("LifetimeError",),
       ("test_r21_missing_recheck_reads_another_object_in_aggressive_mode",
        "test_r21_checked_pool_refuses_reads_without_recheck",
        "test_r21_correct_reader_rechecks_and_retries", "tests/test_compare_rcu.py")),
    _R("R22", "a reader holds its section so long that reclamation stalls",
       "an RCU CPU stall warning after `rcupdate.rcu_cpu_stall_timeout` seconds",
       "no compile-time counterpart (the kernel's warning)",
       "a configurable threshold (`set_stall_timeout()`, default 21 s): every waiter "
       "(`synchronize_rcu()`, `drop()`, `rcu_barrier()`, the callback thread) warns once per "
       "grace period with `RcuStallWarning` naming each stalled thread and its guard's site",
       ("RcuStallWarning",),
       ("test_r22_stalled_grace_period_warns_naming_thread_and_guard_site",
        "test_qsbr_stall_names_where_thread_went_online")),
    _R("R23", "an `Rcu`, read guard, drop guard or `RcuWrite` duplicated (copied or pickled)",
       "not caught (a struct copy of an `__rcu` pointer or an `rcu_head` is a silent bug)",
       "compile time (not `Clone`/`Copy`)",
       KBIND_NOT_CLONE,
       ("CloneError",),
       ("test_copied_rcu_cannot_free_what_readers_of_the_original_hold",
        "test_drop_guard_copy_refused_so_the_old_value_is_freed_once")),
    _R("R24", "a drop that waits for a grace period run in callback context (an `RcuOld` or "
       "`RcuDropGuard` dropped, or `synchronize_rcu()` called, inside a `call_rcu` callback)",
       'might_sleep() at run time with CONFIG_DEBUG_ATOMIC_SLEEP ("BUG: sleeping function '
       'called from invalid context"): callbacks run in softirq context '
       "(Documentation/RCU/Design/Requirements/Requirements.rst)",
       "not caught at compile time: the `Rcu<P>` RFC leaves detecting a drop in atomic "
       "context to klint, and the dma_fence series on `RcuBox` (May 2026) warns of it",
       "every RCU callback runs in an atomic \"RCU callback\" section (`kbind.context`), "
       "as the kernel's run in softirq context: `RcuOld.drop()`, "
       "`kbind.kernel.sync.rcu.synchronize_rcu()`, `Revocable.revoke()`, "
       "`kbind.kernel_c.synchronize_rcu()` with `DEBUG_ATOMIC_SLEEP`, or any other sleeping "
       "call of the kernel designs there raises `AtomicContextError`, reported through "
       "`sys.unraisablehook` and naming where the callback was queued.  The original "
       "proposal (`kbind.rcu`) tracks no context: its `synchronize_rcu()` and "
       "`RcuDropGuard.drop()` wait on the callback thread (only `rcu_barrier()` raises, R07)",
       ("AtomicContextError",),
       ("test_r24_waiting_drop_in_callback_context_raises_atomic_context_error",
        "test_r24_kernel_c_synchronize_in_any_callback_raises_with_debug_atomic_sleep",
        "tests/test_compare_rcu.py")),
    _R("R25", "a `Revocable`'s data accessed after `revoke()`",
       "not caught: a driver's resource is released at unbind, so a later access is a "
       "use-after-free (KASAN reports it, Documentation/dev-tools/kasan.rst)",
       "compile time: `try_access()` returns an `Option` (`None` once revoked)",
       "impossible through the API: once revoked, `try_access()`, `try_access_with()` and "
       "`try_access_with_guard()` return None (typed as optional, so mypy rejects using the "
       "result unchecked) and `try_access_with()` does not call its function; a reference "
       "taken before `revoke()` and used after its guard raises `LifetimeError` (R01), and "
       "`revoke()` inside a reader raises `DeadlockError` (R06)",
       (),
       ("test_r25_revocable_after_revoke_gives_none", "tests/test_compare_rcu.py")),
    _R("R26", "an RCU list updated without its update-side lock",
       "lockdep at run time where the updater asserts its lock (`lockdep_assert_held()`; "
       "Documentation/RCU/listRCU.rst: updaters serialize on a lock of their own around "
       "`list_add_rcu()`, `list_del_rcu()`); without it two updaters corrupt the links",
       "no RCU list in Rust-for-Linux (a list owned by its lock would make it a compile-time "
       "error)",
       "every update of an `RcuList` or `RcuHList` (`add`, `add_tail`, `add_head`, `remove`, "
       "`replace`) checks that the calling thread holds the list's `update_lock` (a "
       "`kbind.kernel.sync.lock` `SpinLock` or `Mutex`): `GuardError` naming where the list "
       "was made and the update, and where another thread took the lock if one holds it; "
       "`RcuHashTable` takes its bucket's lock itself, so an unlocked update of it cannot be "
       "written",
       ("GuardError",),
       ("test_r26_update_without_the_lock_raises_naming_both_sites",
        "test_r26_update_while_another_thread_holds_the_lock_names_the_holder",
        "test_updaters_of_one_bucket_serialize_on_its_lock", "tests/test_compare_rcu.py")),
    _R("R27", "an element used after its reader through its lock without rechecking that it "
       "was deleted",
       "not caught: the deleter's grace period ends and the element is freed under the lock "
       "holder (the existence lock of Documentation/RCU/whatisRCU.rst and "
       "Documentation/RCU/listRCU.rst rechecks a `deleted` flag under the lock)",
       "no counterpart (a guard of a lock inside an RCU-protected object does not keep the "
       "object from being freed)",
       "`kbind.rcu.lock_existing()` takes the element's lock inside the reader, rechecks its "
       "`deleted` flag under it and returns the reference moved to the lock's guard, valid "
       "until the unlock, or None (unlocked) for a deleted element; a reference kept past the "
       "reader any other way raises `LifetimeError` (R01, whose hint names `try_get()` and "
       "`lock_existing()`), and moving it to the lock's guard without the recheck "
       "(`kbind.lifetime.rebind()`) raises `LifetimeError` once the element was retired, "
       "naming where",
       ("LifetimeError",),
       ("test_r27_lock_existing_returns_none_for_deleted_element",
        "test_r27_rebind_without_recheck_refuses_retired_element", "tests/test_compare_rcu.py")),
    _R("R28", "a counted reference put twice, or never put",
       "run time at the underflow only: `refcount_t` WARNs when the count goes below zero "
       "(lib/refcount.c), usually at another holder's put, after the object was freed under "
       "it; a missing put is a leak",
       "compile time: `ARef<T>` and `Arc<T>` put their count in `Drop`, exactly once",
       "`kbind.rcu.Counted` (from `try_get()`, `clone()`, `Counted.adopt()`) is a must-use "
       "handle: a second `put()` raises `GuardError` naming where the count was taken and "
       "both puts; a handle collected unput warns with `CountedLeakWarning` and kbind puts it; "
       "a handle used after its put raises `LifetimeError` (`UseAfterFreeError` once the "
       "object was freed); the last put frees the object after a grace period",
       ("GuardError", "CountedLeakWarning"),
       ("test_r28_counted_put_twice_raises_naming_both_puts",
        "test_r28_counted_collected_unput_warns_and_puts", "tests/test_compare_rcu.py")),
    # -- sequence locks ---------------------------------------------------------------
    _R("S01", "values from a failed read attempt used",
       "not caught", "closure API of the old `rust` branch: impossible",
       "the closure reader `read(fn)` returns only a validated attempt's result; in the "
       "explicit loop, a tentative value used after a failed `read_retry()` raises "
       "`TentativeValueError` naming where it was read (a value converted with `int()` "
       "inside the attempt is plain and no longer tracked)",
       ("TentativeValueError",), ("test_s01_value_from_failed_attempt_raises_tentative_error",)),
    _R("S02", "protected data read outside the reader (a stashed view)",
       "not caught", "compile time (the view borrows the reader)",
       "the view dies when the closure returns: using it raises `LifetimeError`",
       ("LifetimeError",), ("test_s02_view_used_after_read_raises_lifetime",)),
    _R("S03", "side effects inside a reader closure (it may run several times)",
       "documentation", "documentation",
       "documented, not checked at run time (kbind cannot tell a repeatable side effect "
       "from one that is not); a write to the same lock inside a reader is recognised as "
       "an upgrade (the hfi1 `sdma_flush()` pattern) and ends the attempt instead of "
       "retrying forever",
       (),
       ("test_sdma_upgrade_writer_inside_reader_returns_without_retry",
        "test_sdma_loop_reader_with_writer_inside_ends_attempt")),
    _R("S04", "following pointers stored in protected data",
       "forbidden by the documentation (Documentation/locking/seqlock.rst)", "not caught",
       "only 64-bit signed integers and fixed-size bytes are storable; anything else "
       "raises `TypeError` citing S04",
       ("TypeError",), ("test_s04_seqlock_object_field_raises_typeerror",)),
    _R("S05", "two writers without serialization",
       "lockdep (`seqcount_LOCKNAME_t` names the lock)", "compile time (an embedded lock)",
       "writers go through the `SeqLock`'s embedded spinlock, so they serialize",
       (), ("test_s05_writers_on_two_threads_serialize",)),
    _R("S06", "a reader on the thread that holds the write side",
       "a livelock: the reader spins on the odd count (Documentation/locking/seqlock.rst)",
       "a deadlock (documented)",
       "`DeadlockError` instead of spinning forever",
       ("DeadlockError",), ("test_s06_reader_on_writer_thread_raises_deadlock",)),
    _R("S07", "a writer's stores racing readers without marked accesses",
       "KCSAN (Documentation/dev-tools/kcsan.rst)",
       "undefined behaviour in principle (rust-lang/rfcs#3301, atomic memcpy, is open)",
       "not a user error in kbind: protected data live in C memory and are read and written "
       "with marked accesses only; the busted variants of the seqlock torture show what "
       "goes wrong without the protocol",
       (), ("test_torture_busted_variant_caught", "test_torture_real_seqlock_no_violations")),
    _R("S08", "retry with a token from another lock, or a token reused",
       "not caught", "compile time",
       "a token is bound to its lock, its thread and its attempt: another lock's "
       "`read_retry()`, a second check, or another thread raises `GuardError`",
       ("GuardError",),
       ("test_s08_token_from_other_lock_raises_guarderror",
        "test_s08_token_reused_raises_guarderror",
        "test_s08_token_on_other_thread_raises_guarderror")),
    _R("S09", "a nested write lock on the same lock",
       "lockdep (recursive locking)", "a self-deadlock",
       "`DeadlockError` (a second `write()` on the thread that holds the write side, or a "
       "nested latch write)",
       ("DeadlockError",), ("test_s09_second_write_same_thread_raises_deadlock",)),
    _R("S10", "latch: modifying the copy readers are directed to",
       "not caught", "no counterpart",
       "`SeqLatch.write` only hands out the copy readers are not directed to; a write view "
       "kept past the flip raises `LifetimeError`",
       ("LifetimeError",), ("test_s10_latch_view_stashed_after_flip_raises_lifetime",)),
    _R("S11", "a `SeqLock`, `SeqLatch`, read token, view or write guard duplicated "
       "(copied or pickled)",
       "not caught (a struct copy of a `seqlock_t` is a second lock)",
       "compile time (not `Clone`/`Copy`)",
       KBIND_NOT_CLONE,
       ("CloneError",),
       ("test_seq_write_guard_copy_raises_clone_error",
        "test_seq_views_copy_raises_clone_error")),
    # -- atomics ----------------------------------------------------------------------
    _R("A01", "an ordering the operation does not have (`load(Release)`, `store(Acquire)`, "
       "`add(Acquire)`)",
       "no such function (Documentation/atomic_t.txt)", "compile time (sealed ordering traits)",
       "`OrderingError` at the call, nothing changed; mypy rejects it too",
       ("OrderingError",),
       ("test_a01_disallowed_ordering_raises_and_changes_nothing",
        "test_a01_typing_rejects_each_misuse")),
    _R("A02", "relying on a default ordering",
       "defaults exist (`atomic_add_return()` is fully ordered)", "compile time (explicit)",
       "the ordering argument is required (`TypeError` without it); a non-ordering raises "
       "`OrderingError`",
       ("TypeError", "OrderingError"),
       ("test_a02_ordering_argument_is_required",
        "test_a02_non_ordering_argument_raises_ordering_error")),
    _R("A03", "an operand that does not fit the type",
       "silent truncation", "compile time",
       "`OverflowError`, nothing changed; results wrap at the type's width like the kernel's",
       ("OverflowError",), ("test_a03_operand_out_of_range_raises_overflow_and_changes_nothing",
                            "test_wraparound_each_width_like_kernel")),
    _R("A04", "a plain access to a word that is also accessed atomically",
       "KCSAN", "compile time",
       "impossible through the API: `Atomic*` and `Word` values live in C memory and are "
       "reached only through their accessors (no plain attribute to read racily)",
       (), ("test_word_has_no_plain_value_attribute", "test_word_lives_in_c_memory")),
    _R("A05", "assuming a failed cmpxchg orders memory",
       "documentation (Documentation/atomic_t.txt: a failed cmpxchg is unordered)",
       "documentation (a failed `cmpxchg` is a relaxed load)",
       "documented, not checked at run time (kbind cannot see what a caller assumes): "
       "`cmpxchg`/`try_cmpxchg` say a failure orders nothing",
       (), ("test_cmpxchg_success_and_failure",)),
    _R("A06", "an atomic or `Word` duplicated (copied or pickled)",
       "not caught (a struct copy of an `atomic_t` is a plain read)",
       "compile time (`Atomic<T>` is not `Clone`)",
       KBIND_NOT_CLONE,
       ("CloneError",),
       ("test_guards_and_owners_copy_or_pickle_raises_clone_error",)),
    _R("A07", "a `refcount_t` incremented from zero or decremented below zero",
       'run time: lib/refcount.c saturates the count and WARNs once ("refcount_t: addition '
       'on 0; use-after-free", "underflow; use-after-free"); a count kept in an `atomic_t` '
       "wraps silently",
       "run time: `Refcount` (rust/kernel/sync/refcount.rs) is the same C count; `Arc<T>` and "
       "`ARef<T>` leave no way to increment a count from zero (only a live handle clones)",
       "`kbind.refcount.Refcount` (and `Kref`) does what lib/refcount.c does: an increment "
       "from zero, a decrement below zero (or a plain `dec()` to zero) and an overflow warn "
       "with `RefcountWarning` naming the call, where the count was made and where it last "
       "reached zero, and saturate the count at `REFCOUNT_SATURATED`, so the object leaks "
       "instead of being freed in use; a count kept in a plain atomic lets it through",
       ("RefcountWarning",),
       ("test_a07_increment_from_zero_warns_and_saturates",
        "test_a07_underflow_warns_naming_where_it_reached_zero")),
    # -- locks ------------------------------------------------------------------------
    _R("L01", "protected data accessed without the lock",
       "lockdep assertions (`lockdep_assert_held()`)", "compile time (the lock owns the data)",
       "impossible through the API: the lock owns its value and the only way to it is a "
       "live guard's `.value` (after unlock, see L02)",
       (), ("test_lock_guard_value_reads_and_writes",
                            "test_l02_guard_used_after_unlock_raises_lifetime_error_with_both_sites")),
    _R("L02", "a reference to protected data escapes the guard",
       "not caught", "compile time (lifetime)",
       "the guard is invalid after unlock: using it raises `LifetimeError` naming where it "
       "was locked and unlocked (a value copied out is the caller's).  Not checked for what "
       "`g.value` handed out: a mutable value is the protected object itself, so changing it "
       "after the unlock goes through (`kbind compare --row L02`)",
       ("LifetimeError",),
       ("test_l02_guard_used_after_unlock_raises_lifetime_error_with_both_sites",
        "test_l02_guard_escaping_with_block_raises_lifetime_error")),
    _R("L03", "a guard unlocked on another thread",
       "mutex debugging WARN (CONFIG_DEBUG_MUTEXES)", "compile time (`Guard` is `!Send`)",
       "`GuardError`; the owner can still unlock it",
       ("GuardError",), ("test_l03_unlock_on_other_thread_raises_guard_error",)),
    _R("L04", "recursive acquisition",
       "lockdep (Documentation/locking/lockdep-design.rst)", "lockdep",
       "`DeadlockError` instead of hanging",
       ("DeadlockError",), ("test_l04_relock_on_owner_thread_raises_deadlock_error",)),
    _R("L05", "ABBA lock ordering",
       "lockdep", "lockdep",
       "`kbind.kernel_c`'s `spinlock_t` and `struct mutex` check it with `PROVE_LOCKING`: "
       "lockdep's graph of lock classes reports the first acquisition that inverts an "
       "order seen before, directly or through other locks, with `DeadlockError` naming "
       "the acquisitions of both orders, before any deadlock happens.  The Rust-style lock "
       "designs (`kbind.sync`, `kbind.kernel.sync.lock`) record no lock order, so two "
       "threads taking two of their locks in opposite orders can deadlock, as without "
       "lockdep",
       ("DeadlockError",),
       ("test_l05_lock_order_inversion_reported_before_any_deadlock",
        "test_l05_inversion_through_a_third_lock_and_not_with_prove_locking_off")),
    _R("L06", "sleeping under a spinlock or inside an RCU reader",
       "might_sleep() at run time", "not caught (klint, out of tree)",
       "`kbind.kernel.sync.lock` tracks atomic context (`kbind.context`, the kernel's "
       "might_sleep()): under a held `SpinLock` or inside an RCU reader, `Mutex.lock()`, "
       "`CondVar.wait()` on another lock and `kbind.kernel.sync.rcu.synchronize_rcu()` raise "
       "`AtomicContextError` naming where the section began and the call; kbind's "
       "grace-period waits inside an RCU reader raise `DeadlockError` (R05-R07); the 2021 API "
       "(`kbind.sync`) tracks no context, so sleeping under its `SpinLock` is not checked at "
       "run time; `kbind.kernel_c`'s `mutex_lock()` under `spin_lock()` raises "
       "`AtomicContextError` with `DEBUG_ATOMIC_SLEEP`",
       ("AtomicContextError", "DeadlockError"),
       ("test_mutex_lock_in_atomic_context_raises_naming_both_sites",
        "test_condvar_wait_in_another_atomic_section_raises",
        "test_r07_rcu_barrier_inside_reader_raises_deadlock_error",
        "test_l06_mutex_under_a_spinlock_is_atomic_context_with_debug_atomic_sleep")),
    _R("L07", "sleeping with interrupts disabled (under a `SpinLockIrq` guard or a "
       "`LocalInterruptDisabled` token)",
       "might_sleep() at run time (CONFIG_DEBUG_ATOMIC_SLEEP: 'sleeping function called from "
       "invalid context' with `irqs_disabled()`)",
       "not caught (klint, out of tree): the token proves that interrupts are off, nothing "
       "stops a sleep under it",
       "`kbind.kernel.sync.lock`: a `SpinLockIrq` guard and a `LocalInterruptDisabled` token "
       "are atomic sections of their thread (`irqs_disabled()` is true), so `Mutex.lock()` or "
       "`CondVar.wait()` inside one raises `AtomicContextError` naming where interrupts were "
       "disabled and the sleeping call; the section ends with the guard or token, however it "
       "ends",
       ("AtomicContextError",),
       ("test_mutex_lock_in_atomic_context_raises_naming_both_sites",
        "test_condvar_wait_in_another_atomic_section_raises",
        "test_spinlock_irq_lock_counts_interrupt_disabling")),
    _R("L08", "`LockedBy` data accessed with the wrong owner lock's guard",
       "lockdep, where the code asserts the owner's lock (`lockdep_assert_held(&owner->lock)`)",
       "run time: `LockedBy::access()` compares the owner's address and panics on a mismatch "
       "(rust/kernel/sync/locked_by.rs)",
       "`LockedBy.access()` and `access_mut()` take the guard and compare its lock with the "
       "owner given to `LockedBy(owner, value)`: another lock's guard raises `GuardError` "
       "naming where the `LockedBy` was made, where the guard was taken and the access; a "
       "released guard raises `LifetimeError`, another thread's `GuardError`",
       ("GuardError", "LifetimeError"),
       ("test_locked_by_wrong_owner_raises_guard_error_naming_both_sites",
        "test_locked_by_dead_or_foreign_guard_is_refused")),
    _R("L10", "a guard never released",
       "lockdep at return to user space", "a safe leak",
       "`GuardLeakWarning` naming where the lock was taken when the guard is collected, "
       "and the lock is released; pytest `--kbind-strict` fails a test that leaves one held",
       ("GuardLeakWarning",), ("test_l10_leaked_guard_warns_with_creation_site_and_releases",)),
    _R("L11", "a lock or its guard duplicated (copied or pickled)",
       "not caught (a struct copy of a held `spinlock_t` is a second, held lock)",
       "compile time (not `Clone`/`Copy`)",
       KBIND_NOT_CLONE,
       ("CloneError",),
       ("test_copied_lock_guard_cannot_unlock_a_lock_another_thread_holds",)),
]}  # fmt: skip


def is_rule_code(name: str) -> bool:
    """Whether ``name`` looks like a rule code (``R05``, ``s03``; case-insensitive)."""
    return _CODE.fullmatch(name.strip().upper()) is not None


def rule(code: str) -> MisuseRule:
    """Return the catalog row for ``code`` (case-insensitive).

    Raises:
        KeyError: no such row.
    """
    return RULES[code.strip().upper()]
