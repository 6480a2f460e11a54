/* SPDX-License-Identifier: MIT */
/*
 * tests/native/rcu_torture_main.c - run the RCU torture test natively.
 *
 * Built with the C core linked in directly (not through cffi), typically
 * under ThreadSanitizer or AddressSanitizer+UBSan by tests/test_sanitizers.py
 * (see docs/sanitizers.md):
 *
 *   gcc -std=c11 -g -O1 -fsanitize=thread -Icsrc csrc/[a-z]*.c \
 *       tests/native/rcu_torture_main.c -o rcu_torture -pthread
 *   ./rcu_torture [duration_ms [repeat [builtin|liburcu]]]
 *
 * Runs the real engine in every reclamation mode (must pass), once more
 * with every reader kind, the whole update-side mix and every optional
 * check (rcu_barrier test, flood, stall, churn: must pass, the stall must
 * be named), each busted engine the backend has once (must be caught; the
 * busted barrier by the rcu_barrier test's rtbe), and a short exercise of
 * the token channel, rcu_barrier() and shutdown, over the backend named
 * (default builtin; liburcu is loaded with dlopen(), so link with -ldl on
 * glibc < 2.34).  Exit status 0 only if all of that held.
 */
#include "kbind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reclaim_names[] = { "sync", "call", "mix", "all" };
static const char *const busted_names[] = { "none", "no_wait", "reader", "early_cb", "barrier" };

static int run(int reclaim, int busted, int64_t ms, bool expect_errors, bool last_try)
{
	kb_rcu_torture_config_t cfg = {
		.readers = 2, .updaters = 1, .duration_ms = ms,
		.reclaim = reclaim, .busted = busted, .seed = 1,
		.checks = KB_RCU_TORTURE_CHECK_BARRIER,
	};
	kb_rcu_torture_result_t res;
	int rc = kb_rcu_torture(&cfg, &res), i;

	if (rc != KB_OK) {
		printf("torture %s/%s: status %d\n", reclaim_names[reclaim], busted_names[busted], rc);
		return 1;
	}
	printf("torture reclaim=%s busted=%s reads=%llu updates=%llu gps=%llu cbs=%llu "
	       "freed_seen=%llu too_old=%llu pipe:",
	       reclaim_names[reclaim], busted_names[busted], (unsigned long long)res.reads,
	       (unsigned long long)res.updates, (unsigned long long)res.grace_periods,
	       (unsigned long long)res.callbacks, (unsigned long long)res.freed_seen,
	       (unsigned long long)res.too_old);
	for (i = 0; i < KB_RCU_TORTURE_PIPE_LEN; i++)
		printf(" %llu", (unsigned long long)res.pipe[i]);
	printf(" rtbe=%llu\n", (unsigned long long)res.barrier.rtbe);
	if (expect_errors && res.errors == 0 && !last_try) {
		printf("not caught yet: run again, longer\n");
		return 1;
	}
	if (expect_errors ? res.errors == 0 : res.errors != 0 || res.reads == 0 || res.updates == 0) {
		printf("UNEXPECTED: %s\n", expect_errors ? "busted engine not caught" : "real engine failed");
		return 1;
	}
	return 0;
}

/*
 * A busted engine shows itself through an error, which takes updates: on a
 * loaded machine (sanitizers, other jobs) a short run may make too few.  Run
 * it again, twice as long each time, at most BUSTED_TRIES times (bounded:
 * 15x the first duration in all).
 */
#define BUSTED_TRIES 4

static int run_busted(int reclaim, int busted, int64_t ms)
{
	int i;

	for (i = 0; i < BUSTED_TRIES; i++, ms *= 2)
		if (run(reclaim, busted, ms, true, i == BUSTED_TRIES - 1) == 0)
			return 0;
	return 1;
}

