/*
 * fuzz_http_head.c - libFuzzer target for the heads slb writes
 * (daemons/worker/http_head.c): any request head the parser accepts is
 * written towards a server, and what is written must parse again, strictly,
 * to the same method, target, framing and length, with no field the
 * client's Connection named; the same for a response head towards a client.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char out_block[HTTP_BUF_SIZE];
static struct slb_http_msg in, again;

static long reparse(const char *buf, size_t len, bool is_request)
{
	struct slb_http_scan scan = { 0 };
	long r = slb_http_scan_head(&scan, buf, len, &slb_http_default_limits, is_request);

	if (r != (long)len)
		abort(); /* a written head is exactly one complete head */
	return r;
}

static void check_request(const char *buf, size_t head_len)
{
	static const struct http_forward fwd = {
		.x_forwarded = true, .client_ip = "198.18.0.2", .proto = "http", .port = 80,
		.node = "lb1",
	};
	struct http_buf out = { .data = out_block };

	/* slb adds up to 7 fields: near the parser's limit a head could not parse back */
	if (slb_http_parse_request(buf, head_len, &slb_http_default_limits, &in) != 0 ||
	    in.nheaders > SLB_HTTP_MAX_HEADERS - 8)
		return;
	if (http_head_request(&out, sizeof(out_block), &in, &fwd) == -1)
		return;
	reparse(out.data, out.end, true);
	if (slb_http_parse_request(out.data, out.end, &slb_http_default_limits, &again) != 0 ||
	    again.method_id != in.method_id || again.target_len != in.target_len ||
	    memcmp(again.target, in.target, in.target_len) != 0 || again.framing != in.framing ||
	    again.content_length != in.content_length || !http_head_trace_has(&again, "lb1"))
		abort();
	for (unsigned i = 0; i < again.nheaders; i++)
		if (again.headers[i].hop && again.headers[i].field != SLB_HTTP_F_TRANSFER_ENCODING)
			abort();
}

static void check_response(const char *buf, size_t head_len)
{
	struct http_buf out = { .data = out_block };

	if (slb_http_parse_response(buf, head_len, &slb_http_default_limits, SLB_HTTP_M_GET, &in) != 0 ||
	    in.nheaders > SLB_HTTP_MAX_HEADERS - 2)
		return;
	/* as the proxy does: chunked again only what came chunked or until close */
	if (http_head_response(&out, sizeof(out_block), &in,
			       in.framing == SLB_HTTP_BODY_CHUNKED || in.framing == SLB_HTTP_BODY_CLOSE,
			       true, 1, NULL) == -1)
		return;
	reparse(out.data, out.end, false);
	if (slb_http_parse_response(out.data, out.end, &slb_http_default_limits, SLB_HTTP_M_GET,
				    &again) != 0 ||
	    again.status != in.status)
		abort();
	if (in.status >= 200 && in.status != 204 && in.status != 304 &&
	    (in.framing == SLB_HTTP_BODY_LENGTH) != (again.framing == SLB_HTTP_BODY_LENGTH))
		abort();
	if (in.framing == SLB_HTTP_BODY_LENGTH && again.content_length != in.content_length)
		abort();
	/* RFC 9110 8.6: no Content-Length on 1xx and 204, one at most elsewhere */
	for (unsigned i = 0, lengths = 0; i < again.nheaders; i++)
		if (again.headers[i].field == SLB_HTTP_F_CONTENT_LENGTH &&
		    (in.status < 200 || in.status == 204 || ++lengths > 1))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct slb_http_scan scan = { 0 };
	long r = slb_http_scan_head(&scan, buf, size, &slb_http_default_limits, true);

	if (r > 0)
		check_request(buf, (size_t)r);
	memset(&scan, 0, sizeof(scan));
	r = slb_http_scan_head(&scan, buf, size, &slb_http_default_limits, false);
	if (r > 0)
		check_response(buf, (size_t)r);
	return 0;
}
