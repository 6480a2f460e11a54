/* SPDX-License-Identifier: MIT */
/*
 * csrc/rcu.c - userspace QSBR RCU: registry, grace periods, call_rcu.
 *
 * The reader side (and the protocol it follows) is in csrc/rcu_inline.h.
 * This file holds:
 *  - the registry of reader threads (a list under registry_lock, a mutex
 *    never held while sleeping), with automatic unregistration when a
 *    registered thread exits (a pthread key destructor);
 *  - grace periods: kb_rcu_gp.ctr counts the ones started, gp_done the
 *    ones completed; a caller takes a cookie (the counter value whose
 *    completion it needs) and whoever holds gp_lock drives grace periods
 *    until that cookie is done, so concurrent callers share them.  A driver
 *    that gives up (bounded wait) leaves the grace period in progress for
 *    the next one: no correctness is given up, only the wait;
 *  - stall detection: the readers holding up a grace period for longer
 *    than the stall timeout can be listed (and printed);
 *  - call_rcu: a wait-free queue drained by one worker thread that waits
 *    one grace period per batch, sleeps on a futex when idle, and counts
 *    what it invoked so rcu_barrier() needs no grace period of its own;
 *  - the token channel, for callers that cannot run code on the worker
 *    (Python): a token callback moves itself to a completion list that
 *    kb_rcu_reap_tokens() drains;
 *  - busted variants, for the torture test to prove it can fail.
 */
#include "rcu_inline.h"

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
/* The kernel's default RCU CPU stall timeout (21 s). */
#define KB_RCU_STALL_DEFAULT_NS (21LL * 1000000000LL)
/* Spins the call_rcu worker waits for a producer to link a node. */
#define KB_RCU_LINK_SPINS 128

struct kb_rcu_gp_state kb_rcu_gp = { .ctr = 1, .futex = 0 };
_Thread_local struct kb_rcu_reader *kb_rcu_self;
_Thread_local int kb_rcu_nesting;

static int kb_rcu_busted;

/* ---------------------------------------------------------- registry */

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kb_rcu_reader registry = { .next = &registry, .prev = &registry };
static int registry_count;
static pthread_key_t registry_key;
static pthread_once_t registry_key_once = PTHREAD_ONCE_INIT;

/* --------------------------------------------------------- grace periods */

/* Serializes grace-period drivers; sleeps (futex) while another drives. */
static kb_mutex_t gp_lock;
/* kb_rcu_gp.ctr value of the last completed grace period (gp_lock). */
static uint64_t gp_done = 1;
/* When the grace period in progress started (gp_lock). */
static int64_t gp_start_ns;
static int64_t stall_timeout_ns = KB_RCU_STALL_DEFAULT_NS;
static bool stall_verbose;
static uint64_t stall_count;

/* ------------------------------------------------------------- call_rcu */

/*
 * The callback queue: producers exchange the tail and then link the old
 * tail to their node (wait-free); the worker takes the whole list at once.
 * cbq_stub is the list head: cbq_stub.next is the first queued node.
 */
static kb_rcu_head_t cbq_stub;
static kb_rcu_head_t *cbq_tail __attribute__((aligned(64))) = &cbq_stub;
static uint64_t cb_queued __attribute__((aligned(64)));
static uint64_t cb_invoked __attribute__((aligned(64)));
/* Bumped after every batch; rcu_barrier() sleeps on it. */
static uint32_t cb_seq;
static uint32_t cb_barrier_waiters;
/* 1 while the worker sleeps (or is about to) on an empty queue. */
static uint32_t cb_worker_futex;
static bool cb_worker_running;
static bool cb_worker_stop;
static pthread_t cb_worker;
/* True on the worker thread (callbacks must not wait for the worker). */
static _Thread_local bool cb_on_worker;
static pthread_mutex_t cb_worker_lock = PTHREAD_MUTEX_INITIALIZER;

/* Token channel: completed tokens, FIFO, under tok_lock. */
struct kb_rcu_token_node {
	kb_rcu_head_t head;
	uint64_t token;
	struct kb_rcu_token_node *done_next;
};
static pthread_mutex_t tok_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kb_rcu_token_node *tok_first;
static struct kb_rcu_token_node *tok_last;
static uint64_t tok_count;
/* Bumped when tokens complete; kb_rcu_reap_tokens() sleeps on it. */
static uint32_t tok_seq;
static uint32_t tok_waiters;

