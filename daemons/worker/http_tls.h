/*
 * http_tls.h - TLS on either side of the HTTP proxy: towards clients of
 * https listeners and towards servers of groups with server_tls = yes
 * (lib/tls.c does OpenSSL). The handshake runs before the first byte moves;
 * reads and writes keep the contract of http_buf_recv()/http_buf_send(), so
 * the proxy's loop is the same with and without TLS.
 *
 * TLS can need the other direction than the one asked (a read that must
 * write, a write that must read). Then the call fails with EINTR ("no
 * progress, keep your readiness flag") after clearing the flag of the
 * direction TLS waits for, so the next event of that direction runs the
 * call again; a caller that watches EPOLLOUT only on demand must watch it
 * when <*writable> went false.
 */
#ifndef SLB_WORKER_HTTP_TLS_H
#define SLB_WORKER_HTTP_TLS_H

#include <stdbool.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "http_buf.h"

/* One connection's TLS: NULL ssl = plain. */
struct http_tls {
	SSL *ssl;
	bool handshake; /* not done yet */
};

/* Readiness flags of the socket under the TLS, as the proxy keeps them. */
struct http_ready {
	bool *readable;
	bool *writable;
};

/* Takes <ssl> (NULL: failed, returns -1) for <t>; the handshake comes next. */
int http_tls_start(struct http_tls *t, SSL *ssl);

/*
 * Steps the handshake: 1 when it is complete, 0 when it waits (the
 * readiness flag it waits for is cleared), -1 when it failed.
 */
int http_tls_handshake(struct http_tls *t, struct http_ready r);

/* As http_buf_recv(): bytes read, 0 when the peer closed, -1 with errno. */
ssize_t http_tls_recv(struct http_tls *t, struct http_buf *b, struct http_ready r);

/* As http_buf_send(): bytes sent, or -1 with errno. */
ssize_t http_tls_send(struct http_tls *t, struct http_buf *b, struct http_ready r);

/* Whether OpenSSL holds bytes of <t> not yet read: the socket can look
 * drained while they wait there. */
bool http_tls_pending(const struct http_tls *t);

/* Sends close_notify, as far as the socket takes it now (before our FIN). */
void http_tls_shutdown(struct http_tls *t);

void http_tls_free(struct http_tls *t);

#endif
