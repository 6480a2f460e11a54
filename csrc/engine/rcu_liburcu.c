/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/rcu_liburcu.c - the liburcu backend: kbind's RCU API over liburcu's
 * QSBR flavour (urcu-qsbr), loaded with dlopen() at selection time.
 *
 * Nothing here includes liburcu's headers or links against it, so kbind
 * builds and imports on a machine without it; kb_rcu_set_backend() loads
 * the library and resolves the functions below, or fails with KB_ENOENT.
 * The functions used and the one structure shared with it (struct
 * rcu_head) are part of liburcu's ABI since 0.11 (soname 8 up to 0.14).
 *
 * What liburcu does itself: the reader protocol (register, quiescent
 * state, offline, online), grace periods (urcu_qsbr_synchronize_rcu()),
 * and call_rcu (its own queue and worker thread).
 *
 * What it lacks, and this file adds so kbind's checks give the same
 * results on both backends (docs/backends.md):
 *  - bounded waits: urcu_qsbr_synchronize_rcu() cannot time out, so one
 *    helper thread ("kb-urcu-gp") runs grace periods on request, numbered
 *    by ur_started/ur_done, and callers sleep on a futex with a deadline
 *    until their cookie's grace period is done.  A caller that gives up
 *    leaves the grace period running, as the builtin engine does;
 *  - stall reports: a shadow in each kbind record (kb_rcu_reader.ctr: 0
 *    offline, else 2 * ur_started + 1 as read just before the thread's
 *    last report) lets kb_rcu_stalled_readers() list the online threads
 *    that have not reported since the helper's grace period began;
 *  - the token channel and rcu_barrier(): a trampoline around each
 *    callback reports it to csrc/engine/rcu_api.c (kb_rcu_callbacks_done());
 *  - busted variants: _NO_WAIT (grace periods end without calling
 *    liburcu) and _READER (readers stay offline in liburcu).  _EARLY_CB
 *    cannot exist: liburcu's call_rcu thread always waits first.
 */
#include "rcu_backend.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/*
 * liburcu's struct rcu_head (urcu/call-rcu.h): a wait-free queue node
 * (one pointer) then the function.  It lives in kb_rcu_head_t.backend.
 */
struct kb_urcu_head {
	struct kb_urcu_head *next;
	void (*func)(struct kb_urcu_head *head);
};

_Static_assert(sizeof(struct kb_urcu_head) <= sizeof(((kb_rcu_head_t *)0)->backend),
	       "kb_rcu_head_t.backend must hold liburcu's struct rcu_head");

/* The library, tried in this order unless KBIND_LIBURCU_QSBR names one. */
static const char *const urcu_sonames[] = { "liburcu-qsbr.so.8", "liburcu-qsbr.so" };

/**
 * struct kb_urcu_api - the liburcu functions kbind calls (dlsym()).
 * Written once by urcu_load() under the selection lock, before the backend
 * can be selected; read-only afterwards.
 */
static struct kb_urcu_api {
	void (*register_thread)(void);
	void (*unregister_thread)(void);
	void (*quiescent_state)(void);
	void (*thread_offline)(void);
	void (*thread_online)(void);
	void (*synchronize_rcu)(void);
	void (*call_rcu)(struct kb_urcu_head *head, void (*func)(struct kb_urcu_head *head));
	/* Optional (liburcu's fork hooks for its call_rcu threads). */
	void (*call_rcu_before_fork)(void);
	void (*call_rcu_after_fork_parent)(void);
	void (*call_rcu_after_fork_child)(void);
} urcu;
static void *urcu_handle;

/* --------------------------------------------------- grace-period helper */

/* Grace periods started / completed by kbind (the cookies' numbers). */
static uint64_t ur_started __attribute__((aligned(64)));
static uint64_t ur_done __attribute__((aligned(64)));
/* The highest cookie a waiter asked for. */
static uint64_t ur_requested;
/* The helper's grace period in progress (0: none) and when it began. */
static uint64_t ur_cur_gp;
static int64_t ur_gp_start_ns;
/* The last grace period counted as a stall. */
static uint64_t ur_stall_gp;
/* Bumped when a grace period completes; waiters sleep on it. */
static uint32_t ur_gp_seq;
static uint32_t ur_gp_waiters;
/* 1 while the helper sleeps (or is about to) with nothing requested. */
static uint32_t ur_helper_futex;
static bool ur_helper_running;
static pthread_t ur_helper;
static pthread_mutex_t ur_helper_lock = PTHREAD_MUTEX_INITIALIZER;
/* Held by the helper for each grace period, and by a fork pause: a child
 * must not inherit liburcu's grace-period lock held by a thread it lacks. */
