/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/rcu.c - the builtin backend: kbind's own userspace QSBR RCU engine.
 *
 * One implementation of struct kb_rcu_backend (csrc/engine/rcu_backend.h); the
 * public kb_rcu_*() functions are in csrc/engine/rcu_api.c, which also holds the
 * registry, nesting counts, the token channel and rcu_barrier().  The
 * reader side (and the protocol it follows) is in csrc/engine/rcu_inline.h.
 * This file holds:
 *  - the reader protocol's slow paths (quiescent state, offline, online);
 *  - grace periods: kb_rcu_gp.ctr counts the ones started, gp_done the
 *    ones completed; a caller takes a cookie (the counter value whose
 *    completion it needs) and whoever holds gp_lock drives grace periods
 *    until that cookie is done, so concurrent callers share them.  A driver
 *    that gives up (bounded wait) leaves the grace period in progress for
 *    the next one: no correctness is given up, only the wait;
 *  - stall detection: the readers holding up a grace period for longer
 *    than the stall timeout can be listed (and printed);
 *  - call_rcu: a wait-free queue drained by one worker thread that waits
 *    one grace period per batch and sleeps on a futex when idle;
 *  - the busted variants' effects on this engine.
 */
#include "rcu_backend.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Scans of the registry a writer spins through before it sleeps. */
#define KB_RCU_SPIN_SCANS 100
/* Spins the call_rcu worker waits for a producer to link a node. */
#define KB_RCU_LINK_SPINS 128

struct kb_rcu_gp_state kb_rcu_gp = { .ctr = 1, .futex = 0 };

/* The registry lives in csrc/engine/rcu_api.c; short names for this file. */
#define registry_lock kb_rcu_registry_lock
#define registry kb_rcu_registry
#define stall_timeout_ns kb_rcu_stall_timeout_ns
#define stall_verbose kb_rcu_stall_verbose
#define stall_count kb_rcu_stall_count_

/* --------------------------------------------------------- grace periods */

/* Serializes grace-period drivers; sleeps (futex) while another drives. */
static kb_mutex_t gp_lock;
/* kb_rcu_gp.ctr value of the last completed grace period (gp_lock). */
static uint64_t gp_done = 1;
/* When the grace period in progress started (gp_lock). */
static int64_t gp_start_ns;
/*
 * The grace period (its counter) whose stall was last counted: a stall is
 * counted and printed once per grace period, however many bounded waits
 * (Python waits in slices) it takes.  Under gp_lock.
 */
static uint64_t stall_counted_ctr;

/* ------------------------------------------------------------- call_rcu */

/*
 * The callback queue: producers exchange the tail and then link the old
 * tail to their node (wait-free); the worker takes the whole list at once.
 * cbq_stub is the list head: cbq_stub.next is the first queued node.
 */
static kb_rcu_head_t cbq_stub;
static kb_rcu_head_t *cbq_tail __attribute__((aligned(64))) = &cbq_stub;
/* 1 while the worker sleeps (or is about to) on an empty queue. */
static uint32_t cb_worker_futex;
static bool cb_worker_running;
static bool cb_worker_stop;
static pthread_t cb_worker;
static pthread_mutex_t cb_worker_lock = PTHREAD_MUTEX_INITIALIZER;
/*
 * What the worker holds, for a child of fork() to recover: the batch it
 * took off the queue, from the first callback not yet started to the last,
 * and how many it started and has not yet reported.  Written, with the
 * splice, under cb_batch_lock (a spinlock held for a few instructions),
 * which the fork prepare handler takes: the child sees no half update.
 */
static kb_spinlock_t cb_batch_lock;
static kb_rcu_head_t *cb_batch_next;
static kb_rcu_head_t *cb_batch_last;
static uint64_t cb_batch_started;

/* ====================================================== reader side */

/**
 * kb_rcu_wake_writer() - wake the writer sleeping until @r's report.
 * @r: the calling thread's record, whose waiting flag was seen set.
 *
 * The writer armed kb_rcu_gp.futex before setting the flag (release), so
 * having seen the flag, the exchange below sees the futex armed, unless
 * another reader already disarmed it and woke the writer.
 * Context: the thread owning @r, after announcing a quiescent state or
 * going offline.
 */
