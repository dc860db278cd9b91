/*
 * test_http_head.c - the heads slb writes (daemons/worker/http_head.c):
 * exact output for a table of requests, and the property that every head
 * written towards a server parses again, strictly, to the same method,
 * target and framing, with none of what had to go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_head.h"

static char block[HTTP_BUF_SIZE];
static struct slb_http_msg in_msg, out_msg;

static const struct http_forward fwd = {
	.x_forwarded = true,
	.client_ip = "198.18.0.2",
	.proto = "http",
	.port = 80,
	.node = "lb1",
};

/* Forwards request <req> with <f>; returns the head written (NUL-terminated in <block>). */
static const char *forward(const char *req, const struct http_forward *f)
{
	struct slb_http_scan scan = { 0 };
	struct http_buf out = { .data = block };
	long r = slb_http_scan_head(&scan, req, strlen(req), &slb_http_default_limits, true);

	assert_true(r > 0);
	assert_int_equal(slb_http_parse_request(req, (size_t)r, &slb_http_default_limits, &in_msg),
			 0);
	assert_int_equal(http_head_request(&out, sizeof(block) - 1, &in_msg, f), 0);
	block[out.end] = '\0';
	return block;
}

struct head_case {
	const char *in;
	const char *out;
};

static const struct head_case cases[] = {
	{ "GET /a?b HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n",
	  "GET /a?b HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\nX-Forwarded-For: 198.18.0.2\r\n"
	  "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nX-Real-IP: 198.18.0.2\r\n"
	  "X-SLB-Trace: lb1\r\n\r\n" },
	/* hop-by-hop and Connection-named fields go; slb's own cannot be named away */
	{ "GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, X-A, X-Forwarded-For\r\nX-A: 1\r\n"
	  "Keep-Alive: 5\r\nTE: trailers\r\nUpgrade: h2c\r\nProxy-Connection: x\r\n"
	  "X-Forwarded-For: 203.0.113.7\r\nX-Real-IP: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n"
	  "X-SLB-Trace: edge\r\n\r\n",
	  "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.7, 198.18.0.2\r\n"
	  "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nX-Real-IP: 198.18.0.2\r\n"
	  "X-SLB-Trace: edge, lb1\r\n\r\n" },
	/* framing written anew: one Content-Length, or chunked */
	{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n",
	  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nX-Forwarded-For: 198.18.0.2\r\n"
	  "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nX-Real-IP: 198.18.0.2\r\n"
	  "X-SLB-Trace: lb1\r\n\r\n" },
	{ "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n",
	  "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 198.18.0.2\r\n"
	  "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nX-Real-IP: 198.18.0.2\r\n"
	  "X-SLB-Trace: lb1\r\n\r\n" },
	{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999999\r\n\r\n",
	  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999999999\r\n"
	  "X-Forwarded-For: 198.18.0.2\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n"
	  "X-Real-IP: 198.18.0.2\r\nX-SLB-Trace: lb1\r\n\r\n" },
	{ "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	  "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nX-Forwarded-For: 198.18.0.2\r\n"
	  "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nX-Real-IP: 198.18.0.2\r\n"
	  "X-SLB-Trace: lb1\r\n\r\n" },
	/* HTTP/1.0 without Host: the target's authority, or an empty one; whitespace normalised */
	{ "GET http://www.example.com:81/x HTTP/1.0\r\n\r\n",
	  "GET http://www.example.com:81/x HTTP/1.1\r\nHost: www.example.com:81\r\n"
	  "X-Forwarded-For: 198.18.0.2\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\n"
	  "X-Real-IP: 198.18.0.2\r\nX-SLB-Trace: lb1\r\n\r\n" },
	{ "GET / HTTP/1.0\r\nAccept:   */*  \r\n\r\n",
	  "GET / HTTP/1.1\r\nHost: \r\nAccept: */*\r\nX-Forwarded-For: 198.18.0.2\r\n"
	  "X-Forwarded-Proto: http\r\nX-Forwarded-Port: 80\r\nX-Real-IP: 198.18.0.2\r\n"
	  "X-SLB-Trace: lb1\r\n\r\n" },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = forward(cases[i].in, &fwd);

		if (strcmp(got, cases[i].out) != 0)
			fail_msg("case %zu:\n--- got\n%s--- want\n%s", i, got, cases[i].out);
	}
}

