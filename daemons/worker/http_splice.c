/*
 * http_splice.c - bodies through a pipe. See http_splice.h.
 */
#include "http_splice.h"

#include <errno.h>

/*
 * Below this much body left, one recv() and one send() through the buffer
 * cost less than filling and emptying a pipe.
 */
#define HTTP_SPLICE_MIN 16384
#define HTTP_SPLICE_CHUNK (1u << 20)

/* The two sockets, the pipe and the counters of one direction. */
struct leg {
	int src, dst;
	bool *src_readable, *src_eof, *dst_writable;
	uint64_t *left, *bytes_in, *bytes_out;
	struct slb_pipe *pipe;
	bool *splicing;
};

static struct leg leg_of(struct http_conn *c, enum http_splice_dir dir)
{
	struct http_server *s = c->srv;

	if (dir == HTTP_SPLICE_RESPONSE)
		return (struct leg){ s->fd, c->fd, &s->readable, &s->eof, &c->writable,
				     &c->resp_left, &s->bytes_in, &c->bytes_out, &c->resp_pipe,
				     &c->resp_splicing };
	return (struct leg){ c->fd, s->fd, &c->readable, &c->eof, &s->writable,
			     &c->req_left, &c->bytes_in, &s->bytes_out, &c->req_pipe,
			     &c->req_splicing };
}

bool http_splice_wanted(const struct http_conn *c, enum http_splice_dir dir)
{
	const struct http_server *s = c->srv;

	if (c->tls.ssl || s->tls.ssl)
		return false;
	if (dir == HTTP_SPLICE_RESPONSE)
		return c->resp == RESP_BODY && c->resp_framing == SLB_HTTP_BODY_LENGTH &&
		       c->out_mode == OUT_AS_IS && !c->gzip && !http_buf_len(&s->in) &&
		       c->resp_left >= HTTP_SPLICE_MIN;
	/*
	 * After the connect: what goes into the pipe cannot go to another server.
	 * Not to a server that reset: the copying path drops what it cannot send.
	 */
	return c->req == REQ_BODY && c->req_framing == SLB_HTTP_BODY_LENGTH && !s->connecting &&
	       !s->write_failed && !http_buf_len(&c->in) && c->req_left >= HTTP_SPLICE_MIN;
}

int http_splice_begin(struct http_conn *c, enum http_splice_dir dir)
{
	struct leg l = leg_of(c, dir);

	if (pipe_pool_get(l.pipe) == -1)
		return -1;
	*l.splicing = true;
	return 0;
}

static int splice_in(const struct leg *l)
{
	size_t want = *l->left < HTTP_SPLICE_CHUNK ? (size_t)*l->left : HTTP_SPLICE_CHUNK;
	bool dry = false;
	ssize_t n;

	if (!want || !*l->src_readable || *l->src_eof)
		return 0;
	n = pipe_fill(l->pipe, l->src, want, &dry);
	if (n > 0) {
		*l->left -= (uint64_t)n;
		*l->bytes_in += (uint64_t)n;
		return 1;
	}
	if (n == 0) {
		*l->src_eof = true;
		return 1;
	}
	if (errno == EAGAIN) {
		if (dry)
			*l->src_readable = false;
		return 0;
	}
	return errno == EINTR ? 0 : HTTP_SPLICE_SOURCE_FAILED;
}

static int splice_out(const struct leg *l)
{
	ssize_t n;

	if (!l->pipe->len || !*l->dst_writable)
		return 0;
	n = pipe_drain(l->pipe, l->dst);
	if (n > 0) {
		*l->bytes_out += (uint64_t)n;
		return 1;
	}
	if (errno == EAGAIN) {
		*l->dst_writable = false;
		return 0;
	}
	return errno == EINTR ? 0 : HTTP_SPLICE_DESTINATION_FAILED;
}

int http_splice_step(struct http_conn *c, enum http_splice_dir dir)
{
	struct leg l = leg_of(c, dir);
	int in = splice_in(&l), out;

	if (in < 0)
		return in;
	out = splice_out(&l);
	if (out < 0)
		return out;
	return in | out;
}

bool http_splice_done(const struct http_conn *c, enum http_splice_dir dir)
{
	if (dir == HTTP_SPLICE_RESPONSE)
		return c->resp_left == 0 && c->resp_pipe.len == 0;
	return c->req_left == 0 && c->req_pipe.len == 0;
}

void http_splice_end(struct http_conn *c, enum http_splice_dir dir)
{
	if (dir == HTTP_SPLICE_RESPONSE) {
		pipe_pool_put(&c->resp_pipe);
		c->resp_splicing = false;
	} else {
		pipe_pool_put(&c->req_pipe);
		c->req_splicing = false;
	}
}
