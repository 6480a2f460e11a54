/* SPDX-License-Identifier: MIT */
/*
 * tests/native/deadline_main.c - every bounded C wait with the largest
 * timeout (INT64_MAX ns): run under UBSan (tests/test_c_deadlines.py), a
 * deadline computed as now + timeout would be a signed overflow.  Each
 * wait here completes at once (nothing is held), so the timeouts only
 * exercise the deadline arithmetic.
 */
#include "kbind.h"

#include <pthread.h>
#include <stdio.h>
#include <time.h>

static kb_spinlock_t contended;

/* Waits on a held spinlock long enough to reach the backoff's yield path. */
static void *spin_waiter(void *arg)
{
	int *rc = arg;

	*rc = kb_spin_lock_timeout(&contended, INT64_MAX);
	if (*rc == KB_OK)
		kb_spin_unlock(&contended);
	return NULL;
}

int main(void)
{
	const int64_t forever = INT64_MAX;
	kb_mutex_t m;
	kb_spinlock_t s;
	kb_seqlock_t sl;
	int64_t dst[2] = { 0, 0 }, src[2] = { 1, 2 }, retries = 0;
	uint32_t start = 0;
	int failures = 0;

	kb_mutex_init(&m);
	if (kb_mutex_lock_timeout(&m, forever) != KB_OK)
		failures++, printf("kb_mutex_lock_timeout: FAIL\n");
	else
		kb_mutex_unlock(&m);
	kb_spin_lock_init(&s);
	if (kb_spin_lock_timeout(&s, forever) != KB_OK)
		failures++, printf("kb_spin_lock_timeout: FAIL\n");
	else
		kb_spin_unlock(&s);
	{
		struct timespec pause = { 0, 20 * 1000 * 1000 };
		pthread_t t;
		int rc = -1;

		kb_spin_lock_init(&contended);
		kb_spin_lock(&contended);
		if (pthread_create(&t, NULL, spin_waiter, &rc) != 0)
			return 2;
		nanosleep(&pause, NULL); /* let it spin, then yield, while held */
		kb_spin_unlock(&contended);
		pthread_join(t, NULL);
		if (rc != KB_OK)
			failures++, printf("kb_spin_lock_timeout (contended): FAIL\n");
	}
	kb_seqlock_init(&sl);
	if (kb_seqlock_read_words(&sl, dst, src, 2, forever, &start, &retries) != KB_OK ||
	    dst[1] != 2)
		failures++, printf("kb_seqlock_read_words: FAIL\n");
	if (kb_rcu_wait_gp(kb_get_state_synchronize_rcu(), forever) != KB_OK)
		failures++, printf("kb_rcu_wait_gp: FAIL\n");
	if (kb_synchronize_rcu_timeout(forever) != KB_OK)
		failures++, printf("kb_synchronize_rcu_timeout: FAIL\n");
	if (kb_rcu_barrier_timeout(forever) != KB_OK)
		failures++, printf("kb_rcu_barrier_timeout: FAIL\n");
	printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