static void test_without_x_forwarded(void **state)
{
	struct http_forward plain = fwd;

	(void)state;
	plain.x_forwarded = false;
	assert_string_equal(forward("GET / HTTP/1.1\r\nHost: x\r\nX-Real-IP: 6.6.6.6\r\n\r\n", &plain),
			    "GET / HTTP/1.1\r\nHost: x\r\nX-Real-IP: 6.6.6.6\r\nX-SLB-Trace: lb1\r\n\r\n");
}

static void test_websocket(void **state)
{
	struct http_forward up = fwd;
	const char *ws = "GET /chat HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
			 "Sec-WebSocket-Key: k\r\n\r\n";

	(void)state;
	up.upgrade = true;
	assert_non_null(strstr(forward(ws, &up), "Connection: upgrade\r\nUpgrade: websocket\r\n\r\n"));
	assert_true(http_head_is_websocket(&in_msg));
	assert_null(strstr(forward(ws, &fwd), "Upgrade"));
	forward("GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n", &fwd);
	assert_false(http_head_is_websocket(&in_msg));
	forward("POST / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", &fwd);
	assert_false(http_head_is_websocket(&in_msg));
	forward("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", &fwd);
	assert_false(http_head_is_websocket(&in_msg));
}

static void test_trace(void **state)
{
	(void)state;
	forward("GET / HTTP/1.1\r\nHost: x\r\nX-SLB-Trace: a, LB1 ,b\r\n\r\n", &fwd);
	assert_true(http_head_trace_has(&in_msg, "lb1"));
	forward("GET / HTTP/1.1\r\nHost: x\r\nX-SLB-Trace: a, lb10\r\nX-SLB-Trace: lb\r\n\r\n", &fwd);
	assert_false(http_head_trace_has(&in_msg, "lb1"));
}

/* Under cookie persistence the Cookie fields become one, written in place, without slb's pair. */
static void test_cookie(void **state)
{
	struct http_forward ins = fwd;
	struct http_buf small = { .data = block };
	static char req[20000];
	const char *out;
	int n;

	(void)state;
	ins.x_forwarded = false;
	ins.cookie = "SLBID";
	assert_string_equal(forward("GET / HTTP/1.1\r\nCookie: a=1\r\nHost: x\r\n"
				    "Cookie: SLBID=AbCdEf-_0123; b=2\r\n\r\n",
				    &ins),
			    "GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; b=2\r\nX-SLB-Trace: lb1\r\n\r\n");
	assert_string_equal(forward("GET / HTTP/1.1\r\nHost: x\r\nCookie: SLBID=x\r\n\r\n", &ins),
			    "GET / HTTP/1.1\r\nHost: x\r\nX-SLB-Trace: lb1\r\n\r\n");
	/* a field of 15000 bytes */
	n = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: x\r\nCookie: SLBID=x; a=");
	memset(req + n, 'a', 15000);
	strcpy(req + n + 15000, "\r\n\r\n");
	out = forward(req, &ins);
	assert_int_equal(strlen(out), strlen(req) - strlen("SLBID=x; ") + strlen("X-SLB-Trace: lb1\r\n"));
	assert_non_null(strstr(out, "\r\nCookie: a=aaaa"));
	/* no room: the head does not fit */
	assert_int_equal(http_head_request(&small, 15000, &in_msg, &ins), -1);
}

