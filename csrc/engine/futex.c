/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/futex.c - the two futex operations kbind sleeps and wakes with.
 */
#include "kbind.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

/**
 * kb_futex_wait() - sleep while *@uaddr still holds @val.
 * @uaddr: the futex word (private to this process).
 * @val: the value the caller saw; the kernel re-checks it atomically.
 * @timeout_ns: relative limit in nanoseconds; negative means none.
 *
 * Context: may sleep; never call with a spinlock held.
 * Return: KB_OK when woken or when *@uaddr had already changed, KB_ETIMEDOUT
 * after @timeout_ns, KB_EAGAIN when interrupted by a signal.
 */
int kb_futex_wait(uint32_t *uaddr, uint32_t val, int64_t timeout_ns)
{
	struct timespec ts, *tsp = NULL;
	long rc;

	if (timeout_ns >= 0) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000);
		ts.tv_nsec = (long)(timeout_ns % 1000000000);
		tsp = &ts;
	}
	rc = syscall(SYS_futex, uaddr, FUTEX_WAIT_PRIVATE, val, tsp, NULL, 0);
	if (rc == 0)
		return KB_OK;
	if (errno == ETIMEDOUT)
		return KB_ETIMEDOUT;
	if (errno == EINTR)
		return KB_EAGAIN;
	return KB_OK; /* EAGAIN: the word had changed already */
}

/**
 * kb_futex_wake() - wake up to @nr threads sleeping on @uaddr.
 * @uaddr: the futex word.
 * @nr: how many to wake (INT_MAX: all).
 *
 * Context: any; never blocks.
 * Return: the number of threads woken.
 */
int kb_futex_wake(uint32_t *uaddr, int nr)
{
	long rc = syscall(SYS_futex, uaddr, FUTEX_WAKE_PRIVATE, nr, NULL, NULL, 0);

	return rc < 0 ? 0 : (int)rc;
}
