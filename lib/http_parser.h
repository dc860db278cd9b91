/*
 * http_parser.h - a strict, zero-copy HTTP/1.1 message head parser and
 * chunked body decoder (RFC 9110, RFC 9112), for requests and responses.
 *
 * Use: keep a struct slb_http_scan per message and call slb_http_scan_head()
 * each time bytes arrive; it finds the end of the head (and refuses bare LF
 * and oversized heads early) without parsing the same bytes twice. Once it
 * returns the head's length, slb_http_parse_request() or
 * slb_http_parse_response() splits the head into slices that point into the
 * caller's buffer (nothing is copied: keep the buffer in place while the
 * slices are used) and decides how the body is framed.
 *
 * Everything a proxy could be smuggled through is an error here, not a
 * guess: Content-Length with Transfer-Encoding, differing Content-Lengths,
 * transfer codings other than chunked, obsolete line folding, whitespace
 * before a colon, control characters (NUL, bare CR) anywhere, bare LF line
 * ends, Transfer-Encoding on an HTTP/1.0 request, a missing or repeated Host
 * in HTTP/1.1, a Host that is not host[:port], a fragment in the target,
 * bad or overflowing chunk sizes.
 *
 * Errors are reported as the HTTP status a server answers with (400, 414,
 * 431, 501, 505); response errors are all SLB_HTTP_BAD_RESPONSE (a proxy
 * answers 502).
 */
#ifndef SLB_HTTP_PARSER_H
#define SLB_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLB_HTTP_MAX_HEADERS 100
#define SLB_HTTP_BAD_RESPONSE 502

struct slb_http_limits {
	size_t max_line; /* request line (without CRLF): longer is 414 */
	size_t max_head; /* the whole head with its CRLFs: larger is 431 */
	unsigned max_headers; /* at most SLB_HTTP_MAX_HEADERS: more is 431 */
};

/* 8 KiB request line, 16 KiB head, 100 header fields. */
extern const struct slb_http_limits slb_http_default_limits;

/* The header fields a proxy treats specially. */
enum slb_http_field {
	SLB_HTTP_F_OTHER,
	SLB_HTTP_F_HOST,
	SLB_HTTP_F_CONTENT_LENGTH,
	SLB_HTTP_F_TRANSFER_ENCODING,
	SLB_HTTP_F_CONNECTION,
	SLB_HTTP_F_KEEP_ALIVE,
	SLB_HTTP_F_PROXY_CONNECTION,
	SLB_HTTP_F_TE,
	SLB_HTTP_F_UPGRADE,
	SLB_HTTP_F_EXPECT,
	SLB_HTTP_F_X_FORWARDED_FOR,
	SLB_HTTP_F_X_FORWARDED_PROTO,
	SLB_HTTP_F_X_FORWARDED_PORT,
	SLB_HTTP_F_X_REAL_IP,
	SLB_HTTP_F_X_SLB_TRACE,
	SLB_HTTP_F_COOKIE,
	SLB_HTTP_F_SET_COOKIE,
};

struct slb_http_header {
	const char *name;
	const char *value; /* without leading and trailing whitespace */
	uint32_t name_len;
	uint32_t value_len;
	enum slb_http_field field;
	/*
	 * Not to be forwarded: a hop-by-hop field (Connection, Keep-Alive,
	 * Proxy-Connection, TE, Upgrade, Transfer-Encoding, Content-Length is
	 * not among them), one named by a Connection token, or one that reads as
	 * one of the fields slb knows with '_' for '-' (X_Forwarded_For).
	 */
	bool hop;
};

enum slb_http_framing {
	SLB_HTTP_BODY_NONE, /* no body (or Content-Length: 0) */
	SLB_HTTP_BODY_LENGTH, /* content_length bytes */
	SLB_HTTP_BODY_CHUNKED,
	SLB_HTTP_BODY_CLOSE, /* responses only: until the server closes */
};

enum slb_http_method {
	SLB_HTTP_M_OTHER,
	SLB_HTTP_M_GET,
	SLB_HTTP_M_HEAD,
	SLB_HTTP_M_POST,
	SLB_HTTP_M_PUT,
	SLB_HTTP_M_DELETE,
	SLB_HTTP_M_OPTIONS,
	SLB_HTTP_M_CONNECT,
};