/* Every forwarded head parses again to the same request, without hop-by-hop fields. */
static void test_round_trip(void **state)
{
	static const char *const reqs[] = {
		"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close, X-Y\r\nX-Y: 1\r\n\r\n",
		"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n",
		"PUT /p HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\nKeep-Alive: 1\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http://a/b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		/* the longest length accepted (found by fuzz_http_head: it once overflowed) */
		"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		const char *out = forward(reqs[i], &fwd);
		struct slb_http_scan scan = { 0 };
		long r = slb_http_scan_head(&scan, out, strlen(out), &slb_http_default_limits, true);

		assert_int_equal(r, (long)strlen(out));
		assert_int_equal(slb_http_parse_request(out, (size_t)r, &slb_http_default_limits,
							&out_msg),
				 0);
		assert_int_equal(out_msg.method_id, in_msg.method_id);
		assert_int_equal(out_msg.target_len, in_msg.target_len);
		assert_memory_equal(out_msg.target, in_msg.target, in_msg.target_len);
		assert_int_equal(out_msg.framing, in_msg.framing);
		assert_int_equal(out_msg.content_length, in_msg.content_length);
		assert_int_equal(out_msg.expect_continue, in_msg.expect_continue);
		assert_true(out_msg.keep_alive);
		for (unsigned j = 0; j < out_msg.nheaders; j++)
			assert_false(out_msg.headers[j].hop &&
				     out_msg.headers[j].field != SLB_HTTP_F_TRANSFER_ENCODING);
	}
}

struct response_case {
	const char *in;
	enum slb_http_method method; /* of the request answered */
	bool chunked, keep_alive;
	unsigned client_minor;
	const char *out;
};

static const struct response_case responses[] = {
	/* RFC 9110 8.6: no Content-Length on 1xx or 204, whatever the server wrote */
	{ "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\nX-A: 1\r\n\r\n", SLB_HTTP_M_GET, false,
	  true, 1, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n" },
	{ "HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n", SLB_HTTP_M_POST, false, true, 1,
	  "HTTP/1.1 100 Continue\r\n\r\n" },
	{ "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nContent-Length: 7\r\n\r\n", SLB_HTTP_M_GET,
	  false, true, 1, "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" },
	/* one Content-Length, as slb framed the body: repeats and lists folded */
	{ "HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\nX-A: 1\r\nContent-Length: 003\r\n\r\n",
	  SLB_HTTP_M_GET, false, true, 1, "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length: 3\r\n\r\n" },
	/* HEAD and 304: the length of the body not sent, kept */
	{ "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", SLB_HTTP_M_GET, false, true, 1,
	  "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n" },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", SLB_HTTP_M_HEAD, false, true, 1,
	  "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" },
	/* chunked anew; hop-by-hop and Connection-named fields go */
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close, X-A\r\nX-A: 1\r\n"
	  "X-B: 2\r\nKeep-Alive: 5\r\n\r\n",
	  SLB_HTTP_M_GET, true, true, 1,
	  "HTTP/1.1 200 OK\r\nX-B: 2\r\nTransfer-Encoding: chunked\r\n\r\n" },
	{ "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", SLB_HTTP_M_GET, false, true, 0,
	  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\n" },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", SLB_HTTP_M_GET, false, false, 0,
	  "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" },
};

static void test_responses(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
		const struct response_case *c = &responses[i];
		struct slb_http_scan scan = { 0 };
		struct http_buf out = { .data = block };
		long r = slb_http_scan_head(&scan, c->in, strlen(c->in), &slb_http_default_limits,
					    false);

		assert_true(r > 0);
		assert_int_equal(slb_http_parse_response(c->in, (size_t)r, &slb_http_default_limits,
							 c->method, &in_msg),
				 0);
		assert_int_equal(http_head_response(&out, sizeof(block) - 1, &in_msg, c->chunked,
						    c->keep_alive, c->client_minor, NULL),
				 0);
		block[out.end] = '\0';
		if (strcmp(block, c->out) != 0)
			fail_msg("case %zu:\n--- got\n%s--- want\n%s", i, block, c->out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),     cmocka_unit_test(test_without_x_forwarded),
		cmocka_unit_test(test_websocket), cmocka_unit_test(test_trace),
		cmocka_unit_test(test_cookie),    cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_responses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
