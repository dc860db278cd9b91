/*
 * http_response.c - the response side of an HTTP transaction: the server's
 * head parsed and written anew for the client (1xx relayed, persistence
 * cookies, gzip), its body counted, decoded or re-chunked, or spliced
 * (http_splice.c), and a WebSocket upgrade turned into a tunnel. A chunked
 * or close-delimited response goes to an HTTP/1.1 client chunked, to an
 * HTTP/1.0 client plain and then closed. Driven by http_conn_run() in
 * http_proxy.c, one step per turn.
 */
#include "http_response.h"

#include <string.h>
#include <sys/socket.h>

#include "http_body.h"
#include "http_gzip.h"
#include "http_head.h"
#include "http_proxy.h"
#include "http_reply.h"
#include "http_splice.h"
#include "http_tls.h"
#include "worker_stats.h"

static const struct slb_http_limits *const limits = &slb_http_default_limits;

struct edit_arg {
	struct worker *w;
	struct http_conn *c;
};

/* http_response_edit's rewrite: the server's Set-Cookie under cookie_rewrite. */
static long rewrite_field(void *arg, const struct slb_http_header *h, char *buf, size_t cap)
{
	struct edit_arg *a = arg;

	return http_policy_rewrite_set_cookie(a->c->l->http_policy, a->w, a->c->srv->slot, h, buf,
					      cap);
}

/* What the listener's policy changes in this final response; -1 when it cannot be written. */
static int response_edit(struct edit_arg *a, struct http_response_edit *edit, char *set_cookie,
			 size_t cap)
{
	struct worker *w = a->w;
	struct http_conn *c = a->c;
	int n = http_policy_insert_cookie(c->l->http_policy, w, &c->route, set_cookie, cap);

	memset(edit, 0, sizeof(*edit));
	if (n < 0)
		return -1;
	if (n > 0) {
		edit->set_cookie = set_cookie;
		edit->set_cookie_len = (size_t)n;
	}
	if (http_policy_rewrites_set_cookie(c->l->http_policy))
		edit->rewrite = rewrite_field;
	edit->arg = a;
	edit->gzip = c->gzip;
	return 0;
}

static int response_final(struct worker *w, struct http_conn *c, const struct slb_http_msg *m)
{
	struct edit_arg arg = { w, c };
	struct http_response_edit edit;
	char set_cookie[256];
	struct slb_shm_server *st = server_stats(w, c->srv->slot, c->srv->serial);
	/* A client that half-closed after pipelining still gets what it sent answered. */
	bool more = http_buf_len(&c->in) > c->pinned_head + c->pinned_body;
	bool keep = c->keep_alive && (!c->eof || more) && c->req == REQ_SENT && !w->draining;
	enum http_out_mode mode = OUT_AS_IS;
	bool chunk = false;

	c->gzip = http_gzip_wanted(c, m) && slb_gzip_start(&c->gz) == 0;
	if (c->gzip) {
		/* a new length: chunked, or until close for an HTTP/1.0 client */
		chunk = c->minor >= 1;
		keep = keep && chunk;
		c->gz_run = 0;
		c->gz_last = c->gz_flushed = false;
	} else if (m->framing == SLB_HTTP_BODY_CHUNKED || m->framing == SLB_HTTP_BODY_CLOSE) {
		if (c->minor >= 1) {
			mode = OUT_CHUNK;
			chunk = true;
		} else {
			mode = m->framing == SLB_HTTP_BODY_CHUNKED ? OUT_DECHUNK : OUT_AS_IS;
			keep = false;
		}
	}
	if (response_edit(&arg, &edit, set_cookie, sizeof(set_cookie)) == -1 ||
	    http_head_response(&c->out, http_buf_room(&c->out, true), m, chunk, keep, c->minor,
			       &edit) == -1)
		return http_buf_len(&c->out) ? 0 : http_conn_reply_error(w, c, 502);
	if (st)
		counter_add(&st->requests, 1);
	c->keep_alive = keep;
	c->out_mode = mode;
	c->status = m->status;
	c->t_response_ms = w->now_ms;
	/*
	 * An answer before the whole request went out: the server framed the
	 * request otherwise than slb, or gave up on it, and may take the rest
	 * for the start of its next request (the 0.CL desync). Its connection
	 * carries no other request.
	 */
	c->server_keep_alive = m->keep_alive && c->req == REQ_SENT && !http_buf_len(&c->srv->out);
	c->resp_framing = m->framing;
	c->resp_left = m->content_length;
	memset(&c->resp_chunk, 0, sizeof(c->resp_chunk));
	c->resp_started = true;
	c->resp = m->framing == SLB_HTTP_BODY_NONE ? RESP_DONE : RESP_BODY;
	return 1;
}

