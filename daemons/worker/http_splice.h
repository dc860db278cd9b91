/*
 * http_splice.h - the long rest of a response body with a known length goes
 * server socket -> pipe -> client socket inside the kernel (splice(2))
 * instead of being copied into the worker's buffers and out again.
 *
 * Only a plain body on plain sockets qualifies: Content-Length framing
 * forwarded as it is (no gzip, no re-chunking), no TLS on either side. The
 * bytes that came in with the head are still copied (they are in the
 * buffer already); the client's buffer is written out before the pipe, so
 * the order of the bytes is kept.
 */
#ifndef SLB_HTTP_SPLICE_H
#define SLB_HTTP_SPLICE_H

#include <stdbool.h>

#include "http_conn.h"

/* Whether the rest of <c>'s response body should be spliced from now on. */
bool http_splice_wanted(const struct http_conn *c);

/* Takes a pipe for the body; 0, or -1 (no descriptor left: the body is copied). */
int http_splice_begin(struct http_conn *c);

/*
 * Moves body bytes: server -> pipe (counted off c->resp_left), pipe ->
 * client. Returns 1 on progress, 0 when waiting for either socket, -1 when
 * the client or the server broke off (errno set; the caller closes).
 * A server that ends the body early is reported as progress with s->eof.
 */
int http_splice_step(struct http_conn *c);

/* Whether every byte of the body went through the pipe to the client. */
bool http_splice_done(const struct http_conn *c);

/* Gives the pipe back; safe to call when no pipe is held. */
void http_splice_end(struct http_conn *c);

#endif
