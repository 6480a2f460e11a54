/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/arch/aarch64.h - memory barriers and marked accesses for arm64.
 *
 * Mirrors arch/arm64/include/asm/barrier.h: DMB in the inner shareable
 * domain for the smp_*() barriers, LDAR/STLR for acquire/release.
 *
 * Included only through csrc/engine/arch/barrier.h.
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

/* Lock acquisition is acquire only: make it a full barrier (include/linux/spinlock.h). */
#define kb_smp_mb__after_spinlock() kb_smp_mb()
#define kb_smp_mb__after_unlock_lock() kb_smp_mb()

/*
 * LDAR (LDARB/LDARH for 1- and 2-byte objects): later accesses cannot move
 * before it.  Pairs with kb_smp_store_release() or kb_smp_mb() on the
 * writer's side.  As in arch/arm64/include/asm/barrier.h's
 * __smp_load_acquire(), every size the kernel accepts works (1, 2, 4, 8);
 * GCC and Clang emit exactly LDAR* for an acquire __atomic load on arm64,
 * which also handles const and bool objects (a temporary of
 * __typeof__(*(p)) would be const for a const pointer, and an asm output
 * operand cannot be).
 */
#define kb_smp_load_acquire(p)                                                  \
	__extension__({                                                         \
		_Static_assert(sizeof(*(p)) == 1 || sizeof(*(p)) == 2 ||        \
				       sizeof(*(p)) == 4 || sizeof(*(p)) == 8,  \
			       "kb_smp_load_acquire: 8, 16, 32 or 64 bit only"); \
		__atomic_load_n((p), __ATOMIC_ACQUIRE);                         \
	})

/*
 * STLR (STLRB/STLRH): earlier accesses cannot move after it.  Pairs with
 * kb_smp_load_acquire() or kb_smp_rmb() on the reader's side.
 */
#define kb_smp_store_release(p, v)                                              \
	do {                                                                    \
		_Static_assert(sizeof(*(p)) == 1 || sizeof(*(p)) == 2 ||        \
				       sizeof(*(p)) == 4 || sizeof(*(p)) == 8,  \
			       "kb_smp_store_release: 8, 16, 32 or 64 bit only"); \
		__atomic_store_n((p), (v), __ATOMIC_RELEASE);                   \
	} while (0)

#define kb_cpu_relax() __asm__ __volatile__("yield" ::: "memory")

/* arm64 has no separate "mfence"; the benchmark's comparison uses dmb ish. */
#define kb_smp_mb_mfence() kb_smp_mb()

/*
 * Mandatory barriers (arch/arm64/include/asm/barrier.h): full-system DSBs,
 * which also wait for device accesses to complete.
 */
#define kb_mb() __asm__ __volatile__("dsb sy" ::: "memory")
#define kb_rmb() __asm__ __volatile__("dsb ld" ::: "memory")
#define kb_wmb() __asm__ __volatile__("dsb st" ::: "memory")
/* DMA barriers: outer-shareable DMBs, ordering memory a device observes. */
#define kb_dma_mb() __asm__ __volatile__("dmb osh" ::: "memory")
#define kb_dma_rmb() __asm__ __volatile__("dmb oshld" ::: "memory")
#define kb_dma_wmb() __asm__ __volatile__("dmb oshst" ::: "memory")

#endif /* KB_ARCH_AARCH64_H */
