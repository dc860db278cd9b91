/*
 * test_addr.c - lib/addr.c: "ip:port" and "ip/len" parsing (good and bad
 * inputs), formatting back, ports, equality and prefix matching.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "addr.h"

/* Parses <text> and formats it back: the round trip must give <expected>. */
static void assert_round_trip(const char *text, const char *expected)
{
	char buf[SLB_SOCKADDR_STRLEN];
	struct slb_sockaddr a;

	if (slb_sockaddr_parse(text, &a) != 0)
		fail_msg("'%s' was rejected", text);
	assert_string_equal(slb_sockaddr_format(&a, buf), expected);
}

static void test_sockaddr_good(void **state)
{
	struct slb_sockaddr a;

	(void)state;
	assert_round_trip("198.18.0.1:80", "198.18.0.1:80");
	assert_round_trip("0.0.0.0:65535", "0.0.0.0:65535");
	assert_round_trip("[::1]:8080", "[::1]:8080");
	assert_round_trip("[2001:DB8:0::1]:1", "[2001:db8::1]:1");
	assert_round_trip("[::ffff:198.18.0.1]:443", "[::ffff:198.18.0.1]:443");

	assert_int_equal(slb_sockaddr_parse("198.18.0.1:8080", &a), 0);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(a.u.sa.sa_family, AF_INET);
	assert_int_equal(slb_sockaddr_port(&a), 8080);
	slb_sockaddr_set_port(&a, 9090);
	assert_int_equal(slb_sockaddr_port(&a), 9090);

	assert_int_equal(slb_sockaddr_parse("[fe80::1]:53", &a), 0);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	assert_int_equal(a.u.sa.sa_family, AF_INET6);
	assert_int_equal(slb_sockaddr_port(&a), 53);
}

static void test_sockaddr_bad(void **state)
{
	static const char *const bad[] = {
		"", "198.18.0.1", "198.18.0.1:", ":80", "198.18.0.1:0", "198.18.0.1:65536",
		"198.18.0.1:-1", "198.18.0.1:+80", "198.18.0.1:80x", "198.18.0.1: 80",
		"198.18.0.256:80", "198.18.0:80", "host.example:80", "::1:80", "[::1]80",
		"[::1]:", "[]:80", "[::1:80", "[198.18.0.1]:80", " 198.18.0.1:80",
		"198.18.0.1:99999999999999999999",
	};
	struct slb_sockaddr a, before;
	size_t i;

	(void)state;
	memset(&a, 0x5a, sizeof(a));
	before = a;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (slb_sockaddr_parse(bad[i], &a) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		/* A failed parse leaves the output alone. */
		assert_memory_equal(&a, &before, sizeof(a));
	}
}

static void test_sockaddr_format_unset(void **state)
{
	char buf[SLB_SOCKADDR_STRLEN];
	struct slb_sockaddr a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_string_equal(slb_sockaddr_format(&a, buf), "-");
}

static void test_sockaddr_equal(void **state)
{
	struct slb_sockaddr a, b, c, d, e;

	(void)state;
	assert_int_equal(slb_sockaddr_parse("198.18.0.1:80", &a), 0);
	assert_int_equal(slb_sockaddr_parse("198.18.0.1:80", &b), 0);
	assert_int_equal(slb_sockaddr_parse("198.18.0.1:81", &c), 0);
	assert_int_equal(slb_sockaddr_parse("[::ffff:198.18.0.1]:80", &d), 0);
	assert_int_equal(slb_sockaddr_parse("[::ffff:198.18.0.1]:80", &e), 0);
	assert_true(slb_sockaddr_equal(&a, &b));
	assert_false(slb_sockaddr_equal(&a, &c));
	/* A v4-mapped v6 address is another socket address. */
	assert_false(slb_sockaddr_equal(&a, &d));
	assert_true(slb_sockaddr_equal(&d, &e));
}

static bool is_any(const char *text)
{
	struct slb_sockaddr a;

	assert_int_equal(slb_sockaddr_parse(text, &a), 0);
	return slb_sockaddr_is_any(&a);
}

