/*
 * election.c - the VRRPv3 state machine (RFC 5798 section 6.4) with slb's
 * additions: zones (a primary-zone node always outranks a backup-zone
 * node), preempt_delay, tracking (a group with no healthy server, or no
 * live worker, lowers the advertised priority, and a master that degrades
 * hands the VIPs over at once with a priority-0 advert), gratuitous ARP
 * repeated on every takeover and whenever a lower-priority master is heard.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "failover.h"
#include "ipc.h"
#include "log.h"

static const char *state_name(enum slb_failover_state s)
{
	switch (s) {
	case SLB_FAILOVER_BACKUP: return "BACKUP";
	case SLB_FAILOVER_MASTER: return "MASTER";
	case SLB_FAILOVER_FAULT: return "FAULT";
	default: return "INIT";
	}
}

/*
 * Zones are bands of the 8-bit VRRP priority: the primary zone maps 1..254
 * onto 128..254, the backup zone onto 1..127, so no configured priority of
 * a backup-zone node can outrank a healthy primary-zone node.
 */
uint8_t failover_base_priority(const struct slb_failover_conf *fc, enum slb_zone zone)
{
	unsigned scaled = (fc->priority - 1) * 126 / 253;

	return (uint8_t)(zone == SLB_ZONE_PRIMARY ? 128 + scaled : 1 + scaled);
}

/*
 * Runs the [failover] notify program with the new state and the reason, in
 * the background (SIGCHLD is ignored, so nobody waits for it). The
 * election never waits on an operator's script.
 */
static void notify(const struct failover *f, enum slb_failover_state state, const char *reason)
{
	pid_t pid;

	if (!f->fc->notify[0])
		return;
	pid = fork();
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execl(f->fc->notify, f->fc->notify, state_name(state), reason, (char *)NULL);
		_exit(127);
	}
	if (pid == -1)
		slb_warn("vrid %u: cannot run notify %s: %m", f->fc->vrid, f->fc->notify);
}

static void set_state(struct failover *f, enum slb_failover_state state, const char *reason)
{
	enum slb_failover_state old = f->state;

	f->state = state;
	atomic_store(&f->shared->state, state);
	atomic_fetch_add(&f->shared->transitions, 1);
	atomic_store(&f->shared->since_ms, slb_realtime_ms());
	snprintf(f->shared->reason, sizeof(f->shared->reason), "%s", reason);
	slb_info("vrid %u: %s -> %s (%s)", f->fc->vrid, state_name(old), state_name(state), reason);
	notify(f, state, reason);
}

static void vips_take(struct failover *f)
{
	failover_vips_add(f);
	f->garp_left = FAILOVER_GARP_REPEATS;
	f->garp_due_ms = f->now_ms;
	f->garp_refresh_ms = f->now_ms + f->fc->garp_interval_ms;
}

static void vips_release(struct failover *f)
{
	failover_vips_remove(f);
	f->garp_left = 0;
}

static uint32_t advert_interval_ms(const struct failover *f)
{
	return f->fc->advert_interval_ms;
}

/*
 * RFC 5798's Skew_Time is ((256 - Priority) x Master_Adver_Interval) / 256;
 * slb halves it. It only orders backups by priority, and zones put every
 * backup-zone node below 128, where the RFC's skew would cost it more than
 * half an advert interval on every takeover.
 */
static uint64_t skew_time(const struct failover *f)
{
	uint64_t adv = f->master_interval_ms ? f->master_interval_ms : advert_interval_ms(f);

	return ((256 - f->priority) * adv) / 512;
}

/* After a priority-0 advert: at most 20 ms, still ordered by priority. */
#define MASTER_LEFT_MAX_WAIT_MS 20

/* RFC 5798: Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time. */
static uint64_t master_down_interval(const struct failover *f)
{
	uint64_t adv = f->master_interval_ms ? f->master_interval_ms : advert_interval_ms(f);

	return 3 * adv + skew_time(f);
}

static void advert_now(struct failover *f)
{
	vrrp_send_advert(f, f->priority);
	f->advert_due_ms = f->now_ms + advert_interval_ms(f);
}

static void become_master(struct failover *f, const char *reason)
{
	/* The session table first (what the old master sent is applied), then
	 * the addresses, then the advert and ARP: a client redirected by the ARP
	 * must find the VIP, and its session, already there. */
	sync_backup_take_over(f);
	set_state(f, SLB_FAILOVER_MASTER, reason);
	atomic_store(&f->shared->master_addr, f->self.s_addr);
	vips_take(f);
	advert_now(f);
}

static void become_backup(struct failover *f, const char *reason)
{
	if (f->state == SLB_FAILOVER_MASTER)
		vips_release(f);
	set_state(f, SLB_FAILOVER_BACKUP, reason);
	f->master_left = false;
	f->master_down_ms = f->now_ms + master_down_interval(f);
	f->backup_since_ms = f->now_ms;
}

