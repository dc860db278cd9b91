/*
 * http_proxy.c - the HTTP listener: one client connection, one transaction
 * at a time, between the client and a server connection.
 *
 * Every event on either socket runs http_conn_run(), which makes all the
 * progress it can, in order: write to the client, read from it, parse or
 * forward the request, write to the server, read from it, parse or forward
 * the response, end the transaction. Nothing blocks; a step that cannot go
 * on (a full buffer, a socket that said EAGAIN) leaves its state for the
 * next event. Sockets are edge-triggered, and readiness is remembered per
 * socket as in tcp_proxy.c.
 *
 * Bodies are re-framed, never passed through blindly: a Content-Length
 * body is counted out, a chunked one decoded and encoded again, so what the
 * server sees is exactly what slb parsed (the defence against smuggling).
 * The response side is http_response.c, the timeouts http_timers.c.
 */
#include "http_proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn_pool.h"
#include "http_body.h"
#include "http_conn.h"
#include "http_gzip.h"
#include "http_head.h"
#include "http_reply.h"
#include "http_response.h"
#include "http_rules.h"
#include "http_server.h"
#include "http_splice.h"
#include "http_timers.h"
#include "http_tls.h"
#include "worker_stats.h"

#define conn_of_tag(tagp) ((struct http_conn *)(void *)(tagp))
#define server_of_tag(tagp) ((struct http_server *)(void *)(tagp))

static const struct slb_http_limits *const limits = &slb_http_default_limits;

/* ---- closing ---- */

/* Adds the client's byte counts to the listener's (the server's are added by http_server.c). */
static void account(struct http_conn *c)
{
	struct slb_shm_listener *ls = listener_stats(c->l);

	if (ls) {
		counter_add(&ls->bytes_in, c->bytes_in);
		counter_add(&ls->bytes_out, c->bytes_out);
	}
	c->bytes_in = c->bytes_out = 0;
}

void http_conn_close(struct worker *w, struct http_conn *c)
{
	struct slb_shm_listener *ls = listener_stats(c->l);

	if (c->closed)
		return;
	account(c);
	if (c->srv)
		http_server_close(w, c->srv, false);
	c->srv = NULL;
	if (ls)
		counter_release(&ls->active);
	close(c->fd);
	http_buf_release(&c->in);
	http_buf_release(&c->out);
	http_splice_end(c, HTTP_SPLICE_RESPONSE);
	http_splice_end(c, HTTP_SPLICE_REQUEST);
	slb_gzip_free(&c->gz);
	http_tls_free(&c->tls);
	dlist_remove(&c->timer_node);
	w->nconns--;
	/* Events later in this epoll batch may still name the record. */
	c->closed = true;
	c->next_dead = w->http->dead_conns;
	w->http->dead_conns = c;
}

const char *http_conn_server_name(struct worker *w, const struct http_conn *c)
{
	struct slb_shm_server *st = server_stats(w, c->log_slot, c->log_serial);

	return st && c->status ? st->name : "-";
}

/*
 * The response ends <c>'s connection while the request's body may not have
 * been read to its end: what still comes is read and dropped while slb
 * lingers (the client is not finished, whatever it said).
 */
static void request_cut(struct http_conn *c)
{
	http_splice_end(c, HTTP_SPLICE_REQUEST);
	c->keep_alive = c->client_last = false;
}

/*
 * Answers the current request itself, with error <status>, or with a 301 to
 * <location> when it is not NULL, and closes after it. A final response
 * already under way cannot be replaced: the client is cut off. A 1xx before
 * it is interim, so the error still follows one (c->status is set by final
 * responses only). Returns 1 (progress) or -1 (closed).
 */
static int reply_local(struct worker *w, struct http_conn *c, unsigned status,
		       const char *location)
{
	if (c->srv)
		http_server_close(w, c->srv, false);
	c->srv = NULL;
	if (c->status) {
		http_conn_close(w, c);
		return -1;
	}
	c->status = status;
	c->log_slot = -1;
	if (location)
		http_reply_redirect(&c->out, location);
	else
		http_reply_error(&c->out, status);
	request_cut(c);
	http_log_transaction(c, "-", http_buf_len(&c->out), w->now_ms);
	c->closing = true;
	c->resp_started = true;
	return 1;
}