static pthread_mutex_t ur_gp_run_lock = PTHREAD_MUTEX_INITIALIZER;
/* call_rcu was used: liburcu's call_rcu thread is a registered reader. */
static bool ur_call_rcu_used;
/* In a child of fork() whose parent had other registered threads: see
 * urcu_be_fork_child().  Every grace period, registration and call_rcu is
 * then refused (KB_ENOTSUP). */
static bool ur_fork_unusable;

/* ------------------------------------------------------------- loading */

static bool urcu_sym(void *handle, const char *name, void *fnp, size_t size)
{
	void *sym = dlsym(handle, name);

	if (!sym)
		return false;
	memcpy(fnp, &sym, size); /* POSIX: a data pointer holds a function's address */
	return true;
}

#define URCU_SYM(h, field, name) urcu_sym(h, name, &urcu.field, sizeof(urcu.field))

/**
 * urcu_load() - dlopen() liburcu-qsbr and resolve its functions.
 *
 * The environment variable KBIND_LIBURCU_QSBR, if set, names the library
 * (a soname or a path) instead of the default sonames.  A loaded library
 * stays loaded.
 * Context: under the selection lock (csrc/engine/rcu_api.c).
 * Return: KB_OK, or KB_ENOENT with kb_rcu_load_error filled in.
 */
static int urcu_load(void)
{
	const char *forced = getenv("KBIND_LIBURCU_QSBR");
	const char *name = NULL, *err = "no library name";
	void *h = NULL;
	size_t i;

	if (urcu_handle)
		return KB_OK;
	if (forced && forced[0]) {
		name = forced;
		h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
		if (!h)
			err = dlerror();
	} else {
		for (i = 0; i < sizeof(urcu_sonames) / sizeof(urcu_sonames[0]) && !h; i++) {
			name = urcu_sonames[i];
			h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
			if (!h)
				err = dlerror();
		}
	}
	if (!h) {
		snprintf(kb_rcu_load_error, sizeof(kb_rcu_load_error),
			 "cannot load liburcu's QSBR flavour (%s): %s", name, err ? err : "?");
		return KB_ENOENT;
	}
	if (!URCU_SYM(h, register_thread, "urcu_qsbr_register_thread") ||
	    !URCU_SYM(h, unregister_thread, "urcu_qsbr_unregister_thread") ||
	    !URCU_SYM(h, quiescent_state, "urcu_qsbr_quiescent_state") ||
	    !URCU_SYM(h, thread_offline, "urcu_qsbr_thread_offline") ||
	    !URCU_SYM(h, thread_online, "urcu_qsbr_thread_online") ||
	    !URCU_SYM(h, synchronize_rcu, "urcu_qsbr_synchronize_rcu") ||
	    !URCU_SYM(h, call_rcu, "urcu_qsbr_call_rcu")) {
		snprintf(kb_rcu_load_error, sizeof(kb_rcu_load_error),
			 "%s lacks the urcu_qsbr_* functions (liburcu >= 0.11 needed): %s",
			 name, dlerror());
		memset(&urcu, 0, sizeof(urcu));
		dlclose(h);
		return KB_ENOENT;
	}
	/* Present in every liburcu with call_rcu threads; kept optional. */
	urcu.call_rcu_before_fork = (void (*)(void))dlsym(h, "urcu_qsbr_call_rcu_before_fork");
	urcu.call_rcu_after_fork_parent =
		(void (*)(void))dlsym(h, "urcu_qsbr_call_rcu_after_fork_parent");
	urcu.call_rcu_after_fork_child =
		(void (*)(void))dlsym(h, "urcu_qsbr_call_rcu_after_fork_child");
	urcu_handle = h;
	return KB_OK;
}

/* ========================================================== reader side */

/*
 * The shadow of a report: 2 * ur_started + 1, with ur_started read before
 * the report (so it never hides a reader that has not reported since a
 * grace period began; it may name, until its next report, one that did so
 * just as the grace period began).  A plain marked store: it is only read
 * for reports and is_online(); liburcu's own barriers order the real one.
 */
static uint64_t urcu_shadow_seen(void)
{
	return 2 * KB_READ_ONCE(ur_started) + 1;
}

static bool urcu_busted_reader(void)
{
	return KB_READ_ONCE(kb_rcu_busted) == KB_RCU_BUSTED_READER;
}

