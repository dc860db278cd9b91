/*
 * worker.h - one slb-worker process: an epoll loop over the listeners this
 * generation was given, the connections it accepted, and the channel to the
 * master.
 */
#ifndef SLB_WORKER_H
#define SLB_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dlist.h"
#include "log.h"
#include "scheduler.h"
#include "shm.h"

/* What an epoll event's data.ptr points at: every such struct starts with this. */
enum worker_tag {
	WORKER_TAG_CHANNEL,
	WORKER_TAG_LISTENER,
	WORKER_TAG_CLIENT,
	WORKER_TAG_SERVER,
	WORKER_TAG_HTTP_CLIENT,
	WORKER_TAG_HTTP_SERVER,
	WORKER_TAG_UDP_LISTENER,
	WORKER_TAG_UDP_FLOW,
};

/* Why an HTTP client connection is waiting; each has its own timeout. */
enum http_timer {
	HTTP_T_HEADER, /* header_timeout: a request head is due */
	HTTP_T_BODY, /* body_timeout: the next piece of a request body is due */
	HTTP_T_CONNECT, /* connect_timeout: a server connect is under way */
	HTTP_T_SERVER, /* server_timeout: the server's response is due */
	HTTP_T_KEEPALIVE, /* keepalive_timeout: idle between requests, or closing */
	HTTP_T_TUNNEL, /* idle_timeout: a WebSocket tunnel with no traffic */
	HTTP_T_COUNT,
};

struct tcp_conn;

struct udp_state;

struct worker_listener {
	enum worker_tag tag; /* first: epoll data */
	int fd; /* tcp: -1 once closed for draining; udp: kept, replies leave through it */
	const struct slb_listener_conf *conf;
	int slot; /* in the shm listener table, -1 = none */
	struct slb_shm_listener *stats;
	uint32_t stats_serial;
	struct slb_sched_group sched;
	struct slb_sched_group backup; /* backup_group's; no members when there is none */
	struct dlist connecting; /* tcp_conn by connect start: deadline order */
	struct dlist open; /* tcp_conn by last activity: idle-timeout order */
	struct slb_log_limit fd_limit_log; /* "out of file descriptors" */
	struct dlist http_waiting[HTTP_T_COUNT]; /* HTTP clients by what they wait for */
	struct http_policy *http_policy; /* http/https: rules and cookie persistence */
	bool pktinfo; /* udp on a wildcard address: answer from the address each client used */
	struct dlist udp_flows; /* this worker's flows of a udp listener, least recently active first */
};

struct http_worker;
struct http_policy;

struct worker {
	int epfd;
	struct slb_config *config;
	struct slb_shm shm;
	unsigned index;
	uint32_t generation;
	unsigned nlisteners;
	struct worker_listener *listeners;
	unsigned nconns; /* connections open in this worker */
	unsigned nflows; /* udp flows open in this worker */
	struct udp_state *udp; /* datagram buffers and the flow index; NULL without udp listeners */
	struct tcp_conn *graveyard; /* closed during this epoll batch, recycled after it */
	struct http_worker *http; /* HTTP proxy state, NULL until an HTTP client comes */
	uint64_t now_ms;
	bool draining;
	uint64_t drain_deadline_ms;
};

/*
 * The server slot for a new connection of <l> (listener_pick.c): the
 * listener's group, or its backup_group while failover_threshold servers of
 * the group are down. <exclude_slot> and <client> as for slb_sched_pick().
 * Returns -1 when no server can take it.
 */
int worker_pick(struct worker *w, struct worker_listener *l, int exclude_slot,
		const struct sockaddr *client);

/*
 * worker_pick() behind <l>'s persistence (persistence.c): with source_ip, the
 * server of <client>'s live session on <l> when it can still take it (and is
 * not <exclude_slot>), else a new pick that becomes the session. Using a
 * session extends it by persistence_timeout. Returns -1 when no server can
 * take the client.
 */
int worker_persistence_pick(struct worker *w, struct worker_listener *l, int exclude_slot,
			    const struct sockaddr *client);

/*
 * Whether server <slot> with <serial> is one <l> may send to (a member of
 * its group or backup_group): a session made under another configuration
 * may name a server the listener no longer uses.
 */
bool worker_listener_serves(const struct worker_listener *l, uint32_t slot, uint32_t serial);

#endif