/*
 * The server switched to WebSocket: its 101 goes to the client, and from
 * now on bytes go both ways unparsed (tunnel_step()). Returns as
 * http_conn_reply_error().
 */
static int tunnel_start(struct worker *w, struct http_conn *c, const struct slb_http_msg *m,
			size_t head_len)
{
	struct slb_shm_server *st = server_stats(w, c->srv->slot, c->srv->serial);

	if (http_head_response(&c->out, http_buf_room(&c->out, true), m, false, true, c->minor,
			       NULL) == -1)
		return http_buf_len(&c->out) ? 0 : http_conn_reply_error(w, c, 502);
	if (st)
		counter_add(&st->requests, 1);
	http_buf_consume(&c->srv->in, head_len);
	c->status = m->status;
	c->t_response_ms = w->now_ms;
	c->resp_started = true;
	c->keep_alive = false;
	c->resp = RESP_TUNNEL;
	http_log_transaction(c, http_conn_server_name(w, c), http_buf_len(&c->out), w->now_ms);
	return 1;
}

/* Relays a tunnel's bytes; each side's FIN goes on once its bytes are through. */
static int tunnel_step(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	int progress = http_body_move(&c->in, &s->out, UINT64_MAX) > 0;

	progress |= http_body_move(&s->in, &c->out, UINT64_MAX) > 0;
	if (c->eof && !c->tunnel_up_shut && !http_buf_len(&c->in) && !http_buf_len(&s->out)) {
		http_tls_shutdown(&s->tls);
		shutdown(s->fd, SHUT_WR);
		c->tunnel_up_shut = true;
		progress = 1;
	}
	if (s->eof && !c->tunnel_down_shut && !http_buf_len(&s->in) && !http_buf_len(&c->out)) {
		http_tls_shutdown(&c->tls);
		shutdown(c->fd, SHUT_WR);
		c->tunnel_down_shut = true;
		progress = 1;
	}
	if (c->tunnel_up_shut && c->tunnel_down_shut) {
		http_conn_close(w, c);
		return -1;
	}
	return progress;
}

static int response_head(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	struct slb_http_msg *m = &w->http->msg;
	size_t len = http_buf_len(&s->in);
	long r;
	int rc;

	if (!len)
		return s->eof ? http_conn_server_broken(w, c) : 0;
	r = slb_http_scan_head(&c->scan, http_buf_head(&s->in), len, limits, false);
	if (r == 0)
		return s->eof ? http_conn_reply_error(w, c, 502) : 0;
	if (r < 0 || slb_http_parse_response(http_buf_head(&s->in), (size_t)r, limits, c->method, m))
		return http_conn_reply_error(w, c, 502);
	if (http_buf_ensure(&c->out) == -1)
		return 0;
	if (m->status == 101)
		return c->upgrade ? tunnel_start(w, c, m, (size_t)r) : http_conn_reply_error(w, c, 502);
	if (m->status < 200) {
		/* 100 and 103 go to the client (not to HTTP/1.0 ones); the final response follows. */
		if (c->minor >= 1) {
			if (http_head_response(&c->out, http_buf_room(&c->out, true), m, false, true,
					       c->minor, NULL) == -1)
				return http_buf_len(&c->out) ? 0 : http_conn_reply_error(w, c, 502);
			c->resp_started = true;
		}
	} else if ((rc = response_final(w, c, m)) != 1) {
		return rc;
	}
	http_buf_consume(&s->in, (size_t)r);
	memset(&c->scan, 0, sizeof(c->scan));
	if (c->pinned_head && c->resp_started)
		http_conn_unpin(c);
	return 1;
}