void kb_rcu_wake_writer(struct kb_rcu_reader *r)
{
	KB_WRITE_ONCE(r->waiting, 0);
	/* Orders the load that saw the flag before the exchange below. */
	kb_smp_mb();
	if (__atomic_exchange_n(&kb_rcu_gp.futex, 0, __ATOMIC_SEQ_CST) ==
	    KB_RCU_FUTEX_WAITING)
		kb_futex_wake(&kb_rcu_gp.futex, INT_MAX);
}

/**
 * kb_rcu_quiescent_state_slow() - announce a quiescent state for @gp_ctr.
 * @r: the calling thread's record.
 * @gp_ctr: the grace-period counter the caller just read.
 *
 * Context: the thread owning @r, outside read-side critical sections.
 */
void kb_rcu_quiescent_state_slow(struct kb_rcu_reader *r, uint64_t gp_ctr)
{
	if (KB_UNLIKELY(KB_READ_ONCE(kb_rcu_busted) == KB_RCU_BUSTED_READER))
		gp_ctr = 0; /* busted: claim to be offline, ignoring sections */
	/*
	 * Orders this thread's read-side accesses before the announcement;
	 * pairs with the smp_mb() after the scan in kb_rcu_drive_gp(), which
	 * precedes the grace period's completion (and the freeing).
	 */
	kb_smp_mb();
	KB_WRITE_ONCE(r->ctr, gp_ctr);
	/*
	 * Orders the announcement before later read-side accesses (pairs with
	 * the smp_mb() after the counter bump in kb_rcu_drive_gp()) and before
	 * the load of the waiting flag (pairs with the smp_mb() after the
	 * flags are set in kb_rcu_wait_readers()).
	 */
	kb_smp_mb();
	if (KB_UNLIKELY(KB_READ_ONCE(r->waiting)))
		kb_rcu_wake_writer(r);
}

/* The builtin table's quiescent_state: the inline fast path's slow path. */
static void builtin_quiescent_state(struct kb_rcu_reader *r)
{
	uint64_t gp_ctr = KB_READ_ONCE(kb_rcu_gp.ctr);

	if (gp_ctr != KB_READ_ONCE(r->ctr))
		kb_rcu_quiescent_state_slow(r, gp_ctr);
}

/**
 * builtin_thread_offline() - stop holding up grace periods.
 * @r: the calling thread's record.
 *
 * An offline thread may not be in a read-side critical section; grace
 * periods ignore it until builtin_thread_online().
 * Context: the thread owning @r, outside read-side sections.
 */
static void builtin_thread_offline(struct kb_rcu_reader *r)
{
	/* Orders earlier read-side accesses before going offline; pairs with
	 * the smp_mb() after the scan in kb_rcu_drive_gp(). */
	kb_smp_mb();
	KB_WRITE_ONCE(r->ctr, 0);
	/* Orders the store before the load of the waiting flag; pairs with
	 * the smp_mb() after the flags are set in kb_rcu_wait_readers(). */
	kb_smp_mb();
	if (KB_UNLIKELY(KB_READ_ONCE(r->waiting)))
		kb_rcu_wake_writer(r);
}

/**
 * builtin_thread_online() - hold up grace periods again (a quiescent state).
 * @r: the calling thread's record.
 *
 * Context: the thread owning @r.
 */
static void builtin_thread_online(struct kb_rcu_reader *r)
{
	uint64_t ctr;

	ctr = KB_READ_ONCE(kb_rcu_gp.ctr);
	if (KB_UNLIKELY(KB_READ_ONCE(kb_rcu_busted) == KB_RCU_BUSTED_READER))
		ctr = 0; /* busted: stay invisible to grace periods */
	KB_WRITE_ONCE(r->ctr, ctr);
	/*
	 * Orders the announcement before later read-side accesses: a writer
	 * whose scan (after its smp_mb() in kb_rcu_drive_gp()) missed it
	 * published its removal before that barrier, so we see the removal.
	 */
	kb_smp_mb();
}

/* The builtin table's register_thread: a new reader comes online. */
static void builtin_register_thread(struct kb_rcu_reader *r)
{
	builtin_thread_online(r);
}

/* The builtin table's unregister_thread: the record is all there is. */
static void builtin_unregister_thread(struct kb_rcu_reader *r)
{
	KB_UNUSED(r);
}

/* ========================================================== grace periods */