/* A parsed head: a request or a response. */
struct slb_http_msg {
	/* request line */
	const char *method;
	const char *target;
	uint32_t method_len;
	uint32_t target_len;
	enum slb_http_method method_id;
	const char *authority; /* of an absolute-form target, NULL for other forms */
	uint32_t authority_len;
	/* status line */
	unsigned status;
	const char *reason;
	uint32_t reason_len;

	unsigned minor; /* HTTP/1.<minor>: 0 or 1 (1.2 and later count as 1) */
	size_t head_len; /* bytes of the head, leading empty lines included */
	size_t line_off; /* where the request or status line starts */
	unsigned nheaders;
	int host; /* index of the Host field, -1 = none (and in every response) */
	enum slb_http_framing framing;
	uint64_t content_length;
	bool keep_alive; /* by version and Connection: the connection may carry another message */
	bool expect_continue; /* Expect: 100-continue */
	bool upgrade; /* Connection: upgrade with an Upgrade field */
	struct slb_http_header headers[SLB_HTTP_MAX_HEADERS];
};

/* Where slb_http_scan_head() left off; zero it before the first call. */
struct slb_http_scan {
	size_t pos; /* bytes examined */
	size_t line_start; /* start of the line being examined */
	size_t head_start; /* after leading empty lines */
	unsigned lines; /* complete lines of the head seen so far */
};

/*
 * Looks for the end of a head in <buf> (<len> bytes, the same bytes as at
 * the previous call plus any that arrived since). Returns the head's length
 * once the empty line that ends it is in, 0 when more bytes are needed, or
 * minus an HTTP status: -400 (bare LF, or too many empty lines before the
 * head), -414 (request line over <lim>->max_line; <is_request>), -431 (head
 * over <lim>->max_head).
 */
long slb_http_scan_head(struct slb_http_scan *scan, const char *buf, size_t len,
			const struct slb_http_limits *lim, bool is_request);

/*
 * Parses the request head that slb_http_scan_head() found in the first
 * <head_len> bytes of <buf>. Returns 0 or the status to answer with (400,
 * 414, 431, 501 for CONNECT and unknown transfer codings, 505 for a major
 * version other than 1).
 */
int slb_http_parse_request(const char *buf, size_t head_len, const struct slb_http_limits *lim,
			   struct slb_http_msg *msg);

/*
 * Parses a response head in the first <head_len> bytes of <buf>, answering
 * a request with method <req_method>: HEAD requests, 1xx, 204 and 304
 * responses get SLB_HTTP_BODY_NONE whatever their fields say; a response
 * with neither Content-Length nor chunked is SLB_HTTP_BODY_CLOSE.
 * Returns 0 or SLB_HTTP_BAD_RESPONSE.
 */
int slb_http_parse_response(const char *buf, size_t head_len, const struct slb_http_limits *lim,
			    enum slb_http_method req_method, struct slb_http_msg *msg);

/* Case-insensitive comparison of a header's name with <name>. */
bool slb_http_name_is(const struct slb_http_header *h, const char *name);

/* A chunked body being decoded; zero it before the first call. */
struct slb_http_chunked {
	uint8_t state;
	uint8_t digits; /* hex digits of the current chunk size */
	uint16_t line_len; /* bytes of the current size or trailer line */
	uint32_t trailer_len; /* bytes of trailer fields so far */
	uint64_t remaining; /* data bytes left in the current chunk */
};

enum slb_http_chunk_result {
	SLB_HTTP_CHUNK_MORE, /* all of the input was used: call again with more */
	SLB_HTTP_CHUNK_DATA, /* a run of chunk data, at *data_off for *data_len bytes */
	SLB_HTTP_CHUNK_DONE, /* the last chunk and trailer section are through */
	SLB_HTTP_CHUNK_ERROR, /* malformed: the connection cannot be used any more */
};

/*
 * Decodes the chunked body bytes <buf> (<len>). Sets *used to the bytes
 * consumed (framing, and data when DATA is returned); the caller passes the
 * rest at the next call. Chunk extensions are checked and skipped, trailer
 * fields are checked and dropped (the proxy writes its own framing).
 * Sizes are at most 16 hex digits; size lines and trailers are limited.
 */
enum slb_http_chunk_result slb_http_chunked_decode(struct slb_http_chunked *c, const char *buf,
						   size_t len, size_t *used, size_t *data_off,
						   size_t *data_len);

#endif
