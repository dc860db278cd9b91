/*
 * http_body.c - body bytes between buffers, framed by slb.
 */
#include "http_body.h"

#include <stdio.h>

/* Framing bytes a chunk adds around its data: hex size, two CRLFs. */
#define CHUNK_OVERHEAD 32

size_t http_body_move(struct http_buf *in, struct http_buf *out, uint64_t limit)
{
	size_t n = http_buf_len(in), room;

	if (!n || http_buf_ensure(out) == -1)
		return 0;
	room = http_buf_room(out, true);
	if (n > room)
		n = room;
	if (n > limit)
		n = (size_t)limit;
	http_buf_put(out, http_buf_head(in), n);
	http_buf_consume(in, n);
	return n;
}

static void put_chunk_header(struct http_buf *out, size_t n)
{
	char hex[24];
	int len = snprintf(hex, sizeof(hex), "%zx\r\n", n);

	http_buf_put(out, hex, (size_t)len);
}

int http_body_chunks(struct slb_http_chunked *ch, struct http_buf *in, struct http_buf *out,
		     bool rechunk, bool *done)
{
	int progress = 0;

	if (http_buf_ensure(out) == -1)
		return 0;
	while (http_buf_len(in)) {
		size_t room = http_buf_room(out, true), len = http_buf_len(in), used, off, n;
		enum slb_http_chunk_result r;

		if (room < 2 * CHUNK_OVERHEAD)
			break;
		/* No more input than the output can take whatever it turns out to be. */
		if (len > room - CHUNK_OVERHEAD)
			len = room - CHUNK_OVERHEAD;
		r = slb_http_chunked_decode(ch, http_buf_head(in), len, &used, &off, &n);
		if (r == SLB_HTTP_CHUNK_ERROR)
			return -1;
		if (r == SLB_HTTP_CHUNK_DATA) {
			if (rechunk)
				put_chunk_header(out, n);
			http_buf_put(out, http_buf_head(in) + off, n);
			if (rechunk)
				http_buf_put(out, "\r\n", 2);
		}
		if (r == SLB_HTTP_CHUNK_DONE) {
			if (rechunk)
				http_buf_put(out, "0\r\n\r\n", 5);
			*done = true;
		}
		http_buf_consume(in, used);
		progress |= used > 0;
		if (r == SLB_HTTP_CHUNK_DONE || used == 0)
			break;
	}
	return progress;
}

size_t http_body_chunked_len(const char *p, size_t len)
{
	struct slb_http_chunked ch = { 0 };
	size_t pos = 0;

	while (pos < len) {
		size_t used, off, n;
		enum slb_http_chunk_result r = slb_http_chunked_decode(&ch, p + pos, len - pos, &used,
								       &off, &n);

		pos += used;
		if (r == SLB_HTTP_CHUNK_DONE)
			return pos;
		if (r != SLB_HTTP_CHUNK_DATA || used == 0)
			break;
	}
	return 0;
}

size_t http_body_chunk(struct http_buf *in, struct http_buf *out)
{
	size_t n = http_buf_len(in), room;

	if (!n || http_buf_ensure(out) == -1)
		return 0;
	room = http_buf_room(out, true);
	if (room <= 2 * CHUNK_OVERHEAD)
		return 0;
	if (n > room - CHUNK_OVERHEAD)
		n = room - CHUNK_OVERHEAD;
	put_chunk_header(out, n);
	http_buf_put(out, http_buf_head(in), n);
	http_buf_put(out, "\r\n", 2);
	http_buf_consume(in, n);
	return n;
}

int http_body_last_chunk(struct http_buf *out)
{
	if (http_buf_ensure(out) == -1 || http_buf_room(out, true) < 5)
		return -1;
	http_buf_put(out, "0\r\n\r\n", 5);
	return 0;
}
