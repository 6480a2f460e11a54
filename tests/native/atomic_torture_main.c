/* SPDX-License-Identifier: MIT */
/*
 * tests/native/atomic_torture_main.c - the atomic torture as a native
 * program, for sanitizer builds (tests/test_sanitizers.py).
 * Usage: atomic_torture_main [duration_ms]
 * Exit status 0 iff the real atomics pass and every busted variant fails.
 */
#include "kbind.h"

#include <stdio.h>

static int run(int busted, int64_t ms, kb_atomic_torture_result_t *r)
{
	kb_atomic_torture_config_t cfg = {
		.threads = 2, .busted = busted, .duration_ns = ms * 1000000, .max_ops = 0,
	};

	return kb_atomic_torture(&cfg, r);
}

int main(int argc, char **argv)
{
	int64_t ms = argc > 1 ? atol(argv[1]) : 200;
	kb_atomic_torture_result_t r;
	int failures = 0;

	if (run(KB_ATOMIC_BUSTED_NONE, ms, &r) != KB_OK || r.counter != r.increments ||
	    r.cmpxchg_counter != r.cmpxchg_increments || r.message_violations != 0) {
		printf("real atomics: FAIL\n");
		failures++;
	}
	if (run(KB_ATOMIC_BUSTED_TORN_RMW, ms, &r) != KB_OK || r.counter == r.increments) {
		printf("busted torn-rmw not caught\n");
		failures++;
	}
	if (run(KB_ATOMIC_BUSTED_EARLY_PUBLISH, ms, &r) != KB_OK || r.message_violations == 0) {
		printf("busted early-publish not caught\n");
		failures++;
	}
	printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
