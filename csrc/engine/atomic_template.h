/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/atomic_template.h - one atomic family, instantiated three times by
 * csrc/engine/atomic.c with KB_PFX (name prefix), KB_AT (atomic type) and KB_T
 * (value type) defined.  The prototypes are in csrc/kbind_api.h, generated
 * by csrc/gen_atomic_api.py.
 *
 * With KB_ATOMIC_XCHG_ONLY also defined, only the operations the kernel has
 * for 8- and 16-bit values are made: read/read_acquire, set/set_release, and
 * xchg, cmpxchg and try_cmpxchg in the four orderings (READ_ONCE(),
 * smp_load_acquire(), xchg() and cmpxchg() on a u8/u16; Rust: the i8/i16
 * Atomic<T>, which has no arithmetic).
 *
 * How each ordering is built, as in the kernel's include/linux/atomic/
 * atomic-arch-fallback.h:
 *   _relaxed  the RMW alone (__ATOMIC_RELAXED): atomic, orders nothing;
 *   _acquire  the RMW with acquire semantics on its load;
 *   _release  the RMW with release semantics on its store;
 *   (none)    smp_mb__before_atomic(); relaxed RMW; smp_mb__after_atomic().
 *             On x86-64 the locked instruction is itself the full barrier
 *             and the two macros only stop the compiler; on arm64 and the
 *             generic fallback they are real fences.
 * The RMW builtins compile to the hardware's atomic instructions (LOCK
 * XADD/CMPXCHG, LDXR/STXR or LSE) - nothing here takes a lock.
 */

#define KB_CAT2(a, b) a##b
#define KB_CAT(a, b) KB_CAT2(a, b)
#define KB_FN(name) KB_CAT(KB_PFX, name)

#define KB_MO_RELAXED __ATOMIC_RELAXED
#define KB_MO_ACQUIRE __ATOMIC_ACQUIRE
#define KB_MO_RELEASE __ATOMIC_RELEASE

