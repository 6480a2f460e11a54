"""The long explanations behind ``kbind explain NAME`` and ``KbindError.explain()``.

One :class:`Explanation` per public error and warning class of
:mod:`kbind.errors`: the rule, a minimal wrong/right example, the rule codes
it covers (rows of the misuse catalog, :mod:`kbind.explain.rules`, also
docs/misuse.md), and the kernel documentation the rule comes from (paths in
the kernel source tree).  tests/test_explain.py fails when a class in
``kbind.errors.__all__`` has no entry here.  ``explain()`` also accepts a
rule code (``R05``) and then prints that catalog row.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from kbind.errors import register_explainer
from kbind.explain.rules import DOC, RULES, MisuseRule, is_rule_code

__all__ = ["EXPLANATIONS", "Explanation", "UnknownNameError", "explain", "listing", "lookup"]


@dataclass(frozen=True)
class Explanation:
    """The long explanation of one kbind error or warning.

    Attributes:
        name: the class name.
        summary: one line.
        rule: the rule broken, in a paragraph.
        wrong: a minimal example that breaks it.
        right: the same, done right.
        misuse: the rule codes (misuse catalog rows) it covers.
        kernel_docs: kernel source-tree files the rule comes from.
        rust: how Rust-for-Linux handles it.
    """

    name: str
    summary: str
    rule: str
    wrong: str
    right: str
    misuse: tuple[str, ...]
    kernel_docs: tuple[str, ...]
    rust: str

    def render(self) -> str:
        """Return the explanation as text for a terminal."""

        def block(code: str) -> str:
            return textwrap.indent(textwrap.dedent(code).strip("\n"), "    ")

        wrap = textwrap.fill
        rows = (
            f"{', '.join(self.misuse)} (kbind explain {self.misuse[0]}; {DOC})"
            if self.misuse
            else "(none: a usage error, not a misuse row)"
        )
        return "\n".join([
            f"{self.name}: {self.summary}",
            "",
            "Rule:",
            textwrap.indent(wrap(self.rule, 76), "  "),
            "",
            "Wrong:",
            block(self.wrong),
            "",
            "Right:",
            block(self.right),
            "",
            f"Rust-for-Linux: {self.rust}",
            f"Rule codes: {rows}",
            "Kernel documentation: " + "; ".join(self.kernel_docs),
        ])  # fmt: skip


class UnknownNameError(KeyError):
    """``explain()`` was given a name that is neither a kbind error or warning nor a rule code."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.known = tuple(sorted(EXPLANATIONS))
        super().__init__(name)

    def __str__(self) -> str:
        if is_rule_code(self.name):
            return (
                f"no rule is called {self.name.strip().upper()!r}; rule codes: "
                f"{', '.join(RULES)} (see {DOC})"
            )
        return (
            f"no kbind error or warning is called {self.name!r}; known: {', '.join(self.known)}; "
            f"or a rule code such as R05 (kbind explain --list)"
        )


_E = Explanation

