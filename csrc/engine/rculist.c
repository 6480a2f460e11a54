/* SPDX-License-Identifier: MIT */
/*
 * csrc/engine/rculist.c - RCU-protected lists and hash lists.
 *
 * The semantics of the kernel's include/linux/rculist.h (the "RCU list"
 * primitives, Documentation/RCU/listRCU.rst and whatisRCU.rst), written
 * for kbind's memory model helpers.  The contract is in csrc/kbind_api.h;
 * in short, updaters are serialized by the caller, readers run
 * concurrently inside read-side sections and follow ->next only.
 *
 * Marked accesses: every field a reader may load concurrently (a list
 * node's ->next, a bucket's ->first, an hlist node's ->next) is written
 * with KB_WRITE_ONCE() or, where the store makes a new node reachable,
 * with the release of rcu_assign_pointer(); the updater-only fields
 * (->prev, ->pprev) are marked too, so an updater that checks a node from
 * another thread (kb_list_empty(), kb_hlist_unhashed()) races with
 * nothing undefined.  On x86-64 and arm64 all of these are the plain
 * MOV/LDR/STR (and STLR) the kernel's code compiles to.
 *
 * Pairing: the release in kb_rculist_assign() (the new node's ->next and
 * ->prev, and everything the caller wrote into the element before the
 * add, happen before the node is reachable) pairs with the dependency
 * ordering, or the acquire, of kb_rculist_deref() in the readers.
 */
#include "kbind.h"

/*
 * rcu_dereference() on one pointer field: the address dependency from this
 * load to the loads through the pointer orders them on x86-64 and arm64
 * (as READ_ONCE() in the kernel); the generic arch (and so ThreadSanitizer,
 * which does not model dependencies) uses an acquire load instead.  The
 * same choice as kb__rcu_dereference() in csrc/engine/rcu_inline.h.
 */
#if defined(KB_ARCH_X86_64_H) || defined(KB_ARCH_AARCH64_H)
#define kb_rculist_deref(field) KB_READ_ONCE(field)
#else
#define kb_rculist_deref(field) kb_smp_load_acquire(&(field))
#endif

/* rcu_assign_pointer() on one pointer field: a release store. */
#define kb_rculist_assign(field, v) kb_smp_store_release(&(field), (v))

#define KB_LIST_POISONED ((kb_list_head_t *)(uintptr_t)KB_LIST_POISON2)
#define KB_HLIST_POISONED ((kb_hlist_node_t **)(uintptr_t)KB_LIST_POISON2)

/* ================================================================== lists */

/**
 * kb_list_init() - INIT_LIST_HEAD_RCU(): an empty list, or an unlinked node.
 * @list: the head (or node) to initialise.
 *
 * Context: updater, or before @list is shared.
 */
void kb_list_init(kb_list_head_t *list)
{
	KB_WRITE_ONCE(list->next, list);
	KB_WRITE_ONCE(list->prev, list);
}

/**
 * kb_list_empty() - list_empty(): does @head link to itself only?
 * @head: the list.
 *
 * A snapshot when readers or an updater may change the list concurrently.
 * Context: any.
 */
bool kb_list_empty(const kb_list_head_t *head)
{
	return KB_READ_ONCE(head->next) == head;
}

/*
 * __list_add_valid() of lib/list_debug.c: @prev and @next are neighbours
 * and @new is neither of them.
 */
static bool kb_list_add_valid(const kb_list_head_t *new, const kb_list_head_t *prev,
			      const kb_list_head_t *next)
{
	return KB_READ_ONCE(next->prev) == prev && KB_READ_ONCE(prev->next) == next &&
	       new != prev && new != next;
}

/* __list_add_rcu(): link @new between the neighbours @prev and @next. */
static int kb_list_link(kb_list_head_t *new, kb_list_head_t *prev, kb_list_head_t *next)
{
	if (KB_UNLIKELY(!kb_list_add_valid(new, prev, next)))
		return KB_EINVAL;
	KB_WRITE_ONCE(new->next, next);
	KB_WRITE_ONCE(new->prev, prev);
	/* Release: @new's links (and its element) before it is reachable. */
	kb_rculist_assign(prev->next, new);
	KB_WRITE_ONCE(next->prev, new);
	return KB_OK;
}

