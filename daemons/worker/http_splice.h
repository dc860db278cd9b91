/*
 * http_splice.h - the long rest of a body with a known length goes socket
 * -> pipe -> socket inside the kernel (splice(2)) instead of being copied
 * into the worker's buffers and out again: a response body from the server
 * to the client, a request body from the client to the server.
 *
 * Only a plain body on plain sockets qualifies: Content-Length framing
 * forwarded as it is (no gzip, no re-chunking), no TLS on either side. The
 * bytes that came in with the head are still copied (they are in the
 * buffer already); the destination's buffer is written out before the
 * pipe, so the order of the bytes is kept.
 */
#ifndef SLB_HTTP_SPLICE_H
#define SLB_HTTP_SPLICE_H

#include <stdbool.h>

#include "http_conn.h"

/* One direction of a transaction's body. */
enum http_splice_dir {
	HTTP_SPLICE_RESPONSE, /* server -> client, counted off c->resp_left */
	HTTP_SPLICE_REQUEST, /* client -> server, counted off c->req_left */
};

/* What went wrong in http_splice_step() (errno tells why). */
enum http_splice_error {
	HTTP_SPLICE_SOURCE_FAILED = -1,
	HTTP_SPLICE_DESTINATION_FAILED = -2,
};

/* Whether the rest of <c>'s body in <dir> should be spliced from now on. */
bool http_splice_wanted(const struct http_conn *c, enum http_splice_dir dir);

/* Takes a pipe for it; 0, or -1 (no descriptor left: the body is copied). */
int http_splice_begin(struct http_conn *c, enum http_splice_dir dir);

/*
 * Moves body bytes: source -> pipe (counted off what is left), pipe ->
 * destination. Returns 1 on progress, 0 when waiting for either socket, or
 * an http_splice_error. A source that ends the body early is reported as
 * progress with its eof set.
 */
int http_splice_step(struct http_conn *c, enum http_splice_dir dir);

/* Whether every byte of the body went through the pipe to the destination. */
bool http_splice_done(const struct http_conn *c, enum http_splice_dir dir);

/* Gives the pipe back (bytes still in it are dropped); safe without one. */
void http_splice_end(struct http_conn *c, enum http_splice_dir dir);

#endif