/* The four orderings of "T op(T i, A *v)", from static inline op_mo(). */
#define KB_ORDERED_IV(name)                                                    \
	KB_T KB_FN(name##_relaxed)(KB_T i, KB_AT *v)                           \
	{                                                                      \
		return KB_FN(name##_mo)(i, v, KB_MO_RELAXED);                  \
	}                                                                      \
	KB_T KB_FN(name##_acquire)(KB_T i, KB_AT *v)                           \
	{                                                                      \
		return KB_FN(name##_mo)(i, v, KB_MO_ACQUIRE);                  \
	}                                                                      \
	KB_T KB_FN(name##_release)(KB_T i, KB_AT *v)                           \
	{                                                                      \
		return KB_FN(name##_mo)(i, v, KB_MO_RELEASE);                  \
	}                                                                      \
	KB_T KB_FN(name)(KB_T i, KB_AT *v)                                     \
	{                                                                      \
		KB_T r;                                                        \
		kb_smp_mb__before_atomic();                                    \
		r = KB_FN(name##_mo)(i, v, KB_MO_RELAXED);                     \
		kb_smp_mb__after_atomic();                                     \
		return r;                                                      \
	}

/* The four orderings of "T op(A *v)" built on op_mo(1, v, mo). */
#define KB_ORDERED_V(name, base)                                               \
	KB_T KB_FN(name##_relaxed)(KB_AT *v)                                   \
	{                                                                      \
		return KB_FN(base##_mo)(1, v, KB_MO_RELAXED);                  \
	}                                                                      \
	KB_T KB_FN(name##_acquire)(KB_AT *v)                                   \
	{                                                                      \
		return KB_FN(base##_mo)(1, v, KB_MO_ACQUIRE);                  \
	}                                                                      \
	KB_T KB_FN(name##_release)(KB_AT *v)                                   \
	{                                                                      \
		return KB_FN(base##_mo)(1, v, KB_MO_RELEASE);                  \
	}                                                                      \
	KB_T KB_FN(name)(KB_AT *v)                                             \
	{                                                                      \
		KB_T r;                                                        \
		kb_smp_mb__before_atomic();                                    \
		r = KB_FN(base##_mo)(1, v, KB_MO_RELAXED);                     \
		kb_smp_mb__after_atomic();                                     \
		return r;                                                      \
	}

/* ---- the relaxed building blocks (memory order as a constant argument) */

#ifndef KB_ATOMIC_XCHG_ONLY

static inline KB_T KB_FN(add_return_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_add_fetch(&v->counter, i, mo);
}

static inline KB_T KB_FN(sub_return_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_sub_fetch(&v->counter, i, mo);
}

static inline KB_T KB_FN(fetch_add_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_fetch_add(&v->counter, i, mo);
}

static inline KB_T KB_FN(fetch_sub_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_fetch_sub(&v->counter, i, mo);
}

static inline KB_T KB_FN(fetch_and_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_fetch_and(&v->counter, i, mo);
}

static inline KB_T KB_FN(fetch_andnot_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_fetch_and(&v->counter, ~i, mo);
}

static inline KB_T KB_FN(fetch_or_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_fetch_or(&v->counter, i, mo);
}

static inline KB_T KB_FN(fetch_xor_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_fetch_xor(&v->counter, i, mo);
}

/* The value as unsigned, so "negative" checks need no signed overflow. */
static inline bool KB_FN(is_negative)(KB_T x)
{
	return x < 0;
}
#endif /* !KB_ATOMIC_XCHG_ONLY */

static inline KB_T KB_FN(xchg_mo)(KB_T i, KB_AT *v, int mo)
{
	return __atomic_exchange_n(&v->counter, i, mo);
}

/* ---- read / set ------------------------------------------------------- */

/** read() - READ_ONCE(v->counter).  Context: any.  Ordering: none. */
KB_T KB_FN(read)(const KB_AT *v)
{
	return KB_READ_ONCE(v->counter);
}

/** read_acquire() - smp_load_acquire(&v->counter).  Pairs with set_release(). */
KB_T KB_FN(read_acquire)(const KB_AT *v)
{
	return kb_smp_load_acquire(&v->counter);
}

/** set() - WRITE_ONCE(v->counter, i).  Context: any.  Ordering: none. */
void KB_FN(set)(KB_AT *v, KB_T i)
{
	KB_WRITE_ONCE(v->counter, i);
}

/** set_release() - smp_store_release(&v->counter, i).  Pairs with read_acquire(). */
void KB_FN(set_release)(KB_AT *v, KB_T i)
{
	kb_smp_store_release(&v->counter, i);
}

#ifndef KB_ATOMIC_XCHG_ONLY
/* ---- void RMW: atomic, unordered -------------------------------------- */

void KB_FN(add)(KB_T i, KB_AT *v)
{
	(void)KB_FN(fetch_add_mo)(i, v, KB_MO_RELAXED);
}

void KB_FN(sub)(KB_T i, KB_AT *v)
{
	(void)KB_FN(fetch_sub_mo)(i, v, KB_MO_RELAXED);
}

void KB_FN(inc)(KB_AT *v)
{
	(void)KB_FN(fetch_add_mo)(1, v, KB_MO_RELAXED);
}

void KB_FN(dec)(KB_AT *v)
{
	(void)KB_FN(fetch_sub_mo)(1, v, KB_MO_RELAXED);
}

void KB_FN(and)(KB_T i, KB_AT *v)
{
	(void)KB_FN(fetch_and_mo)(i, v, KB_MO_RELAXED);
}

void KB_FN(andnot)(KB_T i, KB_AT *v)
{
	(void)KB_FN(fetch_andnot_mo)(i, v, KB_MO_RELAXED);
}

void KB_FN(or)(KB_T i, KB_AT *v)
{
	(void)KB_FN(fetch_or_mo)(i, v, KB_MO_RELAXED);
}

void KB_FN(xor)(KB_T i, KB_AT *v)
{
	(void)KB_FN(fetch_xor_mo)(i, v, KB_MO_RELAXED);
}

/* ---- value-returning RMW, four orderings each ------------------------- */

KB_ORDERED_IV(add_return)
KB_ORDERED_IV(sub_return)
KB_ORDERED_V(inc_return, add_return)
KB_ORDERED_V(dec_return, sub_return)
KB_ORDERED_IV(fetch_add)
KB_ORDERED_IV(fetch_sub)
KB_ORDERED_V(fetch_inc, fetch_add)
KB_ORDERED_V(fetch_dec, fetch_sub)
KB_ORDERED_IV(fetch_and)
KB_ORDERED_IV(fetch_andnot)
KB_ORDERED_IV(fetch_or)
KB_ORDERED_IV(fetch_xor)
#endif /* !KB_ATOMIC_XCHG_ONLY */

/* xchg has the kernel's (v, new) argument order. */
KB_T KB_FN(xchg_relaxed)(KB_AT *v, KB_T new)
{
	return KB_FN(xchg_mo)(new, v, KB_MO_RELAXED);
}

KB_T KB_FN(xchg_acquire)(KB_AT *v, KB_T new)
{
	return KB_FN(xchg_mo)(new, v, KB_MO_ACQUIRE);
}

KB_T KB_FN(xchg_release)(KB_AT *v, KB_T new)
{
	return KB_FN(xchg_mo)(new, v, KB_MO_RELEASE);
}

KB_T KB_FN(xchg)(KB_AT *v, KB_T new)
{
	KB_T r;

	kb_smp_mb__before_atomic();
	r = KB_FN(xchg_mo)(new, v, KB_MO_RELAXED);
	kb_smp_mb__after_atomic();
	return r;
}

/*
 * try_cmpxchg: on success returns true; on failure returns false and
 * stores the value found in *old.  Failure is relaxed (kernel semantics:
 * "a failed cmpxchg() does not imply any ordering").
 */
static inline bool KB_FN(try_cmpxchg_mo)(KB_AT *v, KB_T *old, KB_T new, int mo)
{
	return __atomic_compare_exchange_n(&v->counter, old, new, false, mo,
					   __ATOMIC_RELAXED);
}

bool KB_FN(try_cmpxchg_relaxed)(KB_AT *v, KB_T *old, KB_T new)
{
	return KB_FN(try_cmpxchg_mo)(v, old, new, KB_MO_RELAXED);
}

bool KB_FN(try_cmpxchg_acquire)(KB_AT *v, KB_T *old, KB_T new)
{
	return KB_FN(try_cmpxchg_mo)(v, old, new, KB_MO_ACQUIRE);
}

bool KB_FN(try_cmpxchg_release)(KB_AT *v, KB_T *old, KB_T new)
{
	return KB_FN(try_cmpxchg_mo)(v, old, new, KB_MO_RELEASE);
}

bool KB_FN(try_cmpxchg)(KB_AT *v, KB_T *old, KB_T new)
{
	bool ok;

	kb_smp_mb__before_atomic();
	ok = KB_FN(try_cmpxchg_mo)(v, old, new, KB_MO_RELAXED);
	kb_smp_mb__after_atomic();
	return ok;
}

/* cmpxchg: returns the value found; it succeeded iff that equals @old. */
KB_T KB_FN(cmpxchg_relaxed)(KB_AT *v, KB_T old, KB_T new)
{
	(void)KB_FN(try_cmpxchg_relaxed)(v, &old, new);
	return old;
}

KB_T KB_FN(cmpxchg_acquire)(KB_AT *v, KB_T old, KB_T new)
{
	(void)KB_FN(try_cmpxchg_acquire)(v, &old, new);
	return old;
}

KB_T KB_FN(cmpxchg_release)(KB_AT *v, KB_T old, KB_T new)
{
	(void)KB_FN(try_cmpxchg_release)(v, &old, new);
	return old;
}

KB_T KB_FN(cmpxchg)(KB_AT *v, KB_T old, KB_T new)
{
	(void)KB_FN(try_cmpxchg)(v, &old, new);
	return old;
}

#ifndef KB_ATOMIC_XCHG_ONLY
/* add_negative: is the result of the addition negative? */
bool KB_FN(add_negative_relaxed)(KB_T i, KB_AT *v)
{
	return KB_FN(is_negative)(KB_FN(add_return_relaxed)(i, v));
}

bool KB_FN(add_negative_acquire)(KB_T i, KB_AT *v)
{
	return KB_FN(is_negative)(KB_FN(add_return_acquire)(i, v));
}

bool KB_FN(add_negative_release)(KB_T i, KB_AT *v)
{
	return KB_FN(is_negative)(KB_FN(add_return_release)(i, v));
}

bool KB_FN(add_negative)(KB_T i, KB_AT *v)
{
	return KB_FN(is_negative)(KB_FN(add_return)(i, v));
}

/* ---- conditional operations: fully ordered (when they modify) --------- */

bool KB_FN(sub_and_test)(KB_T i, KB_AT *v)
{
	return KB_FN(sub_return)(i, v) == 0;
}

bool KB_FN(dec_and_test)(KB_AT *v)
{
	return KB_FN(dec_return)(v) == 0;
}

bool KB_FN(inc_and_test)(KB_AT *v)
{
	return KB_FN(inc_return)(v) == 0;
}

/**
 * fetch_add_unless() - add @a to @v unless @v was @u.
 * Return: the old value; the add happened iff it differs from @u.
 * Ordering: full when the add happens, none otherwise (as the kernel).
 */
KB_T KB_FN(fetch_add_unless)(KB_AT *v, KB_T a, KB_T u)
{
	KB_T c = KB_FN(read)(v);

	do {
		if (KB_UNLIKELY(c == u))
			break;
	} while (!KB_FN(try_cmpxchg)(v, &c, (KB_T)((unsigned long long)c + (unsigned long long)a)));
	return c;
}

bool KB_FN(add_unless)(KB_AT *v, KB_T a, KB_T u)
{
	return KB_FN(fetch_add_unless)(v, a, u) != u;
}

bool KB_FN(inc_not_zero)(KB_AT *v)
{
	return KB_FN(add_unless)(v, 1, 0);
}

bool KB_FN(inc_unless_negative)(KB_AT *v)
{
	KB_T c = KB_FN(read)(v);

	do {
		if (KB_UNLIKELY(c < 0))
			return false;
	} while (!KB_FN(try_cmpxchg)(v, &c, (KB_T)((unsigned long long)c + 1ULL)));
	return true;
}

bool KB_FN(dec_unless_positive)(KB_AT *v)
{
	KB_T c = KB_FN(read)(v);

	do {
		if (KB_UNLIKELY(c > 0))
			return false;
	} while (!KB_FN(try_cmpxchg)(v, &c, (KB_T)((unsigned long long)c - 1ULL)));
	return true;
}

/**
 * dec_if_positive() - decrement @v if the result is not negative.
 * Return: the old value minus one, whether or not it was stored.
 */
KB_T KB_FN(dec_if_positive)(KB_AT *v)
{
	KB_T dec, c = KB_FN(read)(v);

	do {
		dec = (KB_T)((unsigned long long)c - 1ULL);
		if (KB_UNLIKELY(dec < 0))
			break;
	} while (!KB_FN(try_cmpxchg)(v, &c, dec));
	return dec;
}
#endif /* !KB_ATOMIC_XCHG_ONLY */

#undef KB_ORDERED_IV
#undef KB_ORDERED_V
#undef KB_FN
#undef KB_CAT
#undef KB_CAT2
#undef KB_MO_RELAXED
#undef KB_MO_ACQUIRE
#undef KB_MO_RELEASE
