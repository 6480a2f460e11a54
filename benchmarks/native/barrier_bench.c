/* SPDX-License-Identifier: MIT */
/*
 * benchmarks/native/barrier_bench.c - per-operation cost of barriers and
 * atomics in C, inlined exactly as kbind's C code uses them.
 *
 * Prints "name ns_per_op" lines (best of several runs); benchmarks/
 * bench_foundation.py compiles and runs it.  Built with the project's flags.
 */
#include "kbind.h"

#include <stdio.h>
#include <stdlib.h>

#define RUNS 7

static kb_atomic64_t a64;
static kb_word_t word;
static volatile int64_t sink;

#define MEASURE(name, iters, body)                                             \
	do {                                                                   \
		double best = 1e30;                                            \
		for (int r = 0; r < RUNS; r++) {                               \
			int64_t t0 = kb_now_ns();                              \
			for (long i = 0; i < (iters); i++) {                   \
				body;                                          \
			}                                                      \
			double ns = (double)(kb_now_ns() - t0) / (double)(iters); \
			if (ns < best)                                         \
				best = ns;                                     \
		}                                                              \
		printf("%s %.3f\n", name, best);                               \
	} while (0)

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 20000000L;

	MEASURE("empty_loop", n, kb_barrier());
	MEASURE("smp_mb", n, kb_smp_mb());
	MEASURE("mfence", n, kb_smp_mb_mfence());
	MEASURE("smp_rmb", n, kb_smp_rmb());
	MEASURE("smp_wmb", n, kb_smp_wmb());
	MEASURE("atomic64_fetch_add", n, kb_atomic64_fetch_add(1, &a64));
	MEASURE("atomic64_fetch_add_relaxed", n, kb_atomic64_fetch_add_relaxed(1, &a64));
	MEASURE("atomic64_read", n, sink = kb_atomic64_read(&a64));
	MEASURE("load_acquire", n, sink = kb_smp_load_acquire(&word.value));
	MEASURE("store_release", n, kb_smp_store_release(&word.value, i));
	return 0;
}