int http_conn_reply_error(struct worker *w, struct http_conn *c, unsigned status)
{
	return reply_local(w, c, status, NULL);
}

/*
 * redirect_https: the same host (without its port) and target, over https.
 * An absolute-form target brings both (the parser made sure a Host agrees).
 */
static int reply_redirect(struct worker *w, struct http_conn *c, const struct slb_http_msg *m)
{
	const struct slb_http_header *host = m->host >= 0 ? &m->headers[m->host] : NULL;
	const char *name = m->authority ? m->authority : host ? host->value : NULL;
	const char *target = m->authority ? m->authority + m->authority_len : m->target;
	size_t target_len = m->target_len - (size_t)(target - m->target);
	size_t name_len = m->authority ? m->authority_len : host ? host->value_len : 0;
	size_t hlen = name ? slb_http_host_name_len(name, name_len) : 0;
	char location[HTTP_LOG_REQLINE + 8192];

	/* A Location needs a host, and an origin-form target (or an absolute one's rest). */
	if (!hlen || (!m->authority && target[0] != '/') ||
	    hlen + target_len + 9 > sizeof(location))
		return http_conn_reply_error(w, c, 400);
	snprintf(location, sizeof(location), "https://%.*s%.*s", (int)hlen, name,
		 (int)target_len, target);
	return reply_local(w, c, 301, location);
}

/* ---- readiness ---- */

/*
 * EPOLLOUT is in a socket's epoll set only while a write is waiting for
 * room: subscribed all the time, edge-triggered epoll would wake the worker
 * for every ACK that frees send buffer space.
 */
void http_watch_out(struct worker *w, int fd, enum worker_tag *tag, bool *watching, bool want)
{
	struct epoll_event ev = {
		.events = EPOLLIN | EPOLLRDHUP | EPOLLET | (want ? EPOLLOUT : 0),
		.data.ptr = tag,
	};

	if (*watching != want && epoll_ctl(w->epfd, EPOLL_CTL_MOD, fd, &ev) == 0)
		*watching = want;
}

/* After a read of <n> bytes into <b>: was the socket drained? */
static bool read_drained(const struct http_buf *b, bool rdhup)
{
	/*
	 * A read that left room in the buffer took all there was, and edge-
	 * triggered epoll reports the next arrival: no recv() that would only
	 * say EAGAIN. Not once a FIN was reported: it waits behind the data
	 * and no new event will announce it.
	 */
	return !rdhup && b->end < HTTP_BUF_SIZE;
}

/* ---- the client socket ---- */

static struct http_ready client_ready(struct http_conn *c)
{
	return (struct http_ready){ &c->readable, &c->writable };
}

static int client_write(struct worker *w, struct http_conn *c)
{
	ssize_t n;

	if (!http_buf_len(&c->out) || !c->writable)
		return 0;
	n = c->tls.ssl ? http_tls_send(&c->tls, &c->out, client_ready(c))
		       : http_buf_send(&c->out, c->fd);
	if (n > 0) {
		c->bytes_out += (uint64_t)n;
		http_timer_wrote(w, c);
		if (!http_buf_len(&c->out)) {
			http_watch_out(w, c->fd, &c->tag, &c->watch_out, false);
			if (c->req == REQ_HEAD && !http_buf_len(&c->in))
				http_buf_release(&c->out);
		}
		return 1;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		if (errno == EAGAIN) {
			c->writable = false;
			http_watch_out(w, c->fd, &c->tag, &c->watch_out, true);
		}
		return 0;
	}
	http_conn_close(w, c);
	return -1;
}

static int client_read(struct worker *w, struct http_conn *c)
{
	bool was_empty = http_buf_len(&c->in) == 0;
	ssize_t n;

	/* A spliced request body is read by http_splice_step(), not into the buffer. */
	if (!c->readable || c->eof || c->req_splicing)
		return 0;
	n = c->tls.ssl ? http_tls_recv(&c->tls, &c->in, client_ready(c))
		       : http_buf_recv(&c->in, c->fd, true);
	if (n > 0) {
		c->bytes_in += (uint64_t)n;
		/* TLS reads a record at a time: only its WANT_READ says the socket is dry. */
		if (!c->tls.ssl && read_drained(&c->in, c->rdhup))
			c->readable = false;
		if (c->lingering)
			http_buf_consume(&c->in, (size_t)n);
		else if (was_empty && c->req == REQ_HEAD)
			c->t_start_ms = w->now_ms;
		return 1;
	}
	if (n == 0) {
		c->eof = true;
		return 1;
	}
	if (errno == EAGAIN)
		c->readable = false;
	if (errno == EINTR && !c->writable) /* TLS must write before it can read on */
		http_watch_out(w, c->fd, &c->tag, &c->watch_out, true);
	if (errno == EAGAIN || errno == EINTR || errno == ENOBUFS)
		return 0;
	http_conn_close(w, c);
	return -1;
}

