/*
 * accept.h - taking new clients off a listening socket: admission (acl,
 * max_connections) and the hand-over to the listener's proxy (TCP or HTTP).
 */
#ifndef SLB_WORKER_ACCEPT_H
#define SLB_WORKER_ACCEPT_H

#include "worker.h"

/* Accepts what is waiting on <l> (bounded per call, for fairness). */
void worker_accept(struct worker *w, struct worker_listener *l);

#endif
