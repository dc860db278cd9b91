/*
 * udp_proxy.h - the UDP listener: datagrams of a client (address and port:
 * a flow) go to one server, held in the shared session table; replies go
 * back from VIP:port; a flow ends after idle_timeout without traffic.
 */
#ifndef SLB_UDP_PROXY_H
#define SLB_UDP_PROXY_H

#include <stdint.h>

#include "worker.h"

/* Allocates the datagram buffers and flow index when <w> has a udp listener. Returns 0 or -1. */
int udp_proxy_init(struct worker *w);

/* Forwards what is waiting on udp listener <l> (bounded per call, for fairness). */
void udp_proxy_read(struct worker *w, struct worker_listener *l);

/* Handles epoll <events> on a flow's server socket <tag>: replies, ICMP errors. */
void udp_proxy_event(struct worker *w, enum worker_tag *tag, uint32_t events);

/* Sends the replies read so far: call after each epoll batch, before udp_proxy_reap(). */
void udp_proxy_flush(struct worker *w);

/* Closes <l>'s flows idle for idle_timeout. */
void udp_proxy_expire(struct worker *w, struct worker_listener *l);

/* Recycles the records of flows closed since the last call. */
void udp_proxy_reap(struct worker *w);

/* Closes every flow of <l> at once (worker stopping). */
void udp_proxy_close_all(struct worker *w, struct worker_listener *l);

void udp_proxy_free(struct worker *w);

#endif
