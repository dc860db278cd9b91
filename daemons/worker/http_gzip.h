/*
 * http_gzip.h - `gzip = yes` on an HTTP listener: which responses are
 * compressed (lib/gzip.h says when), and the body path that compresses
 * whatever the server's framing was (Content-Length, chunked, until
 * close) into gzip, chunked for an HTTP/1.1 client, close-delimited for an
 * HTTP/1.0 one. When the server pauses (its bytes are all used and the body
 * is not over), the compressor is flushed so that the client gets what
 * exists so far, as with an uncompressed stream.
 */
#ifndef SLB_WORKER_HTTP_GZIP_H
#define SLB_WORKER_HTTP_GZIP_H

#include <stdbool.h>

#include "http_buf.h"
#include "http_parser.h"

struct http_conn;

/* At request start on a gzip listener: the client takes gzip (Accept-Encoding), not HEAD. */
bool http_gzip_request_accepts(const struct slb_http_msg *req);

/* At the final response <m>: compress it? (c->accept_gzip, then the response) */
bool http_gzip_wanted(const struct http_conn *c, const struct slb_http_msg *m);

/*
 * Moves the body from the server's buffer <in> (<in_eof>: the server
 * closed) to the client's output, compressed. Sets <*done> when the whole
 * gzip stream (and the last chunk) is out. Returns 1 on progress, 0 without,
 * -1 when the server's framing is broken or the compressor failed.
 */
int http_gzip_body(struct http_conn *c, struct http_buf *in, bool in_eof, bool *done);

#endif
