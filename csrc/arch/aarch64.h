/* SPDX-License-Identifier: MIT */
/*
 * csrc/arch/aarch64.h - memory barriers and marked accesses for arm64.
 *
 * Mirrors arch/arm64/include/asm/barrier.h: DMB in the inner shareable
 * domain for the smp_*() barriers, LDAR/STLR for acquire/release.
 *
 * Included only through csrc/arch/barrier.h.
 */
#ifndef KB_ARCH_AARCH64_H
#define KB_ARCH_AARCH64_H

#define KB_ARCH_NAME "aarch64"

#define kb_barrier() __asm__ __volatile__("" ::: "memory")

/* Orders all earlier loads and stores before all later ones. */
#define kb_smp_mb() __asm__ __volatile__("dmb ish" ::: "memory")
/* Orders earlier loads before later loads and stores. */
#define kb_smp_rmb() __asm__ __volatile__("dmb ishld" ::: "memory")
/* Orders earlier stores before later stores. */
#define kb_smp_wmb() __asm__ __volatile__("dmb ishst" ::: "memory")

/*
 * kbind's relaxed RMW atomics are plain LL/SC or LSE operations with no
 * ordering, so "fully ordered" needs a real barrier on both sides.
 */
#define kb_smp_mb__before_atomic() kb_smp_mb()
#define kb_smp_mb__after_atomic() kb_smp_mb()

/* LDAR: later accesses cannot move before it.  Pairs with STLR/smp_mb. */
#define kb_smp_load_acquire(p)                                            \
	__extension__({                                                   \
		__typeof__(*(p)) kb_v__;                                  \
		_Static_assert(sizeof(*(p)) == 8 || sizeof(*(p)) == 4,    \
			       "kb_smp_load_acquire: 32 or 64 bit only"); \
		if (sizeof(*(p)) == 8)                                    \
			__asm__ __volatile__("ldar %0, %1"                \
					     : "=r"(kb_v__)               \
					     : "Q"(*(p))                  \
					     : "memory");                 \
		else                                                      \
			__asm__ __volatile__("ldar %w0, %1"               \
					     : "=r"(kb_v__)               \
					     : "Q"(*(p))                  \
					     : "memory");                 \
		kb_v__;                                                   \
	})

/* STLR: earlier accesses cannot move after it.  Pairs with LDAR/smp_mb. */
#define kb_smp_store_release(p, v)                                        \
	do {                                                              \
		__typeof__(*(p)) kb_v__ = (v);                            \
		_Static_assert(sizeof(*(p)) == 8 || sizeof(*(p)) == 4,    \
			       "kb_smp_store_release: 32 or 64 bit only"); \
		if (sizeof(*(p)) == 8)                                    \
			__asm__ __volatile__("stlr %1, %0"                \
					     : "=Q"(*(p))                 \
					     : "r"(kb_v__)                \
					     : "memory");                 \
		else                                                      \
			__asm__ __volatile__("stlr %w1, %0"               \
					     : "=Q"(*(p))                 \
					     : "r"(kb_v__)                \
					     : "memory");                 \
	} while (0)

#define kb_cpu_relax() __asm__ __volatile__("yield" ::: "memory")

/* arm64 has no separate "mfence"; the benchmark's comparison uses dmb ish. */
#define kb_smp_mb_mfence() kb_smp_mb()

#endif /* KB_ARCH_AARCH64_H */