static void test_sockaddr_is_any(void **state)
{
	struct slb_sockaddr unset;

	(void)state;
	assert_true(is_any("0.0.0.0:53"));
	assert_true(is_any("[::]:53"));
	assert_false(is_any("198.18.0.1:53"));
	assert_false(is_any("[::1]:53"));
	assert_false(is_any("[::ffff:0.0.0.0]:53"));
	memset(&unset, 0, sizeof(unset));
	assert_false(slb_sockaddr_is_any(&unset));
}

static void test_cidr_good(void **state)
{
	struct slb_cidr c;

	(void)state;
	assert_int_equal(slb_cidr_parse("10.0.0.0/8", &c), 0);
	assert_int_equal(c.family, AF_INET);
	assert_int_equal(c.prefix_len, 8);
	assert_int_equal(slb_cidr_parse("198.18.0.1", &c), 0);
	assert_int_equal(c.prefix_len, 32);
	assert_int_equal(slb_cidr_parse("0.0.0.0/0", &c), 0);
	assert_int_equal(c.prefix_len, 0);
	assert_int_equal(slb_cidr_parse("2001:db8::/32", &c), 0);
	assert_int_equal(c.family, AF_INET6);
	assert_int_equal(c.prefix_len, 32);
	assert_int_equal(slb_cidr_parse("::1", &c), 0);
	assert_int_equal(c.prefix_len, 128);
}

static void test_cidr_bad(void **state)
{
	static const char *const bad[] = {
		"", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/8x",
		"10.0.0/8", "2001:db8::/129", "example.com/24", "10.0.0.0/8/8", "10.0.0.0:80",
	};
	struct slb_cidr c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (slb_cidr_parse(bad[i], &c) != -1)
			fail_msg("'%s' was accepted", bad[i]);
}

/* True when the address part of "ip:port" <addr> lies in <prefix>. */
static bool contains(const char *prefix, const char *addr)
{
	struct slb_sockaddr a;
	struct slb_cidr c;

	assert_int_equal(slb_cidr_parse(prefix, &c), 0);
	assert_int_equal(slb_sockaddr_parse(addr, &a), 0);
	return slb_cidr_contains(&c, &a.u.sa);
}

static void test_cidr_contains(void **state)
{
	(void)state;
	assert_true(contains("10.0.0.0/8", "10.255.1.2:80"));
	assert_false(contains("10.0.0.0/8", "11.0.0.1:80"));
	assert_true(contains("192.168.0.0/16", "192.168.255.255:1"));
	assert_false(contains("192.168.0.0/16", "192.169.0.0:1"));
	/* Prefixes that do not end on a byte boundary. */
	assert_true(contains("198.18.0.0/15", "198.19.200.1:1"));
	assert_false(contains("198.18.0.0/15", "198.20.0.1:1"));
	assert_true(contains("10.0.0.128/25", "10.0.0.200:1"));
	assert_false(contains("10.0.0.128/25", "10.0.0.127:1"));
	assert_true(contains("0.0.0.0/0", "1.2.3.4:1"));
	assert_true(contains("198.18.0.1", "198.18.0.1:9"));
	assert_false(contains("198.18.0.1", "198.18.0.2:9"));
	assert_true(contains("2001:db8::/32", "[2001:db8:ffff::1]:443"));
	assert_false(contains("2001:db8::/32", "[2001:db9::1]:443"));
	assert_true(contains("2001:db8::/33", "[2001:db8:7fff::1]:1"));
	assert_false(contains("2001:db8::/33", "[2001:db8:8000::1]:1"));
	/* Families never match each other, not even v4-mapped addresses. */
	assert_false(contains("0.0.0.0/0", "[::ffff:10.0.0.1]:1"));
	assert_false(contains("::/0", "10.0.0.1:1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sockaddr_good),
		cmocka_unit_test(test_sockaddr_bad),
		cmocka_unit_test(test_sockaddr_format_unset),
		cmocka_unit_test(test_sockaddr_equal),
		cmocka_unit_test(test_sockaddr_is_any),
		cmocka_unit_test(test_cidr_good),
		cmocka_unit_test(test_cidr_bad),
		cmocka_unit_test(test_cidr_contains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
