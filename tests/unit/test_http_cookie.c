/*
 * test_http_cookie.c - persistence cookies: tokens (stable, opaque, distinct
 * per group and server, key-dependent), the Cookie header towards the server
 * in both modes (tables of ordinary and hostile headers), Set-Cookie
 * rewriting and insertion, and outputs that do not fit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_cookie.h"

#define T "AbCdEf-_0123" /* a token-shaped value */
#define BASE64URL "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static struct slb_cookie_key key;

static int setup(void **state)
{
	(void)state;
	slb_cookie_key_derive(&key, "instance secret", 15);
	return 0;
}

static struct slb_http_msg msg;

/* A request whose Cookie fields are the '\n'-separated parts of <fields>, into msg. */
static const struct slb_http_msg *cookies(const char *fields)
{
	const char *p = fields;

	memset(&msg, 0, sizeof(msg));
	msg.host = -1;
	for (;;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		msg.headers[msg.nheaders++] = (struct slb_http_header){
			.name = "Cookie", .name_len = 6, .value = p, .value_len = (uint32_t)len,
			.field = SLB_HTTP_F_COOKIE,
		};
		if (!nl)
			return &msg;
		msg.headers[msg.nheaders++] = (struct slb_http_header){
			.name = "X-Other", .name_len = 7, .value = "SLBID=x", .value_len = 7,
		};
		p = nl + 1;
	}
}

static void test_tokens(void **state)
{
	char a[SLB_COOKIE_TOKEN_LEN + 1], b[SLB_COOKIE_TOKEN_LEN + 1];
	struct slb_cookie_key other;
	unsigned i;

	(void)state;
	slb_cookie_token(&key, "web", "web1", a);
	assert_int_equal(strlen(a), SLB_COOKIE_TOKEN_LEN);
	for (i = 0; i < SLB_COOKIE_TOKEN_LEN; i++)
		assert_true(strchr(BASE64URL, a[i]) != NULL);
	assert_null(strstr(a, "web"));
	slb_cookie_token(&key, "web", "web1", b);
	assert_string_equal(a, b); /* every worker, every restart */
	slb_cookie_token(&key, "web", "web2", b);
	assert_string_not_equal(a, b);
	/* "we"+"bweb1" must not collide with "web"+"web1" */
	slb_cookie_token(&key, "we", "bweb1", b);
	assert_string_not_equal(a, b);
	slb_cookie_token(&key, "api", "web1", b);
	assert_string_not_equal(a, b);
	slb_cookie_key_derive(&other, "another secret", 14);
	slb_cookie_token(&other, "web", "web1", b);
	assert_string_not_equal(a, b);
}

static void test_group_names(void **state)
{
	char a[SLB_COOKIE_NAME_MAX], b[SLB_COOKIE_NAME_MAX], token[SLB_COOKIE_TOKEN_LEN + 1];
	char longest[64];
	struct slb_cookie_key other;

	(void)state;
	slb_cookie_group_name(&key, "SLBID", "api", a);
	assert_int_equal(strlen(a), 6 + SLB_COOKIE_TAG_LEN);
	assert_memory_equal(a, "SLBID_", 6);
	assert_int_equal(strspn(a + 6, BASE64URL), SLB_COOKIE_TAG_LEN);
	assert_null(strstr(a, "api"));
	slb_cookie_group_name(&key, "SLBID", "api", b);
	assert_string_equal(a, b);
	slb_cookie_group_name(&key, "SLBID", "web", b);
	assert_string_not_equal(a, b);
	slb_cookie_key_derive(&other, "another secret", 14);
	slb_cookie_group_name(&other, "SLBID", "api", b);
	assert_string_not_equal(a, b);
	/* not a server's token cut short */
	slb_cookie_token(&key, "api", "", token);
	assert_memory_not_equal(a + 6, token, SLB_COOKIE_TAG_LEN);
	/* the longest configured name keeps its tag */
	memset(longest, 'n', 63);
	longest[63] = '\0';
	slb_cookie_group_name(&key, longest, "api", b);
	assert_int_equal(strlen(b), 63 + 1 + SLB_COOKIE_TAG_LEN);
	assert_string_equal(b + 64, a + 6);
}

struct request_case {
	const char *hdr;
	enum slb_cookie_mode mode;
	const char *token; /* expected */
	const char *out; /* expected header towards the server */
};