static bool kb_rcu_reader_blocks(const struct kb_rcu_reader *r, uint64_t ctr)
{
	uint64_t c = KB_READ_ONCE(r->ctr);

	return c != 0 && c != ctr;
}

/* Print the readers holding up grace period @ctr.  Registry lock held. */
static void kb_rcu_print_stall(uint64_t ctr, int64_t age_ns)
{
	struct kb_rcu_reader *r;

	fprintf(stderr, "kbind: RCU grace period %llu stalled for %lld ms by:\n",
		(unsigned long long)(ctr / 2), (long long)(age_ns / 1000000));
	for (r = registry.next; r != &registry; r = r->next)
		if (kb_rcu_reader_blocks(r, ctr))
			fprintf(stderr, "kbind:   thread %lld%s%s%s\n", (long long)r->tid,
				r->name[0] ? " '" : "", r->name, r->name[0] ? "'" : "");
}

/*
 * Wait until every registered reader is offline or has announced @ctr.
 * Spins through a few scans, then arms the futex, flags the readers it
 * waits for and sleeps until one of them reports.  The registry lock is
 * held while scanning and spinning (a few microseconds: a thread that
 * registers meanwhile waits that long), never while sleeping.  Caller
 * holds gp_lock.
 * Return: KB_OK, or KB_ETIMEDOUT once @deadline (-1: none) has passed.
 */
static int kb_rcu_wait_readers(uint64_t ctr, int64_t deadline)
{
	unsigned int scans = 0;
	bool stall_seen = KB_READ_ONCE(stall_counted_ctr) == ctr;

	pthread_mutex_lock(&registry_lock);
	for (;;) {
		bool sleep = scans >= KB_RCU_SPIN_SCANS;
		bool busy = false;
		struct kb_rcu_reader *r;
		int64_t now, age, wait;

		if (sleep) {
			KB_WRITE_ONCE(kb_rcu_gp.futex, KB_RCU_FUTEX_WAITING);
			/*
			 * Flag every registered reader, not only those that
			 * block now: a reader coming online with a counter it
			 * read before this grace period began is offline here
			 * but blocks in the re-scan below, and must wake us at
			 * its next quiescent state (liburcu flags its whole
			 * wait list for the same reason).  A flag on a reader
			 * that did not block costs at most one spurious wake-up.
			 * Release: a reader that sees the flag sees the futex
			 * armed (kb_rcu_wake_writer()).
			 */
			for (r = registry.next; r != &registry; r = r->next)
				kb_smp_store_release(&r->waiting, 1);
			/*
			 * Orders the flags before the re-reads below; pairs
			 * with the smp_mb() between a reader's ctr store and
			 * its load of the flag: either we see its report or it
			 * sees the flag and wakes us.
			 */
			kb_smp_mb();
		}
		for (r = registry.next; r != &registry; r = r->next)
			if (kb_rcu_reader_blocks(r, ctr)) {
				busy = true;
				break;
			}
		if (!busy) {
			pthread_mutex_unlock(&registry_lock);
			if (sleep)
				KB_WRITE_ONCE(kb_rcu_gp.futex, 0);
			return KB_OK;
		}
		scans++;
		if (!sleep) {
			kb_cpu_relax();
			continue;
		}
		now = kb_now_ns();
		age = now - KB_READ_ONCE(gp_start_ns);
		if (!stall_seen && age >= KB_READ_ONCE(stall_timeout_ns)) {
			stall_seen = true;
			KB_WRITE_ONCE(stall_counted_ctr, ctr);
			__atomic_fetch_add(&stall_count, 1, __ATOMIC_RELAXED);
			if (KB_READ_ONCE(stall_verbose))
				kb_rcu_print_stall(ctr, age);
		}
		pthread_mutex_unlock(&registry_lock);
		if (deadline >= 0 && now >= deadline) {
			KB_WRITE_ONCE(kb_rcu_gp.futex, 0);
			return KB_ETIMEDOUT;
		}
		wait = deadline >= 0 ? deadline - now : -1;
		if (!stall_seen && KB_READ_ONCE(stall_verbose)) {
			int64_t to_stall = KB_READ_ONCE(stall_timeout_ns) - age;

			if (wait < 0 || to_stall < wait)
				wait = to_stall > 0 ? to_stall : 0;
		}
		kb_futex_wait(&kb_rcu_gp.futex, KB_RCU_FUTEX_WAITING, wait);
		pthread_mutex_lock(&registry_lock);
	}
}

