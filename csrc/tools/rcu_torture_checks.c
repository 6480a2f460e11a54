/* SPDX-License-Identifier: MIT */
/*
 * csrc/tools/rcu_torture_checks.c - the optional checks of the RCU torture
 * (csrc/tools/rcu_torture.c), each in its own thread, as rcutorture's
 * kthreads (kernel/rcu/rcutorture.c):
 *
 *  - rcu_barrier() test (rcu_torture_barrier(), "rtbe"): queue a batch of
 *    callbacks, call rcu_barrier(), check that every one of them has run;
 *  - forward progress (rcu_torture_fwd_prog_cr()): flood call_rcu() for a
 *    quarter of the run, with at most KB_RCU_TORTURE_FLOOD_CAP callbacks in
 *    flight (invoked ones are re-posted); grace periods and callbacks must
 *    keep completing, and the backlog must drain afterwards;
 *  - stall (rcu_torture_stall(), stall_cpu=): one reader holds its section
 *    past a short stall timeout; kb_rcu_stalled_readers() must name it;
 *  - churn (the CPU-hotplug kthread, onoff_interval=): short-lived readers
 *    started and exiting one after another (the long-lived readers also
 *    unregister/register and go offline/online at random, in the readers).
 *
 * Every failure criterion is a count or "did it happen at all", never a
 * rate: a loaded machine makes them slower, not failing.  Every wait is
 * bounded (the stall by 50 stall timeouts, the flood's progress and drain
 * by 10 s each).
 */
#include "tools/rcu_torture_internal.h"

#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KB_TORTURE_MS 1000000LL
/* Most a flood waits for progress, then for its backlog to drain. */
#define KB_TORTURE_FLOOD_WAIT_NS (10000 * KB_TORTURE_MS)
#define KB_TORTURE_FLOOD_BURST 256
/* The stall check gives up after this many stall timeouts. */
#define KB_TORTURE_STALL_CAP 50

static void kb_torture_sleep(int64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	nanosleep(&ts, NULL);
}

/* ----------------------------------------------------- rcu_barrier() test */

static void kb_torture_bar_cb(kb_rcu_head_t *head)
{
	struct kb_torture *t = ((struct kb_torture_cb *)head)->t;

	__atomic_fetch_add(&t->bar_done, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&t->bar_pending, 1, __ATOMIC_RELEASE);
}

/**
 * kb_torture_barrier_tester() - the rcu_barrier() test thread.
 * @arg: the run.
 *
 * Each test queues 1..KB_TORTURE_BARRIER_CBS callbacks and calls
 * rcu_barrier(): when it returns, all of them must have run.  A barrier
 * that returned early counts one rtbe; the test then waits (1 ms naps) for
 * the stragglers before reusing their heads.
 */
void *kb_torture_barrier_tester(void *arg)
{
	struct kb_torture *t = arg;
	uint64_t seed = t->cfg.seed * 0x2545f4914f6cdd1dULL + 7;
	int i;

	kb_torture_wait_go(t);
	while (!kb_torture_stopped(t)) {
		uint64_t n = 1 + (kb_torture_rand(&seed) >> 16) % KB_TORTURE_BARRIER_CBS;

		__atomic_store_n(&t->bar_done, 0, __ATOMIC_RELAXED);
		for (i = 0; i < (int)n; i++) {
			__atomic_fetch_add(&t->bar_pending, 1, __ATOMIC_RELAXED);
			if (kb_call_rcu(&t->bar_cbs[i].rh, kb_torture_bar_cb) != KB_OK) {
				__atomic_fetch_sub(&t->bar_pending, 1, __ATOMIC_RELAXED);
				break;
			}
		}
		n = (uint64_t)i;
		kb_rcu_barrier();
		t->bar.tests++;
		t->bar.callbacks += n;
		if (__atomic_load_n(&t->bar_done, __ATOMIC_ACQUIRE) != n) {
			t->bar.rtbe++;
			while (__atomic_load_n(&t->bar_done, __ATOMIC_ACQUIRE) != n)
				kb_torture_sleep(KB_TORTURE_MS);
		}
		kb_torture_nap(t, KB_TORTURE_MS / 2);
	}
	return NULL;
}

/* ------------------------------------------------------ forward progress */

