/*
 * test_proxy_header.c - lib/proxy_header.c: the exact bytes of PROXY
 * protocol v1 and v2 headers for IPv4 and IPv6, the longest v1 line,
 * IPv4-mapped addresses sent as IPv4, and mixed families sent as unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "addr.h"
#include "proxy_header.h"

static const uint8_t signature[12] = { 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
				       0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a };

static struct slb_sockaddr addr(const char *text)
{
	struct slb_sockaddr a;

	if (slb_sockaddr_parse(text, &a) != 0)
		fail_msg("'%s' was rejected", text);
	return a;
}

/* Encodes the header from <client> to <vip> into <out>; returns its length. */
static size_t encode(enum slb_proxy_protocol version, const char *client, const char *vip,
		     uint8_t out[SLB_PROXY_HEADER_MAX])
{
	struct slb_sockaddr c = addr(client), v = addr(vip);

	memset(out, 0xee, SLB_PROXY_HEADER_MAX);
	return slb_proxy_header_encode(version, &c.u.sa, &v.u.sa, out);
}

static void assert_v1(const char *client, const char *vip, const char *expected)
{
	uint8_t out[SLB_PROXY_HEADER_MAX];
	size_t n = encode(SLB_PROXY_PROTOCOL_V1, client, vip, out);

	assert_int_equal(n, strlen(expected));
	assert_memory_equal(out, expected, n);
}

static void test_v1_ipv4(void **state)
{
	(void)state;
	assert_v1("198.18.0.10:54321", "198.18.0.100:80",
		  "PROXY TCP4 198.18.0.10 198.18.0.100 54321 80\r\n");
	assert_v1("1.2.3.4:1", "255.255.255.255:65535",
		  "PROXY TCP4 1.2.3.4 255.255.255.255 1 65535\r\n");
}

static void test_v1_ipv6(void **state)
{
	(void)state;
	assert_v1("[2001:db8::1]:40000", "[2001:db8::100]:443",
		  "PROXY TCP6 2001:db8::1 2001:db8::100 40000 443\r\n");
}

/* The longest line fits the buffer: two full-length IPv6 texts, 5-digit ports. */
static void test_v1_longest(void **state)
{
	static const char *longest = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";

	(void)state;
	assert_v1(longest, longest,
		  "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n");
}

static void test_v2_ipv4(void **state)
{
	static const uint8_t expected[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
		0x21, /* version 2, PROXY */
		0x11, /* AF_INET, STREAM */
		0x00, 0x0c, /* 12 bytes follow */
		198, 18, 0, 10, /* source address */
		198, 18, 0, 100, /* destination address */
		0xd4, 0x31, /* source port 54321 */
		0x00, 0x50, /* destination port 80 */
	};
	uint8_t out[SLB_PROXY_HEADER_MAX];

	(void)state;
	assert_int_equal(encode(SLB_PROXY_PROTOCOL_V2, "198.18.0.10:54321", "198.18.0.100:80", out),
			 sizeof(expected));
	assert_memory_equal(out, expected, sizeof(expected));
}

static void test_v2_ipv6(void **state)
{
	static const uint8_t expected[] = {
		0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
		0x21, /* version 2, PROXY */
		0x21, /* AF_INET6, STREAM */
		0x00, 0x24, /* 36 bytes follow */
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x01,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00,
		0x9c, 0x40, /* source port 40000 */
		0x01, 0xbb, /* destination port 443 */
	};
	uint8_t out[SLB_PROXY_HEADER_MAX];

	(void)state;
	assert_int_equal(encode(SLB_PROXY_PROTOCOL_V2, "[2001:db8::1]:40000",
				"[2001:db8::100]:443", out),
			 sizeof(expected));
	assert_memory_equal(out, expected, sizeof(expected));
}

/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d: the server gets IPv4. */
static void test_v4_mapped(void **state)
{
	uint8_t out[SLB_PROXY_HEADER_MAX];

	(void)state;
	assert_v1("[::ffff:198.18.0.10]:1234", "[::ffff:198.18.0.100]:80",
		  "PROXY TCP4 198.18.0.10 198.18.0.100 1234 80\r\n");
	assert_int_equal(encode(SLB_PROXY_PROTOCOL_V2, "[::ffff:198.18.0.10]:1234",
				"[::ffff:198.18.0.100]:80", out),
			 28);
	assert_int_equal(out[13], 0x11);
	assert_memory_equal(out + 16, ((const uint8_t[]){ 198, 18, 0, 10, 198, 18, 0, 100 }), 8);
}

/* Addresses of different families cannot be one connection's: sent as unknown. */
static void test_mixed_families(void **state)
{
	static const uint8_t v2_unspec[] = { 0x21, 0x00, 0x00, 0x00 };
	uint8_t out[SLB_PROXY_HEADER_MAX];

	(void)state;
	assert_v1("198.18.0.10:1234", "[2001:db8::100]:80", "PROXY UNKNOWN\r\n");
	assert_int_equal(encode(SLB_PROXY_PROTOCOL_V2, "198.18.0.10:1234", "[2001:db8::100]:80",
				out),
			 16);
	assert_memory_equal(out, signature, sizeof(signature));
	assert_memory_equal(out + 12, v2_unspec, sizeof(v2_unspec));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v1_ipv4),
		cmocka_unit_test(test_v1_ipv6),
		cmocka_unit_test(test_v1_longest),
		cmocka_unit_test(test_v2_ipv4),
		cmocka_unit_test(test_v2_ipv6),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_mixed_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
