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
 * bodies (those live in csrc/kbind.h and csrc/engine/arch/).  Structs are complete
 * so Python can allocate them with ffi.new(); their fields are private to C.
 *
 * Naming: kb_<object>_<verb>(), or the kernel's own name with a kb_ prefix.
 */

/* ---------------------------------------------------------------- status */
#define KB_OK 0
#define KB_ENOENT 2
#define KB_EAGAIN 11
#define KB_EBUSY 16
#define KB_EINVAL 22
#define KB_EDEADLK 35
#define KB_ENOTSUP 95
#define KB_ETIMEDOUT 110

/* ------------------------------------------------------ barriers (smp_*) */
/**
 * kb_arch_name() - which csrc/engine/arch/ header this build uses.
 *
 * Return: "x86_64", "aarch64" or "generic" (a static string).
 */
const char *kb_arch_name(void);

/*
 * Out-of-line versions of the barrier macros in csrc/engine/arch/, for callers
 * that cannot inline (Python).  Each mirrors the kernel primitive of the
 * same name; see csrc/engine/arch/<arch>.h for what each orders.
 */
void kb_barrier(void);
void kb_smp_mb(void);
void kb_smp_rmb(void);
void kb_smp_wmb(void);
void kb_smp_mb__before_atomic(void);
void kb_smp_mb__after_atomic(void);
/*
 * Mandatory barriers (kernel: mb(), rmb(), wmb()): they order accesses for
 * devices too, not only between CPUs; and the DMA barriers (dma_mb(),
 * dma_rmb(), dma_wmb()) for memory shared with a device.
 */
void kb_mb(void);
void kb_rmb(void);
void kb_wmb(void);
void kb_dma_mb(void);
void kb_dma_rmb(void);
void kb_dma_wmb(void);

/**
 * kb_ndelay() - busy-wait @ns nanoseconds on this CPU (kernel: ndelay()).
 * @ns: how long; <= 0 returns at once.
 *
 * Spins with kb_cpu_relax() on the monotonic clock: the thread stays on its
 * CPU and in whatever section it is in (an RCU reader holding its section
 * for a while, with the GIL released when called through cffi).
 * Context: any; never sleeps.
 */
void kb_ndelay(int64_t ns);

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

/* ----------------------------------------------- 8- and 16-bit atomics */
/*
 * The cells of Rust's Atomic<i8>, Atomic<i16>, Atomic<bool> (an i8) and
 * AtomicFlag (kbind.kernel.sync.atomic).  The kernel has no atomic8_t: these
 * are its READ_ONCE()/WRITE_ONCE(), smp_load_acquire()/smp_store_release(),
 * xchg() and cmpxchg() on a u8/u16, in the four orderings, with the names
 * of the atomic_t family.  No arithmetic (Rust offers none for them).  A
 * failed cmpxchg()/try_cmpxchg() provides no ordering.
 */
typedef struct kb_atomic_i8 {
	int8_t counter;
} kb_atomic_i8_t;

typedef struct kb_atomic_i16 {
	int16_t counter;
} kb_atomic_i16_t;

/* BEGIN GENERATED 8/16-BIT ATOMICS: python csrc/gen_atomic_api.py --write */
/* kb_atomic_i8_t: load, store, xchg and cmpxchg only (no arithmetic) */
int8_t kb_atomic_i8_read(const kb_atomic_i8_t *v);
int8_t kb_atomic_i8_read_acquire(const kb_atomic_i8_t *v);
void kb_atomic_i8_set(kb_atomic_i8_t *v, int8_t i);
void kb_atomic_i8_set_release(kb_atomic_i8_t *v, int8_t i);
int8_t kb_atomic_i8_xchg(kb_atomic_i8_t *v, int8_t new);
int8_t kb_atomic_i8_xchg_acquire(kb_atomic_i8_t *v, int8_t new);
int8_t kb_atomic_i8_xchg_release(kb_atomic_i8_t *v, int8_t new);
int8_t kb_atomic_i8_xchg_relaxed(kb_atomic_i8_t *v, int8_t new);
int8_t kb_atomic_i8_cmpxchg(kb_atomic_i8_t *v, int8_t old, int8_t new);
int8_t kb_atomic_i8_cmpxchg_acquire(kb_atomic_i8_t *v, int8_t old, int8_t new);
int8_t kb_atomic_i8_cmpxchg_release(kb_atomic_i8_t *v, int8_t old, int8_t new);
int8_t kb_atomic_i8_cmpxchg_relaxed(kb_atomic_i8_t *v, int8_t old, int8_t new);
bool kb_atomic_i8_try_cmpxchg(kb_atomic_i8_t *v, int8_t *old, int8_t new);
bool kb_atomic_i8_try_cmpxchg_acquire(kb_atomic_i8_t *v, int8_t *old, int8_t new);
bool kb_atomic_i8_try_cmpxchg_release(kb_atomic_i8_t *v, int8_t *old, int8_t new);
bool kb_atomic_i8_try_cmpxchg_relaxed(kb_atomic_i8_t *v, int8_t *old, int8_t new);
/* kb_atomic_i16_t: load, store, xchg and cmpxchg only (no arithmetic) */
int16_t kb_atomic_i16_read(const kb_atomic_i16_t *v);
int16_t kb_atomic_i16_read_acquire(const kb_atomic_i16_t *v);
void kb_atomic_i16_set(kb_atomic_i16_t *v, int16_t i);
void kb_atomic_i16_set_release(kb_atomic_i16_t *v, int16_t i);
int16_t kb_atomic_i16_xchg(kb_atomic_i16_t *v, int16_t new);
int16_t kb_atomic_i16_xchg_acquire(kb_atomic_i16_t *v, int16_t new);
int16_t kb_atomic_i16_xchg_release(kb_atomic_i16_t *v, int16_t new);
int16_t kb_atomic_i16_xchg_relaxed(kb_atomic_i16_t *v, int16_t new);
int16_t kb_atomic_i16_cmpxchg(kb_atomic_i16_t *v, int16_t old, int16_t new);
int16_t kb_atomic_i16_cmpxchg_acquire(kb_atomic_i16_t *v, int16_t old, int16_t new);
int16_t kb_atomic_i16_cmpxchg_release(kb_atomic_i16_t *v, int16_t old, int16_t new);
int16_t kb_atomic_i16_cmpxchg_relaxed(kb_atomic_i16_t *v, int16_t old, int16_t new);
bool kb_atomic_i16_try_cmpxchg(kb_atomic_i16_t *v, int16_t *old, int16_t new);
bool kb_atomic_i16_try_cmpxchg_acquire(kb_atomic_i16_t *v, int16_t *old, int16_t new);
bool kb_atomic_i16_try_cmpxchg_release(kb_atomic_i16_t *v, int16_t *old, int16_t new);
bool kb_atomic_i16_try_cmpxchg_relaxed(kb_atomic_i16_t *v, int16_t *old, int16_t new);
/* END GENERATED 8/16-BIT ATOMICS */
/* ------------------------------------------- end of 8- and 16-bit atomics */

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

