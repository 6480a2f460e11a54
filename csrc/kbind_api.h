/* SPDX-License-Identifier: MIT */
/*
 * csrc/kbind_api.h - the C API of kbind's core, and the only place it is
 * written down.
 *
 * This file is read twice: by the C compiler (through csrc/kbind.h, which
 * first includes the system headers it needs) and, verbatim, by cffi's
 * ffibuilder.cdef() in csrc/build_ffi.py.  So it may hold only what cdef()
 * accepts: typedefs, enums, complete structs, prototypes, and
 * "#define KB_X <integer>".  No #include, no #if, no attributes, no inline
 * bodies (those live in csrc/kbind.h and csrc/arch/).  Structs are complete
 * so Python can allocate them with ffi.new(); their fields are private to C.
 *
 * Naming: kb_<object>_<verb>(), or the kernel's own name with a kb_ prefix.
 */

/* ---------------------------------------------------------------- status */
#define KB_OK 0
#define KB_EAGAIN 11
#define KB_EBUSY 16
#define KB_EINVAL 22
#define KB_EDEADLK 35
#define KB_ETIMEDOUT 110

/* ------------------------------------------------------ barriers (smp_*) */
/**
 * kb_arch_name() - which csrc/arch/ header this build uses.
 *
 * Return: "x86_64", "aarch64" or "generic" (a static string).
 */
const char *kb_arch_name(void);

/*
 * Out-of-line versions of the barrier macros in csrc/arch/, for callers
 * that cannot inline (Python).  Each mirrors the kernel primitive of the
 * same name; see csrc/arch/<arch>.h for what each orders.
 */
void kb_barrier(void);
void kb_smp_mb(void);
void kb_smp_rmb(void);
void kb_smp_wmb(void);
void kb_smp_mb__before_atomic(void);
void kb_smp_mb__after_atomic(void);

/* ------------------------------------------- marked accesses on a word */
/**
 * struct kb_word - one 64-bit machine word shared between threads.
 * @value: accessed only through the kb_word_*() functions below.
 */
typedef struct kb_word {
	int64_t value;
} kb_word_t;

/* READ_ONCE(w->value) */
int64_t kb_word_read_once(const kb_word_t *w);
/* WRITE_ONCE(w->value, v) */
void kb_word_write_once(kb_word_t *w, int64_t v);
/* smp_load_acquire(&w->value) */
int64_t kb_word_load_acquire(const kb_word_t *w);
/* smp_store_release(&w->value, v) */
void kb_word_store_release(kb_word_t *w, int64_t v);

/* ------------------------------------------------------- LKMM atomics */
/*
 * Mirrors include/linux/atomic/atomic-instrumented.h and
 * atomic-long.h: atomic_t, atomic64_t and atomic_long_t with the kernel's
 * argument order and ordering suffixes (none = fully ordered, _acquire,
 * _release, _relaxed).  Void RMW operations are unordered, value-returning
 * ones come in all four orderings, the conditional ones are fully
 * ordered, as in the kernel.  Arithmetic wraps (two's complement).
 * A failed cmpxchg()/try_cmpxchg() provides no ordering (as the kernel).
 */
typedef struct kb_atomic {
	int32_t counter;
} kb_atomic_t;

typedef struct kb_atomic64 {
	int64_t counter;
} kb_atomic64_t;

typedef struct kb_atomic_long {
	long counter;
} kb_atomic_long_t;

