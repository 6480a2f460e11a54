/* SPDX-License-Identifier: MIT */
/*
 * benchmarks/native/rcu_backend_bench.c - kbind's RCU C API over one
 * backend, through the backend table (what Python calls, minus cffi).
 *
 * Built and run by benchmarks/rcu_backends.py, once per backend:
 *   rcu_backend_bench builtin|liburcu reps seconds sync_iters
 * Every call goes through the out-of-line kb_rcu_*() functions of
 * csrc/engine/rcu_api.c (no inlining), so the figures include the dispatch.
 * Prints one "name value" line per measurement (medians of reps):
 *  - read_api: reads/s of one reader looping { kb_rcu_read_lock();
 *    kb_rcu_dereference(); kb_rcu_read_unlock() } with
 *    kb_rcu_quiescent_state() every 1024 reads;
 *  - qs_ns: one kb_rcu_quiescent_state() with no grace period pending;
 *  - offon_ns: kb_rcu_thread_offline() + kb_rcu_thread_online();
 *  - sync_{0,1}r_{median,p99}_us: kb_synchronize_rcu() with 0 or 1 online
 *    reader running the read loop;
 *  - callrcu_per_s: 1e5 kb_call_rcu() then kb_rcu_barrier(), end to end;
 *  - one_cb_barrier_us: one kb_call_rcu_token() + kb_rcu_barrier();
 *  - barrier_idle_us: kb_rcu_barrier() with nothing queued.
 */
#include "kbind.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
	long v;
};

static struct item items[2] = { { 1 }, { 2 } };
static void *gp = &items[0];
static uint32_t stop_flag;
static uint32_t ready;

#define CHECK_EVERY 1024

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

struct reader_arg {
	uint64_t reads;
	long sum;
};

static void *reader(void *p)
{
	struct reader_arg *a = p;
	uint64_t n = 0;
	long sum = 0;

	kb_rcu_register_thread();
	__atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
	while (!KB_READ_ONCE(stop_flag)) {
		for (int i = 0; i < CHECK_EVERY; i++) {
			kb_rcu_read_lock();
			sum += ((struct item *)kb_rcu_dereference(&gp))->v;
			kb_rcu_read_unlock();
		}
		n += CHECK_EVERY;
		kb_rcu_quiescent_state();
	}
	kb_rcu_unregister_thread();
	a->reads = n;
	a->sum = sum;
	return NULL;
}

static pthread_t rthread;
static struct reader_arg rarg;

static void reader_start(void)
{
	KB_WRITE_ONCE(stop_flag, 0);
	__atomic_store_n(&ready, 0, __ATOMIC_SEQ_CST);
	pthread_create(&rthread, NULL, reader, &rarg);
	while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < 1)
		sched_yield();
}

static void reader_stop(void)
{
	KB_WRITE_ONCE(stop_flag, 1);
	pthread_join(rthread, NULL);
}

static double read_rate(double seconds)
{
	int64_t t0 = kb_now_ns();

	reader_start();
	while (kb_now_ns() - t0 < (int64_t)(seconds * 1e9))
		kb_futex_wait(&stop_flag, 0, 10000000);
	reader_stop();
	return (double)rarg.reads / ((double)(kb_now_ns() - t0) / 1e9);
}

static double ns_per(void (*fn)(void), int iters)
{
	int64_t t0 = kb_now_ns();

	for (int i = 0; i < iters; i++)
		fn();
	return (double)(kb_now_ns() - t0) / iters;
}

static void offon(void)
{
	kb_rcu_thread_offline();
	kb_rcu_thread_online();
}

static void qs(void)
{
	kb_rcu_quiescent_state();
}