/* quiescent_state: urcu_qsbr_quiescent_state(), or busted: stay offline. */
static void urcu_be_quiescent_state(struct kb_rcu_reader *r)
{
	uint64_t seen = urcu_shadow_seen();

	if (KB_UNLIKELY(urcu_busted_reader())) {
		urcu.thread_offline(); /* busted: invisible to grace periods */
		KB_WRITE_ONCE(r->ctr, 0);
		return;
	}
	urcu.quiescent_state();
	KB_WRITE_ONCE(r->ctr, seen);
}

static void urcu_be_thread_offline(struct kb_rcu_reader *r)
{
	urcu.thread_offline();
	KB_WRITE_ONCE(r->ctr, 0);
}

static void urcu_be_thread_online(struct kb_rcu_reader *r)
{
	uint64_t seen = urcu_shadow_seen();

	if (KB_UNLIKELY(urcu_busted_reader())) {
		KB_WRITE_ONCE(r->ctr, 0); /* busted: stay offline */
		return;
	}
	urcu.thread_online();
	KB_WRITE_ONCE(r->ctr, seen);
}

/* register_thread: liburcu registers a thread online. */
static void urcu_be_register_thread(struct kb_rcu_reader *r)
{
	uint64_t seen = urcu_shadow_seen();

	urcu.register_thread();
	if (KB_UNLIKELY(urcu_busted_reader())) {
		urcu.thread_offline();
		seen = 0;
	}
	KB_WRITE_ONCE(r->ctr, seen);
}

/* unregister_thread: the thread is offline already (csrc/engine/rcu_api.c). */
static void urcu_be_unregister_thread(struct kb_rcu_reader *r)
{
	KB_UNUSED(r);
	urcu.unregister_thread();
}

/* ========================================================= grace periods */

/* Raise *@p to @v if it is lower (@mo: ordering of a successful update). */
static void urcu_max_u64(uint64_t *p, uint64_t v, int mo)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while ((int64_t)(v - cur) > 0 &&
	       !__atomic_compare_exchange_n(p, &cur, v, true, mo, __ATOMIC_RELAXED))
		;
}

/**
 * urcu_be_get_state() - a cookie: the number of the first grace period the
 * helper starts after this call.
 *
 * Ordering: the full barrier orders the caller's removals before the read
 * of ur_started; pairs with the fully ordered increment of ur_started in
 * urcu_run_gp(): if we read the old value, that grace period (and the
 * liburcu grace period it runs after the increment) sees the removals.
 */
static uint64_t urcu_be_get_state(void)
{
	kb_smp_mb();
	return KB_READ_ONCE(ur_started) + 1;
}

/* poll_state: acquire, pairs with the release in urcu_complete(). */
static bool urcu_be_poll_state(uint64_t cookie)
{
	return (int64_t)(__atomic_load_n(&ur_done, __ATOMIC_ACQUIRE) - cookie) >= 0;
}

/* Grace period @s is over: publish it and wake the waiters. */
static void urcu_complete(uint64_t s)
{
	/* Release: a waiter whose acquire (urcu_be_poll_state()) sees @s sees
	 * everything ordered before the grace period's end. */
	urcu_max_u64(&ur_done, s, __ATOMIC_RELEASE);
	/* Release: a waiter whose acquire read of ur_gp_seq sees the bump sees
	 * ur_done too, so it cannot sleep on the new sequence with the old
	 * count (MP).  Pairs with the acquire read in urcu_be_wait_gp(). */
	__atomic_fetch_add(&ur_gp_seq, 1, __ATOMIC_RELEASE);
	/* Orders the sequence bump before the read of the waiter count; pairs
	 * with the smp_mb__after_atomic() in urcu_be_wait_gp(). */
	kb_smp_mb();
	if (KB_READ_ONCE(ur_gp_waiters))
		kb_futex_wake(&ur_gp_seq, INT_MAX);
}

/* One grace period on the helper thread. */
static void urcu_run_gp(void)
{
	uint64_t s;

	pthread_mutex_lock(&ur_gp_run_lock);
	/* Fully ordered: pairs with the smp_mb() in urcu_be_get_state(). */
	s = __atomic_add_fetch(&ur_started, 1, __ATOMIC_SEQ_CST);

	KB_WRITE_ONCE(ur_gp_start_ns, kb_now_ns());
	/* Release: a stall check that sees @s sees its start time. */
	kb_smp_store_release(&ur_cur_gp, s);
	if (KB_READ_ONCE(kb_rcu_busted) != KB_RCU_BUSTED_NO_WAIT)
		urcu.synchronize_rcu();
	/* Orders liburcu's grace period (its reads of the readers' reports,
	 * between its own full barriers) before the completion below. */
	kb_smp_mb();
	KB_WRITE_ONCE(ur_cur_gp, 0);
	urcu_complete(s);
	pthread_mutex_unlock(&ur_gp_run_lock);
}