/* Every reader kind, the whole mix, every check: must pass, stall named. */
static int run_full(int64_t ms)
{
	kb_rcu_torture_config_t cfg = {
		.readers = 4, .updaters = 1, .duration_ms = ms,
		.reclaim = KB_RCU_TORTURE_ALL, .seed = 1,
		.reader_kinds = 15, .checks = 15, .stall_timeout_ms = 20,
	};
	kb_rcu_torture_result_t res;
	int rc = kb_rcu_torture(&cfg, &res);

	if (rc != KB_OK) {
		printf("torture full: status %d\n", rc);
		return 1;
	}
	printf("torture full: reads=%llu updates=%llu errors=%llu rtbe=%llu barrier-tests=%llu "
	       "flood=%llu/%llu peak=%llu stall=%d/%d '%s' churn-exits=%llu\n",
	       (unsigned long long)res.reads, (unsigned long long)res.updates,
	       (unsigned long long)res.errors, (unsigned long long)res.barrier.rtbe,
	       (unsigned long long)res.barrier.tests, (unsigned long long)res.flood.invoked,
	       (unsigned long long)res.flood.posted, (unsigned long long)res.flood.peak_backlog,
	       res.stall.injected, res.stall.detected, res.stall.name,
	       (unsigned long long)res.churn.exits);
	if (res.errors != 0 || res.reads == 0 || res.updates == 0 ||
	    (res.stall.injected && !res.stall.detected)) {
		printf("UNEXPECTED: the full run failed\n");
		return 1;
	}
	return 0;
}

static int exercise_callbacks(void)
{
	uint64_t out[8];
	int n, got = 0, i;

	for (i = 0; i < 8; i++)
		if (kb_call_rcu_token((uint64_t)i) != KB_OK)
			return 1;
	kb_rcu_barrier();
	while ((n = kb_rcu_reap_tokens(out, 8, 0)) > 0)
		got += n;
	if (got != 8 || kb_rcu_pending_callbacks() != 0) {
		printf("UNEXPECTED: %d tokens reaped\n", got);
		return 1;
	}
	if (kb_rcu_shutdown(-1) != KB_OK)
		return 1;
	printf("callbacks: ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	int64_t ms = argc > 1 ? atoll(argv[1]) : 300;
	int repeat = argc > 2 ? atoi(argv[2]) : 1;
	const char *backend = argc > 3 ? argv[3] : "builtin";
	int failures = 0, rep, m, b;

	for (b = 0; kb_rcu_backend_name(b); b++)
		if (strcmp(kb_rcu_backend_name(b), backend) == 0)
			break;
	if (!kb_rcu_backend_name(b) || kb_rcu_set_backend(b) != KB_OK) {
		printf("cannot use the RCU backend %s: %s\n", backend, kb_rcu_backend_error());
		return 2;
	}
	printf("backend: %s\n", kb_rcu_backend_name(kb_rcu_get_backend()));

	for (rep = 0; rep < repeat; rep++) {
		for (m = KB_RCU_TORTURE_SYNC; m <= KB_RCU_TORTURE_ALL; m++)
			failures += run(m, KB_RCU_BUSTED_NONE, ms, false, true);
		failures += run_full(ms);
		/* synchronize_rcu() grace periods catch these within a few
		 * updates on every backend (liburcu's call_rcu batches are
		 * 10 ms apart: too few for a short run). */
		failures += run_busted(KB_RCU_TORTURE_SYNC, KB_RCU_BUSTED_NO_WAIT, ms);
		failures += run_busted(KB_RCU_TORTURE_SYNC, KB_RCU_BUSTED_READER, ms);
		if (kb_rcu_busted_supported(KB_RCU_BUSTED_EARLY_CB))
			failures += run_busted(KB_RCU_TORTURE_MIX, KB_RCU_BUSTED_EARLY_CB, ms);
		else
			printf("torture busted=early_cb: does not exist on this backend\n");
		failures += run_busted(KB_RCU_TORTURE_SYNC, KB_RCU_BUSTED_BARRIER, ms);
	}
	failures += exercise_callbacks();
	printf("%s (%d failures)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
