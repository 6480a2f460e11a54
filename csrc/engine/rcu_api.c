/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/rcu_api.c - the public RCU API: backend selection, the parts every
 * backend shares, and thin dispatchers through the selected backend's table
 * (csrc/engine/rcu_backend.h).
 *
 * Written once here, for every backend:
 *  - selection (kb_rcu_set_backend()), frozen at first use;
 *  - the registry of reader threads (a list under kb_rcu_registry_lock, a
 *    mutex never held while sleeping), names for stall reports, automatic
 *    unregistration when a registered thread exits (a pthread key
 *    destructor);
 *  - read-side nesting counts and the checks built on them: KB_EDEADLK for
 *    a wait inside the caller's own read-side section, KB_EBUSY for
 *    unregistering inside one;
 *  - going offline around a wait (an online caller would wait for itself);
 *  - deadlines, stall settings and counts;
 *  - call_rcu accounting: kb_call_rcu() counts each callback before the
 *    backend queues it, the backend reports invoked ones with
 *    kb_rcu_callbacks_done(), and rcu_barrier() waits, bounded, until the
 *    invoked count reaches the queued count it saw at entry;
 *  - the token channel for callers that cannot run C callbacks (Python);
 *  - pointer publication (no engine involved) and the busted switch.
 */
#include "rcu_backend.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's default RCU CPU stall timeout (21 s). */
#define KB_RCU_STALL_DEFAULT_NS (21LL * 1000000000LL)

/* ================================================================ selection */

/* Every backend, by KB_RCU_BACKEND_* number: the one list to extend. */
static const struct kb_rcu_backend *const backends[] = {
	[KB_RCU_BACKEND_BUILTIN] = &kb_rcu_builtin_backend,
	[KB_RCU_BACKEND_LIBURCU] = &kb_rcu_liburcu_backend,
};
#define KB_RCU_NBACKENDS ((int)(sizeof(backends) / sizeof(backends[0])))

/* The selected backend; written under select_lock before first use only. */
static const struct kb_rcu_backend *kb_rcu_ops = &kb_rcu_builtin_backend;
static int kb_rcu_backend_id = KB_RCU_BACKEND_BUILTIN;
/* True once the selection is frozen (first registration, cookie, call_rcu). */
static bool kb_rcu_used;
static pthread_mutex_t select_lock = PTHREAD_MUTEX_INITIALIZER;

/**
 * kb_rcu_use() - the selected backend, freezing the selection.
 *
 * Called by every operation that creates engine state (a registered
 * thread, a cookie, a queued callback): from then on the backend cannot
 * change, since that state belongs to it.
 * Ordering: acquire on the flag, pairs with the release below, so the
 * table read after it is the one selected.
 * Context: any; takes select_lock once per process.
 */
static const struct kb_rcu_backend *kb_rcu_use(void)
{
	if (KB_LIKELY(kb_smp_load_acquire(&kb_rcu_used)))
		return KB_READ_ONCE(kb_rcu_ops);
	pthread_mutex_lock(&select_lock);
	/* Release: pairs with the acquire above; the table is written first. */
	kb_smp_store_release(&kb_rcu_used, true);
	pthread_mutex_unlock(&select_lock);
	return KB_READ_ONCE(kb_rcu_ops);
}

/* The selected backend, for operations that create no state. */
static const struct kb_rcu_backend *kb_rcu_cur(void)
{
	return KB_READ_ONCE(kb_rcu_ops);
}

/**
 * kb_rcu_set_backend() - choose the RCU engine, before first use.
 * @backend: KB_RCU_BACKEND_BUILTIN or KB_RCU_BACKEND_LIBURCU.
 *
 * Loads the engine (liburcu: dlopen() of liburcu-qsbr) now, so a missing
 * library is reported here and not at first use.  Choosing the backend in
 * use again is always allowed.
 * Context: any, before any thread registered, any cookie was taken, any
 * callback was queued.
 * Return: KB_OK; KB_EINVAL for an unknown number; KB_EBUSY once the RCU
 * engine has been used; KB_ENOENT if the engine cannot be loaded
 * (kb_rcu_backend_error() says why).
 */
int kb_rcu_set_backend(int backend)
{
	const struct kb_rcu_backend *ops;
	int ret = KB_OK;

	if (backend < 0 || backend >= KB_RCU_NBACKENDS || !backends[backend])
		return KB_EINVAL;
	ops = backends[backend];
	pthread_mutex_lock(&select_lock);
	if (ops == kb_rcu_ops)
		goto out;
	if (KB_READ_ONCE(kb_rcu_used)) {
		ret = KB_EBUSY;
		goto out;
	}
	if (ops->load)
		ret = ops->load();
	if (ret == KB_OK) {
		KB_WRITE_ONCE(kb_rcu_ops, ops);
		KB_WRITE_ONCE(kb_rcu_backend_id, backend);
	}
out:
	pthread_mutex_unlock(&select_lock);
	return ret;
}