/*
 * Nothing more can come from <c>'s client: it said its request was its last
 * and sent it whole, and no byte of anything else is here, read or not.
 */
static bool client_finished(const struct http_conn *c)
{
	int unread = 0;

	return c->client_last && !http_buf_len(&c->in) &&
	       ioctl(c->fd, FIONREAD, &unread) == 0 && unread == 0;
}

/*
 * Our response is written and we close. Unless the client closed its side
 * already, or is finished (then close at once, as HAProxy and nginx do: a
 * wait for its FIN would cost every such connection an event), FIN first,
 * then read and drop what it still sends until its FIN (or the keep-alive
 * timeout). A close() with request bytes unread, or with bytes arriving
 * after it (the rest of a body an error cut short, a request pipelined
 * after ours, the next request of a client slb decided to close), makes
 * the kernel answer with a reset that drops what of the response still
 * waits in its send queue: for a slow reader that is up to a whole socket
 * buffer, nothing slb can see in its own buffers.
 */
int http_conn_linger(struct worker *w, struct http_conn *c)
{
	http_tls_shutdown(&c->tls);
	if (c->eof || client_finished(c)) {
		http_conn_close(w, c);
		return -1;
	}
	shutdown(c->fd, SHUT_WR);
	c->closing = true;
	c->lingering = true;
	c->linger_undelivered = -1;
	http_buf_consume(&c->in, http_buf_len(&c->in));
	http_timer_set(w, c, HTTP_T_KEEPALIVE);
	return 1;
}

/* ---- routing and the request ---- */

/*
 * The routing decision for request <m> (NULL on a retry): the one place
 * that chooses the server. The listener's forwarding rules choose the group
 * and cookie persistence may choose the server (http_policy.c); otherwise
 * the group's scheduler picks, avoiding <exclude> (a slot that just failed,
 * or -1). A retry keeps the first attempt's rule, and so its group.
 */
static int http_route(struct worker *w, struct http_conn *c, const struct slb_http_msg *m,
		      int exclude)
{
	http_policy_route(w, c->l, c->l->http_policy, m, m ? NULL : &c->route, exclude,
			  &c->client.u.sa, &c->route);
	return c->route.slot;
}

/* Writes the request head <m> into the server's output. */
static int forward_head(struct worker *w, struct http_conn *c, const struct slb_http_msg *m)
{
	struct http_forward fwd = {
		.x_forwarded = c->l->conf->x_forwarded_for,
		.client_ip = c->client_ip,
		.proto = c->tls.ssl ? "https" : "http",
		.port = slb_sockaddr_port(&c->l->conf->bind),
		.node = w->config->node.name,
		.upgrade = c->upgrade,
	};
	struct http_buf *out = &c->srv->out;

	if (http_buf_ensure(out) == -1)
		return -1;
	http_policy_forward_cookie(c->l->http_policy, &fwd);
	return http_head_request(out, http_buf_room(out, true), m, &fwd);
}

/*
 * Gives the request a server connection, an idle pooled one if <may_reuse>;
 * the connect may still be under way.
 */
static int attach_server(struct worker *w, struct http_conn *c, const struct slb_http_msg *m,
			 bool may_reuse)
{
	struct slb_shm_listener *ls = listener_stats(c->l);
	int slot = http_route(w, c, m, -1);

	if (slot >= 0) {
		c->srv = http_server_get(w, slot, may_reuse, c);
		if (!c->srv) {
			/* Failed at once: one other server, as when a connect fails later. */
			c->retried = true;
			slot = http_route(w, c, m, slot);
			if (slot >= 0)
				c->srv = http_server_get(w, slot, false, c);
		}
	}
	if (!c->srv) {
		if (ls)
			counter_add(&ls->no_server, 1);
		return -1;
	}
	c->log_slot = slot;
	c->log_serial = c->srv->serial;
	return 0;
}

