/*
 * http_body.h - moving body bytes from one connection's input buffer to the
 * other's output: counted out as they are, decoded from chunked (and
 * chunked again or not), or chunked for the first time. Nothing here
 * passes framing through unread: what goes out is framed by slb.
 */
#ifndef SLB_HTTP_BODY_H
#define SLB_HTTP_BODY_H

#include <stdbool.h>
#include <stdint.h>

#include "http_buf.h"
#include "http_parser.h"

/* Copies up to <limit> bytes of <in> that fit into <out>; returns how many. */
size_t http_body_move(struct http_buf *in, struct http_buf *out, uint64_t limit);

/*
 * Decodes the chunked body in <in> into <out>, chunked anew (extensions
 * and trailers dropped) when <rechunk>, plain otherwise; sets *done after
 * the last chunk. Returns 1 on progress, 0 without, -1 when the framing is
 * broken.
 */
int http_body_chunks(struct slb_http_chunked *ch, struct http_buf *in, struct http_buf *out,
		     bool rechunk, bool *done);

/*
 * The length of the chunked body at the start of <p> (<len> bytes), its
 * last chunk and trailers included; 0 when its end is not in <len>, or when
 * its framing is broken (that is answered as the body is forwarded).
 */
size_t http_body_chunked_len(const char *p, size_t len);

/* Writes what <in> holds (as much as fits) into <out> as one chunk; returns its size. */
size_t http_body_chunk(struct http_buf *in, struct http_buf *out);

/* Writes the last chunk; 0, or -1 when <out> has no room for it yet. */
int http_body_last_chunk(struct http_buf *out);

#endif