/* --------------------------------------------------------------- litmus */
/*
 * The hardware litmus harness (csrc/tools/litmus.c), in the spirit of
 * herdtools' litmus7: a test's processes, compiled at run time from a C
 * litmus file (kbind/litmus/cgen.py), run in threads pinned to different
 * CPUs over many instances per synchronised round; every instance's final
 * state is one outcome, counted in a table of distinct outcomes.
 */
#define KB_LITMUS_MAX_THREADS 8
/* Bytes per shared variable: one cache line. */
#define KB_LITMUS_SLOT 64
#define KB_LITMUS_MAX_SIZE 100000
#define KB_LITMUS_MAX_OBS 64

/*
 * Why a process stopped the run (kb_litmus_result.error): it dereferenced a
 * value that is no variable's address (POINTER), spin_lock() did not get the
 * lock in time (LOCK), synchronize_rcu()/synchronize_srcu() did not end in
 * time (GP), spin_unlock() of a lock that is not held (UNLOCK).
 */
#define KB_LITMUS_ERR_NONE 0
#define KB_LITMUS_ERR_POINTER 1
#define KB_LITMUS_ERR_LOCK 2
#define KB_LITMUS_ERR_GP 3
#define KB_LITMUS_ERR_UNLOCK 4

/**
 * struct kb_litmus_prog - one compiled litmus test.
 * @nthreads: processes, 1..KB_LITMUS_MAX_THREADS.
 * @nslots: shared variables per instance (each KB_LITMUS_SLOT bytes), >= 1.
 * @nregs: registers each process reports per instance, >= 1.
 * @nobs: observables per outcome, 1..KB_LITMUS_MAX_OBS.
 * @uses_rcu: nonzero: the processes use RCU; each thread is a registered
 *	reader of the engine, offline between its instances.
 * @init: writes one instance's initial state into @mem (zeroed before).
 * @thread: process i on one instance: @regs receives its @nregs registers.
 * @observe: one instance's outcome: @regs holds every process's registers
 *	(process i at @regs + i * @nregs); writes @nobs values to @obs.
 * @cond: 1 when the final condition's proposition holds for @obs.
 * @filter: 0 when the test's filter leaves the outcome out (NULL: none).
 * @error: a KB_LITMUS_ERR_* a process sets (atomically) when it must stop.
 */
typedef struct kb_litmus_prog {
	int32_t nthreads;
	int32_t nslots;
	int32_t nregs;
	int32_t nobs;
	int32_t uses_rcu;
	int32_t reserved;
	void (*init)(char *mem);
	void (*thread[8])(char *mem, int64_t *regs);
	void (*observe)(const char *mem, const int64_t *regs, int64_t *obs);
	int (*cond)(const int64_t *obs);
	int (*filter)(const int64_t *obs);
	int32_t *error;
} kb_litmus_prog_t;

/**
 * struct kb_litmus_config - one run.
 * @instances: how many instances to run, >= 1.
 * @size: instances per synchronised round, 1..KB_LITMUS_MAX_SIZE.
 * @max_ns: stop after this long (<= 0: no time limit).
 * @stop_matches: stop once the condition held this often (0: never early).
 * @max_outcomes: capacity of the caller's outcome table, >= 1.
 * @pin: nonzero: pin thread i to the i-th usable CPU (round robin).
 */
typedef struct kb_litmus_config {
	int64_t instances;
	int64_t max_ns;
	int64_t stop_matches;
	int32_t size;
	int32_t max_outcomes;
	int32_t pin;
	int32_t reserved;
} kb_litmus_config_t;

/**
 * struct kb_litmus_result - what a run observed.
 * @instances: instances run.
 * @matches: instances whose outcome satisfied the condition (filter passed).
 * @filtered: instances the filter left out.
 * @lost: instances not counted because the outcome table was full.
 * @rounds: synchronised rounds.
 * @elapsed_ns: wall time of the run.
 * @noutcomes: distinct outcomes in the table.
 * @nthreads: threads run.
 * @cpus: usable CPUs (the run pins round-robin over them).
 * @error: the KB_LITMUS_ERR_* that stopped the run, or 0.
 */
typedef struct kb_litmus_result {
	int64_t instances;
	int64_t matches;
	int64_t filtered;
	int64_t lost;
	int64_t rounds;
	int64_t elapsed_ns;
	int32_t noutcomes;
	int32_t nthreads;
	int32_t cpus;
	int32_t error;
} kb_litmus_result_t;

int kb_litmus_run(const kb_litmus_prog_t *prog, const kb_litmus_config_t *cfg,
		  kb_litmus_result_t *res, int64_t *outcomes, int64_t *counts);
int kb_litmus_usable_cpus(void);

/* ===================================================== BEGIN SEQUENCE LOCKS */
/*
 * Mirrors include/linux/seqlock.h: seqcount_t, seqlock_t, seqcount_latch_t.
 * Implementation and the barrier pairings: csrc/engine/seqlock.c.  Torture:
 * csrc/tools/seqlock_torture.c.
 *
 * Protected data are 64-bit words in C memory.  Readers and writers race
 * on them for real, so every access is a marked one (READ_ONCE() /
 * WRITE_ONCE()); go through kb_seq_word_*() and kb_seq_words_*() (or the
 * coarse kb_seqlock_read_words()/kb_seqlock_write_words()) and racing
 * reads are never undefined behaviour.  A byte field is stored as whole
 * words (zero-padded) and copied word by word.
 */

/**
 * struct kb_seqcount - a sequence counter (Kernel: seqcount_t).
 * @sequence: even when no writer is inside, odd while one is; bumped twice
 *	per write section.  Writers must be serialized by the caller.
 */
typedef struct kb_seqcount {
	uint32_t sequence;
} kb_seqcount_t;

/**
 * struct kb_seqlock - a spinlock serializing writers plus a seqcount
 * (Kernel: seqlock_t).
 * @seqcount: the sequence readers sample.
 * @lock: taken by writers and by exclusive (locking) readers.
 */
typedef struct kb_seqlock {
	kb_seqcount_t seqcount;
	kb_spinlock_t lock;
} kb_seqlock_t;

/**
 * struct kb_seqcount_latch - a latch sequence counter
 * (Kernel: seqcount_latch_t).  The low bit selects which of two copies of
 * the data readers use; writers (serialized by the caller) update the
 * other copy.
 * @seqcount: the counter.
 */
typedef struct kb_seqcount_latch {
	kb_seqcount_t seqcount;
} kb_seqcount_latch_t;

