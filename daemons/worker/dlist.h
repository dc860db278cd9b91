/*
 * dlist.h - an intrusive doubly linked list: a record holds a struct
 * dlist_node per list it can be on, and dlist_entry() gets the record back.
 * Appending at the tail and taking from the head keeps a list in the order
 * of its last append: timeouts expire from the head.
 */
#ifndef SLB_DLIST_H
#define SLB_DLIST_H

#include <stdbool.h>
#include <stddef.h>

struct dlist_node {
	struct dlist_node *prev;
	struct dlist_node *next;
	struct dlist *list; /* NULL when on no list */
};

struct dlist {
	struct dlist_node *head;
	struct dlist_node *tail;
	unsigned len;
};

#define dlist_entry(node, type, member) ((type *)((char *)(node) - offsetof(type, member)))

static inline void dlist_remove(struct dlist_node *n)
{
	struct dlist *list = n->list;

	if (!list)
		return;
	if (n->prev)
		n->prev->next = n->next;
	else
		list->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		list->tail = n->prev;
	n->prev = n->next = NULL;
	n->list = NULL;
	list->len--;
}

static inline void dlist_append(struct dlist *list, struct dlist_node *n)
{
	dlist_remove(n);
	n->list = list;
	n->prev = list->tail;
	n->next = NULL;
	if (list->tail)
		list->tail->next = n;
	else
		list->head = n;
	list->tail = n;
	list->len++;
}

#endif