/**
 * builtin_poll_state() - has the grace period for @cookie ended?
 * @cookie: from kb_get_state_synchronize_rcu().
 *
 * Ordering: acquire on true (pairs with the release completing the grace
 * period in kb_rcu_drive_gp()): what readers did before their quiescent
 * states is visible to the caller.
 * Context: any; never blocks.
 */
static bool builtin_poll_state(uint64_t cookie)
{
	return (int64_t)(kb_smp_load_acquire(&gp_done) - cookie) >= 0;
}

/**
 * builtin_get_state() - a cookie for a grace period from now.
 *
 * The cookie names the first grace period that starts after this call:
 * one in progress now may already have seen readers that then began new
 * sections, so it does not count.
 * Ordering: full barrier first, so the caller's removals precede it.
 * Context: any; never blocks.
 */
static uint64_t builtin_get_state(void)
{
	/* Orders the caller's removals before the read of the counter; pairs
	 * with the smp_mb() in a reader's quiescent state (RWC pattern). */
	kb_smp_mb();
	return KB_READ_ONCE(kb_rcu_gp.ctr) + 2;
}

/*
 * Drive grace periods under gp_lock until @cookie is done or @deadline.
 * Return: KB_OK or KB_ETIMEDOUT.
 */
static int kb_rcu_drive_gp(uint64_t cookie, int64_t deadline)
{
	for (;;) {
		uint64_t ctr;
		int ret;

		if (kb_mutex_lock_timeout(&gp_lock, kb_rcu_left(deadline)) != KB_OK)
			return KB_ETIMEDOUT;
		if (builtin_poll_state(cookie)) {
			kb_mutex_unlock(&gp_lock);
			return KB_OK;
		}
		ctr = KB_READ_ONCE(kb_rcu_gp.ctr);
		if (ctr == KB_READ_ONCE(gp_done)) {
			/* None in progress: start one.  Orders the removals the
			 * waiters made before the bump (pairs with a reader's
			 * smp_mb() after it reads the counter). */
			kb_smp_mb();
			ctr += 2;
			KB_WRITE_ONCE(gp_start_ns, kb_now_ns());
			/* The start time before the counter: a stall check that
			 * reads the new counter reads this grace period's start,
			 * never the previous one's.  Pairs with the smp_rmb() in
			 * builtin_stalled_readers(). */
			kb_smp_wmb();
			KB_WRITE_ONCE(kb_rcu_gp.ctr, ctr);
			/* Orders the bump before the scan; pairs with the
			 * smp_mb() after a reader's ctr store (online/QS). */
			kb_smp_mb();
		}
		if (KB_UNLIKELY(KB_READ_ONCE(kb_rcu_busted) == KB_RCU_BUSTED_NO_WAIT))
			ret = KB_OK; /* busted: end the grace period at once */
		else
			ret = kb_rcu_wait_readers(ctr, deadline);
		if (ret == KB_OK) {
			/* Orders the scan's reads of the readers' reports before
			 * the completion (and all frees after it); pairs with the
			 * smp_mb() before a reader's report. */
			kb_smp_mb();
			kb_smp_store_release(&gp_done, ctr);
		}
		kb_mutex_unlock(&gp_lock);
		if (ret != KB_OK)
			return ret;
	}
}

/** builtin_gp_count() - grace periods completed since the process started. */
static uint64_t builtin_gp_count(void)
{
	return (kb_smp_load_acquire(&gp_done) - 1) / 2;
}

/* ================================================================= stalls */

/**
 * builtin_stalled_readers() - the readers holding up a stalled grace period.
 * @out: filled with up to @max entries.
 * @max: room in @out.
 *
 * Lists the online readers that have not reported a quiescent state for
 * the grace period in progress, if it has lasted at least the stall
 * timeout.  Never waits for anything but the registry lock.
 * Context: any.
 * Return: how many readers stall it (may exceed @max; 0 if no stall).
 */