/* Busted variants for torture (kb_seqlock_set_busted()); default none. */
#define KB_SEQ_BUSTED_NONE 0
/* read_seqcount_retry() always says "consistent". */
#define KB_SEQ_BUSTED_READER_NO_RETRY 1
/* write_seqcount_begin()/end() leave the sequence unchanged. */
#define KB_SEQ_BUSTED_WRITER_NO_INCREMENT 2
/*
 * write_seqcount_begin() omits its smp_wmb(); kbind then performs the
 * reordering the omission permits (the increment sinks below the
 * protected stores), so the bug is observable even on x86-64 (TSO).
 */
#define KB_SEQ_BUSTED_WRITER_NO_BARRIER 3
#define KB_SEQ_BUSTED_MAX 3

int kb_seqlock_set_busted(int mode);
int kb_seqlock_get_busted(void);

/* seqcount_t */
void kb_seqcount_init(kb_seqcount_t *s);
uint32_t kb_raw_read_seqcount(const kb_seqcount_t *s);
uint32_t kb_raw_read_seqcount_begin(const kb_seqcount_t *s);
uint32_t kb_read_seqcount_begin(const kb_seqcount_t *s);
int kb_read_seqcount_begin_timeout(const kb_seqcount_t *s, int64_t timeout_ns, uint32_t *start);
int kb___read_seqcount_retry(const kb_seqcount_t *s, uint32_t start);
int kb_read_seqcount_retry(const kb_seqcount_t *s, uint32_t start);
void kb_raw_write_seqcount_begin(kb_seqcount_t *s);
void kb_raw_write_seqcount_end(kb_seqcount_t *s);
void kb_write_seqcount_begin(kb_seqcount_t *s);
void kb_write_seqcount_end(kb_seqcount_t *s);
void kb_raw_write_seqcount_barrier(kb_seqcount_t *s);
void kb_write_seqcount_invalidate(kb_seqcount_t *s);

/* seqlock_t */
void kb_seqlock_init(kb_seqlock_t *sl);
uint32_t kb_read_seqbegin(const kb_seqlock_t *sl);
int kb_read_seqretry(const kb_seqlock_t *sl, uint32_t start);
void kb_write_seqlock(kb_seqlock_t *sl);
int kb_write_seqlock_timeout(kb_seqlock_t *sl, int64_t timeout_ns);
void kb_write_sequnlock(kb_seqlock_t *sl);
void kb_read_seqlock_excl(kb_seqlock_t *sl);
int kb_read_seqlock_excl_timeout(kb_seqlock_t *sl, int64_t timeout_ns);
void kb_read_sequnlock_excl(kb_seqlock_t *sl);
void kb_read_seqbegin_or_lock(kb_seqlock_t *lock, int *seq);
int kb_need_seqretry(kb_seqlock_t *lock, int seq);
void kb_done_seqretry(kb_seqlock_t *lock, int seq);

/* seqcount_latch_t */
void kb_seqcount_latch_init(kb_seqcount_latch_t *s);
uint32_t kb_raw_read_seqcount_latch(const kb_seqcount_latch_t *s);
uint32_t kb_read_seqcount_latch(const kb_seqcount_latch_t *s);
int kb_read_seqcount_latch_retry(const kb_seqcount_latch_t *s, uint32_t start);
void kb_raw_write_seqcount_latch(kb_seqcount_latch_t *s);
void kb_write_seqcount_latch_begin(kb_seqcount_latch_t *s);
void kb_write_seqcount_latch(kb_seqcount_latch_t *s);
void kb_write_seqcount_latch_end(kb_seqcount_latch_t *s);

/* Marked accesses to protected words and byte fields. */
int64_t kb_seq_word_read(const int64_t *p);
void kb_seq_word_write(int64_t *p, int64_t v);
void kb_seq_words_load(int64_t *dst, const int64_t *src, size_t n);
void kb_seq_words_store(int64_t *dst, const int64_t *src, size_t n);
void kb_seq_bytes_load(void *dst, const int64_t *src, size_t nbytes);
void kb_seq_bytes_store(int64_t *dst, const void *src, size_t nbytes);

/* Coarse entry points for Python: one call per read attempt or write. */
int kb_seqlock_snapshot_begin(const kb_seqlock_t *sl, int64_t *dst, const int64_t *src,
			      size_t n, int64_t timeout_ns, uint32_t *start);
int kb_seqlock_read_words(const kb_seqlock_t *sl, int64_t *dst, const int64_t *src,
			  size_t n, int64_t timeout_ns, uint32_t *start, int64_t *retries);
int kb_seqlock_write_words(kb_seqlock_t *sl, int64_t *dst, const int64_t *src,
			   size_t n, int64_t timeout_ns);
uint32_t kb_latch_snapshot_begin(const kb_seqcount_latch_t *s, int64_t *dst,
				 const int64_t *copy0, const int64_t *copy1, size_t n);

/* Native torture (csrc/tools/seqlock_torture.c). */
#define KB_SEQ_TORTURE_MAX_THREADS 64
#define KB_SEQ_TORTURE_MAX_WORDS 256

/**
 * struct kb_seqlock_torture_config - what kb_seqlock_torture() runs.
 * @readers: reader threads (0..KB_SEQ_TORTURE_MAX_THREADS).
 * @writers: writer threads (0..KB_SEQ_TORTURE_MAX_THREADS).
 * @words: words per record (2..KB_SEQ_TORTURE_MAX_WORDS).
 * @duration_ns: how long to run (> 0).
 * @max_reads: stop a reader after this many read attempts (0: no limit).
 * @writer_spins: kb_cpu_relax() calls between two word stores of a write.
 * @reader_spins: kb_cpu_relax() calls between two word loads of a read
 *	(widens the window in which a broken variant shows a torn record).
 * @busted: a KB_SEQ_BUSTED_* mode for this run only.
 * @check: 1 to verify the invariant on every successful read, 0 to only
 *	count (benchmark).
 */
typedef struct kb_seqlock_torture_config {
	int32_t readers;
	int32_t writers;
	int32_t words;
	int32_t writer_spins;
	int32_t reader_spins;
	int32_t busted;
	int32_t check;
	int32_t reserved;
	int64_t duration_ns;
	int64_t max_reads;
} kb_seqlock_torture_config_t;

/**
 * struct kb_seqlock_torture_result - what kb_seqlock_torture() observed.
 * @reads: read attempts, all readers.
 * @successful_reads: attempts whose retry check passed.
 * @retries: attempts the retry check rejected.
 * @writes: completed write sections, all writers.
 * @violations: successful reads whose record broke the invariant.
 * @first_violation_word: index of the first mismatching word seen (-1: none).
 * @elapsed_ns: wall time of the run.
 * @max_retries_in_a_row: longest run of retries one reader saw.
 */
typedef struct kb_seqlock_torture_result {
	int64_t reads;
	int64_t successful_reads;
	int64_t retries;
	int64_t writes;
	int64_t violations;
	int64_t first_violation_word;
	int64_t elapsed_ns;
	int64_t max_retries_in_a_row;
} kb_seqlock_torture_result_t;