static bool urcu_gp_wanted(void)
{
	return (int64_t)(__atomic_load_n(&ur_requested, __ATOMIC_ACQUIRE) -
			 __atomic_load_n(&ur_done, __ATOMIC_RELAXED)) > 0;
}

static void *urcu_helper_main(void *arg)
{
	KB_UNUSED(arg);
	for (;;) {
		if (urcu_gp_wanted()) {
			urcu_run_gp();
			continue;
		}
		KB_WRITE_ONCE(ur_helper_futex, 1);
		/* Orders the sleep flag before the re-check; pairs with the
		 * smp_mb() after a request in urcu_request(). */
		kb_smp_mb();
		if (!urcu_gp_wanted())
			kb_futex_wait(&ur_helper_futex, 1, -1);
		KB_WRITE_ONCE(ur_helper_futex, 0);
	}
	return NULL;
}

/* Ask the helper for grace period @cookie; start or wake it.
 * Return: KB_OK, or KB_EAGAIN if the helper thread cannot be started. */
static int urcu_request(uint64_t cookie)
{
	int ret = KB_OK;

	urcu_max_u64(&ur_requested, cookie, __ATOMIC_RELEASE);
	/* Orders the request before the read of the sleep flag; pairs with
	 * the smp_mb() in urcu_helper_main(). */
	kb_smp_mb();
	if (KB_UNLIKELY(!kb_smp_load_acquire(&ur_helper_running))) {
		pthread_mutex_lock(&ur_helper_lock);
		if (!KB_READ_ONCE(ur_helper_running)) {
			ret = kb_rcu_start_thread(&ur_helper, urcu_helper_main, "kb-urcu-gp");
			if (ret == KB_OK)
				kb_smp_store_release(&ur_helper_running, true);
		}
		pthread_mutex_unlock(&ur_helper_lock);
	} else if (KB_READ_ONCE(ur_helper_futex) &&
		   __atomic_exchange_n(&ur_helper_futex, 0, __ATOMIC_RELAXED)) {
		kb_futex_wake(&ur_helper_futex, 1);
	}
	return ret;
}

/* Count (once per grace period) and maybe print a stall; Return: its age
 * if a grace period is in progress and not yet counted, else -1. */
static int64_t urcu_check_stall(void)
{
	uint64_t gp = kb_smp_load_acquire(&ur_cur_gp), last;
	int64_t age;

	if (!gp)
		return -1;
	age = kb_now_ns() - KB_READ_ONCE(ur_gp_start_ns);
	last = __atomic_load_n(&ur_stall_gp, __ATOMIC_RELAXED);
	if (last == gp)
		return -1;
	if (age < KB_READ_ONCE(kb_rcu_stall_timeout_ns))
		return age;
	if (__atomic_compare_exchange_n(&ur_stall_gp, &last, gp, false, __ATOMIC_RELAXED,
					__ATOMIC_RELAXED)) {
		__atomic_fetch_add(&kb_rcu_stall_count_, 1, __ATOMIC_RELAXED);
		if (KB_READ_ONCE(kb_rcu_stall_verbose))
			kb_rcu_print_stalled(gp, age);
	}
	return -1;
}

/**
 * urcu_be_wait_gp() - wait until @cookie's grace period is done, or @deadline.
 * @cookie: from urcu_be_get_state().
 * @deadline: absolute CLOCK_MONOTONIC ns, or -1.
 *
 * The helper runs the grace period; the caller sleeps on ur_gp_seq with a
 * deadline, checking for stalls between sleeps.  Busted _NO_WAIT: the
 * caller completes a grace period numbered at least @cookie at once.
 * Context: offline, outside sections.  Return: KB_OK or KB_ETIMEDOUT.
 */