static int builtin_stalled_readers(kb_rcu_reader_info_t *out, int max)
{
	struct kb_rcu_reader *r;
	uint64_t ctr;
	int64_t age;
	int n = 0;

	pthread_mutex_lock(&registry_lock);
	ctr = KB_READ_ONCE(kb_rcu_gp.ctr);
	/* The driver writes gp_start_ns, smp_wmb(), then the counter: read
	 * in the other order so the start belongs to this grace period. */
	kb_smp_rmb();
	age = kb_now_ns() - KB_READ_ONCE(gp_start_ns);
	if (ctr == kb_smp_load_acquire(&gp_done) || age < KB_READ_ONCE(stall_timeout_ns)) {
		pthread_mutex_unlock(&registry_lock);
		return 0;
	}
	for (r = registry.next; r != &registry; r = r->next) {
		if (!kb_rcu_reader_blocks(r, ctr))
			continue;
		n = kb_rcu_report_stalled(out, max, n, r, age);
	}
	pthread_mutex_unlock(&registry_lock);
	return n;
}

/* ============================================================== call_rcu */

static int kb_rcu_worker_start(void);

static int kb_rcu_enqueue(kb_rcu_head_t *head)
{
	kb_rcu_head_t *prev;

	/* The worker first, so that a callback is never queued with nobody
	 * to run it (and nothing aborts when it cannot be started). */
	if (KB_UNLIKELY(!kb_smp_load_acquire(&cb_worker_running)) && kb_rcu_worker_start() != KB_OK)
		return KB_EAGAIN;
	KB_WRITE_ONCE(head->next, NULL);
	/* Acq_rel exchange, then a release link: the worker's acquire load of
	 * the link sees the node initialised. */
	prev = __atomic_exchange_n(&cbq_tail, head, __ATOMIC_ACQ_REL);
	kb_smp_store_release(&prev->next, head);
	/* Orders the enqueue before the load of the worker's sleep flag; pairs
	 * with the smp_mb() in kb_rcu_worker_idle(). */
	kb_smp_mb__after_atomic();
	if (KB_UNLIKELY(!kb_smp_load_acquire(&cb_worker_running))) {
		/* A shutdown stopped it meanwhile: it restarts the worker for
		 * what it finds queued, or we do; a failure here leaves the
		 * callback to the next successful start (or rcu_barrier()). */
		(void)kb_rcu_worker_start();
	} else if (KB_READ_ONCE(cb_worker_futex) &&
		   __atomic_exchange_n(&cb_worker_futex, 0, __ATOMIC_RELAXED)) {
		kb_futex_wake(&cb_worker_futex, 1);
	}
	return KB_OK;
}

/*
 * Take the whole queue: returns its first node and sets *@last, or NULL.
 * Worker only.
 */
static kb_rcu_head_t *kb_rcu_splice(kb_rcu_head_t **last)
{
	kb_rcu_head_t *first;
	unsigned int spins = 0;

	if (kb_smp_load_acquire(&cbq_tail) == &cbq_stub)
		return NULL;
	/* A producer exchanged the tail but may not have linked it yet. */
	while (!(first = kb_smp_load_acquire(&cbq_stub.next))) {
		if (++spins < KB_RCU_LINK_SPINS)
			kb_cpu_relax();
		else
			sched_yield();
	}
	KB_WRITE_ONCE(cbq_stub.next, NULL);
	/* Acq_rel: producers that get &cbq_stub back link after the NULL. */
	*last = __atomic_exchange_n(&cbq_tail, &cbq_stub, __ATOMIC_ACQ_REL);
	return first;
}

/* Invoke the callbacks of one batch after a grace period. */
static void kb_rcu_worker_run_batch(kb_rcu_head_t *first, kb_rcu_head_t *last)
{
	uint64_t n = 0;
	bool tokens = false;

	if (KB_READ_ONCE(kb_rcu_busted) != KB_RCU_BUSTED_EARLY_CB)
		(void)kb_rcu_drive_gp(builtin_get_state(), -1);
	while (first) {
		kb_rcu_head_t *next = NULL;
		unsigned int spins = 0;

		/* Read the link before the callback frees or re-queues the node. */
		if (first != last) {
			while (!(next = kb_smp_load_acquire(&first->next))) {
				if (++spins < KB_RCU_LINK_SPINS)
					kb_cpu_relax();
				else
					sched_yield();
			}
		}
		if (first->func == kb_rcu_token_done)
			tokens = true;
		kb_spin_lock(&cb_batch_lock);
		KB_WRITE_ONCE(cb_batch_next, next); /* @first counts as started */
		KB_WRITE_ONCE(cb_batch_started, n + 1);
		kb_spin_unlock(&cb_batch_lock);
		first->func(first);
		n++;
		first = next;
	}
	kb_spin_lock(&cb_batch_lock);
	kb_rcu_callbacks_done(n, tokens);
	KB_WRITE_ONCE(cb_batch_next, NULL);
	KB_WRITE_ONCE(cb_batch_started, 0);
	kb_spin_unlock(&cb_batch_lock);
}

