/* SPDX-License-Identifier: MIT */
/*
 * csrc/kbind.h - what every C file of kbind includes first.
 *
 * The system headers kbind_api.h needs, then kbind_api.h itself, then the
 * barrier macros (csrc/engine/arch/barrier.h) and small internal inlines.  The
 * API is included before the macros on purpose: the out-of-line barrier
 * functions share their names with the macros (kb_smp_mb() and friends),
 * and are defined as "void (kb_smp_mb)(void)" so the macro does not expand.
 */
#ifndef KB_KBIND_H
#define KB_KBIND_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* syscall(), pthread_setname_np(), sched_getcpu() */
#endif

#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "kbind_api.h"
#include "engine/arch/barrier.h"

#define KB_UNUSED(x) ((void)(x))
#define KB_LIKELY(x) __builtin_expect(!!(x), 1)
#define KB_UNLIKELY(x) __builtin_expect(!!(x), 0)

/**
 * kb_now_ns() - CLOCK_MONOTONIC in nanoseconds.
 *
 * Context: any; never blocks.
 */
static inline int64_t kb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/**
 * kb_deadline_after() - @start + @duration_ns, saturating at INT64_MAX.
 * @start: a kb_now_ns() reading.
 * @duration_ns: how long from @start; >= 0.
 *
 * A limit so far away that the sum would overflow (a signed overflow is
 * undefined behaviour; in practice it wrapped to a deadline in the past)
 * becomes the latest representable time: no limit in practice.
 * Context: any.
 */
static inline int64_t kb_deadline_after(int64_t start, int64_t duration_ns)
{
	return duration_ns > INT64_MAX - start ? INT64_MAX : start + duration_ns;
}

/** kb_deadline_ns() - kb_deadline_after(kb_now_ns(), @timeout_ns). */
static inline int64_t kb_deadline_ns(int64_t timeout_ns)
{
	return kb_deadline_after(kb_now_ns(), timeout_ns);
}

/*
 * A bounded busy-wait for a condition another thread makes true: spin with
 * kb_cpu_relax() while the other thread is probably running, then yield
 * the CPU between tries (it may be preempted, or share our CPU), and give
 * up once the time limit has passed.  Usage:
 *
 *	struct kb_backoff b = KB_BACKOFF_INIT;
 *	while (!condition())
 *		if (kb_backoff_wait(&b, timeout_ns) != KB_OK)
 *			return KB_ETIMEDOUT;
 */
#define KB_BACKOFF_SPINS 128

struct kb_backoff {
	unsigned int spins;
	int64_t deadline; /* 0 until the first yield */
};

#define KB_BACKOFF_INIT { 0, 0 }

/**
 * kb_backoff_wait() - one step of waiting.
 * @b: the wait's state, KB_BACKOFF_INIT at first.
 * @timeout_ns: the limit, counted from the first yield; negative: none.
 *
 * Context: spins, then yields; never sleeps.
 * Return: KB_OK to test the condition again, KB_ETIMEDOUT when time is up.
 */
static inline int kb_backoff_wait(struct kb_backoff *b, int64_t timeout_ns)
{
	if (++b->spins < KB_BACKOFF_SPINS) {
		kb_cpu_relax();
		return KB_OK;
	}
	if (timeout_ns >= 0) {
		int64_t now = kb_now_ns();

		if (b->deadline == 0)
			b->deadline = kb_deadline_after(now, timeout_ns);
		else if (now >= b->deadline)
			return KB_ETIMEDOUT;
	}
	sched_yield();
	return KB_OK;
}

/*
 * Futex wrappers (csrc/engine/futex.c).  kb_futex_wait() sleeps while *uaddr ==
 * val, at most timeout_ns (< 0: no limit); it may return early (spurious
 * wake-up, signal), so callers always re-check their condition.
 */
int kb_futex_wait(uint32_t *uaddr, uint32_t val, int64_t timeout_ns);
int kb_futex_wake(uint32_t *uaddr, int nr);

#endif /* KB_KBIND_H */