static int urcu_be_wait_gp(uint64_t cookie, int64_t deadline)
{
	if (KB_UNLIKELY(KB_READ_ONCE(kb_rcu_busted) == KB_RCU_BUSTED_NO_WAIT)) {
		/* >= @cookie: cookies are ur_started + 1 when taken. */
		urcu_complete(__atomic_add_fetch(&ur_started, 1, __ATOMIC_SEQ_CST));
		return KB_OK;
	}
	if (KB_UNLIKELY(KB_READ_ONCE(ur_fork_unusable)))
		return KB_ENOTSUP;
	if (urcu_request(cookie) != KB_OK)
		return KB_EAGAIN;
	for (;;) {
		uint32_t seq;
		int64_t left, young;

		__atomic_fetch_add(&ur_gp_waiters, 1, __ATOMIC_SEQ_CST);
		/* Pairs with the smp_mb() in urcu_complete(). */
		kb_smp_mb__after_atomic();
		/* Acquire: pairs with the release bump in urcu_complete(). */
		seq = kb_smp_load_acquire(&ur_gp_seq);
		if (urcu_be_poll_state(cookie)) {
			__atomic_fetch_sub(&ur_gp_waiters, 1, __ATOMIC_RELAXED);
			return KB_OK;
		}
		young = urcu_check_stall();
		left = kb_rcu_left(deadline);
		if (left == 0) {
			__atomic_fetch_sub(&ur_gp_waiters, 1, __ATOMIC_RELAXED);
			return KB_ETIMEDOUT;
		}
		if (young >= 0 && KB_READ_ONCE(kb_rcu_stall_verbose)) {
			/* Wake up in time to report the stall. */
			int64_t to_stall = KB_READ_ONCE(kb_rcu_stall_timeout_ns) - young;

			if (to_stall < 1000)
				to_stall = 1000;
			if (left < 0 || to_stall < left)
				left = to_stall;
		}
		kb_futex_wait(&ur_gp_seq, seq, left);
		__atomic_fetch_sub(&ur_gp_waiters, 1, __ATOMIC_RELAXED);
	}
}

/* gp_count: the grace periods kbind's waiters completed (not those that
 * liburcu's call_rcu thread runs for itself; docs/backends.md). */
static uint64_t urcu_be_gp_count(void)
{
	return __atomic_load_n(&ur_done, __ATOMIC_ACQUIRE);
}

/**
 * urcu_be_stalled_readers() - kbind threads stalling the helper's grace
 * period: registered, online, and (by their shadow) not reported since it
 * began.  Threads liburcu knows but kbind does not (another library's
 * readers) are not listed; nor are stalls of liburcu's call_rcu thread.
 */
static int urcu_be_stalled_readers(kb_rcu_reader_info_t *out, int max)
{
	struct kb_rcu_reader *r;
	uint64_t gp;
	int64_t age;
	int n = 0;

	pthread_mutex_lock(&kb_rcu_registry_lock);
	gp = kb_smp_load_acquire(&ur_cur_gp);
	age = kb_now_ns() - KB_READ_ONCE(ur_gp_start_ns);
	if (!gp || age < KB_READ_ONCE(kb_rcu_stall_timeout_ns)) {
		pthread_mutex_unlock(&kb_rcu_registry_lock);
		return 0;
	}
	for (r = kb_rcu_registry.next; r != &kb_rcu_registry; r = r->next) {
		uint64_t c = KB_READ_ONCE(r->ctr);

		if (c == 0 || c / 2 >= gp)
			continue;
		n = kb_rcu_report_stalled(out, max, n, r, age);
	}
	pthread_mutex_unlock(&kb_rcu_registry_lock);
	return n;
}

/* ============================================================== call_rcu */

/* What liburcu's call_rcu thread invokes: run kbind's callback, count it. */
static void urcu_trampoline(struct kb_urcu_head *uh)
{
	kb_rcu_head_t *head =
		(kb_rcu_head_t *)(void *)((char *)uh - offsetof(kb_rcu_head_t, backend));
	/* Acquire: pairs with the release in urcu_be_call_rcu() (liburcu's
	 * queue orders it already; this states it, for ThreadSanitizer too). */
	void (*func)(kb_rcu_head_t *) = __atomic_load_n(&head->func, __ATOMIC_ACQUIRE);
	bool token = func == kb_rcu_token_done;

	kb_rcu_on_cb_thread = true; /* rcu_barrier() from a callback: KB_EDEADLK */
	func(head); /* may free or re-queue @head */
	kb_rcu_callbacks_done(1, token);
}

/*
 * call_rcu: liburcu's own queue and worker.  liburcu asks for a registered
 * online caller in QSBR only to protect per-CPU call_rcu data, which kbind
 * never creates: the default call_rcu data it uses lives until exit.
 */
