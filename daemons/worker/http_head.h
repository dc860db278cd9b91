/*
 * http_head.h - the heads slb writes: a request towards the server and a
 * response towards the client, built from a parsed head.
 *
 * Towards the server: hop-by-hop fields (and those the client's Connection
 * named) are dropped, framing is written anew (one Content-Length, or
 * Transfer-Encoding: chunked), the client's X-Forwarded-* and X-Real-IP are
 * replaced by slb's (X-Forwarded-For extends the client's list), and this
 * node's name is appended to X-SLB-Trace. Because slb writes its own fields
 * after dropping, a Connection token can never remove them.
 */
#ifndef SLB_HTTP_HEAD_H
#define SLB_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

#include "http_buf.h"
#include "http_cookie.h"
#include "http_parser.h"

struct http_forward {
	bool x_forwarded; /* add X-Forwarded-For/-Proto/-Port and X-Real-IP */
	const char *client_ip;
	const char *proto; /* "http" or "https" */
	unsigned port; /* the listener's */
	const char *node; /* [node] name */
	bool upgrade; /* ask the server for the WebSocket upgrade the client asked for */
	/* Cookie persistence: the client's Cookie fields are written anew as one, as
	 * slb_cookie_request_forward() makes it for slb's cookie <cookie>; NULL: as they came */
	const char *cookie;
	enum slb_cookie_mode cookie_mode;
};

/*
 * Changes to a final response on its way to the client (persistence
 * cookies, gzip). <rewrite>, when set, is asked about each Set-Cookie
 * field: it may return a new value into <buf> (its length), 0 to keep it,
 * -1 when it does not fit. <buf> is the head's own room, so a value that
 * does not fit makes a head that does not fit.
 */
struct http_response_edit {
	const char *set_cookie; /* a Set-Cookie field to add, NULL = none */
	size_t set_cookie_len;
	long (*rewrite)(void *arg, const struct slb_http_header *h, char *buf, size_t cap);
	void *arg;
	bool gzip; /* the body is compressed: no Content-Length, a weak ETag, Content-Encoding */
};

/*
 * Appends the request head for <m> to <out>. Returns 0, or -1 when it does
 * not fit in <room> bytes (nothing usable was written then).
 */
int http_head_request(struct http_buf *out, size_t room, const struct slb_http_msg *m,
		      const struct http_forward *fwd);

/*
 * Appends the response head for <m> to <out>: chunked framing when
 * <chunked>, Connection: close unless <keep_alive>, Connection: keep-alive
 * for a <client_minor> 0 client that keeps it, with <edit> applied (NULL:
 * none). Returns 0 or -1 (no room).
 */
int http_head_response(struct http_buf *out, size_t room, const struct slb_http_msg *m,
		       bool chunked, bool keep_alive, unsigned client_minor,
		       const struct http_response_edit *edit);

/*
 * True when request <m> asks for a WebSocket upgrade (RFC 6455 4.1): an
 * HTTP/1.1 GET with Connection: upgrade and Upgrade: websocket, nothing else.
 */
bool http_head_is_websocket(const struct slb_http_msg *m);

/* True when <node> is an element of one of <m>'s X-SLB-Trace fields. */
bool http_head_trace_has(const struct slb_http_msg *m, const char *node);

#endif