/** kb_rcu_get_backend() - the KB_RCU_BACKEND_* number in use. */
int kb_rcu_get_backend(void)
{
	return KB_READ_ONCE(kb_rcu_backend_id);
}

/**
 * kb_rcu_backend_name() - the name of backend number @backend.
 * Return: "builtin", "liburcu", or NULL for an unknown number.
 */
const char *kb_rcu_backend_name(int backend)
{
	if (backend < 0 || backend >= KB_RCU_NBACKENDS || !backends[backend])
		return NULL;
	return backends[backend]->name;
}

/**
 * kb_rcu_backend_probe() - can backend @backend be loaded?
 *
 * Loads it (a loaded library stays loaded) without selecting it.
 * Context: any.  Return: KB_OK, KB_EINVAL, or KB_ENOENT.
 */
int kb_rcu_backend_probe(int backend)
{
	int ret;

	if (backend < 0 || backend >= KB_RCU_NBACKENDS || !backends[backend])
		return KB_EINVAL;
	if (!backends[backend]->load)
		return KB_OK;
	pthread_mutex_lock(&select_lock);
	ret = backends[backend]->load();
	pthread_mutex_unlock(&select_lock);
	return ret;
}

char kb_rcu_load_error[256];

/**
 * kb_rcu_backend_error() - why the last load of a backend failed.
 *
 * Context: any.  Return: a thread-local copy of the message ("" if none).
 */
const char *kb_rcu_backend_error(void)
{
	static _Thread_local char copy[sizeof(kb_rcu_load_error)];

	pthread_mutex_lock(&select_lock);
	memcpy(copy, kb_rcu_load_error, sizeof(copy));
	pthread_mutex_unlock(&select_lock);
	return copy;
}

/** kb_rcu_backend_in_use() - has the selection been frozen by first use? */
bool kb_rcu_backend_in_use(void)
{
	return kb_smp_load_acquire(&kb_rcu_used);
}

/* ======================================================= shared state */

pthread_mutex_t kb_rcu_registry_lock = PTHREAD_MUTEX_INITIALIZER;
struct kb_rcu_reader kb_rcu_registry = { .next = &kb_rcu_registry, .prev = &kb_rcu_registry };
static int registry_count;
static pthread_key_t registry_key;
static pthread_once_t registry_key_once = PTHREAD_ONCE_INIT;

_Thread_local struct kb_rcu_reader *kb_rcu_self;
_Thread_local int kb_rcu_nesting;
_Thread_local bool kb_rcu_on_cb_thread;

int kb_rcu_busted;
int64_t kb_rcu_stall_timeout_ns = KB_RCU_STALL_DEFAULT_NS;
bool kb_rcu_stall_verbose;
uint64_t kb_rcu_stall_count_;

uint64_t kb_rcu_cb_queued __attribute__((aligned(64)));
uint64_t kb_rcu_cb_invoked __attribute__((aligned(64)));
/* Bumped after callbacks complete; rcu_barrier() sleeps on it. */
static uint32_t cb_seq;
static uint32_t cb_barrier_waiters;

static void kb_rcu_fork_restart_callbacks(void);

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

static int64_t kb_rcu_deadline(int64_t timeout_ns)
{
	return timeout_ns < 0 ? -1 : kb_deadline_ns(timeout_ns);
}

int kb_rcu_start_thread(pthread_t *thread, void *(*fn)(void *), const char *name)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int rc;

	pthread_attr_init(&attr);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(thread, &attr, fn, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return KB_EAGAIN;
	pthread_setname_np(*thread, name);
	return KB_OK;
}

/* ====================================================== reader side */

/**
 * kb_rcu_quiescent_state_table() - report a quiescent state through the
 * backend table (the inline fast path's way out for a non-builtin backend).
 * @r: the calling thread's record.
 * Context: the thread owning @r, outside read-side critical sections.
 */
void kb_rcu_quiescent_state_table(struct kb_rcu_reader *r)
{
	kb_rcu_cur()->quiescent_state(r);
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

	if (r)
		kb_rcu_cur()->thread_offline(r);
}

/**
 * kb_rcu_thread_online() - hold up grace periods again (a quiescent state).
 *
 * Context: registered thread; otherwise a no-op.
 */