/* RFC 9110 9.2.2: sent twice, the request has the effect of sending it once. */
static bool idempotent(const struct slb_http_msg *m)
{
	return m->method_id == SLB_HTTP_M_GET || m->method_id == SLB_HTTP_M_HEAD ||
	       m->method_id == SLB_HTTP_M_OPTIONS || m->method_id == SLB_HTTP_M_PUT ||
	       m->method_id == SLB_HTTP_M_DELETE;
}

/*
 * The bytes of <m>'s body in <c>'s input behind its <head_len> bytes of
 * head, when all of it is there (0 for no body); -1 while some of it is
 * still to come. Only what the input buffer holds can be kept to go again.
 */
static long buffered_body(const struct http_conn *c, const struct slb_http_msg *m,
			  size_t head_len)
{
	const char *body = http_buf_head(&c->in) + head_len;
	size_t have = http_buf_len(&c->in) - head_len, len;

	switch (m->framing) {
	case SLB_HTTP_BODY_NONE:
		return 0;
	case SLB_HTTP_BODY_LENGTH:
		return m->content_length <= have ? (long)m->content_length : -1;
	case SLB_HTTP_BODY_CHUNKED:
		len = http_body_chunked_len(body, have);
		return len ? (long)len : -1;
	default:
		return -1;
	}
}

static int request_body(struct worker *w, struct http_conn *c);

static int request_start(struct worker *w, struct http_conn *c, size_t head_len)
{
	struct slb_http_msg *m = &w->http->msg;
	struct slb_shm_listener *ls = listener_stats(c->l);
	int status = slb_http_parse_request(http_buf_head(&c->in), head_len, limits, m);
	bool may_reuse;
	long body;

	if (ls)
		counter_add(&ls->requests, 1);
	if (status)
		return http_conn_reply_error(w, c, (unsigned)status);
	c->method = m->method_id;
	c->minor = m->minor;
	c->keep_alive = m->keep_alive;
	c->client_last = !m->keep_alive;
	c->req_framing = m->framing;
	c->req_left = m->content_length;
	c->accept_gzip = c->l->conf->gzip && http_gzip_request_accepts(m);
	http_log_request(c, m);
	if (http_head_trace_has(m, w->config->node.name))
		return http_conn_reply_error(w, c, 463);
	if (c->l->conf->redirect_https)
		return reply_redirect(w, c, m);
	/* A WebSocket upgrade takes a connection of its own: never a pooled one. */
	c->upgrade = c->l->conf->websocket && http_head_is_websocket(m);
	body = buffered_body(c, m, head_len);
	c->replayable = body >= 0 && idempotent(m) && !c->upgrade;
	/*
	 * The server may close a pooled connection as the request comes, and
	 * only a replayable request may then go again. Any other takes one only
	 * after the client's first request (HAProxy's http-reuse safe): the
	 * client has a keep-alive connection of its own by then, and a request
	 * lost to a close is closed on it unanswered (request_abort()), the
	 * race it knows from keep-alive and resolves by its own rules.
	 */
	may_reuse = !c->upgrade && (c->replayable || c->requests > 0);
	if (attach_server(w, c, m, may_reuse) == -1)
		return http_conn_reply_error(w, c, 503);
	if (forward_head(w, c, m) == -1)
		return http_conn_reply_error(w, c, 431);
	c->t_sent_ms = w->now_ms;
	memset(&c->scan, 0, sizeof(c->scan)); /* the response's from now on */
	c->resp = RESP_HEAD;
	memset(&c->req_chunk, 0, sizeof(c->req_chunk));
	if (c->replayable) {
		/* Kept until the response begins, to go again if a stale pooled connection took it. */
		c->pinned_head = (uint32_t)head_len;
		c->pinned_body = (uint32_t)body;
		c->body_taken = 0;
	} else {
		http_buf_consume(&c->in, head_len);
	}
	if (m->framing == SLB_HTTP_BODY_NONE) {
		c->req = REQ_SENT;
		return 1;
	}
	c->req = REQ_BODY;
	/* Check the body bytes already here before the head can leave: a bad chunk sends nothing. */
	return request_body(w, c) == -1 ? -1 : 1;
}