int kb_seqlock_torture(const kb_seqlock_torture_config_t *cfg, kb_seqlock_torture_result_t *res);
/* ======================================================= END SEQUENCE LOCKS */

/* -------------------------------------------------------------- torture */
/*
 * Shared by every native torture test (csrc/tools/torture.c): a stop request the
 * test loops check, so a run interrupted from Python (Ctrl-C) ends early
 * and still reports what it saw.
 */
void kb_torture_request_stop(void);
void kb_torture_clear_stop(void);
bool kb_torture_stop_requested(void);

/*
 * Thread pinning, shared by the torture drivers: a CPU list set before a run
 * (kbind stress sets it); each torture thread calls kb_torture_pin() with its
 * index when it starts and is pinned to the (index mod n)-th CPU of the list.
 * An empty list (the default) pins nothing.
 */
#define KB_TORTURE_MAX_CPUS 1024
int kb_torture_set_cpus(const int32_t *cpus, int32_t n);
int32_t kb_torture_ncpus(void);
int kb_torture_pin(int32_t index);

/* Lock torture (csrc/tools/lock_torture.c), after kernel/locking/locktorture.c. */
#define KB_LOCK_TORTURE_SPIN 0
#define KB_LOCK_TORTURE_MUTEX 1
#define KB_LOCK_BUSTED_NONE 0
#define KB_LOCK_BUSTED_NO_LOCK 1
#define KB_LOCK_BUSTED_NO_RMW 2
#define KB_LOCK_TORTURE_MAX_THREADS 64
#define KB_LOCK_TORTURE_WORDS 8

/**
 * struct kb_lock_torture_config - one run of kb_lock_torture().
 * @lock: KB_LOCK_TORTURE_SPIN (kb_spinlock_t) or KB_LOCK_TORTURE_MUTEX
 *	(kb_mutex_t).
 * @busted: KB_LOCK_BUSTED_*: NO_LOCK takes nothing (the kernel's
 *	lock_busted); NO_RMW tests the lock word, then sets it with a plain
 *	store, so two lockers that both saw it free both get in.
 * @writers: exclusive holders that rewrite the protected record.
 * @readers: holders that only read it and check its invariant (neither
 *	lock has a shared mode, so readers take it exclusively too).
 * @hold_ns: how long a writer holds the lock (busy delay, kb_ndelay()).
 * @read_hold_ns: how long a reader holds it.
 * @long_hold_ns: the occasional long hold (one in @long_every), which also
 *	yields the CPU once in the middle (0: no long holds).
 * @long_every: see @long_hold_ns (>= 1).
 * @duration_ns: how long to run (> 0, at most an hour).
 */
typedef struct kb_lock_torture_config {
	int32_t lock;
	int32_t busted;
	int32_t writers;
	int32_t readers;
	int64_t hold_ns;
	int64_t read_hold_ns;
	int64_t long_hold_ns;
	int64_t long_every;
	int64_t duration_ns;
} kb_lock_torture_config_t;

/**
 * struct kb_lock_torture_result - what kb_lock_torture() observed.
 * @acquisitions: per thread, the writers first, then the readers.
 * @write_total, @write_max, @write_min: writer acquisitions (sum, and the
 *	most and fewest one writer made: the fairness spread).
 * @read_total, @read_max, @read_min: the same for readers.
 * @write_fail: writer acquisitions that found another holder inside.
 * @read_fail: reader acquisitions that found another holder inside.
 * @torn_reads: reader acquisitions that found the record torn (a writer's
 *	half-done rewrite: only possible if a writer was inside too).
 * @max_holders: the most threads seen inside at once (1 for a real lock).
 * @long_holds: long holds done.
 * @elapsed_ns: wall time.
 * @stopped_early: nonzero if kb_torture_request_stop() ended the run.
 * @pinned: nonzero if the threads were pinned (kb_torture_set_cpus()).
 */
typedef struct kb_lock_torture_result {
	int64_t acquisitions[KB_LOCK_TORTURE_MAX_THREADS];
	int64_t write_total;
	int64_t write_max;
	int64_t write_min;
	int64_t read_total;
	int64_t read_max;
	int64_t read_min;
	int64_t write_fail;
	int64_t read_fail;
	int64_t torn_reads;
	int64_t max_holders;
	int64_t long_holds;
	int64_t elapsed_ns;
	int32_t stopped_early;
	int32_t pinned;
} kb_lock_torture_result_t;

int kb_lock_torture(const kb_lock_torture_config_t *cfg, kb_lock_torture_result_t *res);

/* Atomic torture (csrc/tools/atomic_torture.c). */
#define KB_ATOMIC_BUSTED_NONE 0
#define KB_ATOMIC_BUSTED_TORN_RMW 1
#define KB_ATOMIC_BUSTED_EARLY_PUBLISH 2
#define KB_ATOMIC_TORTURE_MAX_THREADS 64

/**
 * struct kb_atomic_torture_config - what kb_atomic_torture() runs.
 * @threads: worker threads (2..KB_ATOMIC_TORTURE_MAX_THREADS); thread 0
 *	also publishes messages the others check.
 * @busted: KB_ATOMIC_BUSTED_*: TORN_RMW makes every increment a plain
 *	load then store (lost updates); EARLY_PUBLISH stores the flag before
 *	the payload (readers see stale payload).
 * @duration_ns: how long to run (> 0).
 * @max_ops: stop each thread after this many counter increments (<= 0:
 *	no limit).
 */
typedef struct kb_atomic_torture_config {
	int32_t threads;
	int32_t busted;
	int64_t duration_ns;
	int64_t max_ops;
} kb_atomic_torture_config_t;

/**
 * struct kb_atomic_torture_result - what kb_atomic_torture() observed.
 * @increments: increments the threads performed (their own tallies).
 * @counter: the shared counter's final value (must equal @increments).
 * @cmpxchg_increments: increments done by try_cmpxchg loops.
 * @cmpxchg_counter: their counter's final value (must equal the above).
 * @cmpxchg_failures: failed try_cmpxchg attempts (contention seen).
 * @messages: messages published with a release store.
 * @message_checks: acquire loads that saw a message and checked its payload.
 * @message_violations: checks that found the payload older than the flag.
 * @elapsed_ns: wall time.
 * @stopped_early: nonzero if kb_torture_request_stop() ended the run.
 */
typedef struct kb_atomic_torture_result {
	int64_t increments;
	int64_t counter;
	int64_t cmpxchg_increments;
	int64_t cmpxchg_counter;
	int64_t cmpxchg_failures;
	int64_t messages;
	int64_t message_checks;
	int64_t message_violations;
	int64_t elapsed_ns;
	int32_t stopped_early;
	int32_t reserved;
} kb_atomic_torture_result_t;

int kb_atomic_torture(const kb_atomic_torture_config_t *cfg, kb_atomic_torture_result_t *res);