/* Sleep until the queue is non-empty or the worker is told to stop. */
static void kb_rcu_worker_idle(void)
{
	KB_WRITE_ONCE(cb_worker_futex, 1);
	/* Orders the sleep flag before the queue check; pairs with the
	 * smp_mb__after_atomic() after the enqueue in kb_rcu_enqueue(). */
	kb_smp_mb();
	if (kb_smp_load_acquire(&cbq_tail) == &cbq_stub && !KB_READ_ONCE(cb_worker_stop))
		kb_futex_wait(&cb_worker_futex, 1, -1);
	KB_WRITE_ONCE(cb_worker_futex, 0);
}

static void *kb_rcu_worker_main(void *arg)
{
	KB_UNUSED(arg);
	kb_rcu_on_cb_thread = true;
	for (;;) {
		kb_rcu_head_t *last = NULL;
		kb_rcu_head_t *first;

		kb_spin_lock(&cb_batch_lock);
		first = kb_rcu_splice(&last);
		KB_WRITE_ONCE(cb_batch_next, first);
		KB_WRITE_ONCE(cb_batch_last, last);
		KB_WRITE_ONCE(cb_batch_started, 0);
		kb_spin_unlock(&cb_batch_lock);
		if (first) {
			kb_rcu_worker_run_batch(first, last);
			continue;
		}
		if (KB_READ_ONCE(cb_worker_stop))
			return NULL;
		kb_rcu_worker_idle();
	}
}

/* Start the callback worker unless it runs.  Return: KB_OK or KB_EAGAIN. */
static int kb_rcu_worker_start(void)
{
	int ret = KB_OK;

	pthread_mutex_lock(&cb_worker_lock);
	if (!KB_READ_ONCE(cb_worker_running)) {
		ret = kb_rcu_start_thread(&cb_worker, kb_rcu_worker_main, "kb-rcu-cb");
		if (ret == KB_OK)
			kb_smp_store_release(&cb_worker_running, true);
	}
	pthread_mutex_unlock(&cb_worker_lock);
	return ret;
}

/**
 * builtin_shutdown() - stop the worker (no callback pending).
 *
 * A later kb_call_rcu() starts a new worker.
 * Context: not from a callback; may sleep (joins the worker).
 * Return: KB_OK.
 */
static int builtin_shutdown(void)
{
	pthread_mutex_lock(&cb_worker_lock);
	if (KB_READ_ONCE(cb_worker_running)) {
		KB_WRITE_ONCE(cb_worker_stop, true);
		/* Orders the stop flag before the wake-up; pairs with the
		 * smp_mb() in kb_rcu_worker_idle(). */
		kb_smp_mb();
		__atomic_store_n(&cb_worker_futex, 0, __ATOMIC_RELAXED);
		kb_futex_wake(&cb_worker_futex, 1);
		pthread_join(cb_worker, NULL);
		KB_WRITE_ONCE(cb_worker_stop, false);
		KB_WRITE_ONCE(cb_worker_running, false);
		/* A racing kb_call_rcu() saw the worker running and did not
		 * start one; pairs with its smp_mb__after_atomic(). */
		kb_smp_mb();
		if (kb_smp_load_acquire(&cbq_tail) != &cbq_stub) {
			pthread_mutex_unlock(&cb_worker_lock);
			(void)kb_rcu_worker_start(); /* failing: the next call_rcu retries */
			return KB_OK;
		}
	}
	pthread_mutex_unlock(&cb_worker_lock);
	return KB_OK;
}

/* ================================================================== fork */

/* Follow @n's links to the end reachable from it (stopping at @stop if
 * non-NULL); count the nodes.  Return: the last one (NULL if @n is). */
