/*
 * listener_pick.c - the server a listener's new connection goes to: one of
 * its group, or of its backup_group while failover_threshold or more servers
 * of the group are down. Every protocol path picks through here, so the
 * backup group means the same for all of them. Also whether a server a
 * session names is still one of the listener's.
 */
#include "worker.h"

int worker_pick(struct worker *w, struct worker_listener *l, int exclude_slot,
		const struct sockaddr *client)
{
	/*
	 * Counted on every pick (one health load per member of the group) rather
	 * than kept as a flag: the checker's verdict is the only state, so a
	 * recovery moves new traffic back on the very next pick, in every worker.
	 */
	if (l->conf->backup_group >= 0 &&
	    slb_sched_group_unhealthy(&l->sched, w->shm.servers) >= l->conf->failover_threshold) {
		int slot = slb_sched_pick(&l->backup, w->shm.servers, exclude_slot, client);

		/*
		 * A backup group with nothing up with a weight above 0 leaves the
		 * group's survivors serving (the checker's backup_watch.c says so).
		 */
		if (slot >= 0)
			return slot;
	}
	return slb_sched_pick(&l->sched, w->shm.servers, exclude_slot, client);
}

static bool group_has(const struct slb_sched_group *g, uint32_t slot, uint32_t serial)
{
	for (unsigned i = 0; i < g->nmembers; i++)
		if (g->members[i].slot == slot && g->members[i].serial == serial)
			return true;
	return false;
}

bool worker_listener_serves(const struct worker_listener *l, uint32_t slot, uint32_t serial)
{
	return group_has(&l->sched, slot, serial) ||
	       (l->conf->backup_group >= 0 && group_has(&l->backup, slot, serial));
}