static void sync_latency(int nreaders, int iters, double *med, double *p99)
{
	int64_t *lat = malloc(sizeof(*lat) * (size_t)iters);

	if (nreaders)
		reader_start();
	for (int i = 0; i < iters; i++) {
		int64_t t0 = kb_now_ns();

		kb_synchronize_rcu();
		lat[i] = kb_now_ns() - t0;
	}
	if (nreaders)
		reader_stop();
	qsort(lat, (size_t)iters, sizeof(*lat), cmp_i64);
	*med = (double)lat[iters / 2] / 1e3;
	*p99 = (double)lat[iters * 99 / 100] / 1e3;
	free(lat);
}

static uint64_t cb_count;

static void count_cb(kb_rcu_head_t *h)
{
	KB_UNUSED(h);
	__atomic_fetch_add(&cb_count, 1, __ATOMIC_RELAXED);
}

static double call_rcu_rate(int n)
{
	kb_rcu_head_t *heads = calloc((size_t)n, sizeof(*heads));
	int64_t t0 = kb_now_ns();

	for (int i = 0; i < n; i++)
		kb_call_rcu(&heads[i], count_cb);
	kb_rcu_barrier();
	t0 = kb_now_ns() - t0;
	free(heads);
	return n / ((double)t0 / 1e9);
}

static double one_cb_barrier_us(void)
{
	uint64_t out[4];
	int64_t t0 = kb_now_ns();

	kb_call_rcu_token(1);
	kb_rcu_barrier();
	t0 = kb_now_ns() - t0;
	while (kb_rcu_reap_tokens(out, 4, 0) > 0)
		;
	return (double)t0 / 1e3;
}

static double idle_barrier_us(void)
{
	int64_t t0 = kb_now_ns();

	for (int i = 0; i < 1000; i++)
		kb_rcu_barrier();
	return (double)(kb_now_ns() - t0) / 1e3 / 1000;
}

int main(int argc, char **argv)
{
	const char *backend = argc > 1 ? argv[1] : "builtin";
	int reps = argc > 2 ? atoi(argv[2]) : 5;
	double seconds = argc > 3 ? atof(argv[3]) : 0.3;
	int iters = argc > 4 ? atoi(argv[4]) : 2000;
	double v[5][16];
	int b;

	if (reps < 1 || reps > 16)
		reps = 5;
	for (b = 0; kb_rcu_backend_name(b); b++)
		if (strcmp(kb_rcu_backend_name(b), backend) == 0)
			break;
	if (!kb_rcu_backend_name(b) || kb_rcu_set_backend(b) != KB_OK) {
		fprintf(stderr, "cannot use the RCU backend %s: %s\n", backend, kb_rcu_backend_error());
		return 2;
	}
	for (int r = 0; r < reps; r++)
		v[0][r] = read_rate(seconds);
	printf("read_api %.4g\n", median(v[0], reps));

	kb_rcu_register_thread();
	for (int r = 0; r < reps; r++) {
		v[0][r] = ns_per(qs, 1000000);
		v[1][r] = ns_per(offon, 200000);
	}
	printf("qs_ns %.4g\n", median(v[0], reps));
	printf("offon_ns %.4g\n", median(v[1], reps));
	kb_rcu_unregister_thread();

	for (int nr = 0; nr <= 1; nr++) {
		for (int r = 0; r < reps; r++)
			sync_latency(nr, iters, &v[0][r], &v[1][r]);
		printf("sync_%dr_median_us %.4g\n", nr, median(v[0], reps));
		printf("sync_%dr_p99_us %.4g\n", nr, median(v[1], reps));
	}
	for (int r = 0; r < reps; r++) {
		v[0][r] = call_rcu_rate(100000);
		v[1][r] = one_cb_barrier_us();
		v[2][r] = idle_barrier_us();
	}
	printf("callrcu_per_s %.4g\n", median(v[0], reps));
	printf("one_cb_barrier_us %.4g\n", median(v[1], reps));
	printf("barrier_idle_us %.4g\n", median(v[2], reps));
	kb_rcu_shutdown(-1);
	return 0;
}