EXPLANATIONS: dict[str, Explanation] = {e.name: e for e in [
    _E(
        "KbindError",
        "the root of kbind's errors; never raised itself.",
        "Every kbind error says what was attempted, which rule it broke, the sites "
        "(file:line, thread) of the objects involved, and a hint.  Each subclass also "
        "inherits the builtin exception it means, so `except RuntimeError` or `except "
        "ValueError` keeps working.  Catch a specific subclass; `kbind explain <Subclass>` "
        "explains each.",
        """
        except Exception:          # hides which rule broke
            pass
        """,
        """
        except kbind.LifetimeError as e:
            print(e.created_at, e.dropped_at)   # fields, not string parsing
        """,
        (),
        ("Documentation/RCU/checklist.rst", "Documentation/locking/lockdep-design.rst"),
        "most of these rules are compile-time errors (lifetimes, !Send, sealed traits).",
    ),
    _E(
        "LifetimeError",
        "something was used after the guard or scope that made it valid ended.",
        "A reference obtained under a guard (an RcuReadGuard, a LockGuard, a seqlock "
        "view) is valid only while that guard is held.  After the guard is dropped, an RCU "
        "object may be freed by the next grace period and locked data may change under "
        "you, so every use of the stale reference raises LifetimeError naming where the "
        "guard was created and dropped.  Copy what you need out while the guard is held.",
        """
        with RcuReadGuard() as g:
            cfg = config.read(g)
        print(cfg.timeout)          # LifetimeError: g was dropped
        """,
        """
        with RcuReadGuard() as g:
            timeout = config.read(g).timeout   # copy the plain value out
        print(timeout)
        """,
        ("R01", "R02", "R04", "R20", "R21", "R27", "L02", "L08", "S02", "S10"),
        ("Documentation/RCU/whatisRCU.rst", "Documentation/RCU/rcu_dereference.rst",
         "Documentation/RCU/checklist.rst"),
        "a compile-time error: the reference borrows the guard (lifetime of &Guard).",
    ),
    _E(
        "UseAfterFreeError",
        "an RCU-protected object was used after a grace period freed it.",
        "Only an RcuDropGuard frees an old value, and only after a grace period that "
        "began after the value was unpublished; a freed value is poisoned.  With a correct "
        "engine a reader holding its guard never sees this.  It appears when a grace period "
        "ended too early (a broken engine, KB_RCU_BUSTED_*) or when an object was reached "
        "without RCU's protection: the kernel would report a use-after-free (KASAN).",
        """
        ref = config.read(g)                  # g held ...
        config.replace(new).drop()            # ... but the engine did not wait for g
        ref.timeout                           # UseAfterFreeError
        """,
        """
        with config.replace(new):             # drop() waits for every earlier reader
            pass
        """,
        ("R13",),
        ("Documentation/RCU/whatisRCU.rst", "Documentation/RCU/checklist.rst",
         "Documentation/dev-tools/kasan.rst"),
        "RcuDropGuard's destructor calls synchronize_rcu() before freeing.",
    ),
    _E(
        "GuardError",
        "a guard was dropped twice, on the wrong thread, or used where it is not valid.",
        "A guard belongs to the thread that created it (a read-side section or a held "
        "lock is a property of one thread) and is dropped exactly once.  Dropping it on "
        "another thread, dropping it twice, retiring the same old value twice, two "
        "updaters sharing one RcuWrite, an RCU list updated without holding its update-side "
        "lock (lockdep_assert_held()), or a seqlock token reused or given to another lock "
        "all raise GuardError.",
        """
        g = RcuReadGuard()
        threading.Thread(target=g.drop).start()   # GuardError: another thread
        """,
        """
        with RcuReadGuard() as g:                 # created and dropped on one thread
            ...
        """,
        ("R08", "R10", "R12", "R15", "R17", "R20", "R26", "R28", "L03", "L08", "S08"),
        ("Documentation/RCU/whatisRCU.rst", "Documentation/locking/lockdep-design.rst",
         "Documentation/locking/seqlock.rst"),
        "guards are !Send and consumed by drop, so these do not compile.",
    ),
    _E(
        "CloneError",
        "a guard, lock, Rcu or other owner was copied or pickled.",
        "A guard is used exactly once on the thread that made it, and a lock, SeqLock, "
        "atomic or Rcu is one place in memory that others share by reference.  A copy "
        "would be a second guard for one critical section (its unlock would release a lock "
        "another thread now holds), or a second owner of one value (its update would free "
        "what readers of the original still hold).  copy.copy(), copy.deepcopy() and "
        "pickle refuse them.  Deep copies of values that contain locks or atomics share "
        "them instead (kbind's copy-on-write), like cloning an Arc.",
        """
        g = lock.lock()
        g2 = copy.copy(g)          # CloneError
        """,
        """
        with lock.lock() as g:     # one guard; pass g itself where it is needed
            g.value += 1
        """,
        ("R23", "S11", "A06", "L11"),
        ("Documentation/RCU/whatisRCU.rst", "Documentation/locking/lockdep-design.rst"),
        "guards, locks, Rcu and atomics are not Clone or Copy, so a copy does not compile.",
    ),
    _E(
        "DeadlockError",
        "an operation would wait forever on the calling thread itself.",
        "A grace period waits for every read-side critical section that began before it, "
        "including the caller's own, so synchronize_rcu(), rcu_barrier() or "
        "RcuDropGuard.drop() inside a section would never return.  Likewise re-locking a "
        "lock this thread holds, a seqlock reader on the thread that holds the write side, "
        "or a second write lock on it.  kbind raises instead of hanging, as lockdep would "
        "report.",
        """
        with RcuReadGuard() as g:
            synchronize_rcu()          # DeadlockError (R05)
        """,
        """
        with RcuReadGuard() as g:
            old = config.replace(new)
            old.defer()                # frees after a grace period, without waiting
        synchronize_rcu()              # or wait outside the section
        """,
        ("R05", "R06", "R07", "R12", "R19", "L04", "L05", "L06", "S06", "S09"),
        ("Documentation/RCU/checklist.rst (item 13)", "kernel/rcu/tree.c (synchronize_rcu())",
         "Documentation/RCU/whatisRCU.rst", "Documentation/locking/lockdep-design.rst",
         "Documentation/locking/seqlock.rst"),
        "not caught at compile time; lockdep reports it at run time in the kernel.",
    ),
    _E(
        "AtomicContextError",
        "a call that may sleep was made inside an atomic section.",
        "Inside an RCU read-side critical section, a spinlock section, an "
        "interrupt-disabled section or an RCU callback, nothing may sleep: the CPU "
        "cannot be given up there.  Mutex.lock(), CondVar.wait(), synchronize_rcu(), "
        "Srcu.synchronize() and kbind.context.sleep() may sleep, so they raise there, "
        "naming where the section began and where the call was made.  SRCU readers may "
        "sleep.",
        """
        with kernel.sync.rcu.Guard():
            mutex.lock()               # AtomicContextError: may sleep in an RCU reader
        """,
        """
        with mutex.lock() as g:        # take the sleeping lock first
            with kernel.sync.rcu.Guard():
                ...
        """,
        ("R24", "L06", "L07"),
        ("include/linux/kernel.h (might_sleep())", "kernel/sched/core.c (__might_sleep())",
         "Documentation/RCU/whatisRCU.rst"),
        "not checked at compile time (documentation, and the klint lint out of tree).",
    ),
    _E(
        "OrderingError",
        "a memory ordering the operation does not have was asked for.",
        "Each atomic operation exists only with certain orderings: a load can be Relaxed "
        "or Acquire, a store Relaxed or Release, a read-modify-write any of them or Full. "
        "Asking for load(Release) is meaningless (a release orders earlier accesses before "
        "a *store*).  mypy rejects it; the run time repeats the check.  There is no default "
        "ordering: say which one you rely on.",
        """
        flag.load(Release)             # OrderingError: no such load
        """,
        """
        flag.store(1, Release)         # pairs with ...
        flag.load(Acquire)             # ... this acquire load on the other thread
        """,
        ("A01", "A02"),
        ("Documentation/atomic_t.txt", "Documentation/memory-barriers.txt",
         "tools/memory-model/Documentation/explanation.txt"),
        "orderings are types (sealed traits), so the wrong one does not compile.",
    ),
    _E(
        "TentativeValueError",
        "a value read in a sequence-lock attempt that failed was used.",
        "Values read between read_seqbegin() and read_seqretry() are tentative: a writer "
        "may have been halfway through, so they may be torn.  When the retry check says the "
        "attempt failed, those values and everything computed from them must be thrown away "
        "and read again.  kbind raises when one is used after a failed check, naming where "
        "it was read; after a successful check they are plain values.",
        """
        seq = clock.read_begin()
        t = seq.sec * 1000 + seq.nsec
        if clock.read_retry(seq):
            log(int(t))                 # TentativeValueError: the attempt failed
        """,
        """
        while True:
            seq = clock.read_begin()
            t = seq.sec * 1000 + seq.nsec
            if not clock.read_retry(seq):
                break
        use(int(t))                     # validated
        """,
        ("S01",),
        ("Documentation/locking/seqlock.rst", "include/linux/seqlock.h"),
        "the closure reader returns only a validated attempt's result; the loop form "
        "cannot check this.",
    ),
    _E(
        "ReadOnlyError",
        "an RCU-protected object was about to be modified in place through a reader's reference.",
        "A published object is shared by every reader at once; changing it in place races "
        "with them (they may see half an update).  RCU updates by publishing a new copy "
        "(read-copy-update) and freeing the old one after a grace period, so references "
        "handed to readers are read-only.",
        """
        with RcuReadGuard() as g:
            config.read(g).timeout = 5          # ReadOnlyError
        """,
        """
        config.update(lambda old: dataclasses.replace(old, timeout=5)).drop()
        """,
        ("R16",),
        ("Documentation/RCU/whatisRCU.rst", "Documentation/RCU/checklist.rst"),
        "readers get &T, a shared reference that cannot mutate.",
    ),
    _E(
        "BackendError",
        "the RCU backend was chosen after the RCU engine was already in use.",
        "The backend (kbind's builtin engine or liburcu's QSBR flavour) owns the engine's "
        "state: registered threads, grace-period numbers, queued callbacks.  It is chosen "
        "once per process, before first use.",
        """
        synchronize_rcu()
        select_backend("liburcu")      # BackendError: already in use
        """,
        """
        select_backend("liburcu")      # first thing, or KBIND_RCU_BACKEND=liburcu
        synchronize_rcu()
        """,
        (),
        ("Documentation/RCU/whatisRCU.rst",
         "Documentation/RCU/Design/Requirements/Requirements.rst"),
        "one RCU implementation per kernel build (Tree RCU or Tiny RCU), chosen by Kconfig.",
    ),
    _E(
        "BackendForkError",
        "the liburcu backend cannot wait for grace periods in this child of fork().",
        "fork() copies only the calling thread.  liburcu's QSBR flavour keeps every "
        "registered thread in its registry and can unregister only the caller, so its README "
        "requires every registration to be released before fork(); in a child whose parent "
        "had other registered threads, kbind's liburcu backend refuses grace periods, "
        "registration and call_rcu instead of walking freed memory.  Read-side sections "
        "still work there.  The builtin backend follows fork(): the child keeps only its own "
        "reader record and runs the callbacks queued before the fork.",
        """
        KBIND_RCU_BACKEND=liburcu: threads read under RCU, then
        multiprocessing.get_context("fork").Process(target=work).start()
        # in work(): synchronize_rcu()  ->  BackendForkError
        """,
        """
        multiprocessing.get_context("spawn").Process(target=work).start()
        # or KBIND_RCU_BACKEND=builtin, which supports fork()
        """,
        (),
        ("Documentation/RCU/whatisRCU.rst",),
        "not applicable: the kernel's RCU readers are CPUs and tasks, not userspace threads.",
    ),
    _E(
        "BackendUnavailableError",
        "the RCU backend asked for cannot be loaded (liburcu is not installed).",
        "kbind loads liburcu at run time, so it builds and imports without it; asking for "
        "the liburcu backend then fails with this error.  Install liburcu's QSBR flavour "
        "with the system's package manager, name another build with KBIND_LIBURCU_QSBR, or "
        "use the builtin backend, which needs nothing.",
        """
        KBIND_RCU_BACKEND=liburcu python app.py     # liburcu not installed
        """,
        """
        apt-get install liburcu8 && KBIND_RCU_BACKEND=liburcu python app.py
        """,
        (),
        ("Documentation/RCU/whatisRCU.rst",),
        "not applicable (the kernel's RCU is built in).",
    ),
    _E(
        "KbindWarning",
        "the root of kbind's warnings: a rule was bent in a way kbind could repair.",
        "Warnings mark misuse kbind can survive (a leaked guard released by the garbage "
        "collector, a grace period stalled by a reader).  Treat them as bugs: run tests "
        "with -W error, or with kbind's pytest strict mode (pytest --kbind-strict).",
        """
        pytest                           # warnings scroll by
        """,
        """
        pytest --kbind-strict -W error   # any kbind warning fails its test
        """,
        ("R09", "R14", "R22", "L10"),
        ("Documentation/RCU/stallwarn.rst", "Documentation/RCU/checklist.rst"),
        "leaks are safe in Rust and release on drop; stalls are run-time only.",
    ),
    _E(
        "GuardLeakWarning",
        "a guard was garbage-collected (or its thread exited) while still held.",
        "A guard held forever is a lock never released or a read-side section never "
        "ended: every later grace period (or lock user) waits on it.  kbind releases the "
        "guard when the collector finds it and warns with its creation site, but when that "
        "happens is up to the collector.  Use `with` or drop the guard explicitly.",
        """
        g = lock.lock()
        g.value += 1                    # never unlocked: released by the collector
        """,
        """
        with lock.lock() as g:
            g.value += 1
        """,
        ("R09", "L10"),
        ("Documentation/RCU/checklist.rst", "Documentation/locking/lockdep-design.rst"),
        "a guard is released when it goes out of scope (Drop).",
    ),
    _E(
        "RcuDropGuardLeakWarning",
        "an RcuDropGuard was garbage-collected without drop() or defer().",
        "The drop guard owns the old value until a grace period has passed.  Forgetting it "
        "leaves the moment the old value dies up to the collector; kbind still frees it "
        "after a grace period (as defer() would) and warns with the replace()/update() site.",
        """
        config.replace(new)             # drop guard discarded
        """,
        """
        with config.replace(new):       # synchronize_rcu() + free on leaving
            pass
        config.replace(newer).defer()   # or call_rcu()-style, without waiting
        """,
        ("R14",),
        ("Documentation/RCU/whatisRCU.rst", "Documentation/RCU/checklist.rst"),
        "RcuDropGuard<T> synchronizes and frees when dropped.",
    ),
    _E(
        "CountedLeakWarning",
        "a counted reference (kbind.rcu.Counted) was garbage-collected without put().",
        "A Counted holds one reference count on an object kept past its RCU reader "
        "(try_get(), clone(), Counted.adopt()); the object is freed only when every count "
        "is put.  A handle dropped on the floor would keep it forever (in C: a leak); kbind "
        "puts the count when the collector finds the handle and warns with where the count "
        "was taken, but when that happens is up to the collector.  Put each handle once, or "
        "use it as a with block.",
        """
        c = try_get(table.read(g))
        use(c.name)                     # never put: the object is kept until collection
        """,
        """
        with try_get(table.read(g)) as c:   # (check for None first)
            use(c.name)                 # put when the block ends
        """,
        ("R28",),
        ("Documentation/RCU/rcuref.rst", "include/linux/refcount.h"),
        "ARef<T> and Arc<T> put their count in Drop, exactly once.",
    ),
    _E(
        "RefcountWarning",
        "a reference count was incremented from zero, decremented below it, or saturated.",
        "A reference count at zero means the object is being freed: incrementing it "
        "(refcount_inc()) hands out a reference to freed memory, and decrementing it again "
        "frees it twice.  The kernel's refcount_t (lib/refcount.c) catches both at run time: "
        "it saturates the count at REFCOUNT_SATURATED, so the object leaks instead of being "
        "freed in use, and WARNs once.  kbind's Refcount does the same and names the call, "
        "where the count was made and where it last reached zero.  Take a count from an "
        "unknown state with inc_not_zero() (refcount_inc_not_zero()), and free only when "
        "dec_and_test() returns True.",
        """
        if obj.refcount.dec_and_test():
            free(obj)
        obj.refcount.inc()              # RefcountWarning: addition on 0; use-after-free
        """,
        """
        if obj.refcount.inc_not_zero():  # refcount_inc_not_zero(): False once it hit 0
            use(obj)
        """,
        ("A07",),
        ("include/linux/refcount.h", "Documentation/RCU/rcuref.rst",
         "Documentation/atomic_t.txt"),
        "Refcount (rust/kernel/sync/refcount.rs) wraps the same refcount_t; Arc<T> clones only "
        "from a live handle.",
    ),
    _E(
        "RcuOldLeakWarning",
        "an RcuOld (kbind.rfc.rcu_pointer) was garbage-collected without drop().",
        "An RcuOld owns the pointee an update unpublished until a grace period has passed; "
        "its drop waits for that grace period, then frees.  Forgetting it leaves the moment "
        "the old pointee dies up to the collector, which must not block: kbind frees it after "
        "a grace period without waiting and warns with the update's site.",
        """
        with p.exclusive() as w:
            w.replace(new)              # RcuOld discarded
        """,
        """
        with p.exclusive() as w:
            old = w.replace(new)
        old.drop()                      # synchronize_rcu() + free, outside any reader
        """,
        (),
        ("Documentation/RCU/whatisRCU.rst", "Documentation/RCU/checklist.rst"),
        "RcuOld<P> (RFC v3, April 2025) waits for a grace period and frees when dropped.",
    ),
    _E(
        "SrcuActiveReadersWarning",
        "an SRCU domain was closed or collected while its readers were active.",
        "An SRCU domain (kbind.kernel.sync.srcu.Srcu) owns its readers' counters; "
        "tearing it down under a reader would free what the reader still uses.  kbind "
        "does what the merged Rust Srcu's drop does: it warns, naming the domain and the "
        "guards still held, waits for them in synchronize(), then runs srcu_barrier().  "
        "Unlock every guard before closing its domain.",
        """
        g = domain.read_lock()
        threading.Thread(target=domain.close).start()   # warns, waits for g
        """,
        """
        with domain.read_lock():
            ...
        domain.close()
        """,
        (),
        ("kernel/rcu/srcutree.c", "Documentation/RCU/whatisRCU.rst"),
        "Srcu's Drop WARNs, calls synchronize_srcu(), then srcu_barrier() (2026-07).",
    ),
    _E(
        "RcuStallWarning",
        "a grace period was held up longer than the stall threshold.",
        "A grace period ends only when every thread has left the read-side sections that "
        "began before it (or, in QSBR mode, reported a quiescent state).  A reader that "
        "stays in a section too long, a leaked guard, or a QSBR thread that stops calling "
        "quiescent_state() holds up every updater and every call_rcu callback.  The warning "
        "names each thread holding it up and where its guard was created (or where it went "
        "online).  Threshold: set_stall_timeout() (kernel: rcupdate.rcu_cpu_stall_timeout).",
        """
        with qsbr_mode():
            while True:
                work()                  # never reports a quiescent state
        """,
        """
        with qsbr_mode():
            while True:
                work()
                quiescent_state()       # "I hold no RCU references now"
        """,
        ("R09", "R22"),
        ("Documentation/RCU/stallwarn.rst", "kernel/rcu/tree_stall.h",
         "Documentation/RCU/whatisRCU.rst"),
        "no compile-time check; the kernel prints the same stall warning at run time.",
    ),
]}  # fmt: skip


def lookup(name: str) -> Explanation | MisuseRule:
    """Return the explanation of ``name``: an error or warning class, or a rule code.

    ``name`` is a class name (case-insensitive; ``kbind.`` prefix ok) or a
    rule code of the misuse catalog (``R05``, ``s03``; case-insensitive).

    Raises:
        UnknownNameError: neither (the message lists the known names or codes).
    """
    if is_rule_code(name):
        code = name.strip().upper()
        if code in RULES:
            return RULES[code]
        raise UnknownNameError(name)
    key = name.strip().removeprefix("kbind.").removeprefix("errors.")
    for known, expl in EXPLANATIONS.items():
        if known.lower() == key.lower():
            return expl
    raise UnknownNameError(name)


def explain(name: str) -> str:
    """Return the rendered explanation of ``name`` (see :func:`lookup`)."""
    return lookup(name).render()


def listing() -> str:
    """Return what ``kbind explain --list`` prints: each class, then each rule code, one a line."""
    lines = [f"{name:<26} {expl.summary}" for name, expl in EXPLANATIONS.items()]
    lines += [f"{code:<26} {r.misuse}" for code, r in RULES.items()]
    return "\n".join(lines)


register_explainer(explain)
