/*
 * fuzz_http_fields.c - libFuzzer target for the header values slb reads
 * beyond the parser: Cookie and Set-Cookie (lib/http_cookie.c, both
 * persistence modes), Accept-Encoding and Content-Type (lib/gzip.c), and
 * Host and path against a fixed rule set (lib/http_rules.c). It aborts when
 * a contract breaks: an output longer than its buffer, a token that is not
 * 12 base64url characters, a rewritten Set-Cookie of the wrong length, a
 * group outside the rule set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gzip.h"
#include "http_cookie.h"
#include "http_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_token(const char *t)
{
	size_t n = strlen(t);

	if (n != 0 && (n != SLB_COOKIE_TOKEN_LEN ||
		       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				 "0123456789-_") != n))
		abort();
}

/* <in> as the Cookie fields of a request: one per line, as many as a head may have. */
static void request_cookies(const char *in, size_t len)
{
	static struct slb_http_msg m;
	char token[SLB_COOKIE_TOKEN_LEN + 1], out[512];
	const char *p = in, *end = in + len;
	long n;

	m.nheaders = 0;
	while (m.nheaders < SLB_HTTP_MAX_HEADERS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;

		m.headers[m.nheaders++] = (struct slb_http_header){
			.value = p, .value_len = (uint32_t)(e - p), .field = SLB_HTTP_F_COOKIE,
		};
		if (!nl)
			break;
		p = nl + 1;
	}
	for (int mode = 0; mode < 2; mode++) {
		if (slb_cookie_request_token(&m, "SLBID", (enum slb_cookie_mode)mode, token) !=
		    (token[0] != '\0'))
			abort();
		check_token(token);
		memset(out, 0, sizeof(out));
		n = slb_cookie_request_forward(&m, "SLBID", (enum slb_cookie_mode)mode, out,
					       sizeof(out) - 1);
		/* the input's pairs, "; "-joined: at most one byte more per pair */
		if (n < -1 || n > (long)sizeof(out) - 1 || n > (long)(2 * len + 2))
			abort();
	}
}

static void cookies(const char *in, size_t len)
{
	char out[512];
	size_t n = 0;

	request_cookies(in, len);
	switch (slb_cookie_rewrite_set_cookie(in, len, "SLBID", "AbCdEf-_0123", out, sizeof(out),
					      &n)) {
	case 1:
		if (n != len + SLB_COOKIE_TOKEN_LEN + 1 || n > sizeof(out))
			abort();
		break;
	case 0:
	case -1:
		break;
	default:
		abort();
	}
}

static void rules(const char *in, size_t len)
{
	static struct slb_listener_conf l;
	static struct slb_http_rules r;
	static int ready;
	const char *slash = memchr(in, '/', len);
	size_t hlen = slash ? (size_t)(slash - in) : len;
	int g;

	if (!ready) {
		static const char *const hosts[] = { "a.example.com", "*.example.com", "", "*.b.c" };
		static const char *const paths[] = { "", "/v1/", "/", "/x" };

		l.group = 9;
		for (unsigned i = 0; i < 4; i++) {
			strcpy(l.rules[i].host, hosts[i]);
			strcpy(l.rules[i].path, paths[i]);
			l.rules[i].group = (int)i;
		}
		l.nrules = 4;
		slb_http_rules_compile(&r, &l);
		ready = 1;
	}
	g = slb_http_rules_match(&r, in, hlen, slash ? slash : "", slash ? len - hlen : 0, NULL);
	if (g != 9 && (g < 0 || g > 3))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;

	cookies(in, size);
	(void)slb_gzip_accepted(in, size);
	(void)slb_gzip_compressible_type(in, size);
	rules(in, size);
	return 0;
}