/* ------------------------------------------------------------------ rcu */
/*
 * Userspace QSBR RCU (csrc/engine/rcu_api.c over a backend: csrc/engine/rcu.c, kbind's
 * own engine, or csrc/engine/rcu_liburcu.c, liburcu's QSBR flavour; reader fast
 * paths inlined from csrc/engine/rcu_inline.h).  Mirrors the kernel's RCU API
 * (include/linux/rcupdate.h) over liburcu's QSBR model: a registered thread
 * is "online" and holds up grace periods until it reports a quiescent state
 * (kb_rcu_quiescent_state()) or goes offline; rcu_read_lock()/unlock()
 * only count nesting.  Grace periods are numbered by the backend; cookies
 * from kb_get_state_synchronize_rcu() name the grace period that must end.
 */
#define KB_ENOMEM 12

/*
 * Backends (kb_rcu_set_backend(), before first use; docs/backends.md).
 * liburcu is loaded at selection with dlopen(), never linked.
 */
#define KB_RCU_BACKEND_BUILTIN 0
#define KB_RCU_BACKEND_LIBURCU 1

int kb_rcu_set_backend(int backend);
int kb_rcu_get_backend(void);
const char *kb_rcu_backend_name(int backend);
int kb_rcu_backend_probe(int backend);
const char *kb_rcu_backend_error(void);
bool kb_rcu_backend_in_use(void);

/* Busted engine variants, for torture tests (kb_rcu_set_busted()). */
#define KB_RCU_BUSTED_NONE 0
#define KB_RCU_BUSTED_NO_WAIT 1
#define KB_RCU_BUSTED_READER 2
#define KB_RCU_BUSTED_EARLY_CB 3
/* rcu_barrier() returns without waiting for the callbacks queued before it. */
#define KB_RCU_BUSTED_BARRIER 4

/**
 * struct kb_rcu_head - what call_rcu() queues (struct rcu_head).
 * @next: queue link, owned by the builtin backend while queued.
 * @func: invoked on the callback thread after a grace period.
 * @backend: owned by the liburcu backend while queued: liburcu's own
 *           struct rcu_head (a link and a function: two words) lives here.
 */
