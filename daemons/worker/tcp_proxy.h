/*
 * tcp_proxy.h - the TCP listener: accept, schedule, non-blocking connect
 * (with one retry on another server), splice both ways, half-close, idle
 * and connect timeouts.
 */
#ifndef SLB_TCP_PROXY_H
#define SLB_TCP_PROXY_H

#include <stdint.h>
#include <sys/socket.h>

#include "worker.h"

/* Proxies the admitted client <cfd> (address <client>) accepted on <l>. */
void tcp_proxy_start(struct worker *w, struct worker_listener *l, int cfd,
		     const struct sockaddr *client);

/* Handles epoll <events> on a client- or server-side <tag>. */
void tcp_proxy_event(struct worker *w, enum worker_tag *tag, uint32_t events);

/* Fails connects and closes idle connections whose time is up. */
void tcp_proxy_expire(struct worker *w, struct worker_listener *l);

/* Closes <l>'s connections to servers whose drain deadline is before <now_real_ms>;
 * returns how many. */
unsigned tcp_proxy_drain_servers(struct worker *w, struct worker_listener *l,
				 uint64_t now_real_ms);

/* Recycles the records of connections closed since the last call. */
void tcp_proxy_reap(struct worker *w);

/* Closes every connection of <l> at once (worker stopping). */
void tcp_proxy_close_all(struct worker *w, struct worker_listener *l);

#endif