static int response_body(struct worker *w, struct http_conn *c)
{
	struct http_server *s = c->srv;
	bool done = false;
	int progress = 0;
	size_t n;

	if (http_buf_ensure(&c->out) == -1)
		return 0;
	if (c->gzip) {
		progress = http_gzip_body(c, &s->in, s->eof, &done);
		if (progress == -1) {
			http_conn_close(w, c); /* broken mid-response: the client must not take it as whole */
			return -1;
		}
	} else switch (c->resp_framing) {
	case SLB_HTTP_BODY_LENGTH:
		if (!c->resp_splicing) {
			n = http_body_move(&s->in, &c->out, c->resp_left);
			c->resp_left -= n;
			done = c->resp_left == 0;
			progress = n > 0;
			if (!done && http_splice_wanted(c, HTTP_SPLICE_RESPONSE))
				http_splice_begin(c, HTTP_SPLICE_RESPONSE); /* or the copying goes on */
		}
		/* What the buffer holds goes first: the pipe's bytes come after it. */
		if (c->resp_splicing && !http_buf_len(&c->out)) {
			int r = http_splice_step(c, HTTP_SPLICE_RESPONSE);

			if (r < 0) {
				http_conn_close(w, c); /* either side broke off: the client must not take it as whole */
				return -1;
			}
			http_watch_out(w, c->fd, &c->tag, &c->watch_out, !c->writable);
			progress |= r;
			done = http_splice_done(c, HTTP_SPLICE_RESPONSE);
			if (done)
				http_splice_end(c, HTTP_SPLICE_RESPONSE);
		}
		break;
	case SLB_HTTP_BODY_CHUNKED:
		progress = http_body_chunks(&c->resp_chunk, &s->in, &c->out, c->out_mode == OUT_CHUNK, &done);
		if (progress == -1) {
			http_conn_close(w, c); /* broken mid-response: the client must not take it as whole */
			return -1;
		}
		break;
	default: /* until the server closes */
		if (c->out_mode == OUT_CHUNK)
			progress = http_body_chunk(&s->in, &c->out) > 0;
		else
			progress = http_body_move(&s->in, &c->out, UINT64_MAX) > 0;
		if (s->eof && !http_buf_len(&s->in)) {
			if (c->out_mode == OUT_CHUNK && http_body_last_chunk(&c->out) == -1)
				return progress;
			done = true;
		}
		break;
	}
	if (done) {
		c->resp = RESP_DONE;
		return 1;
	}
	/* The server stopped short (a spliced body may still be leaving the pipe). */
	if (s->eof && !http_buf_len(&s->in) && (!c->resp_splicing || c->resp_left)) {
		http_conn_close(w, c);
		return -1;
	}
	return progress;
}

int http_response_step(struct worker *w, struct http_conn *c)
{
	int r;

	if (!c->srv)
		return 0;
	if (c->resp == RESP_HEAD) {
		r = response_head(w, c);
		/* Head and the body bytes behind it leave in one write. */
		if (r != 1 || c->resp != RESP_BODY)
			return r;
		return response_body(w, c) == -1 ? -1 : 1;
	}
	if (c->resp == RESP_BODY)
		return response_body(w, c);
	if (c->resp == RESP_TUNNEL)
		return tunnel_step(w, c);
	return 0;
}
