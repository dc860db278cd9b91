/*
 * gzip.h - gzip for HTTP responses: whether a response may be compressed,
 * and a streaming compressor whose memory is allocated once per connection
 * and reset for each response.
 *
 * Eligibility (all must hold, slb_gzip_eligible):
 *   - the client's Accept-Encoding gives gzip (or x-gzip, or *) a q above 0;
 *     an explicit gzip;q=0 wins over *; a header slb cannot parse means no;
 *   - the response has no Content-Encoding at all (never compress twice,
 *     even "identity": the server chose), no Content-Range and no
 *     Cache-Control: no-transform;
 *   - the status carries a body that is not a part: not 1xx, 204, 206 or
 *     304, and the request was not HEAD;
 *   - the Content-Type is text/... , application/json, application/javascript,
 *     application/xml or image/svg+xml (parameters such as charset ignored);
 *   - the body is not known to be shorter than SLB_GZIP_MIN_LENGTH bytes
 *     (an unknown length, chunked or close-delimited, is compressed).
 *
 * A proxy that compresses must also drop Content-Length, send
 * Content-Encoding: gzip and Vary: Accept-Encoding, and re-frame the body
 * (chunked, or close-delimited for an HTTP/1.0 client).
 *
 * Memory: deflate with a 8 KiB window and memLevel 7, about 96 KiB per
 * stream (zlib's (1 << (windowBits + 2)) + (1 << (memLevel + 9))), taken at
 * a connection's first compressed response and kept until slb_gzip_free().
 */
#ifndef SLB_GZIP_H
#define SLB_GZIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#define SLB_GZIP_MIN_LENGTH 256
#define SLB_GZIP_LEVEL 5 /* speed over the last few percent, as nginx users pick */

/* What slb_gzip_eligible() needs from a request and its response; NULL = header absent. */
struct slb_gzip_facts {
	bool head; /* the request's method was HEAD */
	unsigned status;
	const char *accept_encoding; /* request */
	size_t accept_encoding_len;
	const char *content_type; /* response */
	size_t content_type_len;
	bool content_encoding; /* response has a Content-Encoding header */
	bool content_range; /* response has a Content-Range header */
	bool no_transform; /* response's Cache-Control has no-transform */
	int64_t content_length; /* response body length, -1 = not known in advance */
};

bool slb_gzip_eligible(const struct slb_gzip_facts *facts);

/* True when the Accept-Encoding value <v> (<len> bytes) takes gzip with q > 0. */
bool slb_gzip_accepted(const char *v, size_t len);

/* True when the Content-Type value <v> (<len> bytes) is a type worth compressing. */
bool slb_gzip_compressible_type(const char *v, size_t len);

struct slb_gzip {
	z_stream zs;
	bool ready; /* zs holds deflate state */
};

enum slb_gzip_flush {
	SLB_GZIP_NO_FLUSH, /* more input comes: zlib may keep output back */
	SLB_GZIP_SYNC, /* input paused (the server is slow): give out what there is */
	SLB_GZIP_FINISH, /* the body ended: write the trailer */
};

enum slb_gzip_result {
	SLB_GZIP_ERROR = -1,
	SLB_GZIP_OK, /* every input byte consumed, the flush requested done */
	SLB_GZIP_FULL, /* <out> is full: call again with a fresh buffer */
	SLB_GZIP_END, /* FINISH done: the stream is complete */
};

/* Zeroes <gz>; nothing is allocated until slb_gzip_start(). */
void slb_gzip_init(struct slb_gzip *gz);

/* Starts a new gzip stream, allocating on first use only. Returns 0, or -1 (out of memory). */
int slb_gzip_start(struct slb_gzip *gz);

/*
 * Compresses <in> (<in_len> bytes) into <out> (<out_cap> bytes). Sets
 * <*consumed> and <*produced>. See enum slb_gzip_result; after FULL, call
 * again with the rest of the input (possibly none) and the same <flush>.
 */
enum slb_gzip_result slb_gzip_compress(struct slb_gzip *gz, const void *in, size_t in_len,
				       size_t *consumed, void *out, size_t out_cap,
				       size_t *produced, enum slb_gzip_flush flush);

/* Releases the stream's memory (a no-op when none was taken). */
void slb_gzip_free(struct slb_gzip *gz);

#endif
