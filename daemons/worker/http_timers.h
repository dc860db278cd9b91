/*
 * http_timers.h - the timeouts of HTTP client connections (see
 * http_timers.c): which timer a connection waits on, and putting it there.
 */
#ifndef SLB_HTTP_TIMERS_H
#define SLB_HTTP_TIMERS_H

#include "http_conn.h"

/*
 * Puts <c> on timer <t>, running from now. Inline: it is on every
 * connection's path (accept, connect, linger), as it was inside http_proxy.c.
 */
static inline void http_timer_set(struct worker *w, struct http_conn *c, enum http_timer t)
{
	c->timer = t;
	c->timer_since_ms = w->now_ms;
	dlist_append(&c->l->http_waiting[t], &c->timer_node);
}

/* Puts <c> on the timer its state calls for, after progress. */
void http_timer_update(struct worker *w, struct http_conn *c);

#endif
