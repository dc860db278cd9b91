/*
 * http_timers.c - the timeouts of HTTP client connections, apart from the
 * proxying in http_proxy.c that makes the progress they measure.
 *
 * A client connection is on one list of its listener per timer
 * (l->http_waiting[]), in the order it was put there: every list shares one
 * timeout, so the walk once per tick stops at the first connection still
 * in time (but a draining worker walks the keep-alive list whole, to close
 * every idle client). What running out means: a 408 for a request head or
 * body that stopped coming, a 504 for a server that stopped answering,
 * another server for a connect that took too long, a close for an idle
 * keep-alive connection (a linger while the kernel still holds the end of
 * its response), a lingering one or a quiet tunnel. The per-tick walk
 * that closes the clients of drained servers goes over the same lists.
 */
#include "http_timers.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "http_proxy.h"
#include "http_server.h"

static uint32_t timer_ms(const struct slb_listener_conf *lc, enum http_timer t)
{
	switch (t) {
	case HTTP_T_HEADER: return lc->header_timeout_ms;
	case HTTP_T_BODY: return lc->body_timeout_ms;
	case HTTP_T_CONNECT: return lc->connect_timeout_ms;
	case HTTP_T_SERVER: return lc->server_timeout_ms;
	case HTTP_T_TUNNEL: return lc->idle_timeout_ms;
	default: return lc->keepalive_timeout_ms;
	}
}

/*
 * Header, connect and linger times run from when they started (a head
 * trickling in a byte at a time is still cut off); body and server times
 * are pauses.
 */
void http_timer_update(struct worker *w, struct http_conn *c)
{
	enum http_timer t;

	if (c->closing || c->lingering)
		t = HTTP_T_KEEPALIVE;
	else if (c->resp == RESP_TUNNEL)
		t = HTTP_T_TUNNEL;
	else if (c->srv && c->srv->connecting)
		t = HTTP_T_CONNECT;
	else if (c->req == REQ_HEAD)
		t = http_buf_len(&c->in) || c->requests == 0 ? HTTP_T_HEADER : HTTP_T_KEEPALIVE;
	else if (c->req == REQ_BODY && c->resp == RESP_HEAD)
		t = HTTP_T_BODY;
	else
		t = HTTP_T_SERVER;
	if (t == c->timer && c->timer_node.list &&
	    (t == HTTP_T_HEADER || t == HTTP_T_CONNECT || t == HTTP_T_KEEPALIVE))
		return;
	http_timer_set(w, c, t);
}

/*
 * Bytes the kernel has yet to deliver to <c>'s client: not sent, or not
 * acknowledged (our FIN counts one). Closed with such bytes, a connection
 * loses them to the reset its kernel answers to anything the client sends.
 */
static int undelivered(const struct http_conn *c)
{
	int n = 0;

	return ioctl(c->fd, SIOCOUTQ, &n) == 0 ? n : 0;
}

/*
 * A lingering client whose response the kernel is still delivering lingers
 * one more keepalive_timeout: a slow reader that takes longer than that to
 * read the end would lose it to the reset its next request draws from a
 * closed socket. At the first expiry anything left will do (nothing was
 * measured when the linger began: no ioctl per close); after that, less
 * must be left than at the last extension, so a reader that made no
 * progress in a whole keepalive_timeout is closed.
 */
static bool linger_extended(struct worker *w, struct http_conn *c)
{
	int left = undelivered(c);

	if (left == 0 || (c->linger_undelivered >= 0 && left >= c->linger_undelivered))
		return false;
	c->linger_undelivered = left;
	http_timer_set(w, c, HTTP_T_KEEPALIVE);
	return true;
}

/* What a timer running out means for <c>. */
static void conn_expired(struct worker *w, struct http_conn *c)
{
	switch (c->timer) {
	case HTTP_T_HEADER:
		/* A connection that never sent a byte is closed without a word. */
		if (!http_buf_len(&c->in) || http_conn_reply_error(w, c, 408) == -1)
			break;
		http_conn_run(w, c);
		return;
	case HTTP_T_BODY:
		if (http_conn_reply_error(w, c, 408) == 1)
			http_conn_run(w, c);
		return;
	case HTTP_T_CONNECT:
		http_conn_connect_failed(w, c);
		return;
	case HTTP_T_SERVER:
		if (http_conn_reply_error(w, c, 504) == 1)
			http_conn_run(w, c);
		return;
	case HTTP_T_KEEPALIVE:
		/*
		 * Idle since slb's last write, yet the kernel still holds the end of
		 * the response for a slow reader: FIN, and one more keepalive_timeout
		 * lingering, rather than lose that end to a reset.
		 */
		if (!c->lingering && !http_buf_len(&c->out) && undelivered(c)) {
			http_conn_linger(w, c);
			return;
		}
		if (c->lingering && linger_extended(w, c))
			return;
		break;
	default:
		break;
	}
	http_conn_close(w, c);
}