/**
 * kb_list_add_rcu() - list_add_rcu(): insert @new right after @head.
 * @new: the node to add, in an element already initialised.
 * @head: the list head (or the node to insert after).
 *
 * Ordering: release; a reader that reaches @new sees it initialised.
 * Context: updater, serialized with every other updater of the list by
 * the caller's lock; readers may traverse concurrently.
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @head's neighbours do
 * not point at each other or @new is already there.
 */
int kb_list_add_rcu(kb_list_head_t *new, kb_list_head_t *head)
{
	return kb_list_link(new, head, KB_READ_ONCE(head->next));
}

/**
 * kb_list_add_tail_rcu() - list_add_tail_rcu(): insert @new right before @head.
 * @new: the node to add, in an element already initialised.
 * @head: the list head (@new becomes the last element).
 *
 * Context and return: as kb_list_add_rcu().
 */
int kb_list_add_tail_rcu(kb_list_head_t *new, kb_list_head_t *head)
{
	return kb_list_link(new, KB_READ_ONCE(head->prev), head);
}

/*
 * __list_del_entry_valid() of lib/list_debug.c: @entry is linked (not
 * poisoned by an earlier del) and its neighbours point at it.
 */
static bool kb_list_del_valid(const kb_list_head_t *entry)
{
	const kb_list_head_t *prev = KB_READ_ONCE(entry->prev);
	const kb_list_head_t *next = KB_READ_ONCE(entry->next);

	if (prev == KB_LIST_POISONED || prev == NULL || next == NULL ||
	    (uintptr_t)next == KB_LIST_POISON1 || prev == entry)
		return false;
	return KB_READ_ONCE(prev->next) == entry && KB_READ_ONCE(next->prev) == entry;
}

/**
 * kb_list_del_rcu() - list_del_rcu(): unlink @entry from its list.
 * @entry: a node on a list.
 *
 * Readers already on @entry keep going: its ->next still leads into the
 * list; only ->prev is poisoned (KB_LIST_POISON2).  Free the element only
 * after a grace period, and do not add @entry again before then.
 * Context: updater (the caller's lock); readers may traverse concurrently.
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @entry was already
 * deleted or its neighbours do not point at it.
 */
int kb_list_del_rcu(kb_list_head_t *entry)
{
	kb_list_head_t *prev, *next;

	if (KB_UNLIKELY(!kb_list_del_valid(entry)))
		return KB_EINVAL;
	prev = KB_READ_ONCE(entry->prev);
	next = KB_READ_ONCE(entry->next);
	/* Readers between prev and next now skip @entry. */
	KB_WRITE_ONCE(prev->next, next);
	KB_WRITE_ONCE(next->prev, prev);
	KB_WRITE_ONCE(entry->prev, KB_LIST_POISONED);
	return KB_OK;
}

/**
 * kb_list_replace_rcu() - list_replace_rcu(): put @new where @old is.
 * @old: a node on a list.
 * @new: the node that takes its place, in an element already initialised.
 *
 * Ordering: release, as kb_list_add_rcu().  A reader sees either @old or
 * @new at that position, never neither; readers on @old keep going along
 * its ->next.  Free @old only after a grace period.
 * Context: updater (the caller's lock).
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @old is not linked
 * properly or @new is @old.
 */
int kb_list_replace_rcu(kb_list_head_t *old, kb_list_head_t *new)
{
	kb_list_head_t *prev, *next;

	if (KB_UNLIKELY(new == old || !kb_list_del_valid(old)))
		return KB_EINVAL;
	prev = KB_READ_ONCE(old->prev);
	next = KB_READ_ONCE(old->next);
	KB_WRITE_ONCE(new->next, next);
	KB_WRITE_ONCE(new->prev, prev);
	kb_rculist_assign(prev->next, new);
	KB_WRITE_ONCE(next->prev, new);
	KB_WRITE_ONCE(old->prev, KB_LIST_POISONED);
	return KB_OK;
}

