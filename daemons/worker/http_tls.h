/*
 * http_tls.h - TLS on the client side of https listeners (lib/tls.c does
 * OpenSSL): the handshake before the first request, and reads and writes
 * with the same contract as http_buf_recv()/http_buf_send(), so the proxy's
 * loop stays the same for http and https.
 *
 * TLS can need the other direction than the one asked (a read that must
 * write, a write that must read). Then the call fails with EINTR ("no
 * progress, keep your readiness flag") after clearing the flag of the
 * direction TLS waits for, so the next event of that direction runs the
 * call again.
 */
#ifndef SLB_WORKER_HTTP_TLS_H
#define SLB_WORKER_HTTP_TLS_H

#include <sys/types.h>

#include "http_conn.h"
#include "tls.h"

/* Starts TLS on <c>'s socket with listener context <ts>. Returns 0, or -1 (out of memory). */
int http_tls_start(struct http_conn *c, struct slb_tls_server *ts);

/*
 * Steps the handshake: 1 when it is complete, 0 when it waits (the
 * readiness flag it waits for is cleared), -1 when it failed.
 */
int http_tls_handshake(struct http_conn *c);

/* As http_buf_recv(): bytes read, 0 when the client closed, -1 with errno. */
ssize_t http_tls_recv(struct http_conn *c, struct http_buf *b);

/* As http_buf_send(): bytes sent, or -1 with errno. */
ssize_t http_tls_send(struct http_conn *c, struct http_buf *b);

/* Sends close_notify, as far as the socket takes it now (before our FIN). */
void http_tls_shutdown(struct http_conn *c);

void http_tls_free(struct http_conn *c);

#endif
