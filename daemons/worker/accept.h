/*
 * accept.h - taking new clients off a listening socket: admission (acl,
 * max_connections) and the hand-over to the listener's proxy (TCP or HTTP).
 */
#ifndef SLB_WORKER_ACCEPT_H
#define SLB_WORKER_ACCEPT_H

#include "worker.h"

/* Accepts what is waiting on <l> (bounded per call, for fairness). */
void worker_accept(struct worker *w, struct worker_listener *l);

/* Whether <lc>'s acl_allow and acl_deny let <client> in. */
bool worker_acl_permits(const struct slb_listener_conf *lc, const struct sockaddr *client);

/*
 * Admission of a new client (a TCP or HTTP connection, a UDP flow): acl and
 * max_connections. Counts it in the listener's active (or denied) counter.
 */
bool worker_listener_admit(struct worker_listener *l, const struct sockaddr *client);

#endif