/**
 * kb_list_next_rcu() - rcu_dereference(list_next_rcu(@pos)): the next node.
 * @pos: the list head or a node reached in this read-side section.
 *
 * Traversal (list_for_each_entry_rcu()):
 *	for (p = kb_list_next_rcu(head); p != head; p = kb_list_next_rcu(p))
 *		use(container_of(p, ...));
 * Context: inside a read-side section (or under the updaters' lock).
 * Return: the next node; @head again after the last.
 */
kb_list_head_t *kb_list_next_rcu(const kb_list_head_t *pos)
{
	return kb_rculist_deref(pos->next);
}

/**
 * kb_list_first_or_null_rcu() - list_first_or_null_rcu(): the first node.
 * @head: the list.
 *
 * Loads @head's ->next once, so an emptiness check and the first element
 * cannot disagree (list_empty() then list_first_entry_rcu() could).
 * Context: inside a read-side section.
 * Return: the first node, or NULL if the list was empty.
 */
kb_list_head_t *kb_list_first_or_null_rcu(const kb_list_head_t *head)
{
	kb_list_head_t *first = kb_rculist_deref(head->next);

	return first != head ? first : NULL;
}

/**
 * kb_list_next_or_null_rcu() - list_next_or_null_rcu(): the node after @pos.
 * @head: the list.
 * @pos: a node reached in this read-side section.
 *
 * Context: inside a read-side section.
 * Return: the next node, or NULL if @pos was the last.
 */
kb_list_head_t *kb_list_next_or_null_rcu(const kb_list_head_t *head, const kb_list_head_t *pos)
{
	kb_list_head_t *next = kb_rculist_deref(pos->next);

	return next != head ? next : NULL;
}

/* ============================================================= hash lists */

/** kb_hlist_head_init() - INIT_HLIST_HEAD(): an empty bucket.  Context: updater. */
void kb_hlist_head_init(kb_hlist_head_t *h)
{
	KB_WRITE_ONCE(h->first, NULL);
}

/** kb_hlist_node_init() - INIT_HLIST_NODE(): an unhashed node.  Context: updater. */
void kb_hlist_node_init(kb_hlist_node_t *n)
{
	KB_WRITE_ONCE(n->next, NULL);
	KB_WRITE_ONCE(n->pprev, NULL);
}

/**
 * kb_hlist_unhashed() - hlist_unhashed(): is @n on no bucket?
 * @n: the node.
 *
 * True for a node fresh from kb_hlist_node_init() or kb_hlist_del_init_rcu(),
 * false on a bucket and after kb_hlist_del_rcu() (its ->pprev is poisoned).
 * Context: updater.
 */
bool kb_hlist_unhashed(const kb_hlist_node_t *n)
{
	return KB_READ_ONCE(n->pprev) == NULL;
}

/** kb_hlist_empty() - hlist_empty(): has @h no node?  Context: any (a snapshot). */
bool kb_hlist_empty(const kb_hlist_head_t *h)
{
	return KB_READ_ONCE(h->first) == NULL;
}

/**
 * kb_hlist_add_head_rcu() - hlist_add_head_rcu(): make @n the first node of @h.
 * @n: the node to add, in an element already initialised.
 * @h: the bucket.
 *
 * Ordering: release; a reader that reaches @n sees it initialised.
 * Context: updater (the caller's lock); readers may traverse concurrently.
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @n already is @h's first.
 */
int kb_hlist_add_head_rcu(kb_hlist_node_t *n, kb_hlist_head_t *h)
{
	kb_hlist_node_t *first = KB_READ_ONCE(h->first);

	if (KB_UNLIKELY(first == n))
		return KB_EINVAL;
	KB_WRITE_ONCE(n->next, first);
	KB_WRITE_ONCE(n->pprev, &h->first);
	kb_rculist_assign(h->first, n);
	if (first)
		KB_WRITE_ONCE(first->pprev, &n->next);
	return KB_OK;
}

