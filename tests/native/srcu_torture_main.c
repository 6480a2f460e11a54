/* SPDX-License-Identifier: MIT */
/*
 * tests/native/srcu_torture_main.c - run the SRCU torture natively, for
 * sanitizer builds (tests/test_sanitizers.py, docs/sanitizers.md).
 *
 * Usage: srcu_torture_main [duration_ms]
 * Runs the real SRCU (normal and expedited grace periods mixed), which must
 * show no error, then the busted variant KB_SRCU_BUSTED_NO_FLIP, which must
 * show some (retried, longer, a bounded number of times).
 * Exit status: 0 if both behaved, 1 otherwise, 2 on a bad argument or a
 * failure to run.
 */
#include "kbind.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	kb_srcu_torture_config_t cfg = {
		.readers = 3,
		.updaters = 1,
		.busted = KB_SRCU_BUSTED_NONE,
		.gp = KB_SRCU_TORTURE_MIX,
		.sleep_every = 4,
		.sleep_us = 20,
		.duration_ns = 200 * 1000000LL,
		.max_updates = 0,
	};
	kb_srcu_torture_result_t res;
	int failures = 0;

	if (argc > 1) {
		long ms = strtol(argv[1], NULL, 10);

		if (ms <= 0 || ms > 60000) {
			fprintf(stderr, "usage: %s [duration_ms in 1..60000]\n", argv[0]);
			return 2;
		}
		cfg.duration_ns = ms * 1000000LL;
	}
	if (kb_srcu_torture(&cfg, &res) != KB_OK) {
		fprintf(stderr, "kb_srcu_torture() failed\n");
		return 2;
	}
	printf("real: reads %llu sleeping %llu updates %llu gps %llu errors %llu\n",
	       (unsigned long long)res.reads, (unsigned long long)res.sleeping_reads,
	       (unsigned long long)res.updates, (unsigned long long)res.grace_periods,
	       (unsigned long long)res.errors);
	if (res.errors != 0 || res.reads == 0 || res.updates == 0)
		failures++;

	cfg.busted = KB_SRCU_BUSTED_NO_FLIP;
	for (int attempt = 0; attempt < 4; attempt++) {
		if (kb_srcu_torture(&cfg, &res) != KB_OK)
			return 2;
		if (res.errors != 0)
			break;
		cfg.duration_ns *= 2;
	}
	printf("busted: reads %llu updates %llu errors %llu\n", (unsigned long long)res.reads,
	       (unsigned long long)res.updates, (unsigned long long)res.errors);
	if (res.errors == 0)
		failures++;
	printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
