/*
 * http_splice.c - response bodies through a pipe. See http_splice.h.
 */
#include "http_splice.h"

#include <errno.h>
#include <fcntl.h>

/*
 * Below this much body left, one recv() and one send() through the buffer
 * cost less than filling and emptying a pipe.
 */
#define HTTP_SPLICE_MIN 16384
#define HTTP_SPLICE_CHUNK (1u << 20)

bool http_splice_wanted(const struct http_conn *c)
{
	const struct http_server *s = c->srv;

	return c->resp == RESP_BODY && c->resp_framing == SLB_HTTP_BODY_LENGTH &&
	       c->out_mode == OUT_AS_IS && !c->gzip && !c->tls.ssl && !s->tls.ssl &&
	       !http_buf_len(&s->in) && c->resp_left >= HTTP_SPLICE_MIN;
}

int http_splice_begin(struct http_conn *c)
{
	if (pipe_pool_get(&c->body_pipe) == -1)
		return -1;
	c->splicing = true;
	return 0;
}

static int splice_in(struct http_conn *c, struct http_server *s)
{
	struct slb_pipe *p = &c->body_pipe;
	size_t want = c->resp_left < HTTP_SPLICE_CHUNK ? (size_t)c->resp_left : HTTP_SPLICE_CHUNK;
	ssize_t n;

	if (!want || !s->readable || s->eof)
		return 0;
	n = splice(s->fd, NULL, p->wfd, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		p->len += (size_t)n;
		c->resp_left -= (uint64_t)n;
		s->bytes_in += (uint64_t)n;
		return 1;
	}
	if (n == 0) {
		s->eof = true;
		return 1;
	}
	/* A full pipe says EAGAIN too: only into an empty one does it mean the socket is dry. */
	if (errno == EAGAIN) {
		if (p->len == 0)
			s->readable = false;
		return 0;
	}
	return errno == EINTR ? 0 : -1;
}

static int splice_out(struct http_conn *c)
{
	struct slb_pipe *p = &c->body_pipe;
	ssize_t n;

	if (!p->len || !c->writable)
		return 0;
	n = splice(p->rfd, NULL, c->fd, NULL, p->len, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n > 0) {
		p->len -= (size_t)n;
		c->bytes_out += (uint64_t)n;
		return 1;
	}
	if (n == -1 && errno == EAGAIN) {
		c->writable = false;
		return 0;
	}
	if (n == -1 && errno == EINTR)
		return 0;
	if (n == 0)
		errno = EPIPE;
	return -1;
}

int http_splice_step(struct http_conn *c)
{
	int in = splice_in(c, c->srv), out;

	if (in == -1 || (out = splice_out(c)) == -1)
		return -1;
	return in | out;
}

bool http_splice_done(const struct http_conn *c)
{
	return c->resp_left == 0 && c->body_pipe.len == 0;
}

void http_splice_end(struct http_conn *c)
{
	pipe_pool_put(&c->body_pipe);
	c->splicing = false;
}
