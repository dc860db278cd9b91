/*
 * http_tls.c - TLS for https clients (see http_tls.h).
 */
#include "http_tls.h"

#include <errno.h>

#include <openssl/err.h>

int http_tls_start(struct http_conn *c, struct slb_tls_server *ts)
{
	c->ssl = slb_tls_server_ssl(ts, c->fd);
	c->tls_handshake = c->ssl != NULL;
	return c->ssl ? 0 : -1;
}

/*
 * TLS waits for <io> during a read (<reading>) or a write: EAGAIN when that
 * is the direction asked (the caller clears its own flag), else EINTR with
 * the other direction's flag cleared here.
 */
static ssize_t wait_for(struct http_conn *c, enum slb_tls_io io, bool reading)
{
	bool wants_read = io == SLB_TLS_WANT_READ;

	if (wants_read == reading) {
		errno = EAGAIN;
		return -1;
	}
	if (wants_read)
		c->readable = false;
	else
		c->writable = false;
	errno = EINTR;
	return -1;
}

int http_tls_handshake(struct http_conn *c)
{
	enum slb_tls_io io = slb_tls_handshake(c->ssl);

	switch (io) {
	case SLB_TLS_OK:
		c->tls_handshake = false;
		return 1;
	case SLB_TLS_WANT_READ:
		c->readable = false;
		return 0;
	case SLB_TLS_WANT_WRITE:
		c->writable = false;
		return 0;
	default:
		ERR_clear_error(); /* a client that went away or spoke garbage: nothing to log */
		return -1;
	}
}

ssize_t http_tls_recv(struct http_conn *c, struct http_buf *b)
{
	size_t room, n = 0;
	enum slb_tls_io io;

	if (http_buf_ensure(b) == -1 || (room = http_buf_room(b, true)) == 0) {
		errno = ENOBUFS;
		return -1;
	}
	io = slb_tls_read(c->ssl, b->data + b->end, room, &n);
	switch (io) {
	case SLB_TLS_OK:
		b->end += (uint32_t)n;
		return (ssize_t)n;
	case SLB_TLS_CLOSED:
		return 0;
	case SLB_TLS_WANT_READ:
	case SLB_TLS_WANT_WRITE:
		return wait_for(c, io, true);
	default:
		ERR_clear_error();
		errno = ECONNRESET;
		return -1;
	}
}

ssize_t http_tls_send(struct http_conn *c, struct http_buf *b)
{
	size_t n = 0;
	enum slb_tls_io io = slb_tls_write(c->ssl, b->data + b->start, b->end - b->start, &n);

	switch (io) {
	case SLB_TLS_OK:
		http_buf_consume(b, n);
		return (ssize_t)n;
	case SLB_TLS_WANT_READ:
	case SLB_TLS_WANT_WRITE:
		return wait_for(c, io, false);
	default:
		ERR_clear_error();
		errno = EPIPE;
		return -1;
	}
}

void http_tls_shutdown(struct http_conn *c)
{
	if (c->ssl && !c->tls_handshake && SSL_shutdown(c->ssl) < 0)
		ERR_clear_error();
}

void http_tls_free(struct http_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
}