void kb_rcu_thread_online(void)
{
	struct kb_rcu_reader *r = kb_rcu_self;

	if (r)
		kb_rcu_cur()->thread_online(r);
}

/** kb_rcu_read_lock() - enter a read-side section (rcu_read_lock()). */
void(kb_rcu_read_lock)(void)
{
	const struct kb_rcu_backend *ops = kb_rcu_cur();

	kb__rcu_read_lock();
	if (ops->read_lock)
		ops->read_lock();
}

/** kb_rcu_read_unlock() - leave a read-side section (rcu_read_unlock()). */
void(kb_rcu_read_unlock)(void)
{
	const struct kb_rcu_backend *ops = kb_rcu_cur();

	if (ops->read_unlock)
		ops->read_unlock();
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
 * quiescent state), then counts the section.  Going online ends with a
 * full barrier (the backend's thread_online), so the Python caller's later
 * load of the published box cannot be reordered before it.
 * Context: any thread; never blocks except on the registry lock when it
 * registers.
 * Return: the new nesting depth (>= 1), or -KB_ENOMEM if registration
 * failed (nothing changed).
 */
int kb_rcu_py_read_enter(void)
{
	if (KB_UNLIKELY(!kb_rcu_self)) {
		int ret = kb_rcu_register_thread(); /* starts online */

		if (ret != KB_OK)
			return -ret;
	} else if (kb_rcu_nesting == 0 && !kb_rcu_is_online()) {
		kb_rcu_thread_online();
	}
	(kb_rcu_read_lock)();
	return kb_rcu_nesting;
}

/**
 * kb_rcu_py_read_exit() - leave a read-side section for a Python guard.
 * @go_offline: go offline when this was the outermost section (the default
 *              for Python threads, so an idle thread never holds up a grace
 *              period); false in explicit QSBR mode.
 *
 * Going offline starts with a full barrier (the backend's thread_offline):
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
	(kb_rcu_read_unlock)();
	if (kb_rcu_nesting == 0 && go_offline)
		kb_rcu_thread_offline();
	return kb_rcu_nesting;
}

/* ================================================================ registry */

static void kb_rcu_registry_remove(struct kb_rcu_reader *r)
{
	pthread_mutex_lock(&kb_rcu_registry_lock);
	r->prev->next = r->next;
	r->next->prev = r->prev;
	registry_count--;
	pthread_mutex_unlock(&kb_rcu_registry_lock);
}

/* Leave the engine and the registry; the thread is outside sections. */
static void kb_rcu_leave(struct kb_rcu_reader *r)
{
	const struct kb_rcu_backend *ops = kb_rcu_cur();

	ops->thread_offline(r);
	ops->unregister_thread(r);
	kb_rcu_self = NULL;
	kb_rcu_registry_remove(r);
	free(r);
}

/* pthread key destructor: a registered thread exits without unregistering. */
static void kb_rcu_thread_exit(void *arg)
{
	kb_rcu_self = arg; /* the backend works on the thread-local pointer */
	kb_rcu_leave(arg);
}

static void kb_rcu_key_create(void)
{
	if (pthread_key_create(&registry_key, kb_rcu_thread_exit) != 0)
		abort(); /* only fails when the process ran out of keys */
}

/**
 * kb_rcu_register_thread_offline() - register the calling thread, offline.
 *
 * kb_rcu_register_thread() and kb_rcu_thread_offline() in one call, so that
 * nothing runs between them: a Python signal handler (Ctrl-C) that ran there
 * would leave the thread registered and online, holding up every grace
 * period.  Context and return: as kb_rcu_register_thread().
 */
int kb_rcu_register_thread_offline(void)
{
	int ret = kb_rcu_register_thread();

	if (ret == KB_OK)
		kb_rcu_thread_offline();
	return ret;
}

/**
 * kb_rcu_register_thread() - make the calling thread an RCU reader.
 *
 * The thread starts online (as in liburcu).  It is unregistered
 * automatically when it exits.  Freezes the backend selection.
 * Context: any thread; takes the registry lock briefly.
 * Return: KB_OK, KB_EBUSY if already registered, KB_ENOMEM.
 */
int kb_rcu_register_thread(void)
{
	const struct kb_rcu_backend *ops;
	struct kb_rcu_reader *r;

	if (kb_rcu_self)
		return KB_EBUSY;
	ops = kb_rcu_use();
	if (ops->usable && !ops->usable())
		return KB_ENOTSUP;
	pthread_once(&registry_key_once, kb_rcu_key_create);
	r = aligned_alloc(64, sizeof(*r));
	if (!r)
		return KB_ENOMEM;
	memset(r, 0, sizeof(*r));
	r->tid = (int64_t)syscall(SYS_gettid);
	r->via_table = ops != &kb_rcu_builtin_backend;
	if (pthread_setspecific(registry_key, r) != 0) {
		free(r);
		return KB_ENOMEM;
	}
	pthread_mutex_lock(&kb_rcu_registry_lock);
	r->next = &kb_rcu_registry;
	r->prev = kb_rcu_registry.prev;
	kb_rcu_registry.prev->next = r;
	kb_rcu_registry.prev = r;
	registry_count++;
	pthread_mutex_unlock(&kb_rcu_registry_lock);
	kb_rcu_self = r;
	ops->register_thread(r);
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
	pthread_setspecific(registry_key, NULL);
	kb_rcu_leave(r);
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
	pthread_mutex_lock(&kb_rcu_registry_lock);
	memset(r->name, 0, sizeof(r->name));
	if (name)
		strncpy(r->name, name, sizeof(r->name) - 1);
	pthread_mutex_unlock(&kb_rcu_registry_lock);
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

	pthread_mutex_lock(&kb_rcu_registry_lock);
	n = registry_count;
	pthread_mutex_unlock(&kb_rcu_registry_lock);
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

/**
 * kb_get_state_synchronize_rcu() - a cookie for a grace period from now.
 *
 * The cookie names the first grace period that starts after this call:
 * one in progress now may already have seen readers that then began new
 * sections, so it does not count.  Cookies are the backend's numbers.
 * Ordering: full barrier first, so the caller's removals precede it.
 * Context: any; never blocks.  Freezes the backend selection.
 */
uint64_t kb_get_state_synchronize_rcu(void)
{
	return kb_rcu_use()->get_state();
}

/**
 * kb_poll_state_synchronize_rcu() - has the grace period for @cookie ended?
 * @cookie: from kb_get_state_synchronize_rcu().
 *
 * Ordering: acquire on true (pairs with the release completing the grace
 * period in the backend): what readers did before their quiescent states
 * is visible to the caller.
 * Context: any; never blocks.
 */
bool kb_poll_state_synchronize_rcu(uint64_t cookie)
{
	return kb_rcu_cur()->poll_state(cookie);
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
 * Context: outside read-side sections and call_rcu callbacks; may sleep.
 * Return: KB_OK, KB_ETIMEDOUT, KB_EDEADLK inside a read-side section or a
 * callback (when it would have to wait), or
 * KB_EAGAIN if the backend cannot start a thread it needs (liburcu's
 * grace-period helper).
 */
int kb_rcu_wait_gp(uint64_t cookie, int64_t timeout_ns)
{
	const struct kb_rcu_backend *ops = kb_rcu_use();
	struct kb_rcu_reader *self = kb_rcu_self;
	bool was_online;
	int ret;

	if (ops->poll_state(cookie))
		return KB_OK;
	/*
	 * Not inside a read-side section, and not from a call_rcu callback:
	 * callbacks run in softirq context in the kernel, where sleeping is
	 * forbidden, and here liburcu's call_rcu thread is an online reader
	 * while it runs them, so a grace period would wait for the waiter.
	 */
	if (kb_rcu_nesting > 0 || kb_rcu_on_cb_thread)
		return KB_EDEADLK;
	was_online = self && KB_READ_ONCE(self->ctr) != 0;
	if (was_online)
		ops->thread_offline(self);
	ret = ops->wait_gp(cookie, kb_rcu_deadline(timeout_ns));
	if (was_online)
		ops->thread_online(self);
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
 * returns.
 * Context: outside read-side sections; may sleep, without bound if an
 * online reader never reports (see the stall API).
 * Return: KB_OK, KB_EDEADLK inside a read-side section (nothing waited),
 * or KB_EAGAIN as kb_rcu_wait_gp().
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

/** kb_rcu_gp_count() - grace periods completed since the engine started. */
uint64_t kb_rcu_gp_count(void)
{
	return kb_rcu_cur()->gp_count();
}

/* ================================================================= stalls */

/** kb_rcu_set_stall_timeout_ns() - grace-period age that counts as a stall. */
void kb_rcu_set_stall_timeout_ns(int64_t timeout_ns)
{
	KB_WRITE_ONCE(kb_rcu_stall_timeout_ns, timeout_ns < 0 ? 0 : timeout_ns);
}

/** kb_rcu_get_stall_timeout_ns() - the current stall timeout. */
int64_t kb_rcu_get_stall_timeout_ns(void)
{
	return KB_READ_ONCE(kb_rcu_stall_timeout_ns);
}

/** kb_rcu_set_stall_verbose() - print stalls to stderr when a waiter sees them. */
void kb_rcu_set_stall_verbose(bool on)
{
	KB_WRITE_ONCE(kb_rcu_stall_verbose, on);
}

/** kb_rcu_stall_count() - stalls seen by grace-period waiters so far. */
uint64_t kb_rcu_stall_count(void)
{
	return __atomic_load_n(&kb_rcu_stall_count_, __ATOMIC_RELAXED);
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
	return kb_rcu_cur()->stalled_readers(out, max < 0 ? 0 : max);
}

/**
 * kb_rcu_print_stalled() - print the readers stalling grace period @gp.
 * @gp: the backend's number for it.
 * @age_ns: how long it has lasted.
 *
 * For backends that do not print under their own lock.
 * Context: any; takes the registry lock.
 */
void kb_rcu_print_stalled(uint64_t gp, int64_t age_ns)
{
	kb_rcu_reader_info_t info[16];
	int n = kb_rcu_cur()->stalled_readers(info, 16), i;

	fprintf(stderr, "kbind: RCU grace period %llu stalled for %lld ms by:\n",
		(unsigned long long)gp, (long long)(age_ns / 1000000));
	for (i = 0; i < n && i < 16; i++)
		fprintf(stderr, "kbind:   thread %lld%s%s%s\n", (long long)info[i].tid,
			info[i].name[0] ? " '" : "", info[i].name, info[i].name[0] ? "'" : "");
	if (n > 16)
		fprintf(stderr, "kbind:   and %d more\n", n - 16);
}

/* ============================================================== call_rcu */

/**
 * kb_call_rcu() - call_rcu(): invoke @func(@head) after a grace period.
 * @head: caller-owned until @func runs (typically inside the object).
 * @func: runs on the backend's callback thread, never concurrently with
 *        another callback; it may call kb_call_rcu() again.
 *
 * Counts the callback, then queues it (wait-free on both backends, once
 * the callback thread runs; the first call starts it).
 * Context: any, including read-side sections and callbacks.
 * Return: KB_OK; with nothing queued, KB_EAGAIN if the callback thread
 * cannot be started (no memory for its stack, a thread limit) or
 * KB_ENOTSUP in a child of fork() the backend cannot support.
 */
int kb_call_rcu(kb_rcu_head_t *head, void (*func)(kb_rcu_head_t *head))
{
	const struct kb_rcu_backend *ops = kb_rcu_use();
	int ret;

	head->func = func;
	/* Counted before it can run, so invoked never passes queued; the
	 * queue's own ordering publishes the count with the callback. */
	__atomic_fetch_add(&kb_rcu_cb_queued, 1, __ATOMIC_RELAXED);
	ret = ops->call_rcu(head);
	if (KB_UNLIKELY(ret != KB_OK)) {
		/* Not queued: uncount it, report why. */
		__atomic_fetch_sub(&kb_rcu_cb_queued, 1, __ATOMIC_RELAXED);
	}
	return ret;
}

/**
 * kb_rcu_callbacks_done() - a backend invoked @n more callbacks.
 * @n: how many.
 * @tokens: whether any of them was a token (wake reapers).
 *
 * Context: the backend's callback thread, after the callbacks returned.
 */
void kb_rcu_callbacks_done(uint64_t n, bool tokens)
{
	/* Release: rcu_barrier()'s acquire load sees the callbacks' effects. */
	__atomic_add_fetch(&kb_rcu_cb_invoked, n, __ATOMIC_RELEASE);

	/*
	 * Release: a waiter whose acquire read of cb_seq (tok_seq) sees this
	 * bump also sees the new invoked count (the completed tokens), so it
	 * cannot sleep on the new sequence with the old count and miss its
	 * wake-up (an MP pattern: relaxed here, the LKMM and ARMv8 let the
	 * bump be seen first).  Pairs with the acquire reads in
	 * kb_rcu_barrier_wait() and kb_rcu_reap_tokens().
	 */
	__atomic_fetch_add(&cb_seq, 1, __ATOMIC_RELEASE);
	if (tokens)
		__atomic_fetch_add(&tok_seq, 1, __ATOMIC_RELEASE);
	/*
	 * Orders the counter updates before reading the waiter count; pairs
	 * with the smp_mb__after_atomic() after a waiter counts itself in
	 * kb_rcu_barrier_wait(): either it sees the new count or we see it
	 * and wake it.  Every completion wakes every sleeping barrier (each
	 * re-checks its own target): an earlier "lowest target" filter could
	 * drop the wake-up a later waiter depended on, so it is gone.
	 */
	kb_smp_mb();
	if (KB_READ_ONCE(cb_barrier_waiters))
		kb_futex_wake(&cb_seq, INT_MAX);
	if (tokens && KB_READ_ONCE(tok_waiters))
		kb_futex_wake(&tok_seq, INT_MAX);
}

/**
 * kb_rcu_token_done() - the token callback: move the node to the
 * completion list.  Backends compare head->func with it to know whether to
 * wake reapers.
 * @head: the token's node.
 */
void kb_rcu_token_done(kb_rcu_head_t *head)
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
 * For callers that cannot run code on the callback thread (Python): they
 * keep a table from token to their callback and run it when the token is
 * reaped.
 * Context: any.  Return: KB_OK, KB_ENOMEM, or kb_call_rcu()'s error.
 */
int kb_call_rcu_token(uint64_t token)
{
	struct kb_rcu_token_node *t = malloc(sizeof(*t));
	int ret;

	if (!t)
		return KB_ENOMEM;
	t->token = token;
	ret = kb_call_rcu(&t->head, kb_rcu_token_done);
	if (ret != KB_OK)
		free(t);
	return ret;
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
	kb_rcu_fork_restart_callbacks();
	for (;;) {
		struct kb_rcu_token_node *batch = NULL, *t;
		uint32_t seq;
		int n = 0;
		int64_t left;

		__atomic_fetch_add(&tok_waiters, 1, __ATOMIC_SEQ_CST);
		/* Orders the waiter count before the checks; pairs with the
		 * smp_mb() in kb_rcu_callbacks_done() before it reads it. */
		kb_smp_mb__after_atomic();
		/* Acquire: pairs with the release bump in kb_rcu_callbacks_done(). */
		seq = kb_smp_load_acquire(&tok_seq);
		pthread_mutex_lock(&tok_lock);
		while (tok_first && n < max) {
			t = tok_first;
			tok_first = t->done_next;
			t->done_next = batch;
			batch = t;
			out[n++] = t->token;
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

/**
 * kb_rcu_pending_callbacks() - callbacks queued and not yet invoked.
 * Context: any; a snapshot.
 */
uint64_t kb_rcu_pending_callbacks(void)
{
	uint64_t done = kb_smp_load_acquire(&kb_rcu_cb_invoked);

	return __atomic_load_n(&kb_rcu_cb_queued, __ATOMIC_RELAXED) - done;
}

/** kb_rcu_callbacks_invoked() - callbacks invoked since the process started. */
uint64_t kb_rcu_callbacks_invoked(void)
{
	return kb_smp_load_acquire(&kb_rcu_cb_invoked);
}

/* Sleep until @target callbacks have been invoked, or @deadline. */
static int kb_rcu_barrier_wait(uint64_t target, int64_t deadline)
{
	for (;;) {
		uint32_t seq;
		int64_t left;

		__atomic_fetch_add(&cb_barrier_waiters, 1, __ATOMIC_SEQ_CST);
		/* Orders the count before the checks below;
		 * pairs with the smp_mb() in kb_rcu_callbacks_done(). */
		kb_smp_mb__after_atomic();
		/* Acquire: pairs with the release bump in kb_rcu_callbacks_done(). */
		seq = kb_smp_load_acquire(&cb_seq);
		if ((int64_t)(kb_smp_load_acquire(&kb_rcu_cb_invoked) - target) >= 0) {
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
 * Each backend invokes callbacks in queue order and each call_rcu() counts
 * its callback before queueing it, so "invoked >= queued-at-entry" means
 * all of them ran.  With nothing pending it returns at once.
 * A registered online caller goes offline for the wait (the callbacks'
 * grace period would otherwise wait for it) and comes back online.
 * Context: outside read-side sections, not from a callback (the callback
 * thread would wait for itself); may sleep.
 * Return: KB_OK, KB_ETIMEDOUT, or KB_EDEADLK (in a read-side section or on
 * the callback thread, when it would have to wait).
 */
int kb_rcu_barrier_timeout(int64_t timeout_ns)
{
	uint64_t target = __atomic_load_n(&kb_rcu_cb_queued, __ATOMIC_ACQUIRE);
	struct kb_rcu_reader *self;
	bool was_online;
	int ret;

	if ((int64_t)(kb_smp_load_acquire(&kb_rcu_cb_invoked) - target) >= 0)
		return KB_OK;
	if (kb_rcu_on_cb_thread || kb_rcu_nesting > 0)
		return KB_EDEADLK;
	if (KB_UNLIKELY(KB_READ_ONCE(kb_rcu_busted) == KB_RCU_BUSTED_BARRIER))
		return KB_OK; /* busted: claim the callbacks ran without waiting */
	if (!kb_rcu_backend_usable())
		return KB_ENOTSUP; /* those callbacks can never run here */
	kb_rcu_fork_restart_callbacks();
	self = kb_rcu_self;
	was_online = self && KB_READ_ONCE(self->ctr) != 0;
	if (was_online)
		kb_rcu_cur()->thread_offline(self);
	ret = kb_rcu_barrier_wait(target, kb_rcu_deadline(timeout_ns));
	if (was_online)
		kb_rcu_cur()->thread_online(self);
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
 * kb_rcu_shutdown() - run pending callbacks, then stop the callback thread.
 * @timeout_ns: limit for the pending callbacks; negative means none.
 *
 * For interpreter exit.  A later kb_call_rcu() starts a new thread.  The
 * liburcu backend cannot stop liburcu's own call_rcu thread: there it only
 * waits for the callbacks.
 * Context: not from a callback; may sleep.
 * Return: KB_OK, or KB_ETIMEDOUT (the thread keeps running).
 */
int kb_rcu_shutdown(int64_t timeout_ns)
{
	int ret = kb_rcu_barrier_timeout(timeout_ns);

	if (ret != KB_OK)
		return ret;
	return kb_rcu_cur()->shutdown();
}

/* ================================================================ busted */

/**
 * kb_rcu_set_busted() - select a deliberately broken engine (tests only).
 * @variant: KB_RCU_BUSTED_NONE; _NO_WAIT (grace periods do not wait);
 *           _READER (readers never announce themselves online, so grace
 *           periods ignore their read-side sections); _EARLY_CB (call_rcu
 *           callbacks run without waiting for a grace period; builtin
 *           backend only, see kb_rcu_busted_supported()); _BARRIER
 *           (rcu_barrier() returns without waiting for the callbacks
 *           queued before it; every backend: the barrier is kbind's).
 * Context: any; affects every thread.
 * Return: KB_OK, KB_EINVAL, or KB_ENOTSUP if the backend in use cannot
 * break that way.
 */
int kb_rcu_set_busted(int variant)
{
	if (variant < KB_RCU_BUSTED_NONE || variant > KB_RCU_BUSTED_BARRIER)
		return KB_EINVAL;
	if (!kb_rcu_busted_supported(variant))
		return KB_ENOTSUP;
	KB_WRITE_ONCE(kb_rcu_busted, variant);
	return KB_OK;
}

/** kb_rcu_get_busted() - the engine variant in use. */
int kb_rcu_get_busted(void)
{
	return KB_READ_ONCE(kb_rcu_busted);
}

/**
 * kb_rcu_busted_supported() - can the backend in use break as @variant?
 *
 * Every backend has the real engine, _NO_WAIT, _READER and _BARRIER.  _EARLY_CB needs
 * a callback thread that kbind owns: liburcu's call_rcu thread always
 * waits for a grace period first.
 * Return: true if kb_rcu_set_busted(@variant) would succeed.
 */
bool kb_rcu_busted_supported(int variant)
{
	if (variant < KB_RCU_BUSTED_NONE || variant > KB_RCU_BUSTED_BARRIER)
		return false;
	return variant != KB_RCU_BUSTED_EARLY_CB ||
	       KB_READ_ONCE(kb_rcu_ops) == &kb_rcu_builtin_backend;
}

/* ================================================================== fork */
/*
 * fork() copies only the calling thread.  Unhandled, the child would keep
 * the records of reader threads that no longer exist (a grace period would
 * wait for them forever), locks their threads held, and "running" flags of
 * engine threads that are gone, with the callbacks those threads held.
 * The pthread_atfork() handlers below keep the child usable:
 *
 *  - prepare: kb_rcu_fork_pause() (unless the forking thread already ran it:
 *    Python's os.register_at_fork() hook calls it with the GIL released, so
 *    that what it waits for can finish), then the short locks;
 *  - parent: release them;
 *  - child: drop every reader record but the caller's, reset the locks and
 *    waiter counts, let the backend recover its threads' state; callbacks
 *    queued in the parent run in the child (they act on the child's copies),
 *    on a callback thread started again on demand.
 *
 * Like liburcu's call_rcu_before_fork()/call_rcu_after_fork_{parent,child}()
 * (which the liburcu backend calls) and the kernel's RCU, which forks with
 * nothing to do because its readers are CPUs, not threads.
 */
static pthread_mutex_t fork_lock = PTHREAD_MUTEX_INITIALIZER;
static const struct kb_rcu_backend *fork_ops;
static _Thread_local bool fork_paused_here;
/* Set in a child: the callback thread is gone; start it on demand. */
static bool fork_restart;

/**
 * kb_rcu_fork_pause() - get the RCU engine ready for fork() on this thread.
 *
 * Waits until the engine's threads hold nothing the child would need (the
 * liburcu backend: no grace period in progress, liburcu's call_rcu threads
 * paused), and holds them there until fork() returns: the pthread_atfork()
 * handlers end the pause in the parent and in the child.  Calling it is
 * optional (the prepare handler does it too); Python calls it from an
 * os.register_at_fork() hook, with the GIL released, so that readers that
 * need the GIL can finish the grace period it waits for.  A caller that is
 * online in explicit QSBR mode goes offline while it waits.
 * Context: the thread about to call fork(); outside read-side sections
 * (inside one, a grace period in progress would wait for the caller).
 * Return: KB_OK.
 */
int kb_rcu_fork_pause(void)
{
	struct kb_rcu_reader *self = kb_rcu_self;
	bool was_online;

	if (fork_paused_here)
		return KB_OK;
	pthread_mutex_lock(&fork_lock);
	fork_ops = kb_rcu_cur();
	was_online = self && kb_rcu_nesting == 0 && KB_READ_ONCE(self->ctr) != 0;
	if (was_online)
		fork_ops->thread_offline(self);
	if (fork_ops->fork_pause)
		fork_ops->fork_pause();
	if (was_online)
		fork_ops->thread_online(self);
	fork_paused_here = true;
	return KB_OK;
}

static void kb_rcu_atfork_prepare(void)
{
	kb_rcu_fork_pause();
	if (fork_ops->fork_prepare)
		fork_ops->fork_prepare();
	pthread_mutex_lock(&tok_lock);
	pthread_mutex_lock(&kb_rcu_registry_lock);
}

static void kb_rcu_atfork_parent(void)
{
	pthread_mutex_unlock(&kb_rcu_registry_lock);
	pthread_mutex_unlock(&tok_lock);
	if (fork_ops->fork_parent)
		fork_ops->fork_parent();
	fork_paused_here = false;
	pthread_mutex_unlock(&fork_lock);
}

static void kb_rcu_atfork_child(void)
{
	struct kb_rcu_reader *r, *next;

	/* Only this thread exists: plain accesses are race-free from here. */
	for (r = kb_rcu_registry.next; r != &kb_rcu_registry; r = next) {
		next = r->next;
		if (r == kb_rcu_self)
			continue;
		r->prev->next = r->next;
		r->next->prev = r->prev;
		registry_count--;
		if (fork_ops->fork_drop_reader)
			fork_ops->fork_drop_reader(r);
		free(r);
	}
	tok_waiters = 0;
	cb_barrier_waiters = 0;
	pthread_mutex_unlock(&kb_rcu_registry_lock);
	pthread_mutex_unlock(&tok_lock);
	if (fork_ops->fork_child)
		fork_ops->fork_child();
	fork_restart = true;
	fork_paused_here = false;
	pthread_mutex_unlock(&fork_lock);
}

/* In a child of fork(): start the callback thread again if callbacks wait. */
static void kb_rcu_fork_restart_callbacks(void)
{
	const struct kb_rcu_backend *ops;

	if (KB_LIKELY(!KB_READ_ONCE(fork_restart)))
		return;
	ops = kb_rcu_cur();
	if (!ops->restart_callbacks || ops->restart_callbacks() == KB_OK)
		KB_WRITE_ONCE(fork_restart, false);
}

__attribute__((constructor)) static void kb_rcu_fork_init(void)
{
	if (pthread_atfork(kb_rcu_atfork_prepare, kb_rcu_atfork_parent, kb_rcu_atfork_child) != 0)
		fprintf(stderr, "kbind: pthread_atfork() failed: fork() will not be handled\n");
}

/**
 * kb_rcu_backend_usable() - can this process wait for grace periods,
 * register threads and queue callbacks?
 *
 * False only in a child of fork() that the backend cannot support (the
 * liburcu backend, when the parent had other registered threads): those
 * operations then return KB_ENOTSUP; read-side sections still work.
 * Context: any.
 */
bool kb_rcu_backend_usable(void)
{
	const struct kb_rcu_backend *ops = kb_rcu_cur();

	return !ops->usable || ops->usable();
}
