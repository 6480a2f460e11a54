/* SPDX-License-Identifier: MIT */
/*
 * benchmarks/native/rcu_bench.c - kbind's QSBR RCU against liburcu's, in
 * one process, on the same workloads.
 *
 * Built and run by benchmarks/rcu_vs_liburcu.py (which prints the table):
 * the kbind core (csrc/[a-z]*.c) is linked in directly and its reader fast
 * path inlined from csrc/engine/rcu_inline.h; liburcu's QSBR flavour is inlined
 * with _LGPL_SOURCE.  Prints one "name value" line per measurement.
 *
 * Workloads (the same loop for every flavour: READ_LOOP() of read_loops.h):
 *  - read: each reader loops { read_lock; p = rcu_dereference(gp);
 *    sum += p->v; read_unlock } with a quiescent state every 1024 reads;
 *    a plain-load loop is the baseline.  Reported per reader, as median,
 *    min and max over the runs, plus the per-run (paired) kbind/liburcu
 *    ratio.  Readers are pinned one per CPU.  kbind is also measured with
 *    the inline nesting count (KB_RCU_DEBUG).
 *  - sync: synchronize_rcu() latency, median and p99, with 0, 1 and 2
 *    online readers running the read loop.
 *  - call_rcu: one registered thread queues N callbacks (each counts
 *    itself), then rcu_barrier(); callbacks per second end to end.
 *  - barrier: rcu_barrier() with nothing queued.
 */
#define _LGPL_SOURCE 1
#include "engine/rcu_inline.h"

#include <urcu-qsbr.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "read_loops.h"

/* Each flavour's pointer, alone on its line, to its own item. */
static struct slot plain_gp = { &bench_items[0] };
static struct slot kb_gp = { &bench_items[1] };
static struct slot kbdebug_gp = { &bench_items[2] };
static struct slot ur_gp = { &bench_items[3] };

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static double now_s(void)
{
	return (double)kb_now_ns() / 1e9;
}

/* ------------------------------------------------------------ read loops */
/* The same loop four times (read_loops.h); only the RCU calls differ. */
READ_LOOP(plain_reader, (void)0, (void)0, KB_READ_ONCE(plain_gp.p), (void)0, (void)0, (void)0)
READ_LOOP(kb_reader, kb_rcu_register_thread(), kb_rcu_read_lock(),
	  kb_rcu_dereference(&kb_gp.p), kb_rcu_read_unlock(), kb_rcu_quiescent_state(),
	  kb_rcu_unregister_thread())
/* kbind with the nesting count kept inline (what KB_RCU_DEBUG gives). */
READ_LOOP(kb_reader_counted, kb_rcu_register_thread(), kb__rcu_read_lock(),
	  kb_rcu_dereference(&kbdebug_gp.p), kb__rcu_read_unlock(), kb_rcu_quiescent_state(),
	  kb_rcu_unregister_thread())
READ_LOOP(ur_reader, rcu_register_thread(), rcu_read_lock(), rcu_dereference(ur_gp.p),
	  rcu_read_unlock(), rcu_quiescent_state(), rcu_unregister_thread())

/* ------------------------------------------------------------------ sync */

static void sync_latency(bool kb, int nreaders, int iters, double *median_us, double *p99_us)
{
	static struct readers r;
	int64_t *lat = malloc(sizeof(*lat) * (size_t)iters);

	readers_start(&r, nreaders, kb ? kb_reader : ur_reader);
	for (int i = 0; i < iters; i++) {
		int64_t t0 = kb_now_ns();

		if (kb)
			kb_synchronize_rcu();
		else
			synchronize_rcu();
		lat[i] = kb_now_ns() - t0;
	}
	readers_stop(&r);
	qsort(lat, (size_t)iters, sizeof(*lat), cmp_i64);
	*median_us = (double)lat[iters / 2] / 1e3;
	*p99_us = (double)lat[(iters * 99) / 100] / 1e3;
	free(lat);
}

/* -------------------------------------------------------------- call_rcu */

struct kb_node {
	kb_rcu_head_t head;
};
struct ur_node {
	struct rcu_head head;
};
static uint64_t cb_count;

static void kb_cb(kb_rcu_head_t *h)
{
	KB_UNUSED(h);
	KB_WRITE_ONCE(cb_count, KB_READ_ONCE(cb_count) + 1); /* one worker */
}

static void ur_cb(struct rcu_head *h)
{
	(void)h;
	KB_WRITE_ONCE(cb_count, KB_READ_ONCE(cb_count) + 1);
}