static void test_request_table(void **state)
{
	static const struct request_case cases[] = {
		/* insert: our cookie found and removed, others kept */
		{ "SLBID=" T, SLB_COOKIE_INSERT, T, "" },
		{ "a=1; SLBID=" T "; b=2", SLB_COOKIE_INSERT, T, "a=1; b=2" },
		{ "a=1;SLBID=" T ";b=2", SLB_COOKIE_INSERT, T, "a=1; b=2" },
		{ "SLBID=\"" T "\"", SLB_COOKIE_INSERT, T, "" },
		{ "a=1", SLB_COOKIE_INSERT, "", "a=1" },
		{ "", SLB_COOKIE_INSERT, "", "" },
		{ " ; ;; ", SLB_COOKIE_INSERT, "", "" },
		{ "slbid=" T, SLB_COOKIE_INSERT, "", "slbid=" T }, /* names are case-sensitive */
		{ "XSLBID=" T, SLB_COOKIE_INSERT, "", "XSLBID=" T },
		{ "SLBIDX=" T, SLB_COOKIE_INSERT, "", "SLBIDX=" T },
		/* insert: unusable values give no token and still never reach the server */
		{ "SLBID=short", SLB_COOKIE_INSERT, "", "" },
		{ "SLBID=" T "X", SLB_COOKIE_INSERT, "", "" },
		{ "SLBID=AbCdEf+/0123", SLB_COOKIE_INSERT, "", "" },
		{ "SLBID=AbCd\x01" "f-_0123", SLB_COOKIE_INSERT, "", "" },
		{ "SLBID=" T "; SLBID=" T, SLB_COOKIE_INSERT, "", "" }, /* ambiguous */
		{ "SLBID=\"" T, SLB_COOKIE_INSERT, "", "" },
		{ "SLBID", SLB_COOKIE_INSERT, "", "SLBID" }, /* no '=': not our cookie */
		{ "SLBID =" T, SLB_COOKIE_INSERT, "", "SLBID =" T },
		/* rewrite: prefix taken off, the server's value restored */
		{ "JSESSIONID=" T "~abc123", SLB_COOKIE_REWRITE, T, "JSESSIONID=abc123" },
		{ "x=y; JSESSIONID=" T "~abc; z", SLB_COOKIE_REWRITE, T, "x=y; JSESSIONID=abc; z" },
		{ "JSESSIONID=\"" T "~a b\"", SLB_COOKIE_REWRITE, "", "JSESSIONID=\"" T "~a b\"" },
		{ "JSESSIONID=\"" T "~ab\"", SLB_COOKIE_REWRITE, T, "JSESSIONID=\"ab\"" },
		{ "JSESSIONID=" T "~", SLB_COOKIE_REWRITE, T, "JSESSIONID=" },
		/* rewrite: no or broken prefix, or ambiguity: the header goes as it came */
		{ "JSESSIONID=abc123", SLB_COOKIE_REWRITE, "", "JSESSIONID=abc123" },
		{ "JSESSIONID=" T "abc", SLB_COOKIE_REWRITE, "", "JSESSIONID=" T "abc" },
		{ "JSESSIONID=AbCdEf+/0123~a", SLB_COOKIE_REWRITE, "", "JSESSIONID=AbCdEf+/0123~a" },
		{ "JSESSIONID=" T "~a,b", SLB_COOKIE_REWRITE, "", "JSESSIONID=" T "~a,b" },
		{ "JSESSIONID=" T "~a\\b", SLB_COOKIE_REWRITE, "", "JSESSIONID=" T "~a\\b" },
		{ "JSESSIONID=" T "~a; JSESSIONID=" T "~b", SLB_COOKIE_REWRITE, "",
		  "JSESSIONID=" T "~a; JSESSIONID=" T "~b" },
		/* insert: a group's cookie, NAME_ and 8 base64url characters, never reaches the server */
		{ "a=1; SLBID_AbCd-_09=" T "; b=2", SLB_COOKIE_INSERT, "", "a=1; b=2" },
		{ "SLBID_AbCd-_09=x\nSLBID=" T, SLB_COOKIE_INSERT, T, "" },
		{ "SLBID_AbCd-_0=x; SLBID_AbCd-_09X=x", SLB_COOKIE_INSERT, "",
		  "SLBID_AbCd-_0=x; SLBID_AbCd-_09X=x" },
		{ "SLBID_AbCd+_09=x; SLBIDXAbCd-_09=x; slbid_AbCd-_09=x", SLB_COOKIE_INSERT, "",
		  "SLBID_AbCd+_09=x; SLBIDXAbCd-_09=x; slbid_AbCd-_09=x" },
		{ "SLBID_AbCd-_09", SLB_COOKIE_INSERT, "", "SLBID_AbCd-_09" },
		{ "JSESSIONID_AbCd-_09=x", SLB_COOKIE_REWRITE, "", "JSESSIONID_AbCd-_09=x" },
		/* several Cookie fields are one list: joined, and ambiguity spans them */
		{ "a=1\nSLBID=" T "\nb=2", SLB_COOKIE_INSERT, T, "a=1; b=2" },
		{ "a=1;\n;b=2", SLB_COOKIE_INSERT, "", "a=1; b=2" },
		{ "SLBID=" T "\nSLBID=" T, SLB_COOKIE_INSERT, "", "" },
		{ "\nSLBID=" T "\n", SLB_COOKIE_INSERT, T, "" },
		{ "x=1\nJSESSIONID=" T "~abc", SLB_COOKIE_REWRITE, T, "x=1; JSESSIONID=abc" },
		{ "JSESSIONID=" T "~a\nJSESSIONID=" T "~b", SLB_COOKIE_REWRITE, "",
		  "JSESSIONID=" T "~a; JSESSIONID=" T "~b" },
	};
	char token[SLB_COOKIE_TOKEN_LEN + 1], out[512];
	unsigned i, failed = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct request_case *c = &cases[i];
		const char *name = c->mode == SLB_COOKIE_INSERT ? "SLBID" : "JSESSIONID";

		const struct slb_http_msg *m = cookies(c->hdr);
		bool found = slb_cookie_request_token(m, name, c->mode, token);
		long n;

		memset(out, 'Z', sizeof(out));
		n = slb_cookie_request_forward(m, name, c->mode, out, sizeof(out));
		if (found != (c->token[0] != '\0') || strcmp(token, c->token) != 0 ||
		    n != (long)strlen(c->out) || memcmp(out, c->out, strlen(c->out)) != 0) {
			print_error("case %u '%s': token '%s' out '%.*s'\n", i, c->hdr, token,
				    n > 0 ? (int)n : 0, out);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void test_request_too_long(void **state)
{
	char token[SLB_COOKIE_TOKEN_LEN + 1], out[16];
	const struct slb_http_msg *m = cookies("a=1; SLBID=" T "; bbbbbbbbbbbbbbbbbbbb=2");

	(void)state;
	assert_int_equal(slb_cookie_request_forward(m, "SLBID", SLB_COOKIE_INSERT, out,
						    sizeof(out)),
			 -1);
	/* exactly full is fine: "a=1" once our cookie is out */
	m = cookies("a=1; SLBID=" T);
	assert_int_equal(slb_cookie_request_forward(m, "SLBID", SLB_COOKIE_INSERT, out, 3), 3);
	assert_memory_equal(out, "a=1", 3);
	assert_true(slb_cookie_request_token(m, "SLBID", SLB_COOKIE_INSERT, token));
	assert_string_equal(token, T);
}

/* No size of its own: fields as long as a head can carry, our pair anywhere. */
static void test_request_large(void **state)
{
	static char fields[3 * 6000 + 64], want[3 * 6000 + 64], out[sizeof(want)];
	char token[SLB_COOKIE_TOKEN_LEN + 1];
	size_t w = 0;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		size_t at = strlen(fields);

		/* "a=aaa...\nb=bbb...\nc=ccc...", then our pair at the end of the last field */
		fields[at] = (char)('a' + i);
		fields[at + 1] = '=';
		memset(fields + at + 2, 'a' + i, 5990);
		fields[at + 5992] = i < 2 ? '\n' : '\0';
		if (w)
			w += (size_t)sprintf(want + w, "; ");
		memcpy(want + w, fields + at, 5992);
		w += 5992;
	}
	strcat(fields, "; SLBID=" T);
	assert_true(slb_cookie_request_token(cookies(fields), "SLBID", SLB_COOKIE_INSERT, token));
	assert_string_equal(token, T);
	assert_int_equal(slb_cookie_request_forward(&msg, "SLBID", SLB_COOKIE_INSERT, out,
						    sizeof(out)),
			 (long)w);
	assert_memory_equal(out, want, w);
}

static void test_set_cookie_rewrite(void **state)
{
	static const struct {
		const char *in, *out; /* out NULL: left alone */
	} cases[] = {
		{ "JSESSIONID=abc; Path=/; HttpOnly", "JSESSIONID=" T "~abc; Path=/; HttpOnly" },
		{ "JSESSIONID=abc", "JSESSIONID=" T "~abc" },
		{ "JSESSIONID=\"abc\"; Secure", "JSESSIONID=\"" T "~abc\"; Secure" },
		{ "JSESSIONID=abc ; Path=/", "JSESSIONID=" T "~abc ; Path=/" },
		{ "OTHER=abc; Path=/", NULL },
		{ "JSESSIONIDX=abc", NULL },
		{ "jsessionid=abc", NULL },
		{ "JSESSIONID=; Max-Age=0", NULL }, /* deletion keeps working */
		{ "JSESSIONID=\"\"", NULL },
		{ "JSESSIONID=a b; Path=/", NULL },
		{ "JSESSIONID=a,b", NULL },
		{ "JSESSIONID=a\x7f", NULL },
		{ "JSESSIONID", NULL },
		{ "", NULL },
	};
	char out[256];
	unsigned i;
	size_t n;
	int r;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = slb_cookie_rewrite_set_cookie(cases[i].in, strlen(cases[i].in), "JSESSIONID",
						  T, out, sizeof(out), &n);
		if (!cases[i].out) {
			if (r != 0)
				fail_msg("rewrote '%s'", cases[i].in);
			continue;
		}
		if (r != 1)
			fail_msg("'%s': %d", cases[i].in, r);
		assert_int_equal(n, strlen(cases[i].out));
		assert_memory_equal(out, cases[i].out, n);
	}
	assert_int_equal(slb_cookie_rewrite_set_cookie("JSESSIONID=abc", 14, "JSESSIONID", T, out,
							26, &n),
			 -1);
	assert_int_equal(slb_cookie_rewrite_set_cookie("JSESSIONID=abc", 14, "JSESSIONID", T, out,
							27, &n),
			 1);
}

