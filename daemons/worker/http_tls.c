/*
 * http_tls.c - TLS for the HTTP proxy's connections (see http_tls.h).
 */
#include "http_tls.h"

#include <errno.h>

#include <openssl/err.h>

#include "tls.h"

int http_tls_start(struct http_tls *t, SSL *ssl)
{
	t->ssl = ssl;
	t->handshake = ssl != NULL;
	return ssl ? 0 : -1;
}

/*
 * TLS waits for <io> during a read (<reading>) or a write: EAGAIN when that
 * is the direction asked (the caller clears its own flag), else EINTR with
 * the other direction's flag cleared here.
 */
static ssize_t wait_for(enum slb_tls_io io, bool reading, struct http_ready r)
{
	bool wants_read = io == SLB_TLS_WANT_READ;

	if (wants_read == reading) {
		errno = EAGAIN;
		return -1;
	}
	*(wants_read ? r.readable : r.writable) = false;
	errno = EINTR;
	return -1;
}

int http_tls_handshake(struct http_tls *t, struct http_ready r)
{
	switch (slb_tls_handshake(t->ssl)) {
	case SLB_TLS_OK:
		t->handshake = false;
		return 1;
	case SLB_TLS_WANT_READ:
		*r.readable = false;
		return 0;
	case SLB_TLS_WANT_WRITE:
		*r.writable = false;
		return 0;
	default:
		ERR_clear_error(); /* a peer that went away or spoke garbage: nothing to log */
		return -1;
	}
}

bool http_tls_pending(const struct http_tls *t)
{
	return t->ssl && SSL_has_pending(t->ssl);
}

ssize_t http_tls_recv(struct http_tls *t, struct http_buf *b, struct http_ready r)
{
	size_t room, n = 0;
	enum slb_tls_io io;

	if (http_buf_ensure(b) == -1 || (room = http_buf_room(b, true)) == 0) {
		errno = ENOBUFS;
		return -1;
	}
	io = slb_tls_read(t->ssl, b->data + b->end, room, &n);
	switch (io) {
	case SLB_TLS_OK:
		b->end += (uint32_t)n;
		return (ssize_t)n;
	case SLB_TLS_CLOSED:
		return 0;
	case SLB_TLS_WANT_READ:
	case SLB_TLS_WANT_WRITE:
		return wait_for(io, true, r);
	default:
		ERR_clear_error();
		errno = ECONNRESET;
		return -1;
	}
}

ssize_t http_tls_send(struct http_tls *t, struct http_buf *b, struct http_ready r)
{
	size_t n = 0;
	enum slb_tls_io io = slb_tls_write(t->ssl, b->data + b->start, b->end - b->start, &n);

	switch (io) {
	case SLB_TLS_OK:
		http_buf_consume(b, n);
		return (ssize_t)n;
	case SLB_TLS_WANT_READ:
	case SLB_TLS_WANT_WRITE:
		return wait_for(io, false, r);
	default:
		ERR_clear_error();
		errno = EPIPE;
		return -1;
	}
}

void http_tls_shutdown(struct http_tls *t)
{
	if (t->ssl && !t->handshake && SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
}

void http_tls_free(struct http_tls *t)
{
	SSL_free(t->ssl);
	t->ssl = NULL;
}