/* BEGIN GENERATED ATOMICS: python csrc/gen_atomic_api.py --write */
/* kb_atomic_t: the kernel's atomic_t operations */
int32_t kb_atomic_read(const kb_atomic_t *v);
int32_t kb_atomic_read_acquire(const kb_atomic_t *v);
void kb_atomic_set(kb_atomic_t *v, int32_t i);
void kb_atomic_set_release(kb_atomic_t *v, int32_t i);
void kb_atomic_add(int32_t i, kb_atomic_t *v);
void kb_atomic_sub(int32_t i, kb_atomic_t *v);
void kb_atomic_inc(kb_atomic_t *v);
void kb_atomic_dec(kb_atomic_t *v);
void kb_atomic_and(int32_t i, kb_atomic_t *v);
void kb_atomic_andnot(int32_t i, kb_atomic_t *v);
void kb_atomic_or(int32_t i, kb_atomic_t *v);
void kb_atomic_xor(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_add_return(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_add_return_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_add_return_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_add_return_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_sub_return(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_sub_return_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_sub_return_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_sub_return_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_inc_return(kb_atomic_t *v);
int32_t kb_atomic_inc_return_acquire(kb_atomic_t *v);
int32_t kb_atomic_inc_return_release(kb_atomic_t *v);
int32_t kb_atomic_inc_return_relaxed(kb_atomic_t *v);
int32_t kb_atomic_dec_return(kb_atomic_t *v);
int32_t kb_atomic_dec_return_acquire(kb_atomic_t *v);
int32_t kb_atomic_dec_return_release(kb_atomic_t *v);
int32_t kb_atomic_dec_return_relaxed(kb_atomic_t *v);
int32_t kb_atomic_fetch_add(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_add_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_add_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_add_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_sub(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_sub_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_sub_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_sub_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_inc(kb_atomic_t *v);
int32_t kb_atomic_fetch_inc_acquire(kb_atomic_t *v);
int32_t kb_atomic_fetch_inc_release(kb_atomic_t *v);
int32_t kb_atomic_fetch_inc_relaxed(kb_atomic_t *v);
int32_t kb_atomic_fetch_dec(kb_atomic_t *v);
int32_t kb_atomic_fetch_dec_acquire(kb_atomic_t *v);
int32_t kb_atomic_fetch_dec_release(kb_atomic_t *v);
int32_t kb_atomic_fetch_dec_relaxed(kb_atomic_t *v);
int32_t kb_atomic_fetch_and(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_and_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_and_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_and_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_andnot(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_andnot_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_andnot_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_andnot_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_or(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_or_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_or_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_or_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_xor(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_xor_acquire(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_xor_release(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_xor_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_xchg(kb_atomic_t *v, int32_t new);
int32_t kb_atomic_xchg_acquire(kb_atomic_t *v, int32_t new);
int32_t kb_atomic_xchg_release(kb_atomic_t *v, int32_t new);
int32_t kb_atomic_xchg_relaxed(kb_atomic_t *v, int32_t new);
int32_t kb_atomic_cmpxchg(kb_atomic_t *v, int32_t old, int32_t new);
int32_t kb_atomic_cmpxchg_acquire(kb_atomic_t *v, int32_t old, int32_t new);
int32_t kb_atomic_cmpxchg_release(kb_atomic_t *v, int32_t old, int32_t new);
int32_t kb_atomic_cmpxchg_relaxed(kb_atomic_t *v, int32_t old, int32_t new);
bool kb_atomic_try_cmpxchg(kb_atomic_t *v, int32_t *old, int32_t new);
bool kb_atomic_try_cmpxchg_acquire(kb_atomic_t *v, int32_t *old, int32_t new);
bool kb_atomic_try_cmpxchg_release(kb_atomic_t *v, int32_t *old, int32_t new);
bool kb_atomic_try_cmpxchg_relaxed(kb_atomic_t *v, int32_t *old, int32_t new);
bool kb_atomic_sub_and_test(int32_t i, kb_atomic_t *v);
bool kb_atomic_dec_and_test(kb_atomic_t *v);
bool kb_atomic_inc_and_test(kb_atomic_t *v);
bool kb_atomic_add_negative(int32_t i, kb_atomic_t *v);
bool kb_atomic_add_negative_acquire(int32_t i, kb_atomic_t *v);
bool kb_atomic_add_negative_release(int32_t i, kb_atomic_t *v);
bool kb_atomic_add_negative_relaxed(int32_t i, kb_atomic_t *v);
int32_t kb_atomic_fetch_add_unless(kb_atomic_t *v, int32_t a, int32_t u);
bool kb_atomic_add_unless(kb_atomic_t *v, int32_t a, int32_t u);
bool kb_atomic_inc_not_zero(kb_atomic_t *v);
bool kb_atomic_inc_unless_negative(kb_atomic_t *v);
bool kb_atomic_dec_unless_positive(kb_atomic_t *v);
int32_t kb_atomic_dec_if_positive(kb_atomic_t *v);
/* kb_atomic64_t: the kernel's atomic64_t operations */
int64_t kb_atomic64_read(const kb_atomic64_t *v);
int64_t kb_atomic64_read_acquire(const kb_atomic64_t *v);
void kb_atomic64_set(kb_atomic64_t *v, int64_t i);
void kb_atomic64_set_release(kb_atomic64_t *v, int64_t i);
void kb_atomic64_add(int64_t i, kb_atomic64_t *v);
void kb_atomic64_sub(int64_t i, kb_atomic64_t *v);
void kb_atomic64_inc(kb_atomic64_t *v);
void kb_atomic64_dec(kb_atomic64_t *v);
void kb_atomic64_and(int64_t i, kb_atomic64_t *v);
void kb_atomic64_andnot(int64_t i, kb_atomic64_t *v);
void kb_atomic64_or(int64_t i, kb_atomic64_t *v);
void kb_atomic64_xor(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_add_return(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_add_return_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_add_return_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_add_return_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_sub_return(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_sub_return_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_sub_return_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_sub_return_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_inc_return(kb_atomic64_t *v);
int64_t kb_atomic64_inc_return_acquire(kb_atomic64_t *v);
int64_t kb_atomic64_inc_return_release(kb_atomic64_t *v);
int64_t kb_atomic64_inc_return_relaxed(kb_atomic64_t *v);
int64_t kb_atomic64_dec_return(kb_atomic64_t *v);
int64_t kb_atomic64_dec_return_acquire(kb_atomic64_t *v);
int64_t kb_atomic64_dec_return_release(kb_atomic64_t *v);
int64_t kb_atomic64_dec_return_relaxed(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_add(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_add_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_add_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_add_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_sub(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_sub_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_sub_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_sub_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_inc(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_inc_acquire(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_inc_release(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_inc_relaxed(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_dec(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_dec_acquire(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_dec_release(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_dec_relaxed(kb_atomic64_t *v);
int64_t kb_atomic64_fetch_and(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_and_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_and_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_and_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_andnot(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_andnot_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_andnot_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_andnot_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_or(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_or_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_or_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_or_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_xor(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_xor_acquire(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_xor_release(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_xor_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_xchg(kb_atomic64_t *v, int64_t new);
int64_t kb_atomic64_xchg_acquire(kb_atomic64_t *v, int64_t new);
int64_t kb_atomic64_xchg_release(kb_atomic64_t *v, int64_t new);
int64_t kb_atomic64_xchg_relaxed(kb_atomic64_t *v, int64_t new);
int64_t kb_atomic64_cmpxchg(kb_atomic64_t *v, int64_t old, int64_t new);
int64_t kb_atomic64_cmpxchg_acquire(kb_atomic64_t *v, int64_t old, int64_t new);
int64_t kb_atomic64_cmpxchg_release(kb_atomic64_t *v, int64_t old, int64_t new);
int64_t kb_atomic64_cmpxchg_relaxed(kb_atomic64_t *v, int64_t old, int64_t new);
bool kb_atomic64_try_cmpxchg(kb_atomic64_t *v, int64_t *old, int64_t new);
bool kb_atomic64_try_cmpxchg_acquire(kb_atomic64_t *v, int64_t *old, int64_t new);
bool kb_atomic64_try_cmpxchg_release(kb_atomic64_t *v, int64_t *old, int64_t new);
bool kb_atomic64_try_cmpxchg_relaxed(kb_atomic64_t *v, int64_t *old, int64_t new);
bool kb_atomic64_sub_and_test(int64_t i, kb_atomic64_t *v);
bool kb_atomic64_dec_and_test(kb_atomic64_t *v);
bool kb_atomic64_inc_and_test(kb_atomic64_t *v);
bool kb_atomic64_add_negative(int64_t i, kb_atomic64_t *v);
bool kb_atomic64_add_negative_acquire(int64_t i, kb_atomic64_t *v);
bool kb_atomic64_add_negative_release(int64_t i, kb_atomic64_t *v);
bool kb_atomic64_add_negative_relaxed(int64_t i, kb_atomic64_t *v);
int64_t kb_atomic64_fetch_add_unless(kb_atomic64_t *v, int64_t a, int64_t u);
bool kb_atomic64_add_unless(kb_atomic64_t *v, int64_t a, int64_t u);
bool kb_atomic64_inc_not_zero(kb_atomic64_t *v);
bool kb_atomic64_inc_unless_negative(kb_atomic64_t *v);
bool kb_atomic64_dec_unless_positive(kb_atomic64_t *v);
int64_t kb_atomic64_dec_if_positive(kb_atomic64_t *v);
/* kb_atomic_long_t: the kernel's atomic_long_t operations */
long kb_atomic_long_read(const kb_atomic_long_t *v);
long kb_atomic_long_read_acquire(const kb_atomic_long_t *v);
void kb_atomic_long_set(kb_atomic_long_t *v, long i);
void kb_atomic_long_set_release(kb_atomic_long_t *v, long i);
void kb_atomic_long_add(long i, kb_atomic_long_t *v);
void kb_atomic_long_sub(long i, kb_atomic_long_t *v);
void kb_atomic_long_inc(kb_atomic_long_t *v);
void kb_atomic_long_dec(kb_atomic_long_t *v);
void kb_atomic_long_and(long i, kb_atomic_long_t *v);
void kb_atomic_long_andnot(long i, kb_atomic_long_t *v);
void kb_atomic_long_or(long i, kb_atomic_long_t *v);
void kb_atomic_long_xor(long i, kb_atomic_long_t *v);
long kb_atomic_long_add_return(long i, kb_atomic_long_t *v);
long kb_atomic_long_add_return_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_add_return_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_add_return_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_sub_return(long i, kb_atomic_long_t *v);
long kb_atomic_long_sub_return_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_sub_return_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_sub_return_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_inc_return(kb_atomic_long_t *v);
long kb_atomic_long_inc_return_acquire(kb_atomic_long_t *v);
long kb_atomic_long_inc_return_release(kb_atomic_long_t *v);
long kb_atomic_long_inc_return_relaxed(kb_atomic_long_t *v);
long kb_atomic_long_dec_return(kb_atomic_long_t *v);
long kb_atomic_long_dec_return_acquire(kb_atomic_long_t *v);
long kb_atomic_long_dec_return_release(kb_atomic_long_t *v);
long kb_atomic_long_dec_return_relaxed(kb_atomic_long_t *v);
long kb_atomic_long_fetch_add(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_add_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_add_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_add_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_sub(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_sub_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_sub_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_sub_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_inc(kb_atomic_long_t *v);
long kb_atomic_long_fetch_inc_acquire(kb_atomic_long_t *v);
long kb_atomic_long_fetch_inc_release(kb_atomic_long_t *v);
long kb_atomic_long_fetch_inc_relaxed(kb_atomic_long_t *v);
long kb_atomic_long_fetch_dec(kb_atomic_long_t *v);
long kb_atomic_long_fetch_dec_acquire(kb_atomic_long_t *v);
long kb_atomic_long_fetch_dec_release(kb_atomic_long_t *v);
long kb_atomic_long_fetch_dec_relaxed(kb_atomic_long_t *v);
long kb_atomic_long_fetch_and(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_and_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_and_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_and_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_andnot(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_andnot_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_andnot_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_andnot_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_or(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_or_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_or_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_or_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_xor(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_xor_acquire(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_xor_release(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_xor_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_xchg(kb_atomic_long_t *v, long new);
long kb_atomic_long_xchg_acquire(kb_atomic_long_t *v, long new);
long kb_atomic_long_xchg_release(kb_atomic_long_t *v, long new);
long kb_atomic_long_xchg_relaxed(kb_atomic_long_t *v, long new);
long kb_atomic_long_cmpxchg(kb_atomic_long_t *v, long old, long new);
long kb_atomic_long_cmpxchg_acquire(kb_atomic_long_t *v, long old, long new);
long kb_atomic_long_cmpxchg_release(kb_atomic_long_t *v, long old, long new);
long kb_atomic_long_cmpxchg_relaxed(kb_atomic_long_t *v, long old, long new);
bool kb_atomic_long_try_cmpxchg(kb_atomic_long_t *v, long *old, long new);
bool kb_atomic_long_try_cmpxchg_acquire(kb_atomic_long_t *v, long *old, long new);
bool kb_atomic_long_try_cmpxchg_release(kb_atomic_long_t *v, long *old, long new);
bool kb_atomic_long_try_cmpxchg_relaxed(kb_atomic_long_t *v, long *old, long new);
bool kb_atomic_long_sub_and_test(long i, kb_atomic_long_t *v);
bool kb_atomic_long_dec_and_test(kb_atomic_long_t *v);
bool kb_atomic_long_inc_and_test(kb_atomic_long_t *v);
bool kb_atomic_long_add_negative(long i, kb_atomic_long_t *v);
bool kb_atomic_long_add_negative_acquire(long i, kb_atomic_long_t *v);
bool kb_atomic_long_add_negative_release(long i, kb_atomic_long_t *v);
bool kb_atomic_long_add_negative_relaxed(long i, kb_atomic_long_t *v);
long kb_atomic_long_fetch_add_unless(kb_atomic_long_t *v, long a, long u);
bool kb_atomic_long_add_unless(kb_atomic_long_t *v, long a, long u);
bool kb_atomic_long_inc_not_zero(kb_atomic_long_t *v);
bool kb_atomic_long_inc_unless_negative(kb_atomic_long_t *v);
bool kb_atomic_long_dec_unless_positive(kb_atomic_long_t *v);
long kb_atomic_long_dec_if_positive(kb_atomic_long_t *v);
/* END GENERATED ATOMICS */

/* ---------------------------------------------------------------- locks */
/**
 * struct kb_spinlock - a test-and-test-and-set spinlock.
 * @locked: 0 when free, 1 when held.
 *
 * Mirrors spinlock_t (Rust: kernel::sync::SpinLock).  Waiters spin with
 * kb_cpu_relax(), then yield the CPU, so a preempted holder is not starved.
 */
typedef struct kb_spinlock {
	uint32_t locked;
} kb_spinlock_t;

void kb_spin_lock_init(kb_spinlock_t *lock);
void kb_spin_lock(kb_spinlock_t *lock);
int kb_spin_lock_timeout(kb_spinlock_t *lock, int64_t timeout_ns);
bool kb_spin_trylock(kb_spinlock_t *lock);
void kb_spin_unlock(kb_spinlock_t *lock);
bool kb_spin_is_locked(const kb_spinlock_t *lock);

/**
 * struct kb_mutex - a sleeping lock on a futex.
 * @state: 0 free, 1 held, 2 held with (possible) sleepers.
 *
 * Mirrors struct mutex (Rust: kernel::sync::Mutex).  Contended lockers
 * sleep in FUTEX_WAIT; unlock wakes one sleeper only when there may be one.
 */
typedef struct kb_mutex {
	uint32_t state;
} kb_mutex_t;

void kb_mutex_init(kb_mutex_t *lock);
void kb_mutex_lock(kb_mutex_t *lock);
int kb_mutex_lock_timeout(kb_mutex_t *lock, int64_t timeout_ns);
bool kb_mutex_trylock(kb_mutex_t *lock);
void kb_mutex_unlock(kb_mutex_t *lock);
bool kb_mutex_is_locked(const kb_mutex_t *lock);

/* ------------------------------------------------------------------ rcu */
/*
 * Userspace QSBR RCU (csrc/rcu.c; reader fast paths inlined from
 * csrc/rcu_inline.h).  Mirrors the kernel's RCU API (include/linux/
 * rcupdate.h) over liburcu's QSBR flavour: a registered thread is "online"
 * and holds up grace periods until it reports a quiescent state
 * (kb_rcu_quiescent_state()) or goes offline; rcu_read_lock()/unlock()
 * only count nesting.  Grace periods are numbered by a counter; cookies
 * from kb_get_state_synchronize_rcu() name the grace period that must end.
 */
#define KB_ENOMEM 12

/* Busted engine variants, for torture tests (kb_rcu_set_busted()). */
#define KB_RCU_BUSTED_NONE 0
#define KB_RCU_BUSTED_NO_WAIT 1
#define KB_RCU_BUSTED_READER 2
#define KB_RCU_BUSTED_EARLY_CB 3

/**
 * struct kb_rcu_head - what call_rcu() queues (struct rcu_head).
 * @next: queue link, owned by the engine while queued.
 * @func: invoked on the call_rcu worker thread after a grace period.
 */
typedef struct kb_rcu_head {
	struct kb_rcu_head *next;
	void (*func)(struct kb_rcu_head *head);
} kb_rcu_head_t;

/**
 * struct kb_rcu_reader_info - one reader holding up a grace period.
 * @tid: its kernel thread id (gettid(); Python: threading.get_native_id()).
 * @blocked_ns: how long the current grace period has been waiting.
 * @name: the name given by kb_rcu_set_thread_name(), NUL-terminated.
 */
typedef struct kb_rcu_reader_info {
	int64_t tid;
	int64_t blocked_ns;
	char name[32];
} kb_rcu_reader_info_t;

/* Registry and QSBR states of the calling thread. */
int kb_rcu_register_thread(void);
int kb_rcu_unregister_thread(void);
int kb_rcu_set_thread_name(const char *name);
bool kb_rcu_is_registered(void);
bool kb_rcu_is_online(void);
int kb_rcu_registered_count(void);
void kb_rcu_quiescent_state(void);
void kb_rcu_thread_offline(void);
void kb_rcu_thread_online(void);

/* Read-side critical sections (empty in QSBR except for the count). */
void kb_rcu_read_lock(void);
void kb_rcu_read_unlock(void);
int kb_rcu_read_lock_nesting(void);
bool kb_rcu_read_lock_held(void);

/* Pointer publication on a void * slot. */
void *kb_rcu_dereference(void **p);
void *kb_rcu_access_pointer(void **p);
void kb_rcu_assign_pointer(void **p, void *v);
void kb_rcu_init_pointer(void **p, void *v);
void *kb_rcu_xchg_pointer(void **p, void *v);
void *kb_rcu_cmpxchg_pointer(void **p, void *old, void *new);
void *kb_rcu_replace_pointer(void **p, void *v);

/* Grace periods. */
int kb_synchronize_rcu(void);
uint64_t kb_get_state_synchronize_rcu(void);
bool kb_poll_state_synchronize_rcu(uint64_t cookie);
int kb_cond_synchronize_rcu(uint64_t cookie);
int kb_rcu_wait_gp(uint64_t cookie, int64_t timeout_ns);
int kb_synchronize_rcu_timeout(int64_t timeout_ns);
uint64_t kb_rcu_gp_count(void);

/* Stall detection. */
void kb_rcu_set_stall_timeout_ns(int64_t timeout_ns);
int64_t kb_rcu_get_stall_timeout_ns(void);
void kb_rcu_set_stall_verbose(bool on);
int kb_rcu_stalled_readers(kb_rcu_reader_info_t *out, int max);
uint64_t kb_rcu_stall_count(void);

/* Callbacks. */
void kb_call_rcu(kb_rcu_head_t *head, void (*func)(kb_rcu_head_t *head));
int kb_call_rcu_token(uint64_t token);
int kb_rcu_reap_tokens(uint64_t *out, int max, int64_t timeout_ns);
uint64_t kb_rcu_tokens_ready(void);
void kb_rcu_barrier(void);
int kb_rcu_barrier_timeout(int64_t timeout_ns);
uint64_t kb_rcu_pending_callbacks(void);
uint64_t kb_rcu_callbacks_invoked(void);
int kb_rcu_shutdown(int64_t timeout_ns);

/* Deliberately broken engines, for torture tests only. */
int kb_rcu_set_busted(int variant);
int kb_rcu_get_busted(void);

/* ---------------------------------------------------------- rcu torture */
/* Reclamation modes of the torture test. */
#define KB_RCU_TORTURE_SYNC 0
#define KB_RCU_TORTURE_CALL 1
#define KB_RCU_TORTURE_MIX 2
#define KB_RCU_TORTURE_PIPE_LEN 10
#define KB_RCU_TORTURE_MAX_THREADS 64

/**
 * struct kb_rcu_torture_config - one run of kb_rcu_torture().
 * @readers: reader threads, 1..KB_RCU_TORTURE_MAX_THREADS.
 * @updaters: updater threads, 1..KB_RCU_TORTURE_MAX_THREADS.
 * @duration_ms: how long to run, 1..600000.
 * @max_updates: stop after this many updates (0: only @duration_ms).
 * @reclaim: KB_RCU_TORTURE_SYNC, _CALL or _MIX.
 * @busted: KB_RCU_BUSTED_* engine variant for the run (restored after).
 * @read_spin: loads per read-side section (0: default 256).
 * @seed: seed of the updaters' choices in _MIX mode.
 */
typedef struct kb_rcu_torture_config {
	int32_t readers;
	int32_t updaters;
	int64_t duration_ms;
	int64_t max_updates;
	int32_t reclaim;
	int32_t busted;
	int32_t read_spin;
	int32_t reserved;
	uint64_t seed;
} kb_rcu_torture_config_t;

/**
 * struct kb_rcu_torture_result - what a torture run observed.
 * @reads: read-side sections completed.
 * @updates: elements published.
 * @grace_periods: grace periods completed during the run (engine-wide).
 * @callbacks: torture call_rcu callbacks invoked.
 * @barriers: rcu_barrier() calls the updaters made (element pool empty).
 * @pipe: histogram of element ages seen by readers (last bucket: >= 9).
 * @freed_seen: sections that reached an element freed (or reused) under them.
 * @too_old: sections that saw an element age >= 2.
 * @errors: @freed_seen + @too_old.
 * @elapsed_ns: wall time of the run.
 */
typedef struct kb_rcu_torture_result {
	uint64_t reads;
	uint64_t updates;
	uint64_t grace_periods;
	uint64_t callbacks;
	uint64_t barriers;
	uint64_t pipe[10];
	uint64_t freed_seen;
	uint64_t too_old;
	uint64_t errors;
	int64_t elapsed_ns;
} kb_rcu_torture_result_t;

int kb_rcu_torture(const kb_rcu_torture_config_t *cfg, kb_rcu_torture_result_t *res);
/* ------------------------------------------------------------ end rcu */