typedef struct kb_rcu_head {
	struct kb_rcu_head *next;
	void (*func)(struct kb_rcu_head *head);
	void *backend[2];
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
int kb_rcu_register_thread_offline(void);
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

/* The Python API's guards: one call to enter, one to leave (kbind/rcu/guard.py). */
int kb_rcu_py_read_enter(void);
int kb_rcu_py_read_exit(bool go_offline);

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
int kb_call_rcu(kb_rcu_head_t *head, void (*func)(kb_rcu_head_t *head));
int kb_call_rcu_token(uint64_t token);
int kb_rcu_reap_tokens(uint64_t *out, int max, int64_t timeout_ns);
uint64_t kb_rcu_tokens_ready(void);
void kb_rcu_barrier(void);
int kb_rcu_barrier_timeout(int64_t timeout_ns);
int kb_rcu_fork_pause(void);
bool kb_rcu_backend_usable(void);
uint64_t kb_rcu_pending_callbacks(void);
uint64_t kb_rcu_callbacks_invoked(void);
int kb_rcu_shutdown(int64_t timeout_ns);

/* Deliberately broken engines, for torture tests only. */
int kb_rcu_set_busted(int variant);
int kb_rcu_get_busted(void);
bool kb_rcu_busted_supported(int variant);

/* ---------------------------------------------------------- rcu torture */
/* Reclamation modes of the torture test (how each update retires its element). */
#define KB_RCU_TORTURE_SYNC 0
#define KB_RCU_TORTURE_CALL 1
#define KB_RCU_TORTURE_MIX 2
/* Per update, one of synchronize_rcu(), get_state/poll_state (cond_synchronize_rcu
 * when the poll says not yet), call_rcu() or call_rcu() then rcu_barrier(). */
#define KB_RCU_TORTURE_ALL 3
#define KB_RCU_TORTURE_PIPE_LEN 10
#define KB_RCU_TORTURE_MAX_THREADS 64

/* Reader kinds (a bit mask; readers take the kinds in turn). */
#define KB_RCU_TORTURE_READER_PLAIN 1
#define KB_RCU_TORTURE_READER_NESTED 2
#define KB_RCU_TORTURE_READER_QSBR 4
#define KB_RCU_TORTURE_READER_SRCU 8
#define KB_RCU_TORTURE_NKINDS 4

/* Optional checks of a run (a bit mask). */
#define KB_RCU_TORTURE_CHECK_BARRIER 1
#define KB_RCU_TORTURE_CHECK_FLOOD 2
#define KB_RCU_TORTURE_CHECK_STALL 4
#define KB_RCU_TORTURE_CHECK_CHURN 8
/* Most callbacks the flood has in flight (its backlog cap). */
#define KB_RCU_TORTURE_FLOOD_CAP 65536

/**
 * struct kb_rcu_torture_config - one run of kb_rcu_torture().
 * @readers: reader threads, 1..KB_RCU_TORTURE_MAX_THREADS.
 * @updaters: updater threads, 1..KB_RCU_TORTURE_MAX_THREADS.
 * @duration_ms: how long to run, 1..3600000 (an hour, as every kbind torture).
 * @max_updates: stop after this many updates (0: only @duration_ms).
 * @reclaim: KB_RCU_TORTURE_SYNC, _CALL, _MIX or _ALL.
 * @busted: KB_RCU_BUSTED_* engine variant for the run (restored after).
 * @read_spin: loads per read-side section (0: default 256).
 * @seed: seed of the updaters' and readers' choices.
 * @reader_kinds: KB_RCU_TORTURE_READER_* mask (0: plain sections only).
 * @checks: KB_RCU_TORTURE_CHECK_* mask of the optional checks to run.
 * @stall_timeout_ms: the engine's stall timeout during a stall check,
 *                    1..1000 (0: 20); the previous timeout is restored.
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
	uint32_t reader_kinds;
	uint32_t checks;
	int32_t stall_timeout_ms;
	int32_t reserved2;
} kb_rcu_torture_config_t;

/**
 * struct kb_rcu_torture_updates - the update-side primitives used, one per update.
 * @sync: synchronize_rcu().
 * @poll: get_state_synchronize_rcu() then poll_state_synchronize_rcu().
 * @poll_done: of those, polls that found the grace period over already.
 * @cond: of those, cond_synchronize_rcu() after the poll said not yet.
 * @call: call_rcu() (the element ages in callbacks).
 * @barrier: call_rcu() then rcu_barrier().
 */
typedef struct kb_rcu_torture_updates {
	uint64_t sync;
	uint64_t poll;
	uint64_t poll_done;
	uint64_t cond;
	uint64_t call;
	uint64_t barrier;
} kb_rcu_torture_updates_t;

/**
 * struct kb_rcu_torture_barrier - the rcu_barrier() test (rcutorture's rtbe).
 * @tests: rcu_barrier() calls checked.
 * @callbacks: callbacks queued before those calls.
 * @rtbe: calls that returned before all their callbacks had run.
 */
typedef struct kb_rcu_torture_barrier {
	uint64_t tests;
	uint64_t callbacks;
	uint64_t rtbe;
} kb_rcu_torture_barrier_t;

/**
 * struct kb_rcu_torture_flood - the forward-progress check (a call_rcu flood).
 * @posted: callbacks the flood queued.
 * @invoked: of those, invoked while the flood ran.
 * @peak_backlog: most flood callbacks queued and not yet invoked.
 * @peak_pending: most callbacks kb_rcu_pending_callbacks() counted meanwhile.
 * @cap_hits: times the backlog reached KB_RCU_TORTURE_FLOOD_CAP.
 * @grace_periods: grace periods completed while the flood ran.
 * @elapsed_ns: how long the flood ran.
 * @drain_ns: how long its backlog took to drain after it stopped.
 * @errors: 1 if no grace period or no flood callback completed during the
 *          flood, or its backlog did not drain within 10 s after it.
 */
typedef struct kb_rcu_torture_flood {
	uint64_t posted;
	uint64_t invoked;
	uint64_t peak_backlog;
	uint64_t peak_pending;
	uint64_t cap_hits;
	uint64_t grace_periods;
	int64_t elapsed_ns;
	int64_t drain_ns;
	uint64_t errors;
} kb_rcu_torture_flood_t;

/**
 * struct kb_rcu_torture_stall - the stall check.
 * @injected: 1 if a reader held its section past the stall timeout.
 * @detected: 1 if kb_rcu_stalled_readers() named that reader.
 * @tid: the stalling thread's id.
 * @blocked_ns: the grace period's age when the engine named it.
 * @held_ns: how long the reader held its section.
 * @timeout_ns: the stall timeout used.
 * @stalls: the engine's kb_rcu_stall_count() increase during the run.
 * @errors: 1 if injected and not detected.
 * @name: the name the engine reported (the stall thread's, "rcu_torture_stall").
 */
typedef struct kb_rcu_torture_stall {
	int32_t injected;
	int32_t detected;
	int64_t tid;
	int64_t blocked_ns;
	int64_t held_ns;
	int64_t timeout_ns;
	uint64_t stalls;
	uint64_t errors;
	char name[32];
} kb_rcu_torture_stall_t;

/**
 * struct kb_rcu_torture_churn - readers coming and going (CPU hotplug's analogue).
 * @registrations: kb_rcu_register_thread() calls by reader threads.
 * @unregistrations: kb_rcu_unregister_thread() calls by reader threads.
 * @offline: kb_rcu_thread_offline() transitions of readers.
 * @online: kb_rcu_thread_online() transitions of readers.
 * @exits: short-lived reader threads that exited.
 * @restarts: short-lived reader threads started.
 */
typedef struct kb_rcu_torture_churn {
	uint64_t registrations;
	uint64_t unregistrations;
	uint64_t offline;
	uint64_t online;
	uint64_t exits;
	uint64_t restarts;
} kb_rcu_torture_churn_t;

/**
 * struct kb_rcu_torture_kind - what the readers of one kind did.
 * @readers: threads of that kind (the churn's short-lived ones included).
 * @reads: their read-side sections.
 * @errors: their sections that saw an element freed, reused or too old.
 */
typedef struct kb_rcu_torture_kind {
	uint64_t readers;
	uint64_t reads;
	uint64_t errors;
} kb_rcu_torture_kind_t;

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
 * @errors: @freed_seen + @too_old + barrier rtbe + flood, stall errors.
 * @elapsed_ns: wall time of the run.
 * @batch: "Reader Batch": grace periods (kb_rcu_gp_count(); SRCU readers:
 *         their domain's) that completed during each section (last: >= 9).
 * @circulation: "Free-Block Circulation": elements that reached each age
 *         0..KB_RCU_TORTURE_PIPE_LEN (0: published, 1: retired, 10: freed).
 * @mix: the update-side primitives used.
 * @barrier: the rcu_barrier() test.
 * @flood: the forward-progress flood.
 * @stall: the stall check.
 * @churn: reader registrations, offline/online transitions, exits.
 * @kinds: per reader kind (index: bit number of KB_RCU_TORTURE_READER_*).
 * @srcu_updates: SRCU elements replaced (after synchronize_srcu()).
 * @srcu_grace_periods: grace periods of the run's SRCU domain.
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
	uint64_t batch[10];
	uint64_t circulation[11];
	kb_rcu_torture_updates_t mix;
	kb_rcu_torture_barrier_t barrier;
	kb_rcu_torture_flood_t flood;
	kb_rcu_torture_stall_t stall;
	kb_rcu_torture_churn_t churn;
	kb_rcu_torture_kind_t kinds[4];
	uint64_t srcu_updates;
	uint64_t srcu_grace_periods;
} kb_rcu_torture_result_t;

int kb_rcu_torture(const kb_rcu_torture_config_t *cfg, kb_rcu_torture_result_t *res);
/* ------------------------------------------------------------ end rcu */

/* ============================================================= BEGIN RCU LIST */
/*
 * RCU-protected doubly linked lists and hash lists (csrc/engine/rculist.c),
 * with the semantics of include/linux/rculist.h (Documentation/RCU/listRCU.rst):
 *
 *  - Readers traverse inside read-side sections with kb_list_next_rcu(),
 *    kb_list_first_or_null_rcu(), kb_hlist_first_rcu(), kb_hlist_next_rcu()
 *    (rcu_dereference(): a marked load, ordered before the loads through the
 *    pointer it returns by the address dependency on x86-64 and arm64, by
 *    acquire on the generic arch).  Readers only ever follow ->next (and a
 *    hash list's ->next); ->prev and ->pprev are the updaters' business.
 *  - Updaters must be serialized by the caller (a kb_spinlock_t or
 *    kb_mutex_t around every add, del and replace on one list), as in the
 *    kernel; they may run concurrently with any number of readers.  Every
 *    new element's links are written before one release store
 *    (rcu_assign_pointer()) makes it reachable, so the caller initialises
 *    its element before adding it.
 *  - kb_list_del_rcu() poisons ->prev only (KB_LIST_POISON2) and leaves
 *    ->next intact, so a reader standing on the removed element still finds
 *    its way back to the list; kb_hlist_del_rcu() does the same with
 *    ->pprev.  A removed element may be freed only after a grace period
 *    (kb_synchronize_rcu(), kb_call_rcu()).
 *  - The updaters' checks are CONFIG_DEBUG_LIST's (lib/list_debug.c): an
 *    add whose neighbours do not point at each other, a del or replace of
 *    an element already removed or whose neighbours do not point at it, is
 *    refused with KB_EINVAL and changes nothing (the kernel warns and skips
 *    it too).
 *
 * Embed the node in your object and get back to the object with
 * container_of() arithmetic (offsetof), as in the kernel.
 */
#define KB_LIST_POISON1 256
#define KB_LIST_POISON2 290

/**
 * struct kb_list_head - a node of a circular doubly linked list (struct list_head).
 * @next: the next node (the head again after the last); readers follow it.
 * @prev: the previous node; updaters only (KB_LIST_POISON2 once deleted).
 *
 * A list is a kb_list_head_t head linked with the nodes of its elements.
 */
typedef struct kb_list_head {
	struct kb_list_head *next;
	struct kb_list_head *prev;
} kb_list_head_t;

/**
 * struct kb_hlist_node - a node of a hash-bucket list (struct hlist_node).
 * @next: the next node or NULL; readers follow it.
 * @pprev: the address of the pointer that points at this node (the head's
 *	@first or the previous node's @next); NULL while unhashed,
 *	KB_LIST_POISON2 once deleted.  Updaters only.
 */
typedef struct kb_hlist_node {
	struct kb_hlist_node *next;
	struct kb_hlist_node **pprev;
} kb_hlist_node_t;

/**
 * struct kb_hlist_head - a hash bucket: one pointer (struct hlist_head).
 * @first: the first node or NULL.
 */
typedef struct kb_hlist_head {
	struct kb_hlist_node *first;
} kb_hlist_head_t;

/* Doubly linked lists (list_*_rcu()). */
void kb_list_init(kb_list_head_t *list);
bool kb_list_empty(const kb_list_head_t *head);
int kb_list_add_rcu(kb_list_head_t *new, kb_list_head_t *head);
int kb_list_add_tail_rcu(kb_list_head_t *new, kb_list_head_t *head);
int kb_list_del_rcu(kb_list_head_t *entry);
int kb_list_replace_rcu(kb_list_head_t *old, kb_list_head_t *new);
kb_list_head_t *kb_list_next_rcu(const kb_list_head_t *pos);
kb_list_head_t *kb_list_first_or_null_rcu(const kb_list_head_t *head);
kb_list_head_t *kb_list_next_or_null_rcu(const kb_list_head_t *head, const kb_list_head_t *pos);

/* Hash lists (hlist_*_rcu()). */
void kb_hlist_head_init(kb_hlist_head_t *h);
void kb_hlist_node_init(kb_hlist_node_t *n);
bool kb_hlist_unhashed(const kb_hlist_node_t *n);
bool kb_hlist_empty(const kb_hlist_head_t *h);
int kb_hlist_add_head_rcu(kb_hlist_node_t *n, kb_hlist_head_t *h);
int kb_hlist_add_tail_rcu(kb_hlist_node_t *n, kb_hlist_head_t *h);
int kb_hlist_add_before_rcu(kb_hlist_node_t *n, kb_hlist_node_t *next);
int kb_hlist_add_behind_rcu(kb_hlist_node_t *n, kb_hlist_node_t *prev);
int kb_hlist_del_rcu(kb_hlist_node_t *n);
int kb_hlist_del_init_rcu(kb_hlist_node_t *n);
int kb_hlist_replace_rcu(kb_hlist_node_t *old, kb_hlist_node_t *new);
kb_hlist_node_t *kb_hlist_first_rcu(const kb_hlist_head_t *h);
kb_hlist_node_t *kb_hlist_next_rcu(const kb_hlist_node_t *n);

/* ---------------------------------------------------- rcu list torture */
/* Busted variants of the list torture (csrc/tools/rculist_torture.c). */
#define KB_RCULIST_BUSTED_NONE 0
/* a removed element is freed (poisoned, reused) at once: no grace period. */
#define KB_RCULIST_BUSTED_FREE_NO_GP 1
/* a new element is linked first and initialised after (a missing release). */
#define KB_RCULIST_BUSTED_PUBLISH_BEFORE_INIT 2
#define KB_RCULIST_BUSTED_MAX 2
#define KB_RCULIST_TORTURE_MAX_THREADS 64
#define KB_RCULIST_TORTURE_PIPE_LEN 10

/**
 * struct kb_rculist_torture_config - one run of kb_rculist_torture().
 * @readers: reader threads, 1..KB_RCULIST_TORTURE_MAX_THREADS.
 * @updaters: updater threads, 0..KB_RCULIST_TORTURE_MAX_THREADS (0: readers
 *	only, a baseline for benchmarks; no busted variant then).
 * @busted: KB_RCULIST_BUSTED_*.
 * @reclaim: KB_RCU_TORTURE_SYNC, _CALL or _MIX: how removed elements wait
 *	for their grace periods.
 * @read_spin: kb_cpu_relax() calls a reader spends on each element it
 *	visits, between its two checks (0..100000).
 * @duration_ns: how long to run (1 ns .. one hour).
 * @max_updates: stop after this many updates (0: only @duration_ns).
 * @seed: seeds the updaters' choices.
 */
typedef struct kb_rculist_torture_config {
	int32_t readers;
	int32_t updaters;
	int32_t busted;
	int32_t reclaim;
	int32_t read_spin;
	int32_t reserved;
	int64_t duration_ns;
	int64_t max_updates;
	uint64_t seed;
} kb_rculist_torture_config_t;

/**
 * struct kb_rculist_torture_result - what a list torture run observed.
 * @reads: read-side sections (one traversal each: the list or a bucket).
 * @hlist_reads: of those, traversals of a hash bucket.
 * @visits: elements the readers visited.
 * @updates: @adds + @deletes + @replaces.
 * @adds: elements added (list_add_rcu() or list_add_tail_rcu(), and an hlist add).
 * @deletes: elements removed (list_del_rcu() and hlist_del_rcu()).
 * @replaces: elements replaced (list_replace_rcu() and hlist_replace_rcu()).
 * @grace_periods: grace periods completed during the run (engine-wide).
 * @callbacks: the torture's call_rcu callbacks invoked.
 * @refills: times an updater found the element pool empty and forced reclamation.
 * @pipe: visits by the age of the element visited: 0 linked, 1 removed,
 *	+1 per later grace period (last bucket: >= 9); only 0 and 1 are legal.
 * @freed_seen: visits to an element freed (poisoned) or reused under the reader.
 * @uninit_seen: visits to a reachable element not yet initialised.
 * @too_old: visits to an element aged >= 2.
 * @lost: traversals that did not get back to the head within a bound.
 * @errors: @freed_seen + @uninit_seen + @too_old + @lost.
 * @elapsed_ns: wall time of the run.
 * @stopped_early: nonzero if kb_torture_request_stop() ended the run.
 * @max_len: the longest the list got.
 */
typedef struct kb_rculist_torture_result {
	uint64_t reads;
	uint64_t hlist_reads;
	uint64_t visits;
	uint64_t updates;
	uint64_t adds;
	uint64_t deletes;
	uint64_t replaces;
	uint64_t grace_periods;
	uint64_t callbacks;
	uint64_t refills;
	uint64_t pipe[10];
	uint64_t freed_seen;
	uint64_t uninit_seen;
	uint64_t too_old;
	uint64_t lost;
	uint64_t errors;
	int64_t elapsed_ns;
	int32_t stopped_early;
	int32_t max_len;
} kb_rculist_torture_result_t;

int kb_rculist_torture(const kb_rculist_torture_config_t *cfg,
		       kb_rculist_torture_result_t *res);
/* =============================================================== END RCU LIST */

/* ===================================================================== BEGIN SRCU */
/*
 * Sleepable RCU (csrc/engine/srcu.c), as the kernel's classic SRCU
 * (kernel/rcu/srcutree.c; Documentation/RCU/whatisRCU.rst): a domain whose
 * readers may sleep, and whose grace periods wait only for that domain's
 * readers.  A reader increments lock_count[idx] of its slot (a thread picks
 * one of KB_SRCU_SLOTS cache-line-padded slots) for the current index; a
 * grace period waits for the inactive index to drain, flips the index, and
 * waits for the old one to drain (the two-index flip).  Grace periods are
 * numbered: gp_seq's low two bits are the phase (0 idle, 1 scan of the
 * inactive index, 2 scan of the old index), the rest counts completed ones.
 */
#define KB_SRCU_SLOTS 16

/* Busted variants, for the torture test (kb_srcu_set_busted()). */
#define KB_SRCU_BUSTED_NONE 0
/* synchronize never flips the index: it waits for an index no reader uses. */
#define KB_SRCU_BUSTED_NO_FLIP 1
/* synchronize flips, then waits for the new index instead of the old one. */
#define KB_SRCU_BUSTED_WRONG_INDEX 2
#define KB_SRCU_BUSTED_MAX 2

/**
 * struct kb_srcu_slot - the reader counters of one slot (srcu_data).
 * @lock_count: read_lock()s per index (relaxed RMW, then smp_mb()).
 * @unlock_count: read_unlock()s per index (smp_mb(), then relaxed RMW).
 * @pad: keeps two slots' counters on different cache lines.
 */
typedef struct kb_srcu_slot {
	uint64_t lock_count[2];
	uint64_t unlock_count[2];
	uint64_t pad[12];
} kb_srcu_slot_t;

/**
 * struct kb_srcu - one SRCU domain (struct srcu_struct).
 * @slots: the striped reader counters.
 * @idx: bumped by each flip; readers use index idx & 1.
 * @gp_seq: grace-period sequence (phase in the low two bits).
 * @lock: serializes grace periods (srcu_gp_mutex).
 * @busted: KB_SRCU_BUSTED_* taken from kb_srcu_set_busted() at init.
 * @initialized: 1 after kb_srcu_init().
 * @pad: keeps @idx, read by every reader, off the updaters' other lines.
 */
typedef struct kb_srcu {
	kb_srcu_slot_t slots[16];
	uint64_t idx;
	uint64_t pad[7];
	uint64_t gp_seq;
	kb_mutex_t lock;
	int32_t busted;
	int32_t initialized;
	int32_t reserved;
} kb_srcu_t;

int kb_srcu_set_busted(int mode);
int kb_srcu_get_busted(void);

int kb_srcu_init(kb_srcu_t *d);
int kb_srcu_read_lock(kb_srcu_t *d);
int kb_srcu_read_unlock(kb_srcu_t *d, int idx);
bool kb_srcu_readers_active(kb_srcu_t *d);
uint64_t kb_srcu_gp_count(kb_srcu_t *d);

uint64_t kb_get_state_synchronize_srcu(kb_srcu_t *d);
bool kb_poll_state_synchronize_srcu(kb_srcu_t *d, uint64_t cookie);
int kb_srcu_wait_gp(kb_srcu_t *d, uint64_t cookie, int64_t timeout_ns, bool expedited);
int kb_synchronize_srcu_timeout(kb_srcu_t *d, int64_t timeout_ns);
int kb_synchronize_srcu_expedited_timeout(kb_srcu_t *d, int64_t timeout_ns);
void kb_synchronize_srcu(kb_srcu_t *d);
void kb_synchronize_srcu_expedited(kb_srcu_t *d);
int kb_srcu_barrier_timeout(kb_srcu_t *d, int64_t timeout_ns);
int kb_cleanup_srcu_struct(kb_srcu_t *d);

/* SRCU torture (csrc/tools/srcu_torture.c). */
#define KB_SRCU_TORTURE_MAX_THREADS 64
/* Which synchronize the updaters use. */
#define KB_SRCU_TORTURE_NORMAL 0
#define KB_SRCU_TORTURE_EXPEDITED 1
#define KB_SRCU_TORTURE_MIX 2

/**
 * struct kb_srcu_torture_config - one run of kb_srcu_torture().
 * @readers: reader threads, 1..KB_SRCU_TORTURE_MAX_THREADS.
 * @updaters: updater threads, 1..KB_SRCU_TORTURE_MAX_THREADS.
 * @busted: KB_SRCU_BUSTED_* for this run's domain.
 * @gp: KB_SRCU_TORTURE_NORMAL, _EXPEDITED or _MIX.
 * @sleep_every: one read section in this many sleeps (1..1000000).
 * @sleep_us: how long a sleeping reader sleeps (0..100000 microseconds).
 * @duration_ns: how long to run (1 ns .. one hour).
 * @max_updates: stop after this many updates (0: only @duration_ns).
 */
typedef struct kb_srcu_torture_config {
	int32_t readers;
	int32_t updaters;
	int32_t busted;
	int32_t gp;
	int32_t sleep_every;
	int32_t sleep_us;
	int64_t duration_ns;
	int64_t max_updates;
} kb_srcu_torture_config_t;

/**
 * struct kb_srcu_torture_result - what a run observed.
 * @reads: read sections completed.
 * @sleeping_reads: of those, sections that slept.
 * @updates: elements replaced (and freed after a grace period).
 * @grace_periods: grace periods the run's domain completed.
 * @expedited: of the updates, those that used synchronize_expedited.
 * @freed_seen: sections whose element was freed (poisoned) or reused under them.
 * @errors: @freed_seen (a correct SRCU shows none).
 * @elapsed_ns: wall time of the run.
 * @stopped_early: nonzero if kb_torture_request_stop() ended the run.
 */
typedef struct kb_srcu_torture_result {
	uint64_t reads;
	uint64_t sleeping_reads;
	uint64_t updates;
	uint64_t grace_periods;
	uint64_t expedited;
	uint64_t freed_seen;
	uint64_t errors;
	int64_t elapsed_ns;
	int32_t stopped_early;
	int32_t reserved;
} kb_srcu_torture_result_t;

int kb_srcu_torture(const kb_srcu_torture_config_t *cfg, kb_srcu_torture_result_t *res);
/* ======================================================================= END SRCU */