static void kb_torture_flood_cb(kb_rcu_head_t *head)
{
	struct kb_torture_cb *c = (struct kb_torture_cb *)head;
	struct kb_torture *t = c->t;

	/* Counted before it can be posted again: the backlog never exceeds the cap. */
	__atomic_fetch_add(&t->flood_invoked, 1, __ATOMIC_RELEASE);
	pthread_mutex_lock(&t->flood_lock);
	c->next = t->flood_free;
	t->flood_free = c;
	pthread_mutex_unlock(&t->flood_lock);
}

/* Wait (1 ms naps, at most KB_TORTURE_FLOOD_WAIT_NS) until @done says so. */
static bool kb_torture_flood_wait(struct kb_torture *t, bool (*done)(struct kb_torture *, uint64_t),
				  uint64_t gp0)
{
	int64_t limit = kb_deadline_ns(KB_TORTURE_FLOOD_WAIT_NS);

	while (!done(t, gp0)) {
		if (kb_now_ns() >= limit || kb_torture_stop_requested())
			return false;
		kb_torture_sleep(KB_TORTURE_MS);
	}
	return true;
}

static bool kb_torture_flood_progress(struct kb_torture *t, uint64_t gp0)
{
	return kb_rcu_gp_count() != gp0 && __atomic_load_n(&t->flood_invoked, __ATOMIC_ACQUIRE) > 0;
}

static bool kb_torture_flood_drained(struct kb_torture *t, uint64_t gp0)
{
	(void)gp0;
	return __atomic_load_n(&t->flood_invoked, __ATOMIC_ACQUIRE) == KB_READ_ONCE(t->flood.posted);
}

/**
 * kb_torture_flooder() - the forward-progress thread.
 * @arg: the run.
 *
 * From a quarter of the run, for a quarter of it (at least 1 ms), posts
 * callbacks in bursts of KB_TORTURE_FLOOD_BURST, reusing invoked ones,
 * with at most KB_RCU_TORTURE_FLOOD_CAP in flight.  Fails (flood.errors)
 * if no grace period and no flood callback completed since it began, or
 * its backlog does not drain, within 10 s after it stopped posting.
 */
void *kb_torture_flooder(void *arg)
{
	struct kb_torture *t = arg;
	kb_rcu_torture_flood_t *f = &t->flood;
	struct kb_torture_cb *mine = NULL;
	uint64_t fresh = 0, gp0;
	int64_t quarter, begin, end;

	kb_torture_wait_go(t);
	quarter = (t->deadline_ns - t->start_ns) / 4;
	if (quarter < KB_TORTURE_MS)
		quarter = KB_TORTURE_MS;
	kb_torture_nap(t, quarter);
	if (kb_torture_stopped(t))
		return NULL; /* the run ended first: no flood */
	gp0 = kb_rcu_gp_count();
	begin = kb_now_ns();
	end = begin + quarter;
	while (!kb_torture_stopped(t) && kb_now_ns() < end) {
		uint64_t backlog, pending;
		int k;

		for (k = 0; k < KB_TORTURE_FLOOD_BURST; k++) {
			struct kb_torture_cb *c = mine;

			if (c) {
				mine = c->next;
			} else if (fresh < KB_RCU_TORTURE_FLOOD_CAP) {
				c = &t->flood_cbs[fresh++];
				c->t = t;
			} else {
				pthread_mutex_lock(&t->flood_lock);
				mine = t->flood_free;
				t->flood_free = NULL;
				pthread_mutex_unlock(&t->flood_lock);
				if (!mine) {
					f->cap_hits++;
					break;
				}
				continue;
			}
			if (kb_call_rcu(&c->rh, kb_torture_flood_cb) != KB_OK) {
				c->next = mine; /* not queued: still ours */
				mine = c;
				break;
			}
			KB_WRITE_ONCE(f->posted, f->posted + 1);
		}
		backlog = f->posted - __atomic_load_n(&t->flood_invoked, __ATOMIC_ACQUIRE);
		if (backlog > f->peak_backlog)
			f->peak_backlog = backlog;
		pending = kb_rcu_pending_callbacks();
		if (pending > f->peak_pending)
			f->peak_pending = pending;
		if (k < KB_TORTURE_FLOOD_BURST)
			kb_torture_nap(t, KB_TORTURE_MS / 10); /* at the cap: let callbacks run */
		else
			sched_yield();
	}
	f->elapsed_ns = kb_now_ns() - begin;
	f->grace_periods = kb_rcu_gp_count() - gp0;
	f->invoked = __atomic_load_n(&t->flood_invoked, __ATOMIC_ACQUIRE);
	if (!kb_torture_flood_wait(t, kb_torture_flood_progress, gp0))
		f->errors = 1;
	begin = kb_now_ns();
	if (!kb_torture_flood_wait(t, kb_torture_flood_drained, gp0))
		f->errors = 1;
	f->drain_ns = kb_now_ns() - begin;
	return NULL;
}

