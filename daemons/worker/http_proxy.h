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

/* Acts on the timeouts of <l>'s clients, and on idle pooled servers. */
void http_proxy_expire(struct worker *w, struct worker_listener *l);

/* Closes <l>'s clients whose server's drain deadline is before <now_real_ms>;
 * returns how many. */
unsigned http_proxy_drain_servers(struct worker *w, struct worker_listener *l,
				  uint64_t now_real_ms);

/* Recycles the records of connections closed since the last call. */
void http_proxy_reap(struct worker *w);

/* Closes every connection of <l>, and the idle server pool (worker stopping). */
void http_proxy_close_all(struct worker *w, struct worker_listener *l);

#endif
