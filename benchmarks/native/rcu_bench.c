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
 * Workloads (the same loop bodies for both, instantiated by macros):
 *  - read: each reader loops { read_lock; p = rcu_dereference(gp);
 *    sum += p->v; read_unlock } with a quiescent state every 1024 reads;
 *    a plain-load loop is the baseline.  Reported per reader.  kbind is
 *    also measured with the inline nesting count (KB_RCU_DEBUG).
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

struct item {
	long v;
};

static struct item items[2] = { { 1 }, { 2 } };
static void *kb_gp = &items[0];
static struct item *ur_gp = &items[0];
static uint32_t stop_flag;
static uint32_t ready_count;

static double now_s(void)
{
	return (double)kb_now_ns() / 1e9;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* ------------------------------------------------------------ read loops */

struct reader_arg {
	double seconds;
	uint64_t reads;
	long sum;
};

#define CHECK_EVERY 1024

static void *plain_reader(void *p)
{
	struct reader_arg *a = p;
	uint64_t n = 0;
	long sum = 0;

	__atomic_fetch_add(&ready_count, 1, __ATOMIC_SEQ_CST);
	while (!KB_READ_ONCE(stop_flag)) {
		for (int i = 0; i < CHECK_EVERY; i++) {
			struct item *it = KB_READ_ONCE(kb_gp);

			sum += it->v;
		}
		n += CHECK_EVERY;
	}
	a->reads = n;
	a->sum = sum;
	return NULL;
}

static void *kb_reader(void *p)
{
	struct reader_arg *a = p;
	uint64_t n = 0;
	long sum = 0;

	kb_rcu_register_thread();
	__atomic_fetch_add(&ready_count, 1, __ATOMIC_SEQ_CST);
	while (!KB_READ_ONCE(stop_flag)) {
		for (int i = 0; i < CHECK_EVERY; i++) {
			struct item *it;

			kb_rcu_read_lock();
			it = kb_rcu_dereference(&kb_gp);
			sum += it->v;
			kb_rcu_read_unlock();
		}
		kb_rcu_quiescent_state();
		n += CHECK_EVERY;
	}
	kb_rcu_unregister_thread();
	a->reads = n;
	a->sum = sum;
	return NULL;
}

/* kbind with the nesting count kept inline (what KB_RCU_DEBUG gives). */
static void *kb_reader_counted(void *p)
{
	struct reader_arg *a = p;
	uint64_t n = 0;
	long sum = 0;

	kb_rcu_register_thread();
	__atomic_fetch_add(&ready_count, 1, __ATOMIC_SEQ_CST);
	while (!KB_READ_ONCE(stop_flag)) {
		for (int i = 0; i < CHECK_EVERY; i++) {
			struct item *it;

			kb__rcu_read_lock();
			it = kb_rcu_dereference(&kb_gp);
			sum += it->v;
			kb__rcu_read_unlock();
		}
		kb_rcu_quiescent_state();
		n += CHECK_EVERY;
	}
	kb_rcu_unregister_thread();
	a->reads = n;
	a->sum = sum;
	return NULL;
}

static void *ur_reader(void *p)
{
	struct reader_arg *a = p;
	uint64_t n = 0;
	long sum = 0;

	rcu_register_thread();
	__atomic_fetch_add(&ready_count, 1, __ATOMIC_SEQ_CST);
	while (!KB_READ_ONCE(stop_flag)) {
		for (int i = 0; i < CHECK_EVERY; i++) {
			struct item *it;

			rcu_read_lock();
			it = rcu_dereference(ur_gp);
			sum += it->v;
			rcu_read_unlock();
		}
		rcu_quiescent_state();
		n += CHECK_EVERY;
	}
	rcu_unregister_thread();
	a->reads = n;
	a->sum = sum;
	return NULL;
}

struct readers {
	int n;
	pthread_t tid[4];
	struct reader_arg arg[4];
};

static void readers_start(struct readers *r, int n, void *(*fn)(void *))
{
	KB_WRITE_ONCE(stop_flag, 0);
	__atomic_store_n(&ready_count, 0, __ATOMIC_SEQ_CST);
	r->n = n;
	for (int i = 0; i < n; i++) {
		memset(&r->arg[i], 0, sizeof(r->arg[i]));
		pthread_create(&r->tid[i], NULL, fn, &r->arg[i]);
	}
	while (__atomic_load_n(&ready_count, __ATOMIC_SEQ_CST) < (uint32_t)n)
		sched_yield();
}

static void readers_stop(struct readers *r)
{
	KB_WRITE_ONCE(stop_flag, 1);
	for (int i = 0; i < r->n; i++)
		pthread_join(r->tid[i], NULL);
}

/* Reads per second per reader with @n readers running for @seconds. */
static double read_rate(void *(*fn)(void *), int n, double seconds)
{
	struct readers r;
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };
	double t0, t1, total = 0;

	readers_start(&r, n, fn);
	t0 = now_s();
	nanosleep(&ts, NULL);
	readers_stop(&r);
	t1 = now_s();
	for (int i = 0; i < n; i++)
		total += (double)r.arg[i].reads;
	return total / n / (t1 - t0);
}

/* ------------------------------------------------------------------ sync */

static void sync_latency(bool kb, int nreaders, int iters, double *median_us, double *p99_us)
{
	struct readers r;
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
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			double t = v[j];

			v[j] = v[j - 1];
			v[j - 1] = t;
		}
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
	/* Read side: interleave the three loops, median of @reps runs each. */
	for (int nr = 1; nr <= 2; nr++) {
		for (int i = 0; i < reps; i++) {
			v[0][i] = read_rate(plain_reader, nr, secs);
			v[1][i] = read_rate(kb_reader, nr, secs);
			v[2][i] = read_rate(ur_reader, nr, secs);
			v[3][i] = read_rate(kb_reader_counted, nr, secs);
		}
		printf("read_plain_%dr %.4g\n", nr, median(v[0], reps));
		printf("read_kb_%dr %.4g\n", nr, median(v[1], reps));
		printf("read_urcu_%dr %.4g\n", nr, median(v[2], reps));
		printf("read_kbdebug_%dr %.4g\n", nr, median(v[3], reps));
	}
	/* synchronize_rcu() latency with 0, 1, 2 online readers. */
	for (int nr = 0; nr <= 2; nr++) {
		double km[16], kp[16], um[16], up[16];

		for (int i = 0; i < reps; i++) {
			sync_latency(true, nr, sync_iters, &km[i], &kp[i]);
			sync_latency(false, nr, sync_iters, &um[i], &up[i]);
		}
		printf("sync_kb_%dr_median_us %.4g\n", nr, median(km, reps));
		printf("sync_kb_%dr_p99_us %.4g\n", nr, median(kp, reps));
		printf("sync_urcu_%dr_median_us %.4g\n", nr, median(um, reps));
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