static kb_rcu_head_t *kb_rcu_chain_end(kb_rcu_head_t *n, const kb_rcu_head_t *stop,
				       uint64_t *count)
{
	kb_rcu_head_t *end = NULL;

	while (n) {
		end = n;
		(*count)++;
		if (n == stop)
			break;
		n = n->next;
	}
	return end;
}

/* fork_prepare: the worker between two bookkeeping steps; no enqueue or
 * start of the worker in progress. */
static void builtin_fork_prepare(void)
{
	pthread_mutex_lock(&cb_worker_lock);
	kb_spin_lock(&cb_batch_lock);
}

static void builtin_fork_parent(void)
{
	kb_spin_unlock(&cb_batch_lock);
	pthread_mutex_unlock(&cb_worker_lock);
}

/*
 * fork_child: the worker is gone.  The callbacks it had taken and not yet
 * started go back to the front of the queue; those it started count as
 * invoked (one may have been running: it is not run twice); a node a dead
 * producer had not linked yet is lost with it, so the queued count is
 * recomputed from what the queue really holds.  A grace period the dead
 * driver held gp_lock for is finished by the next waiter (the counter says
 * one is in progress; only this thread is left to wait for).
 */
static void builtin_fork_child(void)
{
	kb_rcu_head_t *requeue = NULL, *requeue_last = NULL, *qfirst, *qlast = NULL;
	uint64_t pending = 0;

	if (KB_READ_ONCE(cb_worker_running) && pthread_equal(pthread_self(), cb_worker)) {
		/* A callback forked: this thread is the worker and goes on. */
		builtin_fork_parent();
		return;
	}
	if (cb_batch_next) {
		requeue = cb_batch_next;
		requeue_last = kb_rcu_chain_end(requeue, cb_batch_last, &pending);
	}
	kb_rcu_cb_invoked += cb_batch_started;
	qfirst = cbq_stub.next;
	qlast = kb_rcu_chain_end(qfirst, cbq_tail, &pending);
	if (requeue) {
		requeue_last->next = qfirst;
		cbq_stub.next = requeue;
		if (!qfirst)
			qlast = requeue_last;
	}
	if (qlast)
		qlast->next = NULL;
	cbq_tail = qlast ? qlast : &cbq_stub;
	kb_rcu_cb_queued = kb_rcu_cb_invoked + pending;
	cb_batch_next = NULL;
	cb_batch_last = NULL;
	cb_batch_started = 0;
	cb_worker_running = false;
	cb_worker_stop = false;
	cb_worker_futex = 0;
	kb_rcu_gp.futex = 0;
	kb_mutex_init(&gp_lock);
	kb_spin_lock_init(&cb_batch_lock);
	pthread_mutex_unlock(&cb_worker_lock);
}

/* restart_callbacks: a child of fork() with callbacks queued starts the worker. */
static int builtin_restart_callbacks(void)
{
	if (kb_smp_load_acquire(&cbq_tail) == &cbq_stub)
		return KB_OK;
	return kb_rcu_worker_start();
}

/* ================================================================ table */

/* The call_rcu operation: head->func is set and the callback counted. */
static int builtin_call_rcu(kb_rcu_head_t *head)
{
	return kb_rcu_enqueue(head);
}

const struct kb_rcu_backend kb_rcu_builtin_backend = {
	.name = "builtin",
	.load = NULL,
	.register_thread = builtin_register_thread,
	.unregister_thread = builtin_unregister_thread,
	.quiescent_state = builtin_quiescent_state,
	.thread_offline = builtin_thread_offline,
	.thread_online = builtin_thread_online,
	.read_lock = NULL,
	.read_unlock = NULL,
	.get_state = builtin_get_state,
	.poll_state = builtin_poll_state,
	.wait_gp = kb_rcu_drive_gp,
	.gp_count = builtin_gp_count,
	.stalled_readers = builtin_stalled_readers,
	.call_rcu = builtin_call_rcu,
	.shutdown = builtin_shutdown,
	.fork_pause = NULL,
	.fork_prepare = builtin_fork_prepare,
	.fork_parent = builtin_fork_parent,
	.fork_child = builtin_fork_child,
	.fork_drop_reader = NULL,
	.restart_callbacks = builtin_restart_callbacks,
	.usable = NULL,
};
