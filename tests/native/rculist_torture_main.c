/* SPDX-License-Identifier: MIT */
/*
 * tests/native/rculist_torture_main.c - run the RCU list torture natively,
 * for sanitizer and cross builds (tests/test_sanitizers.py,
 * tests/test_cross_aarch64.py, docs/sanitizers.md).
 *
 * Usage: rculist_torture_main [duration_ms]
 * Runs the real list in every reclamation mode (must show no error, with
 * reads and updates), then each busted variant (must show errors; a run
 * that found none is retried, twice as long each time, a bounded number of
 * times: 15x the first duration in all).
 * Exit status: 0 if all behaved, 1 otherwise, 2 on a bad argument or a
 * failure to run.
 */
#include "kbind.h"

#include <stdio.h>
#include <stdlib.h>

#define BUSTED_TRIES 4

static const char *const reclaim_names[] = { "sync", "call", "mix" };
static const char *const busted_names[] = { "none", "free-no-gp", "publish-before-init" };

static int run(int reclaim, int busted, int64_t ms, kb_rculist_torture_result_t *res)
{
	kb_rculist_torture_config_t cfg = {
		.readers = 2, .updaters = 1, .busted = busted, .reclaim = reclaim,
		.read_spin = 16, .duration_ns = ms * 1000000LL, .seed = 1,
	};
	int rc = kb_rculist_torture(&cfg, res), i;

	if (rc != KB_OK) {
		printf("rculist torture %s/%s: status %d\n", reclaim_names[reclaim],
		       busted_names[busted], rc);
		return rc;
	}
	printf("rculist reclaim=%s busted=%s reads=%llu visits=%llu updates=%llu gps=%llu "
	       "freed_seen=%llu uninit_seen=%llu too_old=%llu lost=%llu pipe:",
	       reclaim_names[reclaim], busted_names[busted], (unsigned long long)res->reads,
	       (unsigned long long)res->visits, (unsigned long long)res->updates,
	       (unsigned long long)res->grace_periods, (unsigned long long)res->freed_seen,
	       (unsigned long long)res->uninit_seen, (unsigned long long)res->too_old,
	       (unsigned long long)res->lost);
	for (i = 0; i < KB_RCULIST_TORTURE_PIPE_LEN; i++)
		printf(" %llu", (unsigned long long)res->pipe[i]);
	printf("\n");
	return KB_OK;
}

int main(int argc, char **argv)
{
	kb_rculist_torture_result_t res;
	int64_t ms = 200;
	int failures = 0, m, b, i;

	if (argc > 1) {
		ms = strtol(argv[1], NULL, 10);
		if (ms <= 0 || ms > 60000) {
			fprintf(stderr, "usage: %s [duration_ms in 1..60000]\n", argv[0]);
			return 2;
		}
	}
	for (m = KB_RCU_TORTURE_SYNC; m <= KB_RCU_TORTURE_MIX; m++) {
		if (run(m, KB_RCULIST_BUSTED_NONE, ms, &res) != KB_OK)
			return 2;
		if (res.errors != 0 || res.reads == 0 || res.updates == 0) {
			printf("UNEXPECTED: the real list failed\n");
			failures++;
		}
	}
	for (b = KB_RCULIST_BUSTED_FREE_NO_GP; b <= KB_RCULIST_BUSTED_MAX; b++) {
		int64_t d = ms;

		for (i = 0; i < BUSTED_TRIES; i++, d *= 2) {
			if (run(KB_RCU_TORTURE_SYNC, b, d, &res) != KB_OK)
				return 2;
			if (res.errors != 0)
				break;
			printf("not caught yet: run again, longer\n");
		}
		if (res.errors == 0) {
			printf("UNEXPECTED: busted=%s not caught\n", busted_names[b]);
			failures++;
		}
	}
	if (kb_rcu_shutdown(-1) != KB_OK)
		failures++;
	printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
