/*
 * scheduler.c - rr, wrr (smooth weighted round robin) and wlc.
 */
#include "scheduler.h"

#include <stdlib.h>

#include "log.h"

int slb_sched_group_init(struct slb_sched_group *group, enum slb_scheduler kind,
			 const struct slb_group_conf *gc, const struct slb_shm *shm)
{
	group->kind = kind;
	group->next = 0;
	group->nmembers = 0;
	group->members = calloc(gc->nservers ? gc->nservers : 1, sizeof(*group->members));
	if (!group->members)
		return -1;
	for (unsigned i = 0; i < gc->nservers; i++) {
		int slot = slb_shm_server_find(shm, gc->name, gc->servers[i].name);

		if (slot < 0) {
			slb_err("group %s: server %s has no shared-memory slot", gc->name,
				gc->servers[i].name);
			slb_sched_group_free(group);
			return -1;
		}
		group->members[i].slot = (uint32_t)slot;
		group->members[i].serial = atomic_load(&shm->servers[slot].serial);
		group->members[i].credit = 0;
		group->nmembers++;
	}
	return 0;
}

void slb_sched_group_free(struct slb_sched_group *group)
{
	free(group->members);
	group->members = NULL;
	group->nmembers = 0;
}

/* Weight of a member that may take a new connection, 0 if it may not. */
static uint32_t usable_weight(const struct slb_sched_member *m, struct slb_shm_server *servers,
			      int exclude_slot)
{
	struct slb_shm_server *s = &servers[m->slot];

	if ((int)m->slot == exclude_slot ||
	    atomic_load_explicit(&s->serial, memory_order_relaxed) != m->serial ||
	    atomic_load_explicit(&s->health, memory_order_relaxed) != SLB_HEALTH_UP)
		return 0;
	return atomic_load_explicit(&s->weight, memory_order_relaxed);
}

static int pick_rr(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot)
{
	for (unsigned i = 0; i < g->nmembers; i++) {
		unsigned idx = (g->next + i) % g->nmembers;

		if (usable_weight(&g->members[idx], servers, exclude_slot) > 0) {
			g->next = idx + 1;
			return (int)g->members[idx].slot;
		}
	}
	return -1;
}

/*
 * nginx's smooth weighted round robin: every usable member earns its weight,
 * the richest is picked and pays the total. Over sum(weights) picks each
 * member is chosen exactly weight times, interleaved rather than in bursts.
 */
static int pick_wrr(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot)
{
	struct slb_sched_member *best = NULL;
	int64_t total = 0;

	for (unsigned i = 0; i < g->nmembers; i++) {
		struct slb_sched_member *m = &g->members[i];
		uint32_t w = usable_weight(m, servers, exclude_slot);

		if (w == 0)
			continue;
		m->credit += w;
		total += w;
		if (!best || m->credit > best->credit)
			best = m;
	}
	if (!best)
		return -1;
	best->credit -= total;
	return (int)best->slot;
}

/*
 * Weighted least connections on the node-wide active counts in shared
 * memory: the member with the lowest active/weight wins (compared by cross
 * multiplication, no division); ties go round robin.
 */
static int pick_wlc(struct slb_sched_group *g, struct slb_shm_server *servers, int exclude_slot)
{
	const struct slb_sched_member *best = NULL;
	uint64_t best_active = 0, best_weight = 0;
	unsigned best_idx = 0;

	for (unsigned i = 0; i < g->nmembers; i++) {
		unsigned idx = (g->next + i) % g->nmembers;
		const struct slb_sched_member *m = &g->members[idx];
		uint64_t w = usable_weight(m, servers, exclude_slot);
		uint64_t a;

		if (w == 0)
			continue;
		a = atomic_load_explicit(&servers[m->slot].active, memory_order_relaxed);
		if (!best || a * best_weight < best_active * w) {
			best = m;
			best_active = a;
			best_weight = w;
			best_idx = idx;
		}
	}
	if (!best)
		return -1;
	g->next = best_idx + 1;
	return (int)best->slot;
}

int slb_sched_pick(struct slb_sched_group *group, struct slb_shm_server *servers, int exclude_slot)
{
	if (group->nmembers == 0)
		return -1;
	switch (group->kind) {
	case SLB_SCHED_RR:
		return pick_rr(group, servers, exclude_slot);
	case SLB_SCHED_WLC:
		return pick_wlc(group, servers, exclude_slot);
	default:
		return pick_wrr(group, servers, exclude_slot);
	}
}
