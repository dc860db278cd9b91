/*
 * checker.h - slb-checker: the probes it runs and the verdicts it writes.
 */
#ifndef SLB_CHECKER_H
#define SLB_CHECKER_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "config.h"
#include "scheduler.h"
#include "shm.h"

struct http_probe;

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
	char why[160]; /* the same when it is not an errno ("HTTP status 500"); "" = none */
	struct http_probe *http; /* http and https checks: the exchange in flight */
};

/* What a probe step concluded. */
enum check_result { CHECK_PASS, CHECK_FAIL, CHECK_WANT_READ, CHECK_WANT_WRITE };

/*
 * Every probe's start (probe.c): sets <t>'s clock and deadline from
 * <now_ms>, opens a non-blocking socket of <type> and connects it to t->addr
 * (a TCP connect may still be in progress). Returns the socket (also in
 * t->fd), or -1 with t->last_errno set.
 */
int checker_probe_connect(struct checker_target *t, int type, uint64_t now_ms);

/*
 * Starts a TCP connect probe of <t> at <now_ms>. Returns the socket to wait
 * on for writability, or -1 when the probe failed at once (t->last_errno set).
 */
int tcp_check_start(struct checker_target *t, uint64_t now_ms);

/* The probe's socket became writable or errored: true when it connected (else t->last_errno). */
bool tcp_check_finish(struct checker_target *t);

/* Closes the probe's socket (any probe's) without a TIME_WAIT left behind. */
void tcp_check_abort(struct checker_target *t);

/*
 * Starts a `udp` probe of <t> at <now_ms>: the datagram is sent. Returns the
 * socket to wait on for readability, or -1 when the probe failed at once
 * (t->last_errno set).
 */
int udp_check_start(struct checker_target *t, uint64_t now_ms);

/* The probe's socket is readable: PASS on a reply, FAIL on an ICMP error (t->last_errno). */
enum check_result udp_check_step(struct checker_target *t);

/* Where a listener with a backup_group sends its new traffic. */
enum backup_state {
	BACKUP_IDLE, /* below failover_threshold: the group */
	BACKUP_SERVING, /* threshold reached, a backup server up: the backup group */
	BACKUP_NONE_UP, /* threshold reached, no backup server up: the group's survivors */
};

/* A listener with a backup_group, and where its new traffic goes now. */
struct backup_watch {
	const struct slb_listener_conf *listener;
	const struct slb_group_conf *group;
	const struct slb_group_conf *backup;
	struct slb_sched_group members; /* of group, to count the ones down */
	struct slb_sched_group backup_members; /* of backup, to see one up */
	_Atomic uint32_t *shm_on_backup; /* the listener's on_backup in shm, or NULL */
	enum backup_state state; /* what the log and the metric say */
};

struct backup_watches {
	unsigned n;
	struct backup_watch *watches;
};

/*
 * Watches every listener of <cf> that has a backup_group, logging once those
 * already past their failover_threshold, and sets every listener's on_backup in
 * <shm> (0 for those without one). Returns 0, or -1 (out of memory, or a
 * server without a slot, logged).
 */
int backup_watch_setup(struct backup_watches *bws, const struct slb_config *cf,
		       const struct slb_shm *shm);

/*
 * After a health transition or a weight change: logs each listener whose new
 * traffic switched, and updates its on_backup in <shm>: 1 while the
 * threshold is reached and the backup group has a server up with a weight
 * above 0 (the workers' pick, listener_pick.c).
 */
void backup_watch_update(struct backup_watches *bws, const struct slb_shm *shm);

void backup_watch_free(struct backup_watches *bws);

/*
 * Prepares <t> for `http` / `https` checks: the request, the buffers, and for
 * https the client context <tls> (shared, not owned). Returns 0, or -1 when
 * memory ran out.
 */
int http_check_setup(struct checker_target *t, SSL_CTX *tls);

/*
 * Advances the probe of <t> after its socket (from tcp_check_start) became
 * ready: connect result, TLS handshake, request, response head. PASS when
 * the status is in the group's check_codes; FAIL sets t->why or
 * t->last_errno; WANT_* says what to wait for next.
 */
enum check_result http_check_step(struct checker_target *t);

/* Ends the exchange in flight (TLS state freed); the socket is the caller's. */
void http_check_end(struct checker_target *t);

void http_check_free(struct checker_target *t);

#endif