/**
 * kb_torture_flood_drain() - after the run: wait until no flood callback is
 * queued (their heads are freed with the run).
 * @t: the run; every thread has been joined.
 */
void kb_torture_flood_drain(struct kb_torture *t)
{
	while (__atomic_load_n(&t->flood_invoked, __ATOMIC_ACQUIRE) != t->flood.posted)
		kb_rcu_barrier();
}

/* ------------------------------------------------------------------ stall */

/**
 * kb_torture_staller() - the stall thread: one reader that holds a
 * read-side section until the driver has seen the engine name it (or gave
 * up, or the run was interrupted).
 * @arg: the run.
 */
void *kb_torture_staller(void *arg)
{
	struct kb_torture *t = arg;
	int64_t begin;

	if (kb_rcu_register_thread() != KB_OK) {
		__atomic_store_n(&t->stall_state, KB_TORTURE_STALL_RELEASED, __ATOMIC_SEQ_CST);
		return NULL;
	}
	(void)kb_rcu_set_thread_name(KB_TORTURE_STALL_NAME);
	kb_rcu_thread_offline();
	kb_torture_wait_go(t);
	kb_torture_nap(t, 2 * KB_TORTURE_MS);
	if (kb_torture_stopped(t)) {
		/* The run ended before the stall began: nothing injected. */
		__atomic_store_n(&t->stall_state, KB_TORTURE_STALL_RELEASED, __ATOMIC_SEQ_CST);
		(void)kb_rcu_unregister_thread();
		return NULL;
	}
	kb_rcu_thread_online();
	kb_rcu_read_lock();
	begin = kb_now_ns();
	KB_WRITE_ONCE(t->stall_tid, (int64_t)syscall(SYS_gettid));
	KB_WRITE_ONCE(t->stall_begin_ns, begin);
	/* Release: the driver that sees HOLDING sees the tid and the time. */
	if (__atomic_exchange_n(&t->stall_state, KB_TORTURE_STALL_HOLDING, __ATOMIC_SEQ_CST) ==
	    KB_TORTURE_STALL_IDLE) {
		kb_futex_wake(&t->stall_state, INT_MAX);
		while (__atomic_load_n(&t->stall_state, __ATOMIC_ACQUIRE) ==
		       KB_TORTURE_STALL_HOLDING)
			kb_futex_wait(&t->stall_state, KB_TORTURE_STALL_HOLDING, 10 * KB_TORTURE_MS);
	}
	KB_WRITE_ONCE(t->stall.held_ns, kb_now_ns() - begin);
	kb_rcu_read_unlock();
	kb_rcu_quiescent_state();
	kb_rcu_thread_offline();
	(void)kb_rcu_unregister_thread();
	return NULL;
}

/** kb_torture_stall_pending() - is the stall check still going? */
bool kb_torture_stall_pending(struct kb_torture *t)
{
	return __atomic_load_n(&t->stall_state, __ATOMIC_ACQUIRE) != KB_TORTURE_STALL_RELEASED;
}

static void kb_torture_stall_release(struct kb_torture *t)
{
	__atomic_store_n(&t->stall_state, KB_TORTURE_STALL_RELEASED, __ATOMIC_SEQ_CST);
	kb_futex_wake(&t->stall_state, INT_MAX);
}

/**
 * kb_torture_stall_monitor() - one step of the driver's stall check.
 * @t: the run.
 *
 * Waits (at most about 2 ms) for the stall to begin, or, while the stall
 * thread holds its section: asks for a grace period (1 ms timeout: one is
 * then in progress, waiting for the stalled reader), and looks for the
 * stall thread in kb_rcu_stalled_readers().  Found: detected, and the
 * reader lets go; not found within KB_TORTURE_STALL_CAP stall timeouts:
 * an error.
 */