/*
 * A client whose last response left less than this ago is not idle yet: its
 * next request may be on the wire, and closing now would fail it (a client
 * may retry such a request, RFC 9112 9.3.1, but wrk and many others do not).
 * A draining worker answers it with Connection: close instead.
 */
#define DRAIN_IDLE_MIN_MS 100

/*
 * Draining: an idle client goes at once (idle for DRAIN_IDLE_MIN_MS), not one
 * whose response is still leaving (a slow reader, which keeps its time). The
 * walk goes over the whole list, past such clients: stopping at the first one
 * in time would keep every idle client behind a reader that stopped reading
 * open until it moves, up to keepalive_timeout. The walk is bounded by the
 * list's length: a client it sets lingering goes to the tail, in time.
 *
 * Idle counts slb's buffers only: the end of the last response may still wait
 * in the kernel for a slow reader. Such a client (or a lingering one) is not
 * closed but gets our FIN and is read from until the kernel has delivered it
 * all, its FIN comes, or keepalive_timeout: a close() would lose that end to
 * the reset answering anything more it sends (a pipelined request, a body).
 */
static void drain_keepalive(struct worker *w, struct dlist *list, uint64_t timeout)
{
	struct dlist_node *n = list->head;

	for (unsigned left = list->len; left > 0 && n; left--) {
		struct dlist_node *next = n->next; /* closing unlinks n */
		struct http_conn *c = dlist_entry(n, struct http_conn, timer_node);

		if (c->timer_since_ms + timeout <= w->now_ms)
			conn_expired(w, c);
		else if (!http_buf_len(&c->in) && !http_buf_len(&c->out) &&
			 c->timer_since_ms + DRAIN_IDLE_MIN_MS <= w->now_ms) {
			if (!undelivered(c))
				http_conn_close(w, c);
			else if (!c->lingering)
				http_conn_linger(w, c); /* to the list's tail: lingering from now */
		}
		n = next;
	}
}

void http_proxy_expire(struct worker *w, struct worker_listener *l)
{
	for (int t = 0; t < HTTP_T_COUNT; t++) {
		struct dlist *list = &l->http_waiting[t];
		uint64_t timeout = timer_ms(l->conf, (enum http_timer)t);

		if (w->draining && t == HTTP_T_KEEPALIVE) {
			drain_keepalive(w, list, timeout);
			continue;
		}
		/* Bounded: an expired connection may come back to the tail of this list. */
		for (unsigned n = list->len; n > 0 && list->head; n--) {
			struct http_conn *c = dlist_entry(list->head, struct http_conn, timer_node);
			uint64_t since = c->timer_since_ms;

			if (since + timeout > w->now_ms)
				break;
			conn_expired(w, c);
			/*
			 * Still on this timer, not started again (as a connect retried on
			 * another server is, even when alone on the list): no more waiting.
			 */
			if (!c->closed && c->timer_node.list == list && c->timer_since_ms == since)
				http_timer_set(w, c, HTTP_T_KEEPALIVE);
		}
	}
	http_server_expire(w, false);
}

unsigned http_proxy_drain_servers(struct worker *w, struct worker_listener *l,
				  uint64_t now_real_ms)
{
	unsigned closed = 0;

	for (int t = 0; t < HTTP_T_COUNT; t++) {
		struct dlist_node *n = l->http_waiting[t].head;

		while (n) {
			struct dlist_node *next = n->next; /* http_conn_close() unlinks n */
			struct http_conn *c = dlist_entry(n, struct http_conn, timer_node);
			struct slb_shm_server *s = c->srv ? &w->shm.servers[c->srv->slot] : NULL;
			uint64_t deadline = 0;

			if (s && atomic_load_explicit(&s->serial, memory_order_relaxed) == c->srv->serial)
				deadline = atomic_load_explicit(&s->drain_deadline_ms,
								memory_order_relaxed);
			if (deadline && deadline <= now_real_ms) {
				http_conn_close(w, c);
				closed++;
			}
			n = next;
		}
	}
	return closed;
}