static int urcu_be_call_rcu(kb_rcu_head_t *head)
{
	void (*func)(kb_rcu_head_t *) = head->func;

	/* Release: pairs with the acquire in urcu_trampoline(). */
	__atomic_store_n(&head->func, func, __ATOMIC_RELEASE);
	if (KB_UNLIKELY(KB_READ_ONCE(ur_fork_unusable)))
		return KB_ENOTSUP;
	KB_WRITE_ONCE(ur_call_rcu_used, true);
	/* liburcu starts its own call_rcu thread on first use (and aborts
	 * itself if it cannot: that is liburcu's behaviour, not kbind's). */
	urcu.call_rcu((struct kb_urcu_head *)(void *)head->backend, urcu_trampoline);
	return KB_OK;
}

/* shutdown: liburcu's call_rcu thread cannot be stopped from outside. */
static int urcu_be_shutdown(void)
{
	return KB_OK;
}

/* ================================================================= fork */

/* fork_pause: no grace period of kbind's helper in progress (liburcu's
 * grace-period lock free), liburcu's call_rcu threads paused. */
static void urcu_be_fork_pause(void)
{
	pthread_mutex_lock(&ur_gp_run_lock);
	if (urcu.call_rcu_before_fork)
		urcu.call_rcu_before_fork();
}

static void urcu_be_fork_prepare(void)
{
	pthread_mutex_lock(&ur_helper_lock);
}

static void urcu_be_fork_parent(void)
{
	pthread_mutex_unlock(&ur_helper_lock);
	if (urcu.call_rcu_after_fork_parent)
		urcu.call_rcu_after_fork_parent();
	pthread_mutex_unlock(&ur_gp_run_lock);
}

/*
 * fork_child: kbind's helper is gone (a later wait starts it again).
 *
 * liburcu-qsbr keeps its registry of reader threads inside each thread's
 * own thread-local storage and can unregister only the calling thread, so
 * a child whose parent had other registered threads (kbind's readers, or
 * liburcu's own call_rcu thread once call_rcu was used) inherits list
 * nodes in the storage of threads that do not exist, which glibc frees
 * when it reuses their stacks: liburcu's README ("Interaction with fork()")
 * requires every registration to be released before fork() for that
 * reason.  Such a child may still run read-side sections on its one
 * thread, but every grace period, registration and call_rcu is refused
 * with KB_ENOTSUP instead of walking freed memory.  A child of a parent
 * with no other registered thread keeps a working liburcu backend.
 */
static void urcu_be_fork_child(void)
{
	ur_helper_running = false;
	ur_helper_futex = 0;
	ur_gp_waiters = 0;
	ur_cur_gp = 0;
	pthread_mutex_unlock(&ur_helper_lock);
	if (ur_call_rcu_used)
		ur_fork_unusable = true;
	if (!ur_fork_unusable && urcu.call_rcu_after_fork_child)
		urcu.call_rcu_after_fork_child();
	pthread_mutex_unlock(&ur_gp_run_lock);
}

/* fork_drop_reader: another registered thread existed (see above). */
static void urcu_be_fork_drop_reader(struct kb_rcu_reader *r)
{
	KB_UNUSED(r);
	ur_fork_unusable = true;
}

/* usable: false in a child of fork() that cannot use liburcu (see above). */
static bool urcu_be_usable(void)
{
	return !KB_READ_ONCE(ur_fork_unusable);
}

const struct kb_rcu_backend kb_rcu_liburcu_backend = {
	.name = "liburcu",
	.load = urcu_load,
	.register_thread = urcu_be_register_thread,
	.unregister_thread = urcu_be_unregister_thread,
	.quiescent_state = urcu_be_quiescent_state,
	.thread_offline = urcu_be_thread_offline,
	.thread_online = urcu_be_thread_online,
	.read_lock = NULL,
	.read_unlock = NULL,
	.get_state = urcu_be_get_state,
	.poll_state = urcu_be_poll_state,
	.wait_gp = urcu_be_wait_gp,
	.gp_count = urcu_be_gp_count,
	.stalled_readers = urcu_be_stalled_readers,
	.call_rcu = urcu_be_call_rcu,
	.shutdown = urcu_be_shutdown,
	.fork_pause = urcu_be_fork_pause,
	.fork_prepare = urcu_be_fork_prepare,
	.fork_parent = urcu_be_fork_parent,
	.fork_child = urcu_be_fork_child,
	.fork_drop_reader = urcu_be_fork_drop_reader,
	.restart_callbacks = NULL,
	.usable = urcu_be_usable,
};
