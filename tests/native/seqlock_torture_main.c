/* SPDX-License-Identifier: MIT */
/*
 * tests/native/seqlock_torture_main.c - run the seqlock torture natively,
 * for sanitizer builds (tests/test_sanitizers_seqlock.py, docs/sanitizers.md).
 *
 * Usage: seqlock_torture_main [duration_ms]
 * Exit status: 0 if the real seqlock kept its invariant, 1 otherwise, 2 on
 * a bad argument or a failure to run.
 */
#include "kbind.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	kb_seqlock_torture_config_t cfg = {
		.readers = 2,
		.writers = 2,
		.words = 16,
		.writer_spins = 0,
		.reader_spins = 0,
		.busted = KB_SEQ_BUSTED_NONE,
		.check = 1,
		.duration_ns = 200 * 1000000LL,
		.max_reads = 0,
	};
	kb_seqlock_torture_result_t res;
	int rc;

	if (argc > 1) {
		long ms = strtol(argv[1], NULL, 10);

		if (ms <= 0 || ms > 60000) {
			fprintf(stderr, "usage: %s [duration_ms in 1..60000]\n", argv[0]);
			return 2;
		}
		cfg.duration_ns = ms * 1000000LL;
	}
	rc = kb_seqlock_torture(&cfg, &res);
	if (rc != KB_OK) {
		fprintf(stderr, "kb_seqlock_torture() failed: %d\n", rc);
		return 2;
	}
	printf("reads %lld successful %lld retries %lld writes %lld violations %lld\n",
	       (long long)res.reads, (long long)res.successful_reads, (long long)res.retries,
	       (long long)res.writes, (long long)res.violations);
	return res.violations == 0 && res.successful_reads > 0 && res.writes > 0 ? 0 : 1;
}