static int request_head(struct worker *w, struct http_conn *c)
{
	size_t len = http_buf_len(&c->in);
	long r;

	/*
	 * The client's FIN and nothing whole to answer: close, once the end of
	 * the last response has left <out> (it may still wait for a slow reader).
	 */
	if (!len) {
		if (!c->eof)
			return 0;
		c->closing = true; /* a clean end between requests */
		return 1;
	}
	r = slb_http_scan_head(&c->scan, http_buf_head(&c->in), len, limits, true);
	if (r < 0)
		return http_conn_reply_error(w, c, (unsigned)-r);
	if (r > 0)
		return request_start(w, c, (size_t)r);
	if (c->eof) {
		c->closing = true; /* the client gave up mid-head */
		return 1;
	}
	return 0;
}

/* A request body the client sends through a pipe (http_splice.c); as request_body(). */
static int request_body_spliced(struct worker *w, struct http_conn *c, bool *done)
{
	struct http_server *s = c->srv;
	int r;

	/* What the buffer holds goes first: the pipe's bytes come after it. */
	if (http_buf_len(&s->out))
		return 0;
	r = http_splice_step(c, HTTP_SPLICE_REQUEST);
	if (r == HTTP_SPLICE_SOURCE_FAILED) {
		http_conn_close(w, c);
		return -1;
	}
	if (r == HTTP_SPLICE_DESTINATION_FAILED) {
		/* Reset: what the server answered, if anything, is still read. */
		s->write_failed = true;
		http_splice_end(c, HTTP_SPLICE_REQUEST);
		return 1;
	}
	http_watch_out(w, s->fd, &s->tag, &s->watch_out, !s->writable);
	*done = http_splice_done(c, HTTP_SPLICE_REQUEST);
	if (*done)
		http_splice_end(c, HTTP_SPLICE_REQUEST);
	return r;
}

/* What of a pinned body is not forwarded yet: a view into <in>, which keeps all of it. */
static struct http_buf pinned_rest(const struct http_conn *c)
{
	uint32_t body = c->in.start + c->pinned_head;

	return (struct http_buf){ c->in.data, body + c->body_taken, body + c->pinned_body };
}

static int request_body(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct http_buf rest = pinned_rest(c);
	struct http_buf *in = c->pinned_head ? &rest : &c->in;
	bool done = false;
	int progress = 0;

	if (c->req_framing == SLB_HTTP_BODY_LENGTH) {
		if (!c->req_splicing) {
			size_t n = http_body_move(in, &s->out, c->req_left);

			c->req_left -= n;
			done = c->req_left == 0;
			progress = n > 0;
			if (!done && !c->pinned_head && http_splice_wanted(c, HTTP_SPLICE_REQUEST))
				http_splice_begin(c, HTTP_SPLICE_REQUEST); /* or the copying goes on */
		}
		if (c->req_splicing) {
			int r = request_body_spliced(w, c, &done);

			if (r == -1)
				return -1;
			progress |= r;
		}
	} else {
		progress = http_body_chunks(&c->req_chunk, in, &s->out, true, &done);
		if (progress == -1)
			return http_conn_reply_error(w, c, 400);
	}
	if (c->pinned_head)
		c->body_taken = c->pinned_body - (uint32_t)http_buf_len(&rest);
	if (done) {
		c->req = REQ_SENT;
		return 1;
	}
	/* The body stopped short (a spliced one may still be leaving the pipe): nothing to answer. */
	if (c->eof && !http_buf_len(&c->in) && (!c->req_splicing || c->req_left)) {
		http_conn_close(w, c);
		return -1;
	}
	return progress;
}

static int request_step(struct worker *w, struct http_conn *c)
{
	if (c->closing)
		return 0;
	if (c->req == REQ_HEAD)
		return request_head(w, c);
	if (c->req == REQ_BODY)
		return request_body(w, c);
	return 0;
}

/* ---- the server socket ---- */

static struct http_ready server_ready(struct http_server *s)
{
	return (struct http_ready){ &s->readable, &s->writable };
}

