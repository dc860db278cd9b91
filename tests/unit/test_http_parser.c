/*
 * test_http_parser.c - the HTTP/1.1 parser against tables of valid and
 * malicious requests, responses and chunked bodies. Every input is run
 * twice: whole, and one byte at a time through the incremental scanner and
 * decoder, which must reach the same verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_parser.h"

/* Table rows for rejected inputs name only the verdict. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* Input strings may contain NUL: their length is taken from the literal. */
#define S(lit) lit, sizeof(lit) - 1

struct request_case {
	const char *in;
	size_t len;
	int status; /* 0 = accepted */
	enum slb_http_framing framing;
	uint64_t content_length;
	bool keep_alive;
};

static const struct request_case requests[] = {
	/* valid */
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET /x?y=1 HTTP/1.1\r\nHost: a:8080\r\nConnection: close\r\n\r\n"), 0,
	  SLB_HTTP_BODY_NONE, 0, false },
	{ S("GET / HTTP/1.0\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, false },
	{ S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"), 0, SLB_HTTP_BODY_LENGTH, 5,
	  true },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 0,
	  SLB_HTTP_BODY_LENGTH, 5, true },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), 0, SLB_HTTP_BODY_LENGTH,
	  5, true },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0,
	  true },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 0,
	  SLB_HTTP_BODY_CHUNKED, 0, true },
	{ S("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked \r\n\r\n"), 0,
	  SLB_HTTP_BODY_CHUNKED, 0, true },
	{ S("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET HTTP://A:8080?q HTTP/1.1\r\nHost: a:8080\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET http://a/x HTTP/1.0\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, false },
	{ S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Obs: caf\xc3\xa9\r\n\r\n"), 0,
	  SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	/* smuggling: framing */
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"),
	  400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\n Transfer-Encoding: chunked\r\n\r\n"), 400 },
	/* obs-fold, names, control characters, line ends */
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX\"A: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-\0A: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\nHost: a\n\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\n"), 400 },
	{ S("GET /\0 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	/* request line */
	{ S("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1 \r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / http/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.x\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /\r\n\r\n"), 400 },
	{ S("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET x HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505 },
	{ S("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"), 501 },
	/* an absolute-form target and Host must name the same authority */
	{ S("GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n"), 400 },
	{ S("GET http://a:80/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET http://`/ HTTP/1.0\r\n\r\n"), 400 }, /* found by fuzz_http_head */
	/* Host */
	{ S("GET / HTTP/1.1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400 },
	{ S("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	/* a fragment is no part of a request-target (RFC 9112 3.2): routing and the server disagree on it */
	{ S("GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET http://a/x#y HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET http://a#@b/ HTTP/1.0\r\n\r\n"), 400 },
	/* Host = uri-host [ ":" port ] (RFC 9110 7.2), else 400 (RFC 9112 3.2) */
	{ S("GET / HTTP/1.1\r\nHost: a:b\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: [::1]:8x\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a]\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a[b]\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a%4\r\n\r\n"), 400 },
	{ S("GET http://a:b/ HTTP/1.1\r\nHost: a:b\r\n\r\n"), 400 },
	{ S("GET http://[::1/ HTTP/1.0\r\n\r\n"), 400 },
	/* desync probes (RFC 9112 2-7, RFC 9110 5), answered as they were before any change */
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x0b c\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x0c\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\x7f\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\x0b: chunked\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length\t: 5\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 0\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\x0b\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 05\r\n\r\n"), 0,
	  SLB_HTTP_BODY_LENGTH, 5, true },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;ext=1\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"), 501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n"),
	  501 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \x0b" "chunked\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\tchunked\t\r\n\r\n"), 0,
	  SLB_HTTP_BODY_CHUNKED, 0, true },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n\r\n"), 0,
	  SLB_HTTP_BODY_NONE, 0, true },
	{ S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nhost: a\r\nHOST: a\r\n\r\n"), 400 },
	{ S(" GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET /a\\..\\b HTTP/1.1\r\nHost: a\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/01.1\r\nHost: a\r\n\r\n"), 400 },
	{ S("GET / HTTP/1.1\r\nHost: a\r\n\r\r\n"), -1 }, /* no end of head yet */
	{ S("GET a:80 HTTP/1.1\r\nHost: a:80\r\n\r\n"), 400 }, /* authority-form is CONNECT's */
	/* a Content-Length of commas only: no length at all (found by fuzz_http_head) */
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ,\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: , ,\r\n\r\n"), 400 },
	{ S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: ,\r\n\r\n"), 400 },
	/* Host forms that stay valid */
	{ S("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/1.1\r\nHost: [v1.x:y]\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/1.1\r\nHost: xn--bcher-kva.example.:443\r\n\r\n"), 0, SLB_HTTP_BODY_NONE,
	  0, true },
	{ S("GET / HTTP/1.1\r\nHost: a%41_b~c!$&'()*+,;=\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
	{ S("GET http://[::1]:80/x HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0,
	  true },
	{ S("GET /a?b=/c?d HTTP/1.1\r\nHost: a\r\n\r\n"), 0, SLB_HTTP_BODY_NONE, 0, true },
};

static const struct slb_http_limits small = { .max_line = 32, .max_head = 64, .max_headers = 3 };

/* Scans <in> whole or a byte at a time; returns the head length or -status. */
static long scan(const char *in, size_t len, const struct slb_http_limits *lim, bool is_request,
		 bool bytewise)
{
	struct slb_http_scan sc = { 0 };
	long r = 0;

	if (!bytewise)
		return slb_http_scan_head(&sc, in, len, lim, is_request);
	for (size_t n = 1; n <= len && r == 0; n++)
		r = slb_http_scan_head(&sc, in, n, lim, is_request);
	return r;
}

static int check_request(const char *in, size_t len, const struct slb_http_limits *lim,
			 bool bytewise, struct slb_http_msg *msg)
{
	long r = scan(in, len, lim, true, bytewise);

	if (r < 0)
		return (int)-r;
	if (r == 0)
		return -1; /* incomplete */
	return slb_http_parse_request(in, (size_t)r, lim, msg);
}

static void test_request_table(void **state)
{
	static struct slb_http_msg msg;

	(void)state;
	for (size_t i = 0; i < sizeof(requests) / sizeof(requests[0]); i++) {
		const struct request_case *c = &requests[i];

		for (int bytewise = 0; bytewise < 2; bytewise++) {
			int rc = check_request(c->in, c->len, &slb_http_default_limits, bytewise,
					       &msg);

			if (rc != c->status)
				fail_msg("case %zu (%s): got %d, want %d", i,
					 bytewise ? "bytewise" : "whole", rc, c->status);
			if (rc != 0)
				continue;
			assert_int_equal(msg.framing, c->framing);
			assert_int_equal(msg.content_length, c->content_length);
			assert_int_equal(msg.keep_alive, c->keep_alive);
		}
	}
}

static void test_request_fields(void **state)
{
	static const char in[] = "GET /a/b?c HTTP/1.1\r\n"
				 "Host: www.example.com\r\n"
				 "User-Agent:  curl/8 \t\r\n"
				 "Connection: keep-alive, X-Secret, X-Forwarded-For, Host, Content-Length\r\n"
				 "X-Secret: 1\r\n"
				 "X-Forwarded-For: 10.0.0.1\r\n"
				 "Keep-Alive: timeout=5\r\n"
				 "Expect: 100-Continue\r\n"
				 "Upgrade: websocket\r\n"
				 "\r\n";
	static struct slb_http_msg msg;
	long r;

	(void)state;
	r = scan(in, sizeof(in) - 1, &slb_http_default_limits, true, false);
	assert_int_equal(r, sizeof(in) - 1);
	assert_int_equal(slb_http_parse_request(in, (size_t)r, &slb_http_default_limits, &msg), 0);
	assert_int_equal(msg.method_id, SLB_HTTP_M_GET);
	assert_int_equal(msg.target_len, 6);
	assert_memory_equal(msg.target, "/a/b?c", 6);
	assert_int_equal(msg.minor, 1);
	assert_int_equal(msg.nheaders, 8);
	assert_int_equal(msg.host, 0);
	assert_int_equal(msg.headers[0].value_len, 15);
	/* value trimmed on both sides */
	assert_int_equal(msg.headers[1].value_len, 6);
	assert_memory_equal(msg.headers[1].value, "curl/8", 6);
	assert_false(msg.headers[1].hop);
	assert_true(msg.headers[2].hop); /* Connection */
	assert_true(msg.headers[3].hop); /* named by Connection */
	assert_false(msg.headers[4].hop); /* X-Forwarded-For: never stripped by Connection */
	assert_int_equal(msg.headers[4].field, SLB_HTTP_F_X_FORWARDED_FOR);
	assert_true(msg.headers[5].hop); /* Keep-Alive */
	assert_false(msg.headers[0].hop); /* Host: never stripped */
	assert_true(msg.expect_continue);
	assert_false(msg.upgrade); /* Upgrade without the Connection token */
	assert_true(msg.headers[7].hop);
	assert_true(msg.keep_alive);
}

/* Field names are matched in any case; a name that only shares a length or a first letter is another field. */
static void test_field_names(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\n"
				 "hOST: a\r\n"
				 "cookie: a=1\r\n"
				 "SET-COOKIE: b=2\r\n"
				 "Cookies: c\r\n"
				 "Xookie: d\r\n"
				 "conNECTION: close\r\n"
				 "Content-Lengthy: 1\r\n"
				 "\r\n";
	static const enum slb_http_field want[] = {
		SLB_HTTP_F_HOST,       SLB_HTTP_F_COOKIE, SLB_HTTP_F_SET_COOKIE, SLB_HTTP_F_OTHER,
		SLB_HTTP_F_OTHER,      SLB_HTTP_F_CONNECTION, SLB_HTTP_F_OTHER,
	};
	static struct slb_http_msg msg;

	(void)state;
	assert_int_equal(slb_http_parse_request(in, sizeof(in) - 1, &slb_http_default_limits, &msg), 0);
	assert_int_equal(msg.nheaders, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < msg.nheaders; i++)
		assert_int_equal(msg.headers[i].field, want[i]);
	assert_true(msg.headers[5].hop);
	assert_false(msg.headers[1].hop);
}

/* Every name the parser knows, as the RFCs spell it and in lower case, is that field and no other. */
static void test_known_field_names(void **state)
{
	static const struct {
		const char *name;
		enum slb_http_field field;
	} known[] = {
		{ "Host", SLB_HTTP_F_HOST },
		{ "Content-Length", SLB_HTTP_F_CONTENT_LENGTH },
		{ "Transfer-Encoding", SLB_HTTP_F_TRANSFER_ENCODING },
		{ "Connection", SLB_HTTP_F_CONNECTION },
		{ "Keep-Alive", SLB_HTTP_F_KEEP_ALIVE },
		{ "Proxy-Connection", SLB_HTTP_F_PROXY_CONNECTION },
		{ "TE", SLB_HTTP_F_TE },
		{ "Upgrade", SLB_HTTP_F_UPGRADE },
		{ "Expect", SLB_HTTP_F_EXPECT },
		{ "X-Forwarded-For", SLB_HTTP_F_X_FORWARDED_FOR },
		{ "X-Forwarded-Proto", SLB_HTTP_F_X_FORWARDED_PROTO },
		{ "X-Forwarded-Port", SLB_HTTP_F_X_FORWARDED_PORT },
		{ "X-Real-IP", SLB_HTTP_F_X_REAL_IP },
		{ "X-SLB-Trace", SLB_HTTP_F_X_SLB_TRACE },
		{ "Cookie", SLB_HTTP_F_COOKIE },
		{ "Set-Cookie", SLB_HTTP_F_SET_COOKIE },
	};
	static struct slb_http_msg msg;
	char in[256];

	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		for (int lower = 0; lower < 2; lower++) {
			/* a value every field takes */
			const char *value = known[i].field == SLB_HTTP_F_TRANSFER_ENCODING ? "chunked" : "1";
			int n = snprintf(in, sizeof(in), "HTTP/1.1 200 OK\r\n%s: %s\r\n\r\n", known[i].name,
					 value);

			for (char *c = in + 17; lower && *c != ':'; c++)
				*c = (char)(*c | 0x20);
			assert_int_equal(slb_http_parse_response(in, (size_t)n, &slb_http_default_limits,
								 SLB_HTTP_M_GET, &msg),
					 0);
			if (msg.headers[0].field != known[i].field)
				fail_msg("%s: field %d, want %d", in + 17, msg.headers[0].field, known[i].field);
		}
	}
}

static bool field_value_byte(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/*
 * Every byte value at every position of values up to three words long:
 * values are checked eight bytes at a time, so each place in a word and
 * the tail after the last whole word must judge a byte alike.
 */
static void test_field_value_bytes(void **state)
{
	static const char line[] = "GET / HTTP/1.1\r\nHost: a\r\nX-V: ";
	static const char status[] = "HTTP/1.1 200 ";
	static struct slb_http_msg msg;
	char in[128];

	(void)state;
	for (size_t len = 1; len <= 24; len++) {
		for (size_t at = 0; at < len; at++) {
			for (unsigned c = 0; c < 256; c++) {
				size_t n = sizeof(line) - 1, lead = 0, vlen = len;
				bool ok = field_value_byte((unsigned char)c);
				int rc;

				memcpy(in, line, n);
				memset(in + n, 'v', len);
				in[n + at] = (char)c;
				memcpy(in + n + len, "\r\n\r\n", 4);
				rc = slb_http_parse_request(in, n + len + 4, &slb_http_default_limits, &msg);
				if (rc != (ok ? 0 : 400))
					fail_msg("field value of %zu, byte 0x%02x at %zu: got %d", len, c, at, rc);
				if (!ok)
					continue;
				if (c == ' ' || c == '\t') {
					lead = at == 0;
					vlen -= (at == 0 || at == len - 1);
				}
				assert_int_equal(msg.headers[1].value_len, vlen);
				assert_ptr_equal(msg.headers[1].value, in + n + lead);

				/* the same bytes as a reason phrase */
				n = sizeof(status) - 1;
				memcpy(in, status, n);
				memset(in + n, 'r', len);
				in[n + at] = (char)c;
				memcpy(in + n + len, "\r\n\r\n", 4);
				assert_int_equal(slb_http_parse_response(in, n + len + 4, &slb_http_default_limits,
									 SLB_HTTP_M_GET, &msg), 0);
			}
		}
	}
}

/*
 * A field that reads as a known one with '_' for '-' is never forwarded: a
 * CGI-style server maps both to one variable (HTTP_X_FORWARDED_FOR), and the
 * client's would stand for slb's (Puma's CVE-2024-45614).
 */
static void test_underscore_lookalikes(void **state)
{
	static const char in[] = "POST / HTTP/1.1\r\n"
				 "Host: a\r\n"
				 "X_Forwarded_For: 6.6.6.6\r\n"
				 "x-real_ip: 6.6.6.6\r\n"
				 "Content_Length: 5\r\n"
				 "Transfer_Encoding: chunked\r\n"
				 "X_Forwarded_Fox: 1\r\n"
				 "X_SLB_Trace: lb1\r\n"
				 "Set_Cookie: a=b\r\n"
				 "\r\n";
	static const bool dropped[] = { false, true, true, true, true, false, true, true };
	static struct slb_http_msg msg;

	(void)state;
	assert_int_equal(slb_http_parse_request(in, sizeof(in) - 1, &slb_http_default_limits, &msg), 0);
	assert_int_equal(msg.nheaders, sizeof(dropped) / sizeof(dropped[0]));
	assert_int_equal(msg.framing, SLB_HTTP_BODY_NONE);
	for (unsigned i = 0; i < msg.nheaders; i++) {
		if (msg.headers[i].hop != dropped[i])
			fail_msg("field %u: hop %d, want %d", i, msg.headers[i].hop, dropped[i]);
		assert_int_equal(msg.headers[i].field, i == 0 ? SLB_HTTP_F_HOST : SLB_HTTP_F_OTHER);
	}
}

static void test_request_limits(void **state)
{
	static struct slb_http_msg msg;

	(void)state;
	/* request line over 32 bytes: 414, even before its end arrives */
	assert_int_equal(check_request(S("GET /0123456789012345678901234567890 HTTP/1.1\r\n"), &small,
				       false, &msg),
			 414);
	assert_int_equal(check_request(S("GET /01234567890123456789012345678901234567890"), &small,
				       true, &msg),
			 414);
	/* head over 64 bytes: 431, also before its end */
	assert_int_equal(check_request(S("GET / HTTP/1.1\r\nHost: a\r\nX-A: 0123456789012345678901234"
					 "567890123456789\r\n\r\n"),
				       &small, false, &msg),
			 431);
	assert_int_equal(check_request(S("GET / HTTP/1.1\r\nHost: a\r\nX-A: 01234567890123456789012345"
					 "678901234567890123"),
				       &small, true, &msg),
			 431);
	/* more than 3 fields: 431 */
	assert_int_equal(check_request(S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"),
				       &small, false, &msg),
			 431);
	assert_int_equal(check_request(S("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n"), &small,
				       false, &msg),
			 0);
	/* incomplete */
	assert_int_equal(check_request(S("GET / HTTP/1.1\r\nHost: a\r\n"), &small, false, &msg), -1);
}

static void test_pipelined_heads(void **state)
{
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n";
	struct slb_http_scan sc = { 0 };
	long r;

	(void)state;
	r = slb_http_scan_head(&sc, in, sizeof(in) - 1, &slb_http_default_limits, true);
	assert_int_equal(r, 28);
	memset(&sc, 0, sizeof(sc));
	r = slb_http_scan_head(&sc, in + 28, sizeof(in) - 1 - 28, &slb_http_default_limits, true);
	assert_int_equal(r, 28);
}

struct response_case {
	const char *in;
	size_t len;
	enum slb_http_method method;
	int status; /* 0 = accepted */
	enum slb_http_framing framing;
	bool keep_alive;
	unsigned code;
};

static const struct response_case responses[] = {
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), SLB_HTTP_M_GET, 0, SLB_HTTP_BODY_LENGTH,
	  true, 200 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n"), SLB_HTTP_M_HEAD, 0, SLB_HTTP_BODY_NONE,
	  true, 200 },
	{ S("HTTP/1.1 204 No Content\r\n\r\n"), SLB_HTTP_M_GET, 0, SLB_HTTP_BODY_NONE, true, 204 },
	{ S("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_NONE, true, 304 },
	{ S("HTTP/1.1 100 Continue\r\n\r\n"), SLB_HTTP_M_POST, 0, SLB_HTTP_BODY_NONE, true, 100 },
	{ S("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"), SLB_HTTP_M_GET, 0, SLB_HTTP_BODY_NONE,
	  true, 103 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_CHUNKED, true, 200 },
	{ S("HTTP/1.1 200 OK\r\n\r\n"), SLB_HTTP_M_GET, 0, SLB_HTTP_BODY_CLOSE, false, 200 },
	{ S("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n"), SLB_HTTP_M_GET, 0, SLB_HTTP_BODY_LENGTH,
	  false, 200 },
	{ S("HTTP/1.0 200 OK\r\n\r\n"), SLB_HTTP_M_GET, 0, SLB_HTTP_BODY_CLOSE, false, 200 },
	{ S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"), SLB_HTTP_M_GET, 0, SLB_HTTP_BODY_NONE, true,
	  200 },
	{ S("HTTP/1.1 404 \r\nContent-Length: 0\r\nConnection: close\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_NONE, false, 404 },
	/* desync probes, answered as they were before any change */
	{ S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_NONE, true, 204 },
	{ S("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_NONE, true, 304 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), SLB_HTTP_M_HEAD, 0,
	  SLB_HTTP_BODY_NONE, true, 200 },
	{ S("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"), SLB_HTTP_M_POST, 0,
	  SLB_HTTP_BODY_NONE, true, 100 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_LENGTH, true, 200 },
	{ S("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_LENGTH, false, 200 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
	  SLB_HTTP_M_HEAD, 502 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length : 3\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nX-A: a\x0b" "b\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\rX: y\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nSet-Cookie: a=b\rSet-Cookie: c=d\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	/* Host is a request's field: in a response it is only a field */
	{ S("HTTP/1.1 200 OK\r\nHost: a\r\nHost: b c\r\nContent-Length: 0\r\n\r\n"), SLB_HTTP_M_GET, 0,
	  SLB_HTTP_BODY_NONE, true, 200 },
	{ S("HTTP/1.1 240\r\nContent-Length: ,\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	/* broken: 502 */
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 20 OK\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 600 OK\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200OK\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/2 200 OK\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nX-A: b\0\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\r\nX-A b\r\n\r\n"), SLB_HTTP_M_GET, 502 },
	{ S("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), SLB_HTTP_M_GET, 400 /* scanner: bare LF */ },
	{ S("SSH-2.0-OpenSSH\r\n\r\n"), SLB_HTTP_M_GET, 502 },
};

static void test_response_table(void **state)
{
	static struct slb_http_msg msg;

	(void)state;
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
		const struct response_case *c = &responses[i];

		for (int bytewise = 0; bytewise < 2; bytewise++) {
			long r = scan(c->in, c->len, &slb_http_default_limits, false, bytewise);
			int rc = r < 0 ? (int)-r
				       : slb_http_parse_response(c->in, (size_t)r,
								 &slb_http_default_limits, c->method,
								 &msg);

			assert_true(r != 0);
			if (rc != c->status)
				fail_msg("case %zu: got %d, want %d", i, rc, c->status);
			if (rc != 0)
				continue;
			assert_int_equal(msg.framing, c->framing);
			assert_int_equal(msg.keep_alive, c->keep_alive);
			assert_int_equal(msg.status, c->code);
		}
	}
}

struct chunk_case {
	const char *in;
	size_t len;
	bool ok;
	const char *data; /* decoded body when ok */
	size_t rest; /* bytes after the body, left unused */
};

static const struct chunk_case chunks[] = {
	{ S("0\r\n\r\n"), true, "", 0 },
	{ S("5\r\nhello\r\n0\r\n\r\n"), true, "hello", 0 },
	{ S("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\nGET"), true, "hello world", 3 },
	{ S("A\r\n0123456789\r\n0\r\n\r\n"), true, "0123456789", 0 },
	{ S("a;name=value;x=\"q d\"\r\n0123456789\r\n0\r\n\r\n"), true, "0123456789", 0 },
	{ S("3 ;ext\r\nabc\r\n0\r\n\r\n"), true, "abc", 0 },
	{ S("3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B: two\r\n\r\n"), true, "abc", 0 },
	{ S("0003\r\nabc\r\n0\r\n\r\n"), true, "abc", 0 },
	/* desync probes, decoded as they were before any change */
	{ S("0A\r\n0123456789\r\n0\r\n\r\n"), true, "0123456789", 0 },
	{ S("5\t;a=b\r\nhello\r\n000\r\n\r\n"), true, "hello", 0 },
	{ S("0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\nhello"), true, "", 5 },
	{ S("5;\nhello\r\n0\r\n\r\n"), false }, /* bare LF ends an extension (TERM.EXT) */
	{ S("5;a=\"b\nc\"\r\nhello\r\n0\r\n\r\n"), false },
	{ S("5\r\nhelloXX0\r\n\r\n"), false }, /* no CRLF after the data (SPILL.TERM) */
	{ S("5\r\nhello\r\r\n0\r\n\r\n"), false },
	{ S("5\r\nhello\n\r\n0\r\n\r\n"), false },
	{ S("5\r\nhello\r\n0\n\r\n"), false },
	{ S("5\r\nhello\r\n0\r\nX: 1\r\n\n"), false },
	{ S("5;a\x7f\r\nhello\r\n0\r\n\r\n"), false },
	{ S("00000000000000005\r\nhello\r\n0\r\n\r\n"), false }, /* 17 digits, zeros or not */
	{ S("5 5\r\nhello\r\n0\r\n\r\n"), false },
	{ S("\t5\r\nhello\r\n0\r\n\r\n"), false },
	{ S("5\r\nhello\r\n0\r\nX : 1\r\n\r\n"), false },
	{ S("5\r\nhello\r\n0\r\n: 1\r\n\r\n"), false },
	/* malformed */
	{ S("\r\n"), false },
	{ S("-1\r\n"), false },
	{ S("+3\r\nabc\r\n0\r\n\r\n"), false },
	{ S("0x3\r\nabc\r\n0\r\n\r\n"), false },
	{ S("3 \r\nabc\r\n0\r\n\r\n"), false },
	{ S("3\nabc\r\n0\r\n\r\n"), false },
	{ S("3\r\nabcd\r\n0\r\n\r\n"), false },
	{ S("3\r\nabc\n0\r\n\r\n"), false },
	{ S("3\r\nabc0\r\n\r\n"), false },
	{ S("10000000000000000\r\n"), false }, /* 17 digits: overflow */
	{ S("3;a\0b\r\nabc\r\n0\r\n\r\n"), false },
	{ S("3;a\rb\r\nabc\r\n0\r\n\r\n"), false },
	{ S("0\r\nX-A: 1\r\n continued\r\n\r\n"), false },
	{ S("0\r\nX A: 1\r\n\r\n"), false },
	{ S("0\r\nX-A: 1\n\r\n"), false },
	{ S("0\r\n\n"), false },
};

/* Decodes <c> with reads of <step> bytes; returns 1 done, 0 error. */
static int decode(const struct chunk_case *c, size_t step, char *out, size_t *out_len, size_t *rest)
{
	struct slb_http_chunked ch = { 0 };
	size_t pos = 0, avail = 0;

	*out_len = 0;
	for (;;) {
		size_t used, off, n;
		enum slb_http_chunk_result r;

		if (avail < c->len) {
			avail += step;
			if (avail > c->len)
				avail = c->len;
		}
		r = slb_http_chunked_decode(&ch, c->in + pos, avail - pos, &used, &off, &n);
		if (r == SLB_HTTP_CHUNK_ERROR)
			return 0;
		if (r == SLB_HTTP_CHUNK_DATA) {
			memcpy(out + *out_len, c->in + pos + off, n);
			*out_len += n;
		}
		pos += used;
		if (r == SLB_HTTP_CHUNK_DONE) {
			*rest = c->len - pos;
			return 1;
		}
		if (r == SLB_HTTP_CHUNK_MORE && avail == c->len)
			return 0; /* truncated: counts as malformed here */
	}
}

static void test_chunked_table(void **state)
{
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		const struct chunk_case *c = &chunks[i];

		for (size_t step = 1; step <= c->len; step += c->len - 1 > 0 ? c->len - 1 : 1) {
			size_t out_len, rest = 0;
			int done = decode(c, step, out, &out_len, &rest);

			if (done != c->ok)
				fail_msg("case %zu step %zu: got %d, want %d", i, step, done, c->ok);
			if (!done)
				continue;
			assert_int_equal(out_len, strlen(c->data));
			assert_memory_equal(out, c->data, out_len);
			assert_int_equal(rest, c->rest);
		}
	}
}

static void test_chunked_big_size(void **state)
{
	struct slb_http_chunked ch = { 0 };
	size_t used, off, n;

	(void)state;
	/* 16 digits is the most: a size that large is accepted, data follows */
	assert_int_equal(slb_http_chunked_decode(&ch, S("ffffffffffffffff\r\nab"), &used, &off, &n),
			 SLB_HTTP_CHUNK_DATA);
	assert_int_equal(off, 18);
	assert_int_equal(n, 2);
	assert_int_equal(ch.remaining, UINT64_MAX - 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_table),  cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_field_names),    cmocka_unit_test(test_underscore_lookalikes),    cmocka_unit_test(test_field_value_bytes),
		cmocka_unit_test(test_known_field_names),
		cmocka_unit_test(test_request_limits), cmocka_unit_test(test_pipelined_heads),
		cmocka_unit_test(test_response_table), cmocka_unit_test(test_chunked_table),
		cmocka_unit_test(test_chunked_big_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