/*
 * The priority local health allows now. A degraded node (its track_group
 * has no healthy server, or no worker of it is alive) counts as backup
 * zone, lowered by track_weight: the VIP stays in the primary zone only
 * while the primary zone is healthy, and a handover for health never
 * bounces back while the health is still bad.
 */
static uint8_t tracked_priority(struct failover *f)
{
	const struct slb_failover_conf *fc = f->fc;
	uint32_t workers = atomic_load(&f->shared->workers_alive);
	bool degraded = false;
	int p;

	if (fc->track_group >= 0) {
		const struct slb_group_conf *g = &f->config->groups[fc->track_group];
		bool healthy = false;

		for (unsigned i = 0; i < g->nservers && !healthy; i++) {
			int slot = slb_shm_server_find(f->shm, g->name, g->servers[i].name);

			healthy = slot >= 0 &&
				  atomic_load(&f->shm->servers[slot].health) == SLB_HEALTH_UP &&
				  atomic_load(&f->shm->servers[slot].weight) > 0;
		}
		degraded = !healthy;
	}
	/* An operator's word outranks everything the node sees for itself. */
	if (f->manual == SLB_FAILOVER_MANUAL_TAKEOVER)
		return 254;
	if (f->manual == SLB_FAILOVER_MANUAL_RELEASE)
		return 1;
	/* Workers start after us: no verdict on them before one was seen alive. */
	f->workers_seen |= workers > 0;
	if (f->config->nlisteners > 0 && f->workers_seen && workers == 0)
		return 1;
	if (!degraded)
		return f->base_priority;
	p = failover_base_priority(fc, SLB_ZONE_BACKUP) - (int)fc->track_weight;
	return (uint8_t)(p < 1 ? 1 : p);
}

static void update_priority(struct failover *f)
{
	uint8_t p = tracked_priority(f);

	if (p == f->priority)
		return;
	slb_info("vrid %u: priority %u -> %u (%s)", f->fc->vrid, f->priority, p,
		 p < f->base_priority ? "local health degraded" : "local health restored");
	f->priority = p;
	atomic_store(&f->shared->priority, p);
	if (p == f->base_priority) {
		f->released_for_health = false;
	} else if (f->state == SLB_FAILOVER_MASTER && !f->released_for_health) {
		/* Hand over now rather than wait for a peer that may not preempt. */
		f->released_for_health = true;
		become_backup(f, "local health degraded, VIPs handed over");
		vrrp_send_advert(f, 0);
	}
}

void failover_start(struct failover *f, bool resume_master)
{
	f->priority = tracked_priority(f);
	atomic_store(&f->shared->priority, f->priority);
	if (!f->link_up) {
		vips_release(f);
		set_state(f, SLB_FAILOVER_FAULT, "interface down at start");
		return;
	}
	if (resume_master) {
		/* A respawn: the VIPs never left; keep them, say so on the wire. */
		f->state = SLB_FAILOVER_MASTER;
		atomic_store(&f->shared->master_addr, f->self.s_addr);
		slb_info("vrid %u: resuming as MASTER after a restart of slb-failover", f->fc->vrid);
		failover_vips_add(f);
		f->garp_refresh_ms = f->now_ms + f->fc->garp_interval_ms;
		advert_now(f);
		return;
	}
	/* A VIP left by a node that crashed must not answer ARP beside the master. */
	vips_release(f);
	become_backup(f, "start");
}

void failover_on_advert(struct failover *f, const struct slb_vrrp_advert *a, struct in_addr from)
{
	const struct slb_failover_conf *fc = f->fc;
	char addr[INET_ADDRSTRLEN];

	if (f->state == SLB_FAILOVER_BACKUP) {
		if (a->priority == 0) {
			/*
			 * The master is leaving. The RFC waits Skew_Time, which grows
			 * with the advert interval; a wait bounded by 20 ms still
			 * orders several backups by priority.
			 */
			f->master_down_ms = f->now_ms +
					    ((256 - f->priority) * MASTER_LEFT_MAX_WAIT_MS) / 256;
			f->master_left = true;
			return;
		}
		bool preempt = fc->preempt && a->priority < f->priority &&
			       f->now_ms >= f->backup_since_ms + fc->preempt_delay_ms;

		/* A returning better node first takes the master's session table. */
		if (preempt && !sync_backup_ready(f)) {
			if (!f->sync_in.wait_logged) {
				inet_ntop(AF_INET, &from, addr, sizeof(addr));
				slb_info("vrid %u: not preempting master %s (priority %u) before "
					 "its session copy is complete", fc->vrid, addr, a->priority);
			}
			f->sync_in.wait_logged = true;
			preempt = false;
		}
		if (!preempt) {
			f->master_interval_ms = a->interval_cs * 10u;
			f->master_down_ms = f->now_ms + master_down_interval(f);
			f->master_left = false;
			atomic_store(&f->shared->master_addr, from.s_addr);
		}
		return;
	}
	if (f->state != SLB_FAILOVER_MASTER)
		return;
	if (a->priority == 0) {
		advert_now(f);
		return;
	}
	inet_ntop(AF_INET, &from, addr, sizeof(addr));
	if (a->priority > f->priority ||
	    (a->priority == f->priority && ntohl(from.s_addr) > ntohl(f->self.s_addr))) {
		char reason[SLB_FAILOVER_REASON_MAX];

		snprintf(reason, sizeof(reason), "master %s has priority %u", addr, a->priority);
		f->master_interval_ms = a->interval_cs * 10u;
		become_backup(f, reason);
		atomic_store(&f->shared->master_addr, from.s_addr);
		return;
	}
	/* We win: tell the other one now, and point every ARP cache back here. */
	slb_debug("vrid %u: lower-priority master %s (priority %u) heard, reasserting", fc->vrid,
		  addr, a->priority);
	advert_now(f);
	f->garp_left = FAILOVER_GARP_REPEATS;
	f->garp_due_ms = f->now_ms;
}

