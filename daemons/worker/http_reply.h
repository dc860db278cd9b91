/*
 * http_reply.h - what slb itself answers (error responses) and what it
 * records of each request (the access log line).
 */
#ifndef SLB_HTTP_REPLY_H
#define SLB_HTTP_REPLY_H

#include "http_conn.h"

/*
 * Appends the error response <status> (400, 408, 414, 431, 463, 501, 502,
 * 503, 504, 505) to <out>: a one-line text body naming the status, and
 * Connection: close. The buffer must be empty (it then always fits).
 */
void http_reply_error(struct http_buf *out, unsigned status);

/* Appends a 301 to <location> (Connection: close, no body) to the empty <out>. */
void http_reply_redirect(struct http_buf *out, const char *location);

/* Copies what the access log needs of request <m> (in <buf>) into <c>. */
void http_log_request(struct http_conn *c, const struct slb_http_msg *m);

/*
 * Writes <c>'s transaction to the log at info level, naming <server> ("-"
 * when none answered); <pending> response bytes are still to be written.
 * One line, and nothing prepared when info is filtered out.
 */
void http_log_transaction(const struct http_conn *c, const char *server, size_t pending,
			  uint64_t now_ms);

#endif