void kb_torture_stall_monitor(struct kb_torture *t)
{
	kb_rcu_reader_info_t info[KB_RCU_TORTURE_MAX_THREADS + 8];
	int64_t tid, now;
	int n, i;

	if (__atomic_load_n(&t->stall_state, __ATOMIC_ACQUIRE) == KB_TORTURE_STALL_IDLE) {
		kb_futex_wait(&t->stall_state, KB_TORTURE_STALL_IDLE, 2 * KB_TORTURE_MS);
		return;
	}
	if (!kb_torture_stall_pending(t))
		return;
	t->stall.injected = 1;
	tid = KB_READ_ONCE(t->stall_tid);
	(void)kb_synchronize_rcu_timeout(KB_TORTURE_MS);
	n = kb_rcu_stalled_readers(info, (int)(sizeof(info) / sizeof(info[0])));
	for (i = 0; i < n && i < (int)(sizeof(info) / sizeof(info[0])); i++) {
		if (info[i].tid != tid || strcmp(info[i].name, KB_TORTURE_STALL_NAME) != 0)
			continue;
		t->stall.detected = 1;
		t->stall.tid = tid;
		t->stall.blocked_ns = info[i].blocked_ns;
		memcpy(t->stall.name, info[i].name, sizeof(t->stall.name));
		kb_torture_stall_release(t);
		return;
	}
	now = kb_now_ns();
	if (now - KB_READ_ONCE(t->stall_begin_ns) >= KB_TORTURE_STALL_CAP * t->stall.timeout_ns) {
		t->stall.tid = tid;
		t->stall.errors = 1; /* the engine never named the stalled reader */
		kb_torture_stall_release(t);
		return;
	}
	kb_futex_wait(&t->stall_state, KB_TORTURE_STALL_HOLDING, KB_TORTURE_MS / 2);
}

/* ------------------------------------------------------------------ churn */

struct kb_torture_shortlived {
	struct kb_torture *t;
	int kind;
	uint64_t seed;
	uint64_t sections;
};

static void *kb_torture_shortlived_reader(void *arg)
{
	struct kb_torture_shortlived *s = arg;
	struct kb_torture *t = s->t;
	struct kb_torture_reader_stats st;
	struct kb_torture_reader_stats *sum = &t->churn_stats[s->kind];
	int j;

	kb_torture_read_loop(t, s->kind, s->seed, &st, s->sections);
	pthread_mutex_lock(&t->stats_lock);
	sum->kind = s->kind;
	sum->reads += st.reads;
	sum->freed_seen += st.freed_seen;
	sum->too_old += st.too_old;
	for (j = 0; j < KB_RCU_TORTURE_PIPE_LEN; j++) {
		sum->pipe[j] += st.pipe[j];
		sum->batch[j] += st.batch[j];
	}
	sum->churn.registrations += st.churn.registrations;
	sum->churn.unregistrations += st.churn.unregistrations;
	sum->churn.offline += st.churn.offline;
	sum->churn.online += st.churn.online;
	sum->churn.exits++;
	pthread_mutex_unlock(&t->stats_lock);
	return NULL;
}

/**
 * kb_torture_churner() - the churn thread: start a short-lived reader (the
 * kinds in turn), let it read 64..255 sections and exit, join it, start
 * the next one after 1 ms.
 * @arg: the run.
 */
void *kb_torture_churner(void *arg)
{
	struct kb_torture *t = arg;
	uint64_t seed = t->cfg.seed * 0x9e3779b97f4a7c15ULL + 0x5eed;
	int turn = 0;

	kb_torture_wait_go(t);
	while (!kb_torture_stopped(t)) {
		struct kb_torture_shortlived s = {
			.t = t,
			.kind = t->kinds[turn++ % t->nkinds],
			.seed = kb_torture_rand(&seed),
			.sections = 64 + (kb_torture_rand(&seed) >> 8) % 192,
		};
		pthread_t tid;

		if (pthread_create(&tid, NULL, kb_torture_shortlived_reader, &s) != 0)
			break; /* out of threads: no more churn */
		__atomic_fetch_add(&t->churn_restarts, 1, __ATOMIC_RELAXED);
		pthread_join(tid, NULL);
		__atomic_fetch_add(&t->churn_exits, 1, __ATOMIC_RELAXED);
		kb_torture_nap(t, KB_TORTURE_MS);
	}
	return NULL;
}