/*
 * server_tls: the handshake before anything is written or read; 1 when it
 * is done, 0 while it waits (EPOLLOUT watched when it waits to write). A
 * failed handshake is a server that broke off: eof, and the response side
 * answers 502 (or replays) as for any server closing early.
 */
static int server_tls_ready(struct worker *w, struct http_server *s)
{
	int r;

	if (!s->tls.handshake)
		return 1;
	r = http_tls_handshake(&s->tls, server_ready(s));
	if (r == -1)
		s->eof = true;
	else if (r == 0)
		http_watch_out(w, s->fd, &s->tag, &s->watch_out, !s->writable);
	return r == 1;
}

static int server_write(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	ssize_t n;

	if (!s || s->connecting || s->write_failed ||
	    (s->tls.ssl && (s->eof || !server_tls_ready(w, s))))
		return 0;
	if (!http_buf_len(&s->out) && !c->req_pipe.len)
		http_watch_out(w, s->fd, &s->tag, &s->watch_out, false);
	if (!s->writable || !http_buf_len(&s->out))
		return 0;
	n = s->tls.ssl ? http_tls_send(&s->tls, &s->out, server_ready(s))
		       : http_buf_send(&s->out, s->fd);
	if (n > 0) {
		s->bytes_out += (uint64_t)n;
		return 1;
	}
	if (n == -1 && errno == EAGAIN) {
		s->writable = false;
		http_watch_out(w, s->fd, &s->tag, &s->watch_out, true);
	} else if (n == -1 && errno != EINTR)
		s->write_failed = true;
	return 0;
}

static int server_read(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	ssize_t n;

	/* A spliced body is read by http_splice_step(), not into the buffer. */
	if (!s || s->connecting || !s->readable || s->eof || c->resp_splicing ||
	    (s->tls.ssl && !server_tls_ready(w, s)))
		return 0;
	n = s->tls.ssl ? http_tls_recv(&s->tls, &s->in, server_ready(s))
		       : http_buf_recv(&s->in, s->fd, true);
	if (n > 0) {
		s->bytes_in += (uint64_t)n;
		/* TLS reads a record at a time: only its WANT_READ says the socket is dry. */
		if (!s->tls.ssl && read_drained(&s->in, s->rdhup))
			s->readable = false;
		return 1;
	}
	if (n == -1 && errno == EAGAIN)
		s->readable = false;
	if (n == -1 && errno == EINTR && !s->writable) /* TLS must write before it reads on */
		http_watch_out(w, s->fd, &s->tag, &s->watch_out, true);
	if (n == -1 && (errno == EAGAIN || errno == EINTR || errno == ENOBUFS))
		return 0;
	s->eof = true; /* EOF or reset */
	return 1;
}

/*
 * A pooled connection that the server had closed: the request goes again
 * on a fresh connection to the same server, once, if it is idempotent and
 * nothing of a response came. Returns as http_conn_reply_error().
 */
static int request_replay(struct worker *w, struct http_conn *c)
{
	struct slb_http_msg *m = &w->http->msg;
	struct slb_shm_server *st = server_stats(w, c->srv->slot, c->srv->serial);
	int slot = c->srv->slot;

	if (st)
		counter_add(&st->retries, 1);
	http_server_close(w, c->srv, false);
	c->srv = http_server_get(w, slot, false, c);
	c->retried = true;
	if (!c->srv)
		return http_conn_reply_error(w, c, 503);
	c->log_serial = c->srv->serial;
	if (slb_http_parse_request(http_buf_head(&c->in), c->pinned_head, limits, m) != 0 ||
	    forward_head(w, c, m) == -1)
		return http_conn_reply_error(w, c, 502);
	memset(&c->scan, 0, sizeof(c->scan));
	/* The body again from its start: request_step() forwards it. */
	c->body_taken = 0;
	c->req_left = m->content_length;
	memset(&c->req_chunk, 0, sizeof(c->req_chunk));
	c->req = m->framing == SLB_HTTP_BODY_NONE ? REQ_SENT : REQ_BODY;
	return 1;
}

/*
 * A pooled connection that the server had closed, with a request that
 * cannot go again (not idempotent, or its body not all kept): a proxy must
 * not send it twice (RFC 9110 9.2.2, RFC 9112 9.3.1). The client's
 * connection is closed without a response, once what it was sent before
 * has left, as if the server had closed the client's own keep-alive
 * connection as the request came: the client decides by its own rules
 * whether to send it again. Returns 1.
 */
