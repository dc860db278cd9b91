/*
 * checker.h - slb-checker: the probes it runs and the verdicts it writes.
 */
#ifndef SLB_CHECKER_H
#define SLB_CHECKER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "scheduler.h"
#include "shm.h"

/* One server of one group, probed on the group's schedule. */
struct checker_target {
	const struct slb_group_conf *group;
	const struct slb_server_conf *server;
	uint32_t slot;
	uint32_t serial;
	struct slb_sockaddr addr; /* the server's address with check_port applied */
	int fd; /* probe in flight, or -1 */
	uint64_t next_ms; /* when the next probe starts */
	uint64_t started_ms;
	uint64_t started_us; /* for the latency, finer than the schedule */
	uint64_t deadline_ms;
	int last_errno; /* why the last probe failed, for the transition log */
};

/*
 * Starts a TCP connect probe of <t> at <now_ms>. Returns the socket to wait
 * on for writability, or -1 when the probe failed at once (t->last_errno set).
 */
int tcp_check_start(struct checker_target *t, uint64_t now_ms);

/* The probe's socket became writable or errored: true when it connected. */
bool tcp_check_finish(struct checker_target *t);

/* Closes the probe's socket without a TIME_WAIT left behind. */
void tcp_check_abort(struct checker_target *t);

/* A listener with a backup_group, and where its new traffic goes now. */
struct backup_watch {
	const struct slb_listener_conf *listener;
	const struct slb_group_conf *group;
	const struct slb_group_conf *backup;
	struct slb_sched_group members; /* of group, to count the ones down */
	bool on_backup;
};

struct backup_watches {
	unsigned n;
	struct backup_watch *watches;
};

/*
 * Watches every listener of <cf> that has a backup_group, logging once those
 * already on their backup group. Returns 0, or -1 (out of memory, or a server
 * without a slot, logged).
 */
int backup_watch_setup(struct backup_watches *bws, const struct slb_config *cf,
		       const struct slb_shm *shm);

/* After a health transition: logs each listener whose new traffic switched. */
void backup_watch_update(struct backup_watches *bws, const struct slb_shm *shm);

void backup_watch_free(struct backup_watches *bws);

#endif