static void note_lateness(struct failover *f, uint64_t due)
{
	uint64_t late_us = (f->now_ms - due) * 1000u;

	if (late_us > atomic_load(&f->shared->timer_late_max_us))
		atomic_store(&f->shared->timer_late_max_us, late_us);
}

void failover_on_timers(struct failover *f)
{
	if (f->state == SLB_FAILOVER_FAULT || f->state == SLB_FAILOVER_INIT)
		return;
	update_priority(f);
	if (f->state == SLB_FAILOVER_MASTER && f->now_ms >= f->advert_due_ms) {
		note_lateness(f, f->advert_due_ms);
		advert_now(f);
	}
	if (f->state == SLB_FAILOVER_BACKUP && f->now_ms >= f->master_down_ms) {
		note_lateness(f, f->master_down_ms);
		become_master(f, f->master_left ? "the master left (priority 0)"
						 : "no advert from a better master");
	}
	if (f->state == SLB_FAILOVER_MASTER && f->fc->garp_interval_ms &&
	    f->now_ms >= f->garp_refresh_ms) {
		/* Periodic refresh, for neighbours that forget or never heard. */
		garp_send_all(f);
		f->garp_refresh_ms = f->now_ms + f->fc->garp_interval_ms;
	}
	if (f->garp_left && f->now_ms >= f->garp_due_ms) {
		garp_send_all(f);
		f->garp_left--;
		f->garp_due_ms = f->now_ms + FAILOVER_GARP_SPACING_MS;
	}
}

void failover_on_link(struct failover *f, bool up)
{
	if (!up && f->state != SLB_FAILOVER_FAULT) {
		if (f->state == SLB_FAILOVER_MASTER)
			vips_release(f);
		set_state(f, SLB_FAILOVER_FAULT, "interface down");
	} else if (up && f->state == SLB_FAILOVER_FAULT) {
		become_backup(f, "interface up");
	}
}

void failover_stop(struct failover *f)
{
	if (f->state == SLB_FAILOVER_MASTER) {
		/*
		 * Addresses first, then priority 0: the backup takes over after a
		 * fraction of its skew, and never while the VIP is still here.
		 */
		vips_release(f);
		vrrp_send_advert(f, 0);
		set_state(f, SLB_FAILOVER_INIT, "stopping");
		return;
	}
	vips_release(f);
}

uint64_t failover_next_due(const struct failover *f)
{
	uint64_t next = f->now_ms + 1000;

	if (f->state == SLB_FAILOVER_MASTER && f->advert_due_ms < next)
		next = f->advert_due_ms;
	if (f->state == SLB_FAILOVER_BACKUP && f->master_down_ms < next)
		next = f->master_down_ms;
	if (f->garp_left && f->garp_due_ms < next)
		next = f->garp_due_ms;
	if (f->state == SLB_FAILOVER_MASTER && f->fc->garp_interval_ms && f->garp_refresh_ms < next)
		next = f->garp_refresh_ms;
	return next;
}

/*
 * slbctl failover takeover: priority 254 and master now (a master of lower
 * priority steps down on our first advert). release: priority 1 and, if
 * master, hand the VIPs over like a clean stop. Both hold until the next
 * start of slb-failover.
 */
void failover_manual(struct failover *f, uint32_t op)
{
	if (op != SLB_FAILOVER_MANUAL_TAKEOVER && op != SLB_FAILOVER_MANUAL_RELEASE)
		return;
	f->manual = op;
	f->priority = tracked_priority(f);
	atomic_store(&f->shared->priority, f->priority);
	slb_info("vrid %u: manual %s (slbctl): priority %u", f->fc->vrid,
		 op == SLB_FAILOVER_MANUAL_TAKEOVER ? "takeover" : "release", f->priority);
	if (op == SLB_FAILOVER_MANUAL_TAKEOVER && f->state == SLB_FAILOVER_BACKUP) {
		become_master(f, "manual takeover");
	} else if (op == SLB_FAILOVER_MANUAL_RELEASE && f->state == SLB_FAILOVER_MASTER) {
		become_backup(f, "manual release");
		vrrp_send_advert(f, 0);
	}
}