static int request_abort(struct worker *w, struct http_conn *c)
{
	struct slb_shm_server *st = server_stats(w, c->srv->slot, c->srv->serial);

	if (st)
		counter_add(&st->reuse_aborts, 1);
	http_server_close(w, c->srv, false);
	c->srv = NULL;
	request_cut(c);
	c->closing = true;
	return 1;
}

/* The server ended or broke the response before its head was complete. */
int http_conn_server_broken(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	/* Taken from the pool, and not a byte of answer (nor of a 1xx) came. */
	bool stale = s->reused && !c->resp_started && !s->bytes_in;

	if (stale && c->replayable && !c->retried)
		return request_replay(w, c);
	if (stale && !c->replayable)
		return request_abort(w, c);
	return http_conn_reply_error(w, c, 502);
}

void http_conn_unpin(struct http_conn *c)
{
	http_buf_consume(&c->in, c->pinned_head + c->body_taken);
	c->pinned_head = c->pinned_body = c->body_taken = 0;
}

/* The response is through: log, count, keep or close the server, next request. */
static void transaction_end(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	/*
	 * Not a connection whose FIN was already reported: parked, it would get
	 * no further event (edge-triggered) and look alive to the next request.
	 */
	bool reuse = c->req == REQ_SENT && c->server_keep_alive &&
		     c->resp_framing != SLB_HTTP_BODY_CLOSE && !s->rdhup && !s->eof && !s->write_failed;

	http_log_transaction(c, http_conn_server_name(w, c), http_buf_len(&c->out), w->now_ms);
	account(c);
	c->srv = NULL;
	if (reuse)
		http_server_park(w, s);
	else
		http_server_close(w, s, false);
	if (c->req != REQ_SENT)
		request_cut(c);
	c->requests++;
	c->req = REQ_HEAD;
	c->resp = RESP_HEAD;
	memset(&c->scan, 0, sizeof(c->scan));
	c->retried = false;
	c->resp_started = false;
	c->pinned_head = 0;
	c->status = 0;
	c->t_sent_ms = c->t_response_ms = 0;
	c->t_start_ms = w->now_ms;
	c->log_reqline[0] = c->log_host[0] = '\0';
	if (!c->keep_alive)
		c->closing = true;
	else if (!http_buf_len(&c->in))
		http_buf_release(&c->in); /* idle between requests: no memory held */
}

/* ---- the loop ---- */

void http_conn_run(struct worker *w, struct http_conn *c)
{
	bool any = false;

	if (c->tls.handshake) {
		int r = http_tls_handshake(&c->tls, client_ready(c));

		if (r == -1)
			http_conn_close(w, c);
		else if (r == 0)
			http_watch_out(w, c->fd, &c->tag, &c->watch_out, !c->writable);
		if (r != 1)
			return;
	}
	for (;;) {
		int progress = 0, r;

		if ((r = client_read(w, c)) == -1)
			return;
		progress |= r;
		if (c->lingering) {
			if (c->eof) {
				http_conn_close(w, c);
				return;
			}
			if (!progress)
				return;
			continue;
		}
		if ((r = request_step(w, c)) == -1)
			return;
		progress |= r;
		progress |= server_write(w, c);
		progress |= server_read(w, c);
		if ((r = http_response_step(w, c)) == -1)
			return;
		progress |= r;
		if (c->srv && c->resp == RESP_DONE) {
			transaction_end(w, c);
			progress = 1;
		}
		if ((r = client_write(w, c)) == -1)
			return;
		progress |= r;
		if (c->closing && !c->lingering && !http_buf_len(&c->out)) {
			if (http_conn_linger(w, c) == -1)
				return;
			progress = 1;
		}
		if (!progress)
			break;
		any = true;
	}
	if (any)
		http_timer_update(w, c);
}

