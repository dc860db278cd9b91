/*
 * http_proxy.h - the HTTP listener: HTTP/1.1 towards clients and servers,
 * keep-alive both ways (idle server connections pooled per worker),
 * pipelined requests in order, bodies streamed and re-framed, 1xx relayed,
 * hop-by-hop fields dropped, X-Forwarded-* added, loop detection, error
 * responses, request timeouts and an access log line per request.
 */
#ifndef SLB_HTTP_PROXY_H
#define SLB_HTTP_PROXY_H

#include <stdint.h>
#include <sys/socket.h>

#include "worker.h"

/* Serves the admitted client <cfd> (address <client>) accepted on <l>. */
void http_proxy_start(struct worker *w, struct worker_listener *l, int cfd,
		      const struct sockaddr *client);

/* Handles epoll <events> on an HTTP client- or server-side <tag>. */
void http_proxy_event(struct worker *w, enum worker_tag *tag, uint32_t events);

/* Acts on the timeouts of <l>'s clients, and on idle pooled servers (http_timers.c). */
void http_proxy_expire(struct worker *w, struct worker_listener *l);

/* Closes <l>'s clients whose server's drain deadline is before <now_real_ms>;
 * returns how many (http_timers.c). */
unsigned http_proxy_drain_servers(struct worker *w, struct worker_listener *l,
				  uint64_t now_real_ms);

/* Recycles the records of connections closed since the last call. */
void http_proxy_reap(struct worker *w);

/* Closes every connection of <l>, and the idle server pool (worker stopping). */
void http_proxy_close_all(struct worker *w, struct worker_listener *l);

/* For the other HTTP files of the worker (http_response.c, http_timers.c): */
struct http_conn;

/* Makes all the progress <c> can, on both its sockets, then puts it on the timer that fits. */
void http_conn_run(struct worker *w, struct http_conn *c);

/* The connect to <c>'s server failed or took too long: one other server, else 503. */
void http_conn_connect_failed(struct worker *w, struct http_conn *c);

/* Closes <c> and its server connection; later events of this batch find it closed. */
void http_conn_close(struct worker *w, struct http_conn *c);

/*
 * Closes <c> between transactions without a reset: FIN, then reads and
 * drops what the client still sends until its FIN or the keep-alive
 * timeout (closed at once if the client's FIN came already). Returns 1
 * (lingering) or -1 (closed).
 */
int http_conn_linger(struct worker *w, struct http_conn *c);

/*
 * Answers <c>'s request with error <status> and closes after it (a response
 * already under way cannot be replaced: the client is cut off). Returns 1
 * (progress) or -1 (closed).
 */
int http_conn_reply_error(struct worker *w, struct http_conn *c, unsigned status);

/*
 * The server ended or broke the response before its head: a replay, the
 * client closed unanswered (a request that cannot go again, on a pooled
 * connection) or a 502; returns as http_conn_reply_error().
 */
int http_conn_server_broken(struct worker *w, struct http_conn *c);

/*
 * <c>'s response has begun: its request cannot go again. What of it was
 * forwarded leaves the input buffer; the rest of a body (a server answering
 * before it read it all) follows from there as that of any request.
 */
void http_conn_unpin(struct http_conn *c);

/* The name of the server that answered <c>, for the access log. */
const char *http_conn_server_name(struct worker *w, const struct http_conn *c);

/* Puts EPOLLOUT in <fd>'s epoll set or takes it out, when <want> differs from *<watching>. */
void http_watch_out(struct worker *w, int fd, enum worker_tag *tag, bool *watching, bool want);

#endif