/**
 * kb_hlist_add_behind_rcu() - hlist_add_behind_rcu(): insert @n right after @prev.
 * @n: the node to add, in an element already initialised.
 * @prev: a node on a bucket.
 *
 * Context: as kb_hlist_add_head_rcu().
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @prev is unhashed or @n is @prev.
 */
int kb_hlist_add_behind_rcu(kb_hlist_node_t *n, kb_hlist_node_t *prev)
{
	kb_hlist_node_t **pp = KB_READ_ONCE(prev->pprev);
	kb_hlist_node_t *next = KB_READ_ONCE(prev->next);

	if (KB_UNLIKELY(n == prev || n == next || pp == NULL || pp == KB_HLIST_POISONED))
		return KB_EINVAL;
	KB_WRITE_ONCE(n->next, next);
	KB_WRITE_ONCE(n->pprev, &prev->next);
	kb_rculist_assign(prev->next, n);
	if (next)
		KB_WRITE_ONCE(next->pprev, &n->next);
	return KB_OK;
}

/**
 * kb_hlist_add_before_rcu() - hlist_add_before_rcu(): insert @n right before @next.
 * @n: the node to add, in an element already initialised.
 * @next: a node on a bucket.
 *
 * Context: as kb_hlist_add_head_rcu().
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @next is unhashed or @n is @next.
 */
int kb_hlist_add_before_rcu(kb_hlist_node_t *n, kb_hlist_node_t *next)
{
	kb_hlist_node_t **pp = KB_READ_ONCE(next->pprev);

	if (KB_UNLIKELY(n == next || pp == NULL || pp == KB_HLIST_POISONED))
		return KB_EINVAL;
	KB_WRITE_ONCE(n->pprev, pp);
	KB_WRITE_ONCE(n->next, next);
	/* *pp is the bucket's ->first or the previous node's ->next. */
	kb_rculist_assign(*pp, n);
	KB_WRITE_ONCE(next->pprev, &n->next);
	return KB_OK;
}

/**
 * kb_hlist_add_tail_rcu() - hlist_add_tail_rcu(): make @n the last node of @h.
 * @n: the node to add, in an element already initialised.
 * @h: the bucket.
 *
 * Walks the bucket (updater side, under the caller's lock).
 * Context and return: as kb_hlist_add_head_rcu().
 */
int kb_hlist_add_tail_rcu(kb_hlist_node_t *n, kb_hlist_head_t *h)
{
	kb_hlist_node_t *last = NULL, *p;

	for (p = KB_READ_ONCE(h->first); p; p = KB_READ_ONCE(p->next)) {
		if (KB_UNLIKELY(p == n))
			return KB_EINVAL;
		last = p;
	}
	if (last == NULL)
		return kb_hlist_add_head_rcu(n, h);
	return kb_hlist_add_behind_rcu(n, last);
}

/* @n is hashed (not unhashed, not poisoned) and what points at it does. */
static bool kb_hlist_del_valid(const kb_hlist_node_t *n)
{
	kb_hlist_node_t **pp = KB_READ_ONCE(n->pprev);
	kb_hlist_node_t *next = KB_READ_ONCE(n->next);

	if (pp == NULL || pp == KB_HLIST_POISONED || KB_READ_ONCE(*pp) != n)
		return false;
	return next == NULL || KB_READ_ONCE(next->pprev) == &n->next;
}

/* __hlist_del(): unlink @n (checked by the caller). */
static void kb_hlist_unlink(kb_hlist_node_t *n)
{
	kb_hlist_node_t **pp = KB_READ_ONCE(n->pprev);
	kb_hlist_node_t *next = KB_READ_ONCE(n->next);

	KB_WRITE_ONCE(*pp, next);
	if (next)
		KB_WRITE_ONCE(next->pprev, pp);
}