void http_conn_connect_failed(struct worker *w, struct http_conn *c)
{
	struct http_buf pending = c->srv->out; /* nothing of it was sent: it goes elsewhere */
	int failed = c->srv->slot;

	c->srv->out = (struct http_buf){ 0 };
	http_server_close(w, c->srv, true);
	c->srv = NULL;
	if (!c->retried) {
		int slot = http_route(w, c, NULL, failed);

		c->retried = true;
		if (slot >= 0)
			c->srv = http_server_get(w, slot, false, c);
	}
	if (c->srv) {
		http_buf_release(&c->srv->out);
		c->srv->out = pending;
		c->log_slot = c->srv->slot;
		c->log_serial = c->srv->serial;
		http_timer_set(w, c, HTTP_T_CONNECT);
		return;
	}
	http_buf_release(&pending);
	if (http_conn_reply_error(w, c, 503) == 1)
		http_conn_run(w, c);
}

void http_proxy_start(struct worker *w, struct worker_listener *l, int cfd,
		      const struct sockaddr *client)
{
	struct slb_shm_listener *ls = listener_stats(l);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET };
	struct http_conn *c = http_worker_get(w) ? conn_pool_get(sizeof(*c)) : NULL;

	if (!c) {
		if (ls)
			counter_release(&ls->active);
		close(cfd);
		return;
	}
	c->tag = WORKER_TAG_HTTP_CLIENT;
	c->fd = cfd;
	c->l = l;
	c->log_slot = -1;
	c->resp_pipe.rfd = c->resp_pipe.wfd = -1;
	c->req_pipe.rfd = c->req_pipe.wfd = -1;
	c->readable = c->writable = true;
	if (client->sa_family == AF_INET6) {
		memcpy(&c->client.u.sa, client, sizeof(struct sockaddr_in6));
		inet_ntop(AF_INET6, &c->client.u.in6.sin6_addr, c->client_ip, sizeof(c->client_ip));
	} else {
		memcpy(&c->client.u.sa, client, sizeof(struct sockaddr_in));
		inet_ntop(AF_INET, &c->client.u.in4.sin_addr, c->client_ip, sizeof(c->client_ip));
	}
	ev.data.ptr = &c->tag;
	if ((l->http_policy->tls &&
	     http_tls_start(&c->tls, slb_tls_server_ssl(l->http_policy->tls, cfd)) == -1) ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, cfd, &ev) == -1) {
		http_tls_free(&c->tls);
		if (ls)
			counter_release(&ls->active);
		close(cfd);
		conn_pool_put(c, sizeof(*c));
		return;
	}
	w->nconns++;
	if (ls)
		counter_add(&ls->total, 1);
	c->t_start_ms = w->now_ms;
	http_timer_set(w, c, HTTP_T_HEADER);
}

static void server_event(struct worker *w, struct http_server *s, uint32_t events)
{
	struct http_conn *c = s->owner;

	if (s->closed)
		return;
	if (!c) {
		http_server_idle_event(w, s, events);
		return;
	}
	if (s->connecting) {
		struct slb_shm_server *st = server_stats(w, s->slot, s->serial);

		if (events & (EPOLLERR | EPOLLHUP)) {
			http_conn_connect_failed(w, c);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		s->connecting = false;
		if (st)
			counter_add(&st->total, 1);
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		s->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		s->rdhup = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		s->writable = true;
	http_conn_run(w, c);
	if (!c->closed && c->srv == s && !s->connecting && c->timer == HTTP_T_CONNECT)
		http_timer_update(w, c);
}

void http_proxy_event(struct worker *w, enum worker_tag *tag, uint32_t events)
{
	struct http_conn *c;

	if (*tag == WORKER_TAG_HTTP_SERVER) {
		server_event(w, server_of_tag(tag), events);
		return;
	}
	c = conn_of_tag(tag);
	if (c->closed)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLRDHUP | EPOLLHUP))
		c->rdhup = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->writable = true;
	http_conn_run(w, c);
}

void http_proxy_reap(struct worker *w)
{
	while (w->http && w->http->dead_conns) {
		struct http_conn *c = w->http->dead_conns;

		w->http->dead_conns = c->next_dead;
		conn_pool_put(c, sizeof(*c));
	}
	http_server_reap(w);
}

void http_proxy_close_all(struct worker *w, struct worker_listener *l)
{
	for (int t = 0; t < HTTP_T_COUNT; t++)
		while (l->http_waiting[t].head)
			http_conn_close(w, dlist_entry(l->http_waiting[t].head, struct http_conn,
						  timer_node));
	http_server_expire(w, true);
}
