/*
 * worker_stats.h - the shared-memory counters a worker's proxies update:
 * finding a listener's or a server's record (whose slot a reload may have
 * given to another) and releasing a gauge without wrapping.
 */
#ifndef SLB_WORKER_STATS_H
#define SLB_WORKER_STATS_H

#include "worker.h"

/* The listener's shared record, or NULL when a reload gave its slot away. */
static inline struct slb_shm_listener *listener_stats(struct worker_listener *l)
{
	if (!l->stats || atomic_load_explicit(&l->stats->serial, memory_order_relaxed) != l->stats_serial)
		return NULL;
	return l->stats;
}

/* Server <slot> as it was when <serial> was read from it, or NULL. */
static inline struct slb_shm_server *server_stats(struct worker *w, int slot, uint32_t serial)
{
	struct slb_shm_server *s;

	if (slot < 0)
		return NULL;
	s = &w->shm.servers[slot];
	if (atomic_load_explicit(&s->serial, memory_order_relaxed) != serial)
		return NULL;
	return s;
}

/* Decrements a shared counter without ever wrapping below zero. */
static inline void counter_release(_Atomic uint32_t *counter)
{
	uint32_t v = atomic_load_explicit(counter, memory_order_relaxed);

	while (v > 0 && !atomic_compare_exchange_weak_explicit(counter, &v, v - 1,
							       memory_order_relaxed,
							       memory_order_relaxed))
		;
}

static inline void counter_add(_Atomic uint64_t *counter, uint64_t n)
{
	atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
}

#endif
