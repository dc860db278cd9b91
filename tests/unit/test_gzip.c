/*
 * test_gzip.c - gzip for responses: Accept-Encoding and Content-Type parsed
 * strictly (tables of valid and hostile values), the eligibility rules (never
 * a second compression, no body statuses, HEAD, small bodies), and the
 * stream: a round trip through zlib's inflate with tiny and large buffers,
 * a sync flush that lets the client decode what arrived so far, and a second
 * response on the same connection reusing the memory of the first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gzip.h"

static void test_accept_encoding(void **state)
{
	static const struct {
		const char *v;
		bool ok;
	} cases[] = {
		{ "gzip", true }, { "GZip", true }, { "x-gzip", true }, { "deflate, gzip", true },
		{ "gzip, deflate, br", true }, { "gzip;q=0.5", true }, { "gzip ; q=1.000", true },
		{ "*", true }, { "br, *;q=0.1", true }, { ",, gzip ,", true },
		{ "gzip;level=9", true }, { "gzip;q=0.001", true },
		{ "", false }, { "identity", false }, { "br, deflate", false },
		{ "gzip;q=0", false }, { "gzip;q=0.000", false }, { "*;q=0", false },
		{ "gzip;q=0, *", false }, { "*, gzip;q=0", false }, { "gzipx", false },
		{ "x-gzip;q=0, deflate", false },
		/* hostile or broken: not compressed */
		{ "gzip;q=2", false }, { "gzip;q=1.5", false }, { "gzip;q=0.0001", false },
		{ "gzip;q=", false }, { "gzip;q", false }, { "gzip;;", false }, { "gzip q=1", false },
		{ "gzip;q=0.5x", false }, { "gz\x01ip", false }, { "gzip;q=-1", false },
		{ "gzip\r\n", false }, { ";q=1", false }, { "gzip;q=.5", false },
	};
	unsigned i, failed = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (slb_gzip_accepted(cases[i].v, strlen(cases[i].v)) != cases[i].ok) {
			print_error("Accept-Encoding '%s': expected %d\n", cases[i].v, cases[i].ok);
			failed++;
		}
	/* a NUL inside the value ends nothing: the length rules */
	assert_false(slb_gzip_accepted("gzip\0", 5));
	assert_int_equal(failed, 0);
}

static void test_content_type(void **state)
{
	static const struct {
		const char *v;
		bool ok;
	} cases[] = {
		{ "text/html", true }, { "TEXT/HTML; charset=utf-8", true }, { "text/plain", true },
		{ " text/css", true }, { "application/json", true }, { "application/javascript", true },
		{ "application/xml;charset=utf-8", true }, { "image/svg+xml", true },
		{ "application/json ; x=y", true },
		{ "text/", false }, { "text", false }, { "image/png", false }, { "", false },
		{ "application/octet-stream", false }, { "application/jsonx", false },
		{ "application/zip", false }, { "video/mp4", false }, { "textual/html", false },
	};
	unsigned i, failed = 0;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (slb_gzip_compressible_type(cases[i].v, strlen(cases[i].v)) != cases[i].ok) {
			print_error("Content-Type '%s': expected %d\n", cases[i].v, cases[i].ok);
			failed++;
		}
	assert_int_equal(failed, 0);
}

static void test_eligibility(void **state)
{
	const struct slb_gzip_facts base = {
		.status = 200, .accept_encoding = "gzip", .accept_encoding_len = 4,
		.content_type = "text/html", .content_type_len = 9, .content_length = -1,
	};
	struct slb_gzip_facts f;
	unsigned s;

	(void)state;
	assert_true(slb_gzip_eligible(&base));
	f = base, f.content_length = SLB_GZIP_MIN_LENGTH;
	assert_true(slb_gzip_eligible(&f));
	f = base, f.status = 404;
	assert_true(slb_gzip_eligible(&f));
	/* never twice: any Content-Encoding, even identity, leaves the body alone */
	f = base, f.content_encoding = true;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.content_range = true;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.no_transform = true;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.head = true;
	assert_false(slb_gzip_eligible(&f));
	for (s = 100; s < 200; s++) {
		f = base, f.status = s;
		assert_false(slb_gzip_eligible(&f));
	}
	f = base, f.status = 204;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.status = 206;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.status = 304;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.content_length = SLB_GZIP_MIN_LENGTH - 1;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.content_length = 0;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.accept_encoding = NULL, f.accept_encoding_len = 0;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.content_type = NULL, f.content_type_len = 0;
	assert_false(slb_gzip_eligible(&f));
	f = base, f.content_type = "image/jpeg", f.content_type_len = 10;
	assert_false(slb_gzip_eligible(&f));
}

