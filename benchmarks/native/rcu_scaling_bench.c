/* SPDX-License-Identifier: MIT */
/*
 * benchmarks/native/rcu_scaling_bench.c - native read-side scaling at 1..N
 * threads: kbind's QSBR engine, liburcu's QSBR flavour (when built with
 * KB_BENCH_LIBURCU), kbind's seqlock readers and a plain-load baseline.
 *
 * Every flavour is the same READ_LOOP() of read_loops.h (64-byte aligned,
 * own pointer and item on own cache lines, threads pinned one per CPU
 * round robin), so the curves differ only by what the read side costs and
 * how it scales.  No updater runs: this is the read side alone.  Built and
 * run by benchmarks/rcu_scaling.py (benchmarks/run.py rcu-scaling).
 *
 * Usage: rcu_scaling_bench REPS SECONDS STEP...
 * Prints "read_FLAVOUR_Tt_{med,min,max}" total reads/s at T threads and
 * "ratio_kb_urcu_Tt_{med,min,max}" (the per-run ratio of two runs back to
 * back), one "name value" per line.
 */
#ifdef KB_BENCH_LIBURCU
#define _LGPL_SOURCE 1
#endif
#include "engine/rcu_inline.h"
#ifdef KB_BENCH_LIBURCU
#include <urcu-qsbr.h>
#endif
#include "read_loops.h"

static struct slot plain_gp = { &bench_items[0] };
static struct slot kb_gp = { &bench_items[1] };
static struct slot seq_gp = { &bench_items[2] };
static kb_seqlock_t bench_sl __attribute__((aligned(64)));

READ_LOOP(plain_reader, (void)0, (void)0, KB_READ_ONCE(plain_gp.p), (void)0, (void)0, (void)0)
READ_LOOP(kb_reader, kb_rcu_register_thread(), kb_rcu_read_lock(),
	  kb_rcu_dereference(&kb_gp.p), kb_rcu_read_unlock(), kb_rcu_quiescent_state(),
	  kb_rcu_unregister_thread())
/* The seqlock read side: begin, the load, retry (never taken: no writer). */
READ_LOOP(seq_reader, (void)0, uint32_t seq = kb_read_seqbegin(&bench_sl),
	  KB_READ_ONCE(seq_gp.p), if (KB_UNLIKELY(kb_read_seqretry(&bench_sl, seq))) sum--,
	  (void)0, (void)0)
#ifdef KB_BENCH_LIBURCU
static struct slot ur_gp = { &bench_items[3] };
READ_LOOP(ur_reader, rcu_register_thread(), rcu_read_lock(), rcu_dereference(ur_gp.p),
	  rcu_read_unlock(), rcu_quiescent_state(), rcu_unregister_thread())
#define NFLAVOURS 4
#else
#define NFLAVOURS 3
#endif

int main(int argc, char **argv)
{
	void *(*const fns[4])(void *) = { plain_reader, kb_reader, seq_reader,
#ifdef KB_BENCH_LIBURCU
					  ur_reader,
#else
					  NULL,
#endif
	};
	static const char *const names[4] = { "plain", "kb", "seqlock", "urcu" };
	double v[4][16], ratio[16];
	char name[64];
	int reps;
	double secs;

	if (argc < 4) {
		fprintf(stderr, "usage: %s REPS SECONDS STEP...\n", argv[0]);
		return 2;
	}
	reps = atoi(argv[1]);
	secs = atof(argv[2]);
	if (reps < 1 || reps > 16 || !(secs > 0 && secs <= 60)) {
		fprintf(stderr, "REPS in 1..16, SECONDS in (0, 60]\n");
		return 2;
	}
	kb_seqlock_init(&bench_sl);
	bench_init_pinning(true);
	printf("liburcu %d\n", NFLAVOURS == 4);
	printf("pinned_cpus %d\n", bench_ncpus);
	for (int a = 3; a < argc; a++) {
		int t = atoi(argv[a]);

		if (t < 1 || t > BENCH_MAX_THREADS) {
			fprintf(stderr, "STEP in 1..%d\n", BENCH_MAX_THREADS);
			return 2;
		}
		/* The flavours interleaved, the order rotated each run. */
		for (int i = 0; i < reps; i++) {
			for (int k = 0; k < NFLAVOURS; k++) {
				int f = (i + k) % NFLAVOURS;

				v[f][i] = read_rate_total(fns[f], t, secs);
			}
			ratio[i] = NFLAVOURS == 4 ? v[1][i] / v[3][i] : 0;
		}
		for (int f = 0; f < NFLAVOURS; f++) {
			snprintf(name, sizeof(name), "read_%s_%dt", names[f], t);
			print_spread(name, v[f], reps);
		}
		if (NFLAVOURS == 4) {
			snprintf(name, sizeof(name), "ratio_kb_urcu_%dt", t);
			print_spread(name, ratio, reps);
		}
	}
	return 0;
}
