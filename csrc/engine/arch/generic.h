/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/arch/generic.h - barriers from the compiler's __atomic builtins.
 *
 * Mirrors include/asm-generic/barrier.h.  Correct on every architecture
 * GCC and Clang support, if not always the cheapest.  Also used for
 * ThreadSanitizer builds on every architecture: TSan models __atomic
 * loads, stores and RMWs, but not inline asm, so the sanitizer build
 * expresses acquire/release through the builtins it understands.
 *
 * Included only through csrc/engine/arch/barrier.h.
 */
#ifndef KB_ARCH_GENERIC_H
#define KB_ARCH_GENERIC_H

#define KB_ARCH_NAME "generic"

#define kb_barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

/* A sequentially consistent fence orders everything against everything. */
#define kb_smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
/* An acquire fence orders earlier loads before later loads and stores. */
#define kb_smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
/* A release fence orders earlier loads and stores before later stores. */
#define kb_smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)

/* Relaxed RMWs order nothing: full ordering needs a fence on each side. */
#define kb_smp_mb__before_atomic() kb_smp_mb()
#define kb_smp_mb__after_atomic() kb_smp_mb()

/* Lock acquisition is acquire only: make it a full barrier (include/linux/spinlock.h). */
#define kb_smp_mb__after_spinlock() kb_smp_mb()
#define kb_smp_mb__after_unlock_lock() kb_smp_mb()

#define kb_smp_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define kb_smp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

#define kb_cpu_relax() kb_barrier()

#define kb_smp_mb_mfence() kb_smp_mb()

/* Mandatory and DMA barriers: no device model in C11; the fences above. */
#define kb_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define kb_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define kb_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define kb_dma_mb() kb_mb()
#define kb_dma_rmb() kb_rmb()
#define kb_dma_wmb() kb_wmb()

#endif /* KB_ARCH_GENERIC_H */
