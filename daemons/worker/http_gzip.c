/*
 * http_gzip.c - compressed response bodies for HTTP listeners (see
 * http_gzip.h). The compressor writes straight into the client's output
 * buffer, between a chunk header of fixed width and its CRLF, so no copy is
 * made; body bytes the compressor has not taken yet stay in the server's
 * buffer (c->gz_run counts them) until the next call.
 */
#include "http_gzip.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gzip.h"
#include "http_conn.h"

#define CHUNK_HEAD 10 /* "%08x\r\n": a fixed width, written once the size is known */
#define CHUNK_ROOM (CHUNK_HEAD + 2 + 5) /* head, CRLF, and room for the last chunk */

bool http_gzip_request_accepts(const struct slb_http_msg *req)
{
	char joined[512];
	size_t n = 0;

	if (req->method_id == SLB_HTTP_M_HEAD)
		return false;
	for (unsigned i = 0; i < req->nheaders; i++) {
		const struct slb_http_header *h = &req->headers[i];

		if (!slb_http_name_is(h, "accept-encoding"))
			continue;
		if (n + 2 + h->value_len > sizeof(joined))
			return false;
		if (n)
			memcpy(joined + n, ", ", 2), n += 2;
		memcpy(joined + n, h->value, h->value_len);
		n += h->value_len;
	}
	return n && slb_gzip_accepted(joined, n);
}

/* The value of the first field <name> of <m>, or NULL. */
static const struct slb_http_header *field(const struct slb_http_msg *m, const char *name)
{
	for (unsigned i = 0; i < m->nheaders; i++)
		if (slb_http_name_is(&m->headers[i], name))
			return &m->headers[i];
	return NULL;
}

/* Cache directives are case-insensitive (RFC 9111 5.2): "No-Transform" counts. */
static bool has_no_transform(const struct slb_http_msg *m)
{
	for (unsigned i = 0; i < m->nheaders; i++) {
		const struct slb_http_header *h = &m->headers[i];

		if (!slb_http_name_is(h, "cache-control"))
			continue;
		for (size_t at = 0; at + 12 <= h->value_len; at++)
			if (strncasecmp(h->value + at, "no-transform", 12) == 0)
				return true;
	}
	return false;
}

bool http_gzip_wanted(const struct http_conn *c, const struct slb_http_msg *m)
{
	const struct slb_http_header *ct;
	struct slb_gzip_facts f;

	if (!c->accept_gzip) /* gzip off, or a client that does not take it: look no further */
		return false;
	ct = field(m, "content-type");
	f = (struct slb_gzip_facts){
		.head = false, /* HEAD requests never get here: see http_gzip_request_accepts */
		.status = m->status,
		.accept_encoding = "gzip",
		.accept_encoding_len = 4,
		.content_type = ct ? ct->value : NULL,
		.content_type_len = ct ? ct->value_len : 0,
		.content_encoding = field(m, "content-encoding") != NULL,
		.content_range = field(m, "content-range") != NULL,
		.no_transform = has_no_transform(m),
		.content_length = m->framing == SLB_HTTP_BODY_LENGTH ? (int64_t)m->content_length
				  : m->framing == SLB_HTTP_BODY_NONE  ? 0
								      : -1,
	};

	return slb_gzip_eligible(&f);
}

/*
 * Finds the next run of body bytes at the head of <in> (c->gz_run), per the
 * server's framing; sets c->gz_last once the body has no more. Returns -1
 * on broken chunked framing.
 */
static int next_run(struct http_conn *c, struct http_buf *in, bool in_eof)
{
	size_t len = http_buf_len(in), used, off, n;
	enum slb_http_chunk_result r;

	switch (c->resp_framing) {
	case SLB_HTTP_BODY_LENGTH:
		n = len < c->resp_left ? len : (size_t)c->resp_left;
		c->gz_run = (uint32_t)n;
		c->resp_left -= n;
		c->gz_last = c->resp_left == 0;
		return 0;
	case SLB_HTTP_BODY_CHUNKED:
		while (len) {
			r = slb_http_chunked_decode(&c->resp_chunk, http_buf_head(in), len, &used, &off,
						    &n);
			if (r == SLB_HTTP_CHUNK_ERROR)
				return -1;
			if (r == SLB_HTTP_CHUNK_DATA) {
				http_buf_consume(in, off); /* framing; the data stays for deflate */
				c->gz_run = (uint32_t)n;
				return 0;
			}
			http_buf_consume(in, used);
			if (r == SLB_HTTP_CHUNK_DONE) {
				c->gz_last = true;
				return 0;
			}
			len = http_buf_len(in);
		}
		return 0;
	default: /* until the server closes */
		c->gz_run = (uint32_t)len;
		c->gz_last = in_eof;
		return 0;
	}
}

/* Writes a chunk's fixed-width size in front of its <n> bytes, or takes the space back. */
static void close_chunk(struct http_buf *out, char *head, size_t n)
{
	char hex[24];

	if (n == 0) {
		out->end -= CHUNK_HEAD;
		return;
	}
	snprintf(hex, sizeof(hex), "%08x\r\n", (unsigned)n); /* n < HTTP_BUF_SIZE */
	memcpy(head, hex, CHUNK_HEAD);
	http_buf_put(out, "\r\n", 2);
}

int http_gzip_body(struct http_conn *c, struct http_buf *in, bool in_eof, bool *done)
{
	struct http_buf *out = &c->out;
	bool chunked = c->minor >= 1;
	int progress = 0;

	if (http_buf_ensure(out) == -1)
		return 0;
	for (;;) {
		size_t room = http_buf_room(out, true), used = 0, made = 0;
		enum slb_gzip_flush flush;
		enum slb_gzip_result r;
		char *head = NULL;

		if (!c->gz_run && !c->gz_last && next_run(c, in, in_eof) == -1)
			return -1;
		if (!c->gz_run && !c->gz_last && (http_buf_len(in) || c->gz_flushed))
			return progress; /* framing bytes only so far, or already flushed: wait */
		if (room < CHUNK_ROOM + 64)
			return progress;
		flush = c->gz_last && c->gz_run == 0 ? SLB_GZIP_FINISH
			: c->gz_run == http_buf_len(in) ? SLB_GZIP_SYNC
							 : SLB_GZIP_NO_FLUSH;
		if (chunked) {
			head = out->data + out->end;
			out->end += CHUNK_HEAD;
		}
		r = slb_gzip_compress(&c->gz, http_buf_head(in), c->gz_run, &used,
				      out->data + out->end, room - CHUNK_ROOM, &made, flush);
		if (r == SLB_GZIP_ERROR)
			return -1;
		out->end += (uint32_t)made;
		if (chunked)
			close_chunk(out, head, made);
		http_buf_consume(in, used);
		c->gz_run -= (uint32_t)used;
		c->gz_flushed = flush == SLB_GZIP_SYNC && r == SLB_GZIP_OK;
		progress |= used > 0 || made > 0;
		if (r == SLB_GZIP_END) {
			if (chunked)
				http_buf_put(out, "0\r\n\r\n", 5);
			*done = true;
			return 1;
		}
		if (r == SLB_GZIP_OK && !c->gz_run && !c->gz_last && !http_buf_len(in))
			return progress; /* all taken, output flushed: wait for the server */
	}
}