static double call_rcu_rate(bool kb, int n)
{
	double t0, t1;

	KB_WRITE_ONCE(cb_count, 0);
	if (kb) {
		struct kb_node *nodes = calloc((size_t)n, sizeof(*nodes));

		t0 = now_s();
		for (int i = 0; i < n; i++)
			kb_call_rcu(&nodes[i].head, kb_cb);
		kb_rcu_barrier();
		t1 = now_s();
		free(nodes);
	} else {
		struct ur_node *nodes = calloc((size_t)n, sizeof(*nodes));

		rcu_register_thread();
		t0 = now_s();
		for (int i = 0; i < n; i++)
			call_rcu(&nodes[i].head, ur_cb);
		rcu_barrier();
		t1 = now_s();
		rcu_unregister_thread();
		free(nodes);
	}
	if (KB_READ_ONCE(cb_count) != (uint64_t)n) {
		fprintf(stderr, "call_rcu: %llu of %d callbacks ran\n",
			(unsigned long long)KB_READ_ONCE(cb_count), n);
		exit(1);
	}
	return n / (t1 - t0);
}

static double idle_barrier_us(bool kb, int iters)
{
	int64_t *lat = malloc(sizeof(*lat) * (size_t)iters);
	double med;

	if (!kb)
		rcu_register_thread();
	for (int i = 0; i < iters; i++) {
		int64_t t0 = kb_now_ns();

		if (kb)
			kb_rcu_barrier();
		else
			rcu_barrier();
		lat[i] = kb_now_ns() - t0;
	}
	if (!kb)
		rcu_unregister_thread();
	qsort(lat, (size_t)iters, sizeof(*lat), cmp_i64);
	med = (double)lat[iters / 2] / 1e3;
	free(lat);
	return med;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 5;
	double secs = argc > 2 ? atof(argv[2]) : 0.3;
	int sync_iters = argc > 3 ? atoi(argv[3]) : 2000;
	int ncb = 1000000;
	double v[4][16];

	if (reps < 1 || reps > 16)
		reps = 5;
	bench_init_pinning(true);
	/*
	 * Read side: the four loops interleaved, the order rotated each run
	 * (no flavour always runs first, or right after another), median and
	 * range of @reps runs each; the kbind/liburcu ratio is also taken per
	 * run (paired: the two ran back to back) and its spread printed.
	 */
	for (int nr = 1; nr <= 2; nr++) {
		void *(*const fns[4])(void *) = { plain_reader, kb_reader, ur_reader,
						  kb_reader_counted };
		static const char *const names[4] = { "plain", "kb", "urcu", "kbdebug" };
		double ratio[16], ratio_plain[16];
		char name[64];

		for (int i = 0; i < reps; i++) {
			for (int k = 0; k < 4; k++) {
				int f = (i + k) % 4;

				v[f][i] = read_rate_total(fns[f], nr, secs) / nr;
			}
			ratio[i] = v[1][i] / v[2][i];
			ratio_plain[i] = v[2][i] / v[0][i];
		}
		for (int f = 0; f < 4; f++) {
			snprintf(name, sizeof(name), "read_%s_%dr", names[f], nr);
			print_spread(name, v[f], reps);
		}
		snprintf(name, sizeof(name), "ratio_kb_urcu_%dr", nr);
		print_spread(name, ratio, reps);
		snprintf(name, sizeof(name), "ratio_urcu_plain_%dr", nr);
		print_spread(name, ratio_plain, reps);
	}
	/* synchronize_rcu() latency with 0, 1, 2 online readers. */
	for (int nr = 0; nr <= 2; nr++) {
		double km[16], kp[16], um[16], up[16];

		for (int i = 0; i < reps; i++) {
			sync_latency(true, nr, sync_iters, &km[i], &kp[i]);
			sync_latency(false, nr, sync_iters, &um[i], &up[i]);
		}
		char name[64];
		double ratio[16];

		for (int i = 0; i < reps; i++)
			ratio[i] = km[i] / um[i];
		snprintf(name, sizeof(name), "sync_kb_%dr_median_us", nr);
		print_spread(name, km, reps);
		snprintf(name, sizeof(name), "sync_urcu_%dr_median_us", nr);
		print_spread(name, um, reps);
		snprintf(name, sizeof(name), "ratio_sync_%dr", nr);
		print_spread(name, ratio, reps);
		printf("sync_kb_%dr_p99_us %.4g\n", nr, median(kp, reps));
		printf("sync_urcu_%dr_p99_us %.4g\n", nr, median(up, reps));
	}
	/* call_rcu end to end. */
	for (int i = 0; i < reps; i++) {
		v[0][i] = call_rcu_rate(true, ncb);
		v[1][i] = call_rcu_rate(false, ncb);
	}
	printf("callrcu_kb_per_s %.4g\n", median(v[0], reps));
	printf("callrcu_urcu_per_s %.4g\n", median(v[1], reps));
	/* Idle rcu_barrier(). */
	printf("barrier_kb_idle_us %.4g\n", idle_barrier_us(true, 1000));
	printf("barrier_urcu_idle_us %.4g\n", idle_barrier_us(false, 20));
	return 0;
}
