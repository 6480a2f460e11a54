/* SPDX-License-Identifier: MIT */
/*
 * csrc/pyext/engine_fns.h - the engine functions the hot-path extension calls.
 *
 * An X-macro list: KB_HP_FN(name) once per function of csrc/kbind_api.h that
 * kbind._bridge._hotpath calls.  The extension links none of the engine: at import,
 * kbind._bridge.native hands it each function's address, taken from the cffi module
 * (ffi.addressof(lib, name)), so there is one engine and one copy of its
 * state.  The pointer types come from the prototypes in kbind_api.h
 * (__typeof__), so no prototype is typed twice.
 */
/* RCU read side (RcuReadGuard) */
KB_HP_FN(kb_rcu_py_read_enter)
KB_HP_FN(kb_rcu_py_read_exit)
/* SRCU read side (kbind.kernel.sync.srcu.Guard): never blocks */
KB_HP_FN(kb_srcu_read_lock)
KB_HP_FN(kb_srcu_read_unlock)
/* locks (LockGuard): the non-blocking halves; waiting stays in cffi */
KB_HP_FN(kb_spin_trylock)
KB_HP_FN(kb_spin_unlock)
KB_HP_FN(kb_mutex_trylock)
KB_HP_FN(kb_mutex_unlock)
/* atomics */
/*
 * AtomicI32/AtomicI64/AtomicUsize (csrc/pyext/atomic_type.c): every
 * operation kbind.atomic offers, in each ordering the kernel has for it, for
 * kb_atomic_t, kb_atomic64_t and kb_atomic_long_t.  The helper macros expand
 * to KB_HP_FN() lines and are undefined again below (this file is included
 * several times).
 */
#define KB_HP_ATOMIC_ANY(p, op) \
	KB_HP_FN(p##_##op##_relaxed) KB_HP_FN(p##_##op##_acquire) \
	KB_HP_FN(p##_##op##_release) KB_HP_FN(p##_##op)
#define KB_HP_ATOMIC_FNS(p) \
	KB_HP_FN(p##_read) KB_HP_FN(p##_read_acquire) \
	KB_HP_FN(p##_set) KB_HP_FN(p##_set_release) \
	KB_HP_FN(p##_add) KB_HP_FN(p##_sub) KB_HP_FN(p##_inc) KB_HP_FN(p##_dec) \
	KB_HP_ATOMIC_ANY(p, add_return) KB_HP_ATOMIC_ANY(p, sub_return) \
	KB_HP_ATOMIC_ANY(p, inc_return) KB_HP_ATOMIC_ANY(p, dec_return) \
	KB_HP_ATOMIC_ANY(p, fetch_add) KB_HP_ATOMIC_ANY(p, fetch_sub) \
	KB_HP_ATOMIC_ANY(p, fetch_inc) KB_HP_ATOMIC_ANY(p, fetch_dec) \
	KB_HP_ATOMIC_ANY(p, fetch_and) KB_HP_ATOMIC_ANY(p, fetch_or) \
	KB_HP_ATOMIC_ANY(p, fetch_xor) KB_HP_ATOMIC_ANY(p, fetch_andnot) \
	KB_HP_ATOMIC_ANY(p, xchg) KB_HP_ATOMIC_ANY(p, cmpxchg) \
	KB_HP_ATOMIC_ANY(p, try_cmpxchg) KB_HP_ATOMIC_ANY(p, add_negative) \
	KB_HP_FN(p##_sub_and_test) KB_HP_FN(p##_dec_and_test) KB_HP_FN(p##_inc_and_test) \
	KB_HP_FN(p##_fetch_add_unless) KB_HP_FN(p##_add_unless) KB_HP_FN(p##_inc_not_zero)
KB_HP_ATOMIC_FNS(kb_atomic)
KB_HP_ATOMIC_FNS(kb_atomic64)
KB_HP_ATOMIC_FNS(kb_atomic_long)
#undef KB_HP_ATOMIC_FNS
#undef KB_HP_ATOMIC_ANY
/*
 * kernel::sync::atomic's Atomic<i8>/Atomic<i16>/Atomic<bool>/AtomicFlag
 * (csrc/pyext/kernel_atomic.c): load, store, xchg and cmpxchg of the 8- and
 * 16-bit cells.  Its other types use the kb_atomic*_ functions above.
 */
#define KB_HP_ATOMIC_ANY(p, op) \
	KB_HP_FN(p##_##op##_relaxed) KB_HP_FN(p##_##op##_acquire) \
	KB_HP_FN(p##_##op##_release) KB_HP_FN(p##_##op)
#define KB_HP_ATOMIC_SMALL_FNS(p) \
	KB_HP_FN(p##_read) KB_HP_FN(p##_read_acquire) \
	KB_HP_FN(p##_set) KB_HP_FN(p##_set_release) \
	KB_HP_ATOMIC_ANY(p, xchg) KB_HP_ATOMIC_ANY(p, cmpxchg)
KB_HP_ATOMIC_SMALL_FNS(kb_atomic_i8)
KB_HP_ATOMIC_SMALL_FNS(kb_atomic_i16)
#undef KB_HP_ATOMIC_SMALL_FNS
#undef KB_HP_ATOMIC_ANY
/* end of atomics */
/* seqlock */
/*
 * kbind.seqlock's read and write paths (csrc/pyext/seqlock_read.c,
 * seqlock_write.c): only the non-blocking halves.  A reader samples the
 * sequence without waiting (an odd one sends it to cffi to wait), copies the
 * words with marked loads and checks for a retry; a writer's trylock
 * (kb_spin_trylock, above) plus kb_write_seqcount_begin() is
 * kb_write_seqlock() without the wait.
 */
KB_HP_FN(kb_raw_read_seqcount)
KB_HP_FN(kb_read_seqretry)
KB_HP_FN(kb_seq_words_load)
KB_HP_FN(kb_latch_snapshot_begin)
KB_HP_FN(kb_read_seqcount_latch_retry)
KB_HP_FN(kb_seq_word_read)
KB_HP_FN(kb_seq_word_write)
KB_HP_FN(kb_seq_bytes_load)
KB_HP_FN(kb_seq_bytes_store)
KB_HP_FN(kb_write_seqcount_begin)
KB_HP_FN(kb_write_sequnlock)
/* end of seqlock */
