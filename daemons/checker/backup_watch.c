/*
 * backup_watch.c - the log line of a listener's backup_group switch.
 *
 * Workers decide per pick whether a listener's new traffic goes to its
 * backup_group (daemons/worker/listener_pick.c); each of them would see a
 * switch, so none of them logs it. The checker writes the verdicts the
 * decision depends on: after every health transition, and after every
 * weight slbctl sets (the master says so, SLB_MSG_WEIGHT), it recounts with
 * the same functions the workers use, and logs each switch exactly once. A
 * switch is where new traffic really goes: the backup group only while
 * failover_threshold is reached and a server of it can be picked, up with a
 * weight above 0 (a warning when the threshold is reached with none: the
 * group's survivors go on). The
 * same state is each listener's on_backup in shared memory for the metrics
 * (slb_listener_backup_active).
 */
#include "checker.h"

#include <stdlib.h>

#include "log.h"

/*
 * Where the workers' pick (listener_pick.c) sends the listener's new traffic
 * now; <down> gets the number of the group's servers down.
 */
static enum backup_state watch_state(const struct backup_watch *bw, const struct slb_shm *shm,
				     unsigned *down)
{
	*down = slb_sched_group_unhealthy(&bw->members, shm->servers);
	if (*down < bw->listener->failover_threshold)
		return BACKUP_IDLE;
	if (slb_sched_group_can_pick(&bw->backup_members, shm->servers))
		return BACKUP_SERVING;
	return BACKUP_NONE_UP;
}

/* Moves <bw> to <state>: one log line for the switch, and the metric. */
static void watch_switch(struct backup_watch *bw, enum backup_state state, unsigned down)
{
	const struct slb_listener_conf *l = bw->listener;
	const char *group = bw->group->name;
	unsigned n = bw->group->nservers;

	switch (state) {
	case BACKUP_SERVING:
		slb_warn("listener %s: %u of %u servers of group %s down, new traffic to backup "
			 "group %s", l->name, down, n, group, bw->backup->name);
		break;
	case BACKUP_NONE_UP:
		slb_warn("listener %s: %u of %u servers of group %s down, but no server of backup "
			 "group %s is up with a weight above 0: new traffic %s group %s", l->name,
			 down, n, group, bw->backup->name,
			 bw->state == BACKUP_SERVING ? "back to" : "stays on", group);
		break;
	case BACKUP_IDLE:
		if (bw->state == BACKUP_SERVING)
			slb_info("listener %s: %u of %u servers of group %s down (threshold %u), "
				 "new traffic back to group %s", l->name, down, n, group,
				 l->failover_threshold, group);
		else
			slb_info("listener %s: %u of %u servers of group %s down (threshold %u), "
				 "below the threshold again", l->name, down, n, group,
				 l->failover_threshold);
		break;
	}
	bw->state = state;
	/* slb_listener_backup_active: 1 while the workers pick from the backup group. */
	if (bw->shm_on_backup)
		atomic_store_explicit(bw->shm_on_backup, state == BACKUP_SERVING,
				      memory_order_relaxed);
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
		enum backup_state state;
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
		/*
		 * A checker started (or restarted) past the threshold says so once;
		 * otherwise the slot may still hold what the previous checker saw.
		 */
		bw->state = BACKUP_IDLE;
		state = watch_state(bw, shm, &down);
		if (state != BACKUP_IDLE)
			watch_switch(bw, state, down);
		else if (bw->shm_on_backup)
			atomic_store(bw->shm_on_backup, 0);
	}
	return 0;
}

void backup_watch_update(struct backup_watches *bws, const struct slb_shm *shm)
{
	for (unsigned i = 0; i < bws->n; i++) {
		struct backup_watch *bw = &bws->watches[i];
		unsigned down;
		enum backup_state state = watch_state(bw, shm, &down);

		if (state != bw->state)
			watch_switch(bw, state, down);
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
