/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/rcu_inline.h - the QSBR reader fast paths, inlined.
 *
 * What liburcu's _LGPL_SOURCE gives its users: including this header turns
 * kb_rcu_read_lock(), kb_rcu_read_unlock() (empty unless KB_RCU_DEBUG is
 * defined, see kb__rcu_read_lock()), kb_rcu_quiescent_state(),
 * kb_rcu_dereference() and friends into inline code (macros of the same
 * names as the out-of-line functions of csrc/kbind_api.h, which csrc/engine/rcu.c
 * defines with parenthesised names from these very inlines, so there is one
 * implementation).  Used by csrc/engine/rcu.c, csrc/tools/rcu_torture.c and the native
 * benchmark; Python reaches the same code through the out-of-line functions.
 *
 * The protocol (QSBR, as in liburcu):
 *  - kb_rcu_gp.ctr is the grace-period counter: odd, starts at 1, and a
 *    grace period adds 2.
 *  - Each registered thread has a record whose ctr is 0 while the thread is
 *    offline and otherwise the kb_rcu_gp.ctr it saw at its last quiescent
 *    state.  A grace period that set kb_rcu_gp.ctr to C ends when every
 *    record holds 0 or C.
 *  - A writer that gives up spinning sets kb_rcu_gp.futex to
 *    KB_RCU_FUTEX_WAITING and the waiting flag of each record it waits for,
 *    then sleeps; a reader that reports a quiescent state or goes offline
 *    and finds its waiting flag set wakes it (kb_rcu_wake_writer()).
 */
#ifndef KB_RCU_INLINE_H
#define KB_RCU_INLINE_H

#include "kbind.h"

/* The value kb_rcu_gp.futex holds while a writer sleeps (or is about to). */
#define KB_RCU_FUTEX_WAITING 1u

/**
 * struct kb_rcu_gp_state - the global grace-period state.
 * @ctr: the grace-period counter (odd; +2 per grace period).
 * @futex: KB_RCU_FUTEX_WAITING while a writer sleeps waiting for readers.
 *
 * Alone on its cache line: every reader reads @ctr at each quiescent state.
 */
struct kb_rcu_gp_state {
	uint64_t ctr;
	uint32_t futex;
} __attribute__((aligned(64)));

/**
 * struct kb_rcu_reader - one registered thread (csrc/engine/rcu.c owns the list).
 * @ctr: 0 while offline, else kb_rcu_gp.ctr at the last quiescent state.
 *       Written by its thread only, read by writers.
 * @waiting: set by a writer about to sleep until this thread's next
 *           quiescent state; cleared by the thread when it wakes the writer.
 * @via_table: 1 if this thread reports through the backend table
 *           (csrc/engine/rcu_backend.h) instead of the builtin protocol below: any
 *           backend but the builtin one.  For those, @ctr is a shadow that
 *           csrc/engine/rcu_api.c keeps for is_online() and stall reports.  Set
 *           once, by the thread, when it registers (thread-private).
 * @next: registry link (registry lock).
 * @prev: registry link (registry lock).
 * @tid: gettid() of the thread.
 * @name: optional name for stall reports (registry lock).
 *
 * The fields the fast path touches come first, on their own cache line.
 */
struct kb_rcu_reader {
	uint64_t ctr;
	uint32_t waiting;
	uint32_t via_table;
	struct kb_rcu_reader *next __attribute__((aligned(64)));
	struct kb_rcu_reader *prev;
	int64_t tid;
	char name[32];
};

extern struct kb_rcu_gp_state kb_rcu_gp;
extern _Thread_local struct kb_rcu_reader *kb_rcu_self;
extern _Thread_local int kb_rcu_nesting;

/* Slow paths, out of line in csrc/engine/rcu.c. */
void kb_rcu_wake_writer(struct kb_rcu_reader *r);
void kb_rcu_quiescent_state_slow(struct kb_rcu_reader *r, uint64_t gp_ctr);
void kb_rcu_quiescent_state_table(struct kb_rcu_reader *r);

/**
 * kb__rcu_read_lock() - enter a read-side critical section, counted.
 *
 * QSBR readers need no instructions: a thread is protected from the moment
 * it is online until its next quiescent state.  This only counts nesting
 * (thread-private, so plain accesses) for kb_rcu_read_lock_nesting() and
 * the checks built on it.  The out-of-line kb_rcu_read_lock() (what Python
 * calls) always counts; the inline kb_rcu_read_lock() macro below counts
 * only when KB_RCU_DEBUG is defined, because two stores per section halve
 * the throughput of a tight read loop (as the kernel's rcu_read_lock() is
 * only a compiler barrier without CONFIG_PREEMPT_COUNT, and liburcu's QSBR
 * one is empty).
 * Context: any thread; registered and online for the section to protect.
 */
static inline void kb__rcu_read_lock(void)
{
	kb_rcu_nesting++;
}

/** kb__rcu_read_unlock() - leave a read-side critical section. */
static inline void kb__rcu_read_unlock(void)
{
	kb_rcu_nesting--;
}

/**
 * kb__rcu_quiescent_state() - report that this thread holds no references.
 *
 * If no grace period started since this thread's last report, there is
 * nothing to announce (a writer that starts one later waits for the next
 * report), so the common case is one load and a compare.
 * Context: registered thread, outside every read-side critical section;
 * unregistered threads: no-op.
 */
static inline void kb__rcu_quiescent_state(void)
{
	struct kb_rcu_reader *r = kb_rcu_self;
	uint64_t gp_ctr;

	if (KB_UNLIKELY(!r))
		return;
	if (KB_UNLIKELY(r->via_table)) {
		kb_rcu_quiescent_state_table(r);
		return;
	}
	gp_ctr = KB_READ_ONCE(kb_rcu_gp.ctr);
	if (KB_LIKELY(gp_ctr == KB_READ_ONCE(r->ctr)))
		return;
	kb_rcu_quiescent_state_slow(r, gp_ctr);
}

/**
 * kb__rcu_dereference() - load an RCU-protected pointer for dereferencing.
 * @p: the slot.
 *
 * On x86-64 and arm64 the address dependency from this load to the loads
 * through the pointer orders them (as READ_ONCE() does in the kernel);
 * pairs with the release in kb_rcu_assign_pointer().  The generic arch
 * (and so ThreadSanitizer, which does not model dependencies) uses an
 * acquire load instead.
 * Context: inside a read-side critical section.
 */
static inline void *kb__rcu_dereference(void **p)
{
#if defined(KB_ARCH_X86_64_H) || defined(KB_ARCH_AARCH64_H)
	return KB_READ_ONCE(*p);
#else
	return kb_smp_load_acquire(p);
#endif
}

#ifdef KB_RCU_DEBUG
#define kb_rcu_read_lock() kb__rcu_read_lock()
#define kb_rcu_read_unlock() kb__rcu_read_unlock()
#else
#define kb_rcu_read_lock() ((void)0)
#define kb_rcu_read_unlock() ((void)0)
#endif
#define kb_rcu_quiescent_state() kb__rcu_quiescent_state()
#define kb_rcu_dereference(p) kb__rcu_dereference(p)

#endif /* KB_RCU_INLINE_H */