/**
 * kb_hlist_del_rcu() - hlist_del_rcu(): unlink @n from its bucket.
 * @n: a node on a bucket.
 *
 * Readers on @n keep going along its ->next, which stays intact; ->pprev
 * is poisoned (KB_LIST_POISON2).  Free the element only after a grace
 * period.
 * Context: updater (the caller's lock).
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @n is unhashed, already
 * deleted, or not pointed at by its predecessor.
 */
int kb_hlist_del_rcu(kb_hlist_node_t *n)
{
	if (KB_UNLIKELY(!kb_hlist_del_valid(n)))
		return KB_EINVAL;
	kb_hlist_unlink(n);
	KB_WRITE_ONCE(n->pprev, KB_HLIST_POISONED);
	return KB_OK;
}

/**
 * kb_hlist_del_init_rcu() - hlist_del_init_rcu(): unlink @n, leave it unhashed.
 * @n: a node on a bucket, or an unhashed one (then nothing happens).
 *
 * As kb_hlist_del_rcu(), but ->pprev becomes NULL, so kb_hlist_unhashed()
 * is true afterwards (the kernel's idiom for "may be deleted twice").
 * Context: updater (the caller's lock).
 * Return: KB_OK (also for an unhashed @n), or KB_EINVAL (nothing changed)
 * if @n was deleted with kb_hlist_del_rcu() or its links are inconsistent.
 */
int kb_hlist_del_init_rcu(kb_hlist_node_t *n)
{
	if (kb_hlist_unhashed(n))
		return KB_OK;
	if (KB_UNLIKELY(!kb_hlist_del_valid(n)))
		return KB_EINVAL;
	kb_hlist_unlink(n);
	KB_WRITE_ONCE(n->pprev, NULL);
	return KB_OK;
}

/**
 * kb_hlist_replace_rcu() - hlist_replace_rcu(): put @new where @old is.
 * @old: a node on a bucket.
 * @new: the node that takes its place, in an element already initialised.
 *
 * Ordering: release.  Readers on @old keep going along its ->next.
 * Context: updater (the caller's lock).
 * Return: KB_OK, or KB_EINVAL (nothing changed) if @old is not hashed
 * properly or @new is @old.
 */
int kb_hlist_replace_rcu(kb_hlist_node_t *old, kb_hlist_node_t *new)
{
	kb_hlist_node_t **pp, *next;

	if (KB_UNLIKELY(new == old || !kb_hlist_del_valid(old)))
		return KB_EINVAL;
	pp = KB_READ_ONCE(old->pprev);
	next = KB_READ_ONCE(old->next);
	KB_WRITE_ONCE(new->next, next);
	KB_WRITE_ONCE(new->pprev, pp);
	kb_rculist_assign(*pp, new);
	if (next)
		KB_WRITE_ONCE(next->pprev, &new->next);
	KB_WRITE_ONCE(old->pprev, KB_HLIST_POISONED);
	return KB_OK;
}

/**
 * kb_hlist_first_rcu() - rcu_dereference(hlist_first_rcu(@h)): the first node.
 * @h: the bucket.
 *
 * Traversal (hlist_for_each_entry_rcu()):
 *	for (n = kb_hlist_first_rcu(h); n; n = kb_hlist_next_rcu(n))
 *		use(container_of(n, ...));
 * Context: inside a read-side section (or under the updaters' lock).
 * Return: the first node, or NULL.
 */
kb_hlist_node_t *kb_hlist_first_rcu(const kb_hlist_head_t *h)
{
	return kb_rculist_deref(h->first);
}

/**
 * kb_hlist_next_rcu() - rcu_dereference(hlist_next_rcu(@n)): the next node.
 * @n: a node reached in this read-side section.
 *
 * Context: inside a read-side section.
 * Return: the next node, or NULL after the last.
 */
kb_hlist_node_t *kb_hlist_next_rcu(const kb_hlist_node_t *n)
{
	return kb_rculist_deref(n->next);
}
