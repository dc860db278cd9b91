/*
 * fuzz_http_parser.c - libFuzzer target for lib/http_parser.c: each input is
 * a request head, a response head and a chunked body. The scanner must give
 * the same verdict fed whole and in two pieces; an accepted head's slices
 * must lie inside it; the chunked decoder must decode the same bytes fed
 * whole and a byte at a time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct slb_http_msg msg;
static char decoded_whole[1 << 16], decoded_bytes[1 << 16];

static void check_slices(const char *buf, size_t head_len)
{
	for (unsigned i = 0; i < msg.nheaders; i++) {
		const struct slb_http_header *h = &msg.headers[i];

		if (h->name < buf || h->name + h->name_len > buf + head_len ||
		    h->value < buf || h->value + h->value_len > buf + head_len || h->name_len == 0)
			abort();
	}
	if (msg.framing == SLB_HTTP_BODY_LENGTH && msg.content_length == 0)
		abort();
	if (msg.authority && (msg.authority < buf || msg.authority + msg.authority_len > buf + head_len ||
			      msg.authority_len == 0 || memchr(msg.authority, '@', msg.authority_len)))
		abort();
}

static long scan_split(const char *buf, size_t size, bool is_request)
{
	struct slb_http_scan whole = { 0 }, split = { 0 };
	long a = slb_http_scan_head(&whole, buf, size, &slb_http_default_limits, is_request);
	long b = slb_http_scan_head(&split, buf, size / 2, &slb_http_default_limits, is_request);

	if (b == 0)
		b = slb_http_scan_head(&split, buf, size, &slb_http_default_limits, is_request);
	if (a != b)
		abort();
	return a;
}

static int chunked(const char *buf, size_t size, size_t step, char *out, size_t *out_len)
{
	struct slb_http_chunked c = { 0 };
	size_t pos = 0;

	*out_len = 0;
	while (pos < size) {
		size_t avail = size - pos < step ? size - pos : step;
		size_t used, off, n;
		enum slb_http_chunk_result r = slb_http_chunked_decode(&c, buf + pos, avail, &used, &off, &n);

		if (used > avail)
			abort();
		if (r == SLB_HTTP_CHUNK_ERROR)
			return -1;
		if (r == SLB_HTTP_CHUNK_DATA) {
			if (off + n > avail || n == 0)
				abort();
			if (*out_len + n <= sizeof(decoded_whole))
				memcpy(out + *out_len, buf + pos + off, n);
			*out_len += n;
		}
		pos += used;
		if (r == SLB_HTTP_CHUNK_DONE)
			return (int)(size - pos);
		if (r == SLB_HTTP_CHUNK_MORE && used != avail)
			abort();
	}
	return -2; /* incomplete */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	size_t len_whole, len_bytes;
	long r;
	int a, b;

	r = scan_split(buf, size, true);
	if (r > 0 && slb_http_parse_request(buf, (size_t)r, &slb_http_default_limits, &msg) == 0) {
		check_slices(buf, (size_t)r);
		if (msg.framing == SLB_HTTP_BODY_CLOSE || (msg.minor == 0 && msg.framing == SLB_HTTP_BODY_CHUNKED))
			abort();
	}
	r = scan_split(buf, size, false);
	if (r > 0) {
		if (slb_http_parse_response(buf, (size_t)r, &slb_http_default_limits, SLB_HTTP_M_GET, &msg) == 0)
			check_slices(buf, (size_t)r);
		if (slb_http_parse_response(buf, (size_t)r, &slb_http_default_limits, SLB_HTTP_M_HEAD, &msg) == 0 &&
		    msg.framing != SLB_HTTP_BODY_NONE)
			abort();
	}
	a = chunked(buf, size, size ? size : 1, decoded_whole, &len_whole);
	b = chunked(buf, size, 1, decoded_bytes, &len_bytes);
	if (a != b || (a >= 0 && (len_whole != len_bytes ||
				  memcmp(decoded_whole, decoded_bytes,
					 len_whole < sizeof(decoded_whole) ? len_whole : sizeof(decoded_whole)))))
		abort();
	return 0;
}
