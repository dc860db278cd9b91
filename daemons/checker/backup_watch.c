/*
 * backup_watch.c - the log line of a listener's backup_group switch.
 *
 * Workers decide per pick whether a listener's new traffic goes to its
 * backup_group (daemons/worker/listener_pick.c); each of them would see a
 * switch, so none of them logs it. The checker writes the verdicts the
 * decision depends on: after every health transition it recounts, with the
 * same function the workers use, and logs each switch exactly once. It also
 * keeps each listener's on_backup in shared memory for the metrics
 * (slb_listener_backup_active): 1 while the workers pick from the backup
 * group, which needs a server of it up.
 */
#include "checker.h"

#include <stdlib.h>

#include "log.h"

static unsigned watch_unhealthy(const struct backup_watch *bw, const struct slb_shm *shm)
{
	return slb_sched_group_unhealthy(&bw->members, shm->servers);
}

/* What the metric says: the workers pick from the backup group only when one of it is up. */
static void watch_publish(const struct backup_watch *bw, const struct slb_shm *shm)
{
	bool serving = bw->on_backup && slb_sched_group_unhealthy(&bw->backup_members, shm->servers) <
						bw->backup_members.nmembers;

	if (bw->shm_on_backup)
		atomic_store_explicit(bw->shm_on_backup, serving, memory_order_relaxed);
}

static void watch_log(const struct backup_watch *bw, unsigned down)
{
	const struct slb_listener_conf *l = bw->listener;

	if (bw->on_backup)
		slb_warn("listener %s: %u of %u servers of group %s down, new traffic to backup "
			 "group %s", l->name, down, bw->group->nservers, bw->group->name,
			 bw->backup->name);
	else
		slb_info("listener %s: %u of %u servers of group %s down (threshold %u), new "
			 "traffic back to group %s", l->name, down, bw->group->nservers,
			 bw->group->name, l->failover_threshold, bw->group->name);
}

int backup_watch_setup(struct backup_watches *bws, const struct slb_config *cf,
		       const struct slb_shm *shm)
{
	bws->watches = calloc(cf->nlisteners ? cf->nlisteners : 1, sizeof(*bws->watches));
	if (!bws->watches)
		return -1;
	for (unsigned i = 0; i < cf->nlisteners; i++) {
		const struct slb_listener_conf *l = &cf->listeners[i];
		struct backup_watch *bw = &bws->watches[bws->n];
		int slot = slb_shm_listener_find(shm, l->name);
		unsigned down;

		if (l->backup_group < 0) {
			/* A reload may have taken the backup group away. */
			if (slot >= 0)
				atomic_store(&shm->listeners[slot].on_backup, 0);
			continue;
		}
		bw->listener = l;
		bw->group = &cf->groups[l->group];
		bw->backup = &cf->groups[l->backup_group];
		bw->shm_on_backup = slot >= 0 ? &shm->listeners[slot].on_backup : NULL;
		/* rr: only the members are needed, not a ch table. */
		if (slb_sched_group_init(&bw->members, SLB_SCHED_RR, bw->group, shm) == -1)
			return -1;
		if (slb_sched_group_init(&bw->backup_members, SLB_SCHED_RR, bw->backup, shm) == -1) {
			slb_sched_group_free(&bw->members);
			return -1;
		}
		bws->n++;
		/* A checker started (or restarted) while the backup serves says so once. */
		down = watch_unhealthy(bw, shm);
		bw->on_backup = down >= l->failover_threshold;
		if (bw->on_backup)
			watch_log(bw, down);
		watch_publish(bw, shm);
	}
	return 0;
}

void backup_watch_update(struct backup_watches *bws, const struct slb_shm *shm)
{
	for (unsigned i = 0; i < bws->n; i++) {
		struct backup_watch *bw = &bws->watches[i];
		unsigned down = watch_unhealthy(bw, shm);
		bool on_backup = down >= bw->listener->failover_threshold;

		if (on_backup != bw->on_backup) {
			bw->on_backup = on_backup;
			watch_log(bw, down);
		}
		watch_publish(bw, shm);
	}
}

void backup_watch_free(struct backup_watches *bws)
{
	for (unsigned i = 0; i < bws->n; i++) {
		slb_sched_group_free(&bws->watches[i].members);
		slb_sched_group_free(&bws->watches[i].backup_members);
	}
	free(bws->watches);
	bws->watches = NULL;
	bws->n = 0;
}
