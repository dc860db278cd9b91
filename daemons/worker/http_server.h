/*
 * http_server.h - connections from a worker to its servers: non-blocking
 * connect, and the pool of idle keep-alive connections, per server slot,
 * that later requests reuse.
 *
 * A pooled connection is dropped when its slot's serial changed (a reload
 * gave the slot to another server), when the server closes it or sends
 * anything while idle, when it has been idle longer than
 * HTTP_SERVER_IDLE_MS, or when its slot already has HTTP_SERVER_IDLE_MAX.
 */
#ifndef SLB_HTTP_SERVER_H
#define SLB_HTTP_SERVER_H

#include "http_conn.h"

#define HTTP_SERVER_IDLE_MS 4000 /* under common server keep-alive timeouts (Apache: 5 s) */
#define HTTP_SERVER_IDLE_MAX 64

/* The worker's HTTP state, created on first use; NULL when out of memory. */
struct http_worker *http_worker_get(struct worker *w);

/*
 * A connection to server <slot> for <owner>: an idle one from the pool
 * when <may_reuse>, else a new one whose connect is under way. NULL when
 * the connect failed at once (counted as a failure of the server).
 */
struct http_server *http_server_get(struct worker *w, int slot, bool may_reuse,
				    struct http_conn *owner);

/* Keeps <s> (whose transaction ended cleanly) for reuse, or closes it. */
void http_server_park(struct worker *w, struct http_server *s);

/* Closes <s>; <failed> counts a connect failure against its server. */
void http_server_close(struct worker *w, struct http_server *s, bool failed);

/* An epoll event on an idle pooled connection: the server closed or talked. */
void http_server_idle_event(struct worker *w, struct http_server *s, uint32_t events);

/* Closes idle connections past HTTP_SERVER_IDLE_MS (all when <all>). */
void http_server_expire(struct worker *w, bool all);

/* Recycles the records of connections closed since the last call. */
void http_server_reap(struct worker *w);

#endif
