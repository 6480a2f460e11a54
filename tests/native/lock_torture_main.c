/* SPDX-License-Identifier: MIT */
/*
 * tests/native/lock_torture_main.c - the lock torture as a native program,
 * for sanitizer and cross builds (tests/test_sanitizers.py,
 * tests/test_cross_aarch64.py).
 * Usage: lock_torture_main [duration_ms]
 * Exit status 0 iff both real locks (spin, mutex; pinned and not) pass and
 * every busted lock is caught; 2 on a bad argument.
 */
#include "kbind.h"

#include <stdio.h>

static int run(int lock, int busted, int64_t ms, kb_lock_torture_result_t *r)
{
	kb_lock_torture_config_t cfg = {
		.lock = lock, .busted = busted, .writers = 2, .readers = 2,
		.hold_ns = 1000, .read_hold_ns = 500, .long_hold_ns = 20000, .long_every = 500,
		.duration_ns = ms * 1000000,
	};

	return kb_lock_torture(&cfg, r);
}

static bool clean(const kb_lock_torture_result_t *r)
{
	return r->write_fail == 0 && r->read_fail == 0 && r->torn_reads == 0 &&
	       r->max_holders == 1 && r->write_total > 0 && r->read_total > 0;
}

int main(int argc, char **argv)
{
	int64_t ms = argc > 1 ? atol(argv[1]) : 200;
	static const char *const names[] = { "spin", "mutex" };
	const int32_t cpus[] = { 0 };
	kb_lock_torture_result_t r;
	int failures = 0;

	if (ms <= 0 || ms > 60000) {
		fprintf(stderr, "usage: %s [duration_ms in 1..60000]\n", argv[0]);
		return 2;
	}
	for (int lock = KB_LOCK_TORTURE_SPIN; lock <= KB_LOCK_TORTURE_MUTEX; lock++) {
		if (run(lock, KB_LOCK_BUSTED_NONE, ms, &r) != KB_OK || !clean(&r)) {
			printf("real %s: FAIL (fails %lld/%lld torn %lld holders %lld)\n",
			       names[lock], (long long)r.write_fail, (long long)r.read_fail,
			       (long long)r.torn_reads, (long long)r.max_holders);
			failures++;
		}
		for (int busted = KB_LOCK_BUSTED_NO_LOCK; busted <= KB_LOCK_BUSTED_NO_RMW; busted++) {
			if (run(lock, busted, ms, &r) != KB_OK || r.max_holders < 2) {
				printf("busted %d on %s not caught\n", busted, names[lock]);
				failures++;
			}
		}
	}
	/* Pinned to one CPU (every thread on CPU 0 if usable): still correct. */
	if (kb_torture_set_cpus(cpus, 1) != KB_OK ||
	    run(KB_LOCK_TORTURE_MUTEX, KB_LOCK_BUSTED_NONE, ms / 2 + 1, &r) != KB_OK || !clean(&r)) {
		printf("pinned mutex: FAIL\n");
		failures++;
	}
	(void)kb_torture_set_cpus(NULL, 0);
	printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