/* Inflates <in> (gzip) into <out>; returns the length, or -1. */
static long gunzip(const unsigned char *in, size_t len, unsigned char *out, size_t cap,
		   int want_end)
{
	z_stream zs;
	int rc;

	memset(&zs, 0, sizeof(zs));
	assert_int_equal(inflateInit2(&zs, 15 + 16), Z_OK);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	rc = inflate(&zs, Z_SYNC_FLUSH);
	inflateEnd(&zs);
	if (want_end ? rc != Z_STREAM_END : (rc != Z_OK && rc != Z_BUF_ERROR))
		return -1;
	return (long)(cap - zs.avail_out);
}

/*
 * Compresses <body> in input pieces of <in_step> bytes into output pieces of
 * at most <out_step> bytes, appended to <gz_out>; returns the compressed size.
 */
static size_t stream(struct slb_gzip *gz, const unsigned char *body, size_t len, size_t in_step,
		     size_t out_step, unsigned char *gz_out, size_t gz_cap)
{
	size_t off = 0, n = 0, used, made;
	enum slb_gzip_result r;
	unsigned calls = 0;

	assert_int_equal(slb_gzip_start(gz), 0);
	for (;;) {
		size_t piece = len - off < in_step ? len - off : in_step;
		enum slb_gzip_flush fl = off + piece == len ? SLB_GZIP_FINISH : SLB_GZIP_NO_FLUSH;

		assert_true(n + out_step <= gz_cap);
		r = slb_gzip_compress(gz, body + off, piece, &used, gz_out + n, out_step, &made, fl);
		assert_int_not_equal(r, SLB_GZIP_ERROR);
		off += used;
		n += made;
		if (r == SLB_GZIP_END)
			break;
		assert_true(++calls < 1000000);
	}
	assert_int_equal(off, len);
	return n;
}

static void test_round_trip(void **state)
{
	enum { LEN = 300000 };
	unsigned char *body = malloc(LEN), *z = malloc(LEN + 1024), *back = malloc(LEN);
	struct slb_gzip gz;
	void *first_state;
	size_t n, i;

	(void)state;
	assert_non_null(body);
	for (i = 0; i < LEN; i++) /* some text, some noise */
		body[i] = i % 97 < 60 ? (unsigned char)"the quick brown fox "[i % 20]
				      : (unsigned char)((i * 2654435761u) >> 24);
	slb_gzip_init(&gz);
	n = stream(&gz, body, LEN, 16384, 4096, z, LEN + 1024);
	assert_true(n < LEN);
	assert_int_equal(gunzip(z, n, back, LEN, 1), LEN);
	assert_memory_equal(back, body, LEN);
	first_state = gz.zs.state;

	/* the same connection's next response: new stream, same memory */
	n = stream(&gz, body, 1000, 7, 3, z, LEN + 1024);
	assert_ptr_equal(gz.zs.state, first_state);
	assert_int_equal(gunzip(z, n, back, LEN, 1), 1000);
	assert_memory_equal(back, body, 1000);

	/* an empty body is still a valid gzip stream */
	n = stream(&gz, body, 0, 1, 64, z, LEN + 1024);
	assert_int_equal(gunzip(z, n, back, LEN, 1), 0);

	slb_gzip_free(&gz);
	slb_gzip_free(&gz);
	free(body);
	free(z);
	free(back);
}

/* A sync flush hands over everything so far: the client can decode it before the end. */
static void test_sync_flush(void **state)
{
	static const char part[] = "<html><body>first part of a slow page</body>";
	unsigned char z[4096], back[4096];
	struct slb_gzip gz;
	size_t used, made;

	(void)state;
	slb_gzip_init(&gz);
	assert_int_equal(slb_gzip_start(&gz), 0);
	assert_int_equal(slb_gzip_compress(&gz, part, sizeof(part) - 1, &used, z, sizeof(z), &made,
					   SLB_GZIP_SYNC),
			 SLB_GZIP_OK);
	assert_int_equal(used, sizeof(part) - 1);
	assert_int_equal(gunzip(z, made, back, sizeof(back), 0), (long)sizeof(part) - 1);
	assert_memory_equal(back, part, sizeof(part) - 1);
	/* a call before start, or after free, is an error, not a crash */
	slb_gzip_free(&gz);
	assert_int_equal(slb_gzip_compress(&gz, part, 1, &used, z, sizeof(z), &made,
					   SLB_GZIP_FINISH),
			 SLB_GZIP_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_eligibility),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_sync_flush),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
