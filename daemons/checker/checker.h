/*
 * checker.h - slb-checker: the probes it runs and the verdicts it writes.
 */
#ifndef SLB_CHECKER_H
#define SLB_CHECKER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
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

#endif
