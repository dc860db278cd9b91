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

/*
 * <c> wrote to its client. On the keep-alive timer (idle after a transaction,
 * or closing), the end of a response that the server finished sending may
 * still be leaving for a slow reader: that is not idle time.
 */
static inline void http_timer_wrote(struct worker *w, struct http_conn *c)
{
	if (c->timer == HTTP_T_KEEPALIVE && !c->lingering)
		http_timer_set(w, c, HTTP_T_KEEPALIVE);
}

/* Puts <c> on the timer its state calls for, after progress. */
void http_timer_update(struct worker *w, struct http_conn *c);

#endif
