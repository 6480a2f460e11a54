/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/arch/x86_64.h - memory barriers and marked accesses for x86-64.
 *
 * Mirrors arch/x86/include/asm/barrier.h.  x86-64 is TSO: the only
 * reordering the hardware does is a later load passing an earlier store
 * (store buffering).  So only smp_mb() needs an instruction; smp_rmb(),
 * smp_wmb() and the acquire/release accessors need only stop the compiler.
 *
 * Included only through csrc/engine/arch/barrier.h.
 */
#ifndef KB_ARCH_X86_64_H
#define KB_ARCH_X86_64_H

#define KB_ARCH_NAME "x86_64"

/* Compiler barrier: no code motion of memory accesses across it. */
#define kb_barrier() __asm__ __volatile__("" ::: "memory")

/*
 * Full barrier.  Like the kernel (since v4.15), a locked RMW on a stack
 * slot below the red zone's top instead of mfence: it orders all earlier
 * loads and stores before all later ones (it drains the store buffer), and
 * it is several times cheaper than mfence on current cores.  It does not
 * order non-temporal stores or WC memory, which kbind never uses.
 * Pairs with whatever full barrier, acquire or release the algorithm pairs
 * it with (see each caller's comment).
 */
#define kb_smp_mb() \
	__asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")

/* TSO: loads are not reordered with loads; stopping the compiler suffices. */
#define kb_smp_rmb() kb_barrier()
/* TSO: stores are not reordered with stores; stopping the compiler suffices. */
#define kb_smp_wmb() kb_barrier()

/*
 * Every locked RMW instruction (which is what the __atomic builtins emit
 * for RMW operations on x86-64) is already a full barrier.
 */
#define kb_smp_mb__before_atomic() kb_barrier()
#define kb_smp_mb__after_atomic() kb_barrier()

/*
 * kbind's spin_lock() is a locked XCHG, itself a full barrier: what
 * smp_mb__after_spinlock() and smp_mb__after_unlock_lock() add elsewhere
 * (include/linux/spinlock.h) is already there.
 */
#define kb_smp_mb__after_spinlock() kb_barrier()
#define kb_smp_mb__after_unlock_lock() kb_barrier()

/* TSO: a plain load is an acquire load, a plain store a release store. */
#define kb_smp_load_acquire(p)                  \
	__extension__({                         \
		__typeof__(*(p)) kb_v__ = KB_READ_ONCE(*(p)); \
		kb_barrier();                   \
		kb_v__;                         \
	})
#define kb_smp_store_release(p, v)              \
	do {                                    \
		kb_barrier();                   \
		KB_WRITE_ONCE(*(p), (v));       \
	} while (0)

/* PAUSE: tells the core we spin (saves power, yields the SMT sibling). */
#define kb_cpu_relax() __asm__ __volatile__("pause" ::: "memory")

/*
 * The mfence-based full barrier, kept only so benchmarks can show what
 * kb_smp_mb() saves (liburcu's cmm_smp_mb() is mfence).
 */
#define kb_smp_mb_mfence() __asm__ __volatile__("mfence" ::: "memory")

/*
 * Mandatory barriers (arch/x86/include/asm/barrier.h): mb() is mfence,
 * rmb() lfence, wmb() sfence; they also order non-temporal stores and
 * device (WC/UC) memory, which smp_mb() does not.
 */
#define kb_mb() __asm__ __volatile__("mfence" ::: "memory")
#define kb_rmb() __asm__ __volatile__("lfence" ::: "memory")
#define kb_wmb() __asm__ __volatile__("sfence" ::: "memory")
/*
 * DMA barriers: coherent DMA memory is write-back, so TSO applies and
 * dma_rmb()/dma_wmb() are compiler barriers; dma_mb() falls back to mb()
 * (asm-generic/barrier.h), as on x86 in the kernel.
 */
#define kb_dma_mb() kb_mb()
#define kb_dma_rmb() kb_barrier()
#define kb_dma_wmb() kb_barrier()

#endif /* KB_ARCH_X86_64_H */