static int64_t kb_rcu_gettid(void)
{
	return (int64_t)syscall(SYS_gettid);
}

static int64_t kb_rcu_deadline(int64_t timeout_ns)
{
	return timeout_ns < 0 ? -1 : kb_now_ns() + timeout_ns;
}

/* Time left until @deadline (-1: none); 0 once it has passed. */
static int64_t kb_rcu_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - kb_now_ns();
	return left > 0 ? left : 0;
}

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

/**
 * kb_rcu_quiescent_state() - report a quiescent state (rcu_quiescent_state()).
 *
 * Context: registered thread outside read-side sections; otherwise a no-op.
 */
void(kb_rcu_quiescent_state)(void)
{
	kb__rcu_quiescent_state();
}

/**
 * kb_rcu_thread_offline() - stop holding up grace periods.
 *
 * An offline thread may not be in a read-side critical section; grace
 * periods ignore it until kb_rcu_thread_online().
 * Context: registered thread, outside read-side sections; otherwise no-op.
 */
void kb_rcu_thread_offline(void)
{
	struct kb_rcu_reader *r = kb_rcu_self;

	if (!r)
		return;
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
 * kb_rcu_thread_online() - hold up grace periods again (a quiescent state).
 *
 * Context: registered thread; otherwise a no-op.
 */
void kb_rcu_thread_online(void)
{
	struct kb_rcu_reader *r = kb_rcu_self;
	uint64_t ctr;

	if (!r)
		return;
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

/** kb_rcu_read_lock() - enter a read-side section (rcu_read_lock()). */
void(kb_rcu_read_lock)(void)
{
	kb__rcu_read_lock();
}

/** kb_rcu_read_unlock() - leave a read-side section (rcu_read_unlock()). */
void(kb_rcu_read_unlock)(void)
{
	kb__rcu_read_unlock();
}

/** kb_rcu_read_lock_nesting() - read-side nesting depth of this thread. */
int kb_rcu_read_lock_nesting(void)
{
	return kb_rcu_nesting;
}

/**
 * kb_rcu_read_lock_held() - is this thread in a read-side section?
 * (rcu_read_lock_held(); in QSBR also true for an online thread, which is
 * protected until its next quiescent state, but this reports the count.)
 */
bool kb_rcu_read_lock_held(void)
{
	return kb_rcu_nesting > 0;
}

/**
 * kb_rcu_py_read_enter() - enter a read-side section for a Python guard.
 *
 * What kbind.rcu.RcuReadGuard() needs in one call: registers the calling
 * thread if it is not registered yet, brings it online if this is its
 * outermost section and it is offline (a thread in explicit QSBR mode is
 * already online and stays as it is: entering a section is not a
 * quiescent state), then counts the section.  The online store is
 * followed by a full barrier (kb_rcu_thread_online()), so the Python
 * caller's later load of the published box cannot be reordered before it.
 * Context: any thread; never blocks except on the registry lock when it
 * registers.
 * Return: the new nesting depth (>= 1), or -KB_ENOMEM if registration
 * failed (nothing changed).
 */
int kb_rcu_py_read_enter(void)
{
	struct kb_rcu_reader *r = kb_rcu_self;

	if (KB_UNLIKELY(!r)) {
		int ret = kb_rcu_register_thread(); /* starts online */

		if (ret != KB_OK)
			return -ret;
	} else if (kb_rcu_nesting == 0 && KB_READ_ONCE(r->ctr) == 0) {
		kb_rcu_thread_online();
	}
	return ++kb_rcu_nesting;
}

/**
 * kb_rcu_py_read_exit() - leave a read-side section for a Python guard.
 * @go_offline: go offline when this was the outermost section (the default
 *              for Python threads, so an idle thread never holds up a grace
 *              period); false in explicit QSBR mode.
 *
 * Going offline starts with a full barrier (kb_rcu_thread_offline()):
 * the section's loads happen before a grace period can see the thread
 * offline.
 * Context: the thread that entered; never blocks.
 * Return: the new nesting depth (>= 0), or -KB_EINVAL if the thread is not
 * in a read-side section (nothing changed).
 */
int kb_rcu_py_read_exit(bool go_offline)
{
	if (KB_UNLIKELY(kb_rcu_nesting <= 0))
		return -KB_EINVAL;
	if (--kb_rcu_nesting == 0 && go_offline)
		kb_rcu_thread_offline();
	return kb_rcu_nesting;
}

/* ================================================================ registry */

static void kb_rcu_registry_remove(struct kb_rcu_reader *r)
{
	pthread_mutex_lock(&registry_lock);
	r->prev->next = r->next;
	r->next->prev = r->prev;
	registry_count--;
	pthread_mutex_unlock(&registry_lock);
}

/* pthread key destructor: a registered thread exits without unregistering. */
static void kb_rcu_thread_exit(void *arg)
{
	struct kb_rcu_reader *r = arg;

	kb_rcu_self = r; /* offline uses the thread-local pointer */
	kb_rcu_thread_offline();
	kb_rcu_self = NULL;
	kb_rcu_registry_remove(r);
	free(r);
}

static void kb_rcu_key_create(void)
{
	if (pthread_key_create(&registry_key, kb_rcu_thread_exit) != 0)
		abort(); /* only fails when the process ran out of keys */
}

/**
 * kb_rcu_register_thread() - make the calling thread an RCU reader.
 *
 * The thread starts online (as in liburcu).  It is unregistered
 * automatically when it exits.
 * Context: any thread; takes the registry lock briefly.
 * Return: KB_OK, KB_EBUSY if already registered, KB_ENOMEM.
 */
int kb_rcu_register_thread(void)
{
	struct kb_rcu_reader *r;

	if (kb_rcu_self)
		return KB_EBUSY;
	pthread_once(&registry_key_once, kb_rcu_key_create);
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return KB_ENOMEM;
	memset(r, 0, sizeof(*r));
	r->tid = kb_rcu_gettid();
	if (pthread_setspecific(registry_key, r) != 0) {
		free(r);
		return KB_ENOMEM;
	}
	pthread_mutex_lock(&registry_lock);
	r->next = &registry;
	r->prev = registry.prev;
	registry.prev->next = r;
	registry.prev = r;
	registry_count++;
	pthread_mutex_unlock(&registry_lock);
	kb_rcu_self = r;
	kb_rcu_thread_online();
	return KB_OK;
}

/**
 * kb_rcu_unregister_thread() - stop being an RCU reader.
 *
 * Context: registered thread outside read-side sections.
 * Return: KB_OK, KB_EINVAL if not registered, KB_EBUSY inside a section.
 */
int kb_rcu_unregister_thread(void)
{
	struct kb_rcu_reader *r = kb_rcu_self;

	if (!r)
		return KB_EINVAL;
	if (kb_rcu_nesting > 0)
		return KB_EBUSY;
	kb_rcu_thread_offline();
	kb_rcu_self = NULL;
	pthread_setspecific(registry_key, NULL);
	kb_rcu_registry_remove(r);
	free(r);
	return KB_OK;
}

/**
 * kb_rcu_set_thread_name() - name the calling thread in stall reports.
 * @name: up to 31 bytes are kept; NULL clears the name.
 * Return: KB_OK, or KB_EINVAL if the thread is not registered.
 */
int kb_rcu_set_thread_name(const char *name)
{
	struct kb_rcu_reader *r = kb_rcu_self;

	if (!r)
		return KB_EINVAL;
	pthread_mutex_lock(&registry_lock);
	memset(r->name, 0, sizeof(r->name));
	if (name)
		strncpy(r->name, name, sizeof(r->name) - 1);
	pthread_mutex_unlock(&registry_lock);
	return KB_OK;
}

/** kb_rcu_is_registered() - is the calling thread a registered reader? */
bool kb_rcu_is_registered(void)
{
	return kb_rcu_self != NULL;
}

/** kb_rcu_is_online() - is the calling thread registered and online? */
bool kb_rcu_is_online(void)
{
	struct kb_rcu_reader *r = kb_rcu_self;

	return r && KB_READ_ONCE(r->ctr) != 0;
}

/** kb_rcu_registered_count() - how many threads are registered now. */
int kb_rcu_registered_count(void)
{
	int n;

	pthread_mutex_lock(&registry_lock);
	n = registry_count;
	pthread_mutex_unlock(&registry_lock);
	return n;
}

/* ================================================== pointer publication */

/** kb_rcu_dereference() - rcu_dereference(*@p).  Context: read side. */
void *(kb_rcu_dereference)(void **p)
{
	return kb__rcu_dereference(p);
}

/**
 * kb_rcu_access_pointer() - rcu_access_pointer(*@p): the value, for
 * comparison only (not to be dereferenced).  Context: any.
 */
void *kb_rcu_access_pointer(void **p)
{
	return KB_READ_ONCE(*p);
}

/**
 * kb_rcu_assign_pointer() - rcu_assign_pointer(*@p, @v): publish @v.
 *
 * Ordering: release; the initialisation of *@v is visible to any reader
 * whose kb_rcu_dereference() sees @v (pairs with that dependency/acquire).
 * Context: updater (serialized by the caller).
 */
void kb_rcu_assign_pointer(void **p, void *v)
{
	kb_smp_store_release(p, v);
}

/** kb_rcu_init_pointer() - RCU_INIT_POINTER(): no ordering (NULL, or not yet
 * reachable by readers).  Context: updater. */
void kb_rcu_init_pointer(void **p, void *v)
{
	KB_WRITE_ONCE(*p, v);
}

/**
 * kb_rcu_xchg_pointer() - rcu_xchg_pointer(): publish @v, return the old value.
 * Ordering: fully ordered (the kernel's xchg()).  Context: updater.
 */
void *kb_rcu_xchg_pointer(void **p, void *v)
{
	void *old;

	kb_smp_mb__before_atomic();
	old = __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
	kb_smp_mb__after_atomic();
	return old;
}

/**
 * kb_rcu_cmpxchg_pointer() - publish @new if *@p is @old.
 * Ordering: fully ordered on success, none on failure (the kernel's cmpxchg()).
 * Return: the value *@p held (== @old on success).
 */
void *kb_rcu_cmpxchg_pointer(void **p, void *old, void *new)
{
	void *expected = old;

	kb_smp_mb__before_atomic();
	if (__atomic_compare_exchange_n(p, &expected, new, false,
					__ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
		kb_smp_mb__after_atomic();
	return expected;
}

/**
 * kb_rcu_replace_pointer() - rcu_replace_pointer(): publish @v (release)
 * and return the old value.  Context: updater holding the update-side lock.
 */
void *kb_rcu_replace_pointer(void **p, void *v)
{
	void *old = KB_READ_ONCE(*p);

	kb_smp_store_release(p, v);
	return old;
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
	bool stall_seen = false;

	pthread_mutex_lock(&registry_lock);
	for (;;) {
		bool sleep = scans >= KB_RCU_SPIN_SCANS;
		bool busy = false;
		struct kb_rcu_reader *r;
		int64_t now, age, wait;

		if (sleep) {
			KB_WRITE_ONCE(kb_rcu_gp.futex, KB_RCU_FUTEX_WAITING);
			for (r = registry.next; r != &registry; r = r->next)
				if (kb_rcu_reader_blocks(r, ctr))
					/* Release: a reader that sees the flag
					 * sees the futex armed (kb_rcu_wake_writer()). */
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
 * kb_poll_state_synchronize_rcu() - has the grace period for @cookie ended?
 * @cookie: from kb_get_state_synchronize_rcu().
 *
 * Ordering: acquire on true (pairs with the release completing the grace
 * period in kb_rcu_drive_gp()): what readers did before their quiescent
 * states is visible to the caller.
 * Context: any; never blocks.
 */
bool kb_poll_state_synchronize_rcu(uint64_t cookie)
{
	return (int64_t)(kb_smp_load_acquire(&gp_done) - cookie) >= 0;
}

/**
 * kb_get_state_synchronize_rcu() - a cookie for a grace period from now.
 *
 * The cookie names the first grace period that starts after this call:
 * one in progress now may already have seen readers that then began new
 * sections, so it does not count.
 * Ordering: full barrier first, so the caller's removals precede it.
 * Context: any; never blocks.
 */
uint64_t kb_get_state_synchronize_rcu(void)
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
		if (kb_poll_state_synchronize_rcu(cookie)) {
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
			KB_WRITE_ONCE(kb_rcu_gp.ctr, ctr);
			KB_WRITE_ONCE(gp_start_ns, kb_now_ns());
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

/**
 * kb_rcu_wait_gp() - wait, at most @timeout_ns, for @cookie's grace period.
 * @cookie: from kb_get_state_synchronize_rcu().
 * @timeout_ns: the limit; negative means none.
 *
 * Shares grace periods with concurrent callers.  A registered online
 * caller goes offline for the wait (it must not hold references) and comes
 * back online.  On timeout the grace period stays in progress: callers
 * retry (Python does, reporting stalls between calls).
 * Context: outside read-side sections; may sleep.
 * Return: KB_OK, KB_ETIMEDOUT, or KB_EDEADLK inside a read-side section.
 */
int kb_rcu_wait_gp(uint64_t cookie, int64_t timeout_ns)
{
	struct kb_rcu_reader *self = kb_rcu_self;
	bool was_online;
	int ret;

	if (kb_poll_state_synchronize_rcu(cookie))
		return KB_OK;
	if (kb_rcu_nesting > 0)
		return KB_EDEADLK;
	was_online = self && KB_READ_ONCE(self->ctr) != 0;
	if (was_online)
		kb_rcu_thread_offline();
	ret = kb_rcu_drive_gp(cookie, kb_rcu_deadline(timeout_ns));
	if (was_online)
		kb_rcu_thread_online();
	return ret;
}

/**
 * kb_synchronize_rcu_timeout() - synchronize_rcu(), giving up after @timeout_ns.
 * Return: as kb_rcu_wait_gp().
 */
int kb_synchronize_rcu_timeout(int64_t timeout_ns)
{
	return kb_rcu_wait_gp(kb_get_state_synchronize_rcu(), timeout_ns);
}

/**
 * kb_synchronize_rcu() - synchronize_rcu(): wait for a full grace period.
 *
 * Every read-side section that began before the call has ended when it
 * returns.  Spins briefly, then sleeps until the readers it waits for
 * report a quiescent state.
 * Context: outside read-side sections; may sleep, without bound if an
 * online reader never reports (see the stall API).
 * Return: KB_OK, or KB_EDEADLK inside a read-side section (nothing waited).
 */
int kb_synchronize_rcu(void)
{
	return kb_synchronize_rcu_timeout(-1);
}

/**
 * kb_cond_synchronize_rcu() - cond_synchronize_rcu(): wait unless @cookie's
 * grace period already ended.  Return: as kb_synchronize_rcu().
 */
int kb_cond_synchronize_rcu(uint64_t cookie)
{
	return kb_rcu_wait_gp(cookie, -1);
}

/** kb_rcu_gp_count() - grace periods completed since the process started. */
uint64_t kb_rcu_gp_count(void)
{
	return (kb_smp_load_acquire(&gp_done) - 1) / 2;
}

/* ================================================================= stalls */

/** kb_rcu_set_stall_timeout_ns() - grace-period age that counts as a stall. */
void kb_rcu_set_stall_timeout_ns(int64_t timeout_ns)
{
	KB_WRITE_ONCE(stall_timeout_ns, timeout_ns < 0 ? 0 : timeout_ns);
}

/** kb_rcu_get_stall_timeout_ns() - the current stall timeout. */
int64_t kb_rcu_get_stall_timeout_ns(void)
{
	return KB_READ_ONCE(stall_timeout_ns);
}

/** kb_rcu_set_stall_verbose() - print stalls to stderr when a waiter sees them. */
void kb_rcu_set_stall_verbose(bool on)
{
	KB_WRITE_ONCE(stall_verbose, on);
}

/** kb_rcu_stall_count() - stalls seen by grace-period waiters so far. */
uint64_t kb_rcu_stall_count(void)
{
	return __atomic_load_n(&stall_count, __ATOMIC_RELAXED);
}

/**
 * kb_rcu_stalled_readers() - the readers holding up a stalled grace period.
 * @out: filled with up to @max entries.
 * @max: room in @out.
 *
 * Lists the online readers that have not reported a quiescent state for
 * the grace period in progress, if it has lasted at least the stall
 * timeout.  Never waits for anything but the registry lock.
 * Context: any.
 * Return: how many readers stall it (may exceed @max; 0 if no stall).
 */
int kb_rcu_stalled_readers(kb_rcu_reader_info_t *out, int max)
{
	struct kb_rcu_reader *r;
	uint64_t ctr;
	int64_t age;
	int n = 0;

	pthread_mutex_lock(&registry_lock);
	ctr = KB_READ_ONCE(kb_rcu_gp.ctr);
	/* gp_start_ns is written before the bump's smp_mb() by the driver;
	 * read after the counter so it belongs to this grace period. */
	kb_smp_rmb();
	age = kb_now_ns() - KB_READ_ONCE(gp_start_ns);
	if (ctr == kb_smp_load_acquire(&gp_done) || age < KB_READ_ONCE(stall_timeout_ns)) {
		pthread_mutex_unlock(&registry_lock);
		return 0;
	}
	for (r = registry.next; r != &registry; r = r->next) {
		if (!kb_rcu_reader_blocks(r, ctr))
			continue;
		if (out && n < max) {
			out[n].tid = r->tid;
			out[n].blocked_ns = age;
			memcpy(out[n].name, r->name, sizeof(out[n].name));
		}
		n++;
	}
	pthread_mutex_unlock(&registry_lock);
	return n;
}

/* ============================================================== call_rcu */

static void kb_rcu_worker_start(void);

static void kb_rcu_enqueue(kb_rcu_head_t *head)
{
	kb_rcu_head_t *prev;

	__atomic_fetch_add(&cb_queued, 1, __ATOMIC_RELAXED);
	KB_WRITE_ONCE(head->next, NULL);
	/* Acq_rel exchange, then a release link: the worker's acquire load of
	 * the link sees the node initialised. */
	prev = __atomic_exchange_n(&cbq_tail, head, __ATOMIC_ACQ_REL);
	kb_smp_store_release(&prev->next, head);
	/* Orders the enqueue before the load of the worker's sleep flag; pairs
	 * with the smp_mb() in kb_rcu_worker_idle(). */
	kb_smp_mb__after_atomic();
	if (KB_UNLIKELY(!kb_smp_load_acquire(&cb_worker_running)))
		kb_rcu_worker_start();
	else if (KB_READ_ONCE(cb_worker_futex) &&
		 __atomic_exchange_n(&cb_worker_futex, 0, __ATOMIC_RELAXED))
		kb_futex_wake(&cb_worker_futex, 1);
}

/**
 * kb_call_rcu() - call_rcu(): invoke @func(@head) after a grace period.
 * @head: caller-owned until @func runs (typically inside the object).
 * @func: runs on the call_rcu worker thread, never concurrently with
 *        another callback; it may call kb_call_rcu() again.
 *
 * Wait-free enqueue (one exchange); starts the worker on first use.
 * Context: any, including read-side sections and callbacks.
 */
void kb_call_rcu(kb_rcu_head_t *head, void (*func)(kb_rcu_head_t *head))
{
	head->func = func;
	kb_rcu_enqueue(head);
}

/* The token callback: move the node to the completion list. */
static void kb_rcu_token_done(kb_rcu_head_t *head)
{
	struct kb_rcu_token_node *t = (struct kb_rcu_token_node *)head;

	t->done_next = NULL;
	pthread_mutex_lock(&tok_lock);
	if (tok_last)
		tok_last->done_next = t;
	else
		tok_first = t;
	tok_last = t;
	tok_count++;
	pthread_mutex_unlock(&tok_lock);
}

/**
 * kb_call_rcu_token() - queue @token for completion after a grace period.
 * @token: any value; kb_rcu_reap_tokens() returns it once a grace period
 *         that started after this call has ended.
 *
 * For callers that cannot run code on the worker (Python): they keep a
 * table from token to their callback and run it when the token is reaped.
 * Context: any.  Return: KB_OK or KB_ENOMEM.
 */
int kb_call_rcu_token(uint64_t token)
{
	struct kb_rcu_token_node *t = malloc(sizeof(*t));

	if (!t)
		return KB_ENOMEM;
	t->token = token;
	kb_call_rcu(&t->head, kb_rcu_token_done);
	return KB_OK;
}

/**
 * kb_rcu_reap_tokens() - take completed tokens, oldest first.
 * @out: room for @max tokens.
 * @max: at least 1.
 * @timeout_ns: how long to sleep for the first one (0: don't; <0: no limit).
 *
 * Context: any; may sleep up to @timeout_ns.
 * Return: how many tokens were copied (0 on timeout), -KB_EINVAL if @max < 1.
 */
int kb_rcu_reap_tokens(uint64_t *out, int max, int64_t timeout_ns)
{
	int64_t deadline = kb_rcu_deadline(timeout_ns);

	if (max < 1 || !out)
		return -KB_EINVAL;
	for (;;) {
		struct kb_rcu_token_node *batch = NULL, *t;
		uint32_t seq;
		int n = 0;
		int64_t left;

		__atomic_fetch_add(&tok_waiters, 1, __ATOMIC_SEQ_CST);
		/* Orders the waiter count before the checks; pairs with the
		 * smp_mb() in kb_rcu_worker_run_batch() before it reads it. */
		kb_smp_mb__after_atomic();
		seq = KB_READ_ONCE(tok_seq);
		pthread_mutex_lock(&tok_lock);
		while (tok_first && n < max) {
			t = tok_first;
			tok_first = t->done_next;
			t->done_next = batch;
			batch = t;
			out[n++] = t->token; /* reversed below */
		}
		if (!tok_first)
			tok_last = NULL;
		tok_count -= (uint64_t)n;
		pthread_mutex_unlock(&tok_lock);
		if (n > 0) {
			__atomic_fetch_sub(&tok_waiters, 1, __ATOMIC_RELAXED);
			while (batch) {
				t = batch;
				batch = t->done_next;
				free(t);
			}
			return n;
		}
		left = kb_rcu_left(deadline);
		if (left == 0) {
			__atomic_fetch_sub(&tok_waiters, 1, __ATOMIC_RELAXED);
			return 0;
		}
		kb_futex_wait(&tok_seq, seq, left);
		__atomic_fetch_sub(&tok_waiters, 1, __ATOMIC_RELAXED);
	}
}

/** kb_rcu_tokens_ready() - completed tokens not yet reaped. */
uint64_t kb_rcu_tokens_ready(void)
{
	uint64_t n;

	pthread_mutex_lock(&tok_lock);
	n = tok_count;
	pthread_mutex_unlock(&tok_lock);
	return n;
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
		(void)kb_rcu_wait_gp(kb_get_state_synchronize_rcu(), -1);
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
		first->func(first);
		n++;
		first = next;
	}
	/* Release: rcu_barrier()'s acquire load sees the callbacks' effects. */
	kb_smp_store_release(&cb_invoked, KB_READ_ONCE(cb_invoked) + n);
	__atomic_fetch_add(&cb_seq, 1, __ATOMIC_RELAXED);
	if (tokens)
		__atomic_fetch_add(&tok_seq, 1, __ATOMIC_RELAXED);
	/* Orders the counter updates before reading the waiter counts; pairs
	 * with the barriers after the waiters increment them. */
	kb_smp_mb();
	if (KB_READ_ONCE(cb_barrier_waiters))
		kb_futex_wake(&cb_seq, INT_MAX);
	if (tokens && KB_READ_ONCE(tok_waiters))
		kb_futex_wake(&tok_seq, INT_MAX);
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
	cb_on_worker = true;
	for (;;) {
		kb_rcu_head_t *last = NULL;
		kb_rcu_head_t *first = kb_rcu_splice(&last);

		if (first) {
			kb_rcu_worker_run_batch(first, last);
			continue;
		}
		if (KB_READ_ONCE(cb_worker_stop))
			return NULL;
		kb_rcu_worker_idle();
	}
}

static void kb_rcu_worker_start(void)
{
	pthread_mutex_lock(&cb_worker_lock);
	if (!KB_READ_ONCE(cb_worker_running)) {
		pthread_attr_t attr;
		sigset_t all, old;
		int rc;

		pthread_attr_init(&attr);
		/* The worker must not take signals meant for the caller. */
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		rc = pthread_create(&cb_worker, &attr, kb_rcu_worker_main, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
		if (rc != 0) {
			fprintf(stderr, "kbind: cannot start the call_rcu worker (error %d)\n", rc);
			abort();
		}
		pthread_setname_np(cb_worker, "kb-rcu-cb");
		kb_smp_store_release(&cb_worker_running, true);
	}
	pthread_mutex_unlock(&cb_worker_lock);
}

/**
 * kb_rcu_pending_callbacks() - callbacks queued and not yet invoked.
 * Context: any; a snapshot.
 */
uint64_t kb_rcu_pending_callbacks(void)
{
	uint64_t done = kb_smp_load_acquire(&cb_invoked);

	return __atomic_load_n(&cb_queued, __ATOMIC_RELAXED) - done;
}

/** kb_rcu_callbacks_invoked() - callbacks invoked since the process started. */
uint64_t kb_rcu_callbacks_invoked(void)
{
	return kb_smp_load_acquire(&cb_invoked);
}

/* Sleep until the worker has invoked @target callbacks, or @deadline. */
static int kb_rcu_barrier_wait(uint64_t target, int64_t deadline)
{
	for (;;) {
		uint32_t seq;
		int64_t left;

		__atomic_fetch_add(&cb_barrier_waiters, 1, __ATOMIC_SEQ_CST);
		/* Pairs with the smp_mb() in kb_rcu_worker_run_batch(). */
		kb_smp_mb__after_atomic();
		seq = KB_READ_ONCE(cb_seq);
		if ((int64_t)(kb_smp_load_acquire(&cb_invoked) - target) >= 0) {
			__atomic_fetch_sub(&cb_barrier_waiters, 1, __ATOMIC_RELAXED);
			return KB_OK;
		}
		left = kb_rcu_left(deadline);
		if (left == 0) {
			__atomic_fetch_sub(&cb_barrier_waiters, 1, __ATOMIC_RELAXED);
			return KB_ETIMEDOUT;
		}
		kb_futex_wait(&cb_seq, seq, left);
		__atomic_fetch_sub(&cb_barrier_waiters, 1, __ATOMIC_RELAXED);
	}
}

/**
 * kb_rcu_barrier_timeout() - rcu_barrier(), giving up after @timeout_ns.
 * @timeout_ns: the limit; negative means none.
 *
 * Waits until every callback queued before the call has been invoked.
 * The worker takes callbacks in queue order and each call_rcu() counts
 * its callback before enqueueing it, so "invoked >= queued-at-entry"
 * means all of them ran.  With nothing pending it returns at once.
 * A registered online caller goes offline for the wait (the callbacks'
 * grace period would otherwise wait for it) and comes back online.
 * Context: outside read-side sections, not from a callback (the worker
 * would wait for itself); may sleep.
 * Return: KB_OK, KB_ETIMEDOUT, or KB_EDEADLK (in a read-side section or on
 * the worker thread, when it would have to wait).
 */
int kb_rcu_barrier_timeout(int64_t timeout_ns)
{
	uint64_t target = __atomic_load_n(&cb_queued, __ATOMIC_ACQUIRE);
	struct kb_rcu_reader *self;
	bool was_online;
	int ret;

	if ((int64_t)(kb_smp_load_acquire(&cb_invoked) - target) >= 0)
		return KB_OK;
	if (cb_on_worker || kb_rcu_nesting > 0)
		return KB_EDEADLK;
	self = kb_rcu_self;
	was_online = self && KB_READ_ONCE(self->ctr) != 0;
	if (was_online)
		kb_rcu_thread_offline(); /* the callbacks' grace period waits for us */
	ret = kb_rcu_barrier_wait(target, kb_rcu_deadline(timeout_ns));
	if (was_online)
		kb_rcu_thread_online();
	return ret;
}

/**
 * kb_rcu_barrier() - rcu_barrier().  Context: as kb_rcu_barrier_timeout().
 */
void kb_rcu_barrier(void)
{
	(void)kb_rcu_barrier_timeout(-1);
}

/**
 * kb_rcu_shutdown() - run pending callbacks, then stop the worker.
 * @timeout_ns: limit for the pending callbacks; negative means none.
 *
 * For interpreter exit.  A later kb_call_rcu() starts a new worker.
 * Context: not from a callback; may sleep.
 * Return: KB_OK, or KB_ETIMEDOUT (the worker keeps running).
 */
int kb_rcu_shutdown(int64_t timeout_ns)
{
	int ret = kb_rcu_barrier_timeout(timeout_ns);

	if (ret != KB_OK)
		return ret;
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
			kb_rcu_worker_start();
			return KB_OK;
		}
	}
	pthread_mutex_unlock(&cb_worker_lock);
	return KB_OK;
}

/* ================================================================ busted */

/**
 * kb_rcu_set_busted() - select a deliberately broken engine (tests only).
 * @variant: KB_RCU_BUSTED_NONE; _NO_WAIT (grace periods do not wait);
 *           _READER (readers never announce themselves online, so grace
 *           periods ignore their read-side sections); _EARLY_CB (call_rcu
 *           callbacks run without waiting for a grace period).
 * Context: any; affects every thread.
 * Return: KB_OK or KB_EINVAL.
 */
int kb_rcu_set_busted(int variant)
{
	if (variant < KB_RCU_BUSTED_NONE || variant > KB_RCU_BUSTED_EARLY_CB)
		return KB_EINVAL;
	KB_WRITE_ONCE(kb_rcu_busted, variant);
	return KB_OK;
}

/** kb_rcu_get_busted() - the engine variant in use. */
int kb_rcu_get_busted(void)
{
	return KB_READ_ONCE(kb_rcu_busted);
}