/* What rewrite adds, the request side takes away: the server sees its own value. */
static void test_rewrite_round_trip(void **state)
{
	static const char set[] = "sid=Zm9vYmFy.42; Path=/";
	char token[SLB_COOKIE_TOKEN_LEN + 1], rewritten[128], cookie[160], back[128];
	size_t n;

	(void)state;
	slb_cookie_token(&key, "web", "web2", token);
	assert_int_equal(slb_cookie_rewrite_set_cookie(set, strlen(set), "sid", token, rewritten,
						       sizeof(rewritten), &n),
			 1);
	/* the browser sends back name=value only */
	snprintf(cookie, sizeof(cookie), "theme=dark; %.*s",
		 (int)(strchr(rewritten, ';') - rewritten), rewritten);
	assert_true(slb_cookie_request_token(cookies(cookie), "sid", SLB_COOKIE_REWRITE, token));
	assert_int_equal(slb_cookie_request_forward(&msg, "sid", SLB_COOKIE_REWRITE, back,
						    sizeof(back)),
			 (long)strlen("theme=dark; sid=Zm9vYmFy.42"));
	assert_memory_equal(back, "theme=dark; sid=Zm9vYmFy.42", strlen("theme=dark; sid=Zm9vYmFy.42"));
	slb_cookie_token(&key, "web", "web2", rewritten);
	assert_string_equal(token, rewritten);
}

static void test_insert_set_cookie(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(slb_cookie_insert_set_cookie("SLBID", T, 1000, false, out, sizeof(out)),
			 (int)strlen("SLBID=" T "; Path=/; Max-Age=1000; HttpOnly"));
	assert_string_equal(out, "SLBID=" T "; Path=/; Max-Age=1000; HttpOnly");
	slb_cookie_insert_set_cookie("SLBID", T, 0, true, out, sizeof(out));
	assert_string_equal(out, "SLBID=" T "; Path=/; HttpOnly; Secure");
	assert_int_equal(slb_cookie_insert_set_cookie("SLBID", T, 0, true, out, 20), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_group_names),
		cmocka_unit_test(test_request_table),
		cmocka_unit_test(test_request_too_long),
		cmocka_unit_test(test_request_large),
		cmocka_unit_test(test_set_cookie_rewrite),
		cmocka_unit_test(test_rewrite_round_trip),
		cmocka_unit_test(test_insert_set_cookie),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
