/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/barrier.c - out-of-line barriers, marked word accesses, ndelay().
 *
 * Thin functions around the macros of csrc/engine/arch/, so Python (through
 * cffi) executes the very same instructions C code inlines.  The names are
 * parenthesised so the function-like macros of the same name do not expand.
 */
#include "kbind.h"

const char *kb_arch_name(void)
{
	return KB_ARCH_NAME;
}

void kb_ndelay(int64_t ns)
{
	int64_t deadline;

	if (ns <= 0)
		return;
	deadline = kb_now_ns() + ns;
	while (kb_now_ns() < deadline)
		kb_cpu_relax();
}

/** kb_barrier() - compiler barrier only.  Context: any. */
void(kb_barrier)(void)
{
	kb_barrier();
}

/** kb_smp_mb() - full memory barrier.  Context: any. */
void(kb_smp_mb)(void)
{
	kb_smp_mb();
}

/** kb_smp_rmb() - orders earlier loads before later loads.  Context: any. */
void(kb_smp_rmb)(void)
{
	kb_smp_rmb();
}

/** kb_smp_wmb() - orders earlier stores before later stores.  Context: any. */
void(kb_smp_wmb)(void)
{
	kb_smp_wmb();
}

/** kb_smp_mb__before_atomic() - full ordering before a following RMW. */
void(kb_smp_mb__before_atomic)(void)
{
	kb_smp_mb__before_atomic();
}

/** kb_smp_mb__after_atomic() - full ordering after a preceding RMW. */
void(kb_smp_mb__after_atomic)(void)
{
	kb_smp_mb__after_atomic();
}

/** kb_mb() - mandatory full barrier (kernel: mb()), orders device accesses too. */
void(kb_mb)(void)
{
	kb_mb();
}

/** kb_rmb() - mandatory read barrier (kernel: rmb()). */
void(kb_rmb)(void)
{
	kb_rmb();
}

/** kb_wmb() - mandatory write barrier (kernel: wmb()). */
void(kb_wmb)(void)
{
	kb_wmb();
}

/** kb_dma_mb() - full barrier for memory shared with a device (kernel: dma_mb()). */
void(kb_dma_mb)(void)
{
	kb_dma_mb();
}

/** kb_dma_rmb() - read barrier for memory shared with a device (kernel: dma_rmb()). */
void(kb_dma_rmb)(void)
{
	kb_dma_rmb();
}

/** kb_dma_wmb() - write barrier for memory shared with a device (kernel: dma_wmb()). */
void(kb_dma_wmb)(void)
{
	kb_dma_wmb();
}

/**
 * kb_word_read_once() - READ_ONCE() of a shared word.
 * @w: the word.
 *
 * Context: any.  Return: the value; no ordering beyond single-copy atomicity.
 */
int64_t kb_word_read_once(const kb_word_t *w)
{
	return KB_READ_ONCE(w->value);
}

/**
 * kb_word_write_once() - WRITE_ONCE() of a shared word.
 * @w: the word.
 * @v: the value to store.
 *
 * Context: any.
 */
void kb_word_write_once(kb_word_t *w, int64_t v)
{
	KB_WRITE_ONCE(w->value, v);
}

/**
 * kb_word_load_acquire() - smp_load_acquire() of a shared word.
 * @w: the word.
 *
 * Later loads and stores of this thread are ordered after this load.
 * Pairs with kb_word_store_release() (or a full barrier) in the writer.
 * Context: any.  Return: the value.
 */
int64_t kb_word_load_acquire(const kb_word_t *w)
{
	return kb_smp_load_acquire(&w->value);
}

/**
 * kb_word_store_release() - smp_store_release() of a shared word.
 * @w: the word.
 * @v: the value to store.
 *
 * Earlier loads and stores of this thread are ordered before this store.
 * Pairs with kb_word_load_acquire() (or a full barrier) in the reader.
 * Context: any.
 */
void kb_word_store_release(kb_word_t *w, int64_t v)
{
	kb_smp_store_release(&w->value, v);
}
