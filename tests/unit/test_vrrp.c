/*
 * test_vrrp.c - lib/vrrp.c: round trips, golden packets written byte by
 * byte from RFC 5798 (and, for the HMAC trailer, from an independent HMAC
 * implementation), and one crafted packet per drop verdict.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "vrrp.h"

#define IP_LEN 20
#define PKT_MAX (60 + SLB_VRRP_MAX_LEN + 16)

static const uint8_t key_bytes[] = "slb-test-key";
static const struct slb_vrrp_key key = { key_bytes, sizeof(key_bytes) - 1 };
static const struct slb_vrrp_key no_key = { NULL, 0 };

static struct in_addr ip(const char *text)
{
	struct in_addr a;

	assert_int_equal(inet_pton(AF_INET, text, &a), 1);
	return a;
}

/* An advert for VRID 51 with <naddrs> addresses 198.18.0.100 and up. */
static struct slb_vrrp_advert advert(uint8_t naddrs)
{
	struct slb_vrrp_advert a;
	uint8_t i;

	memset(&a, 0, sizeof(a));
	a.vrid = 51;
	a.priority = 150;
	a.interval_cs = 100;
	a.naddrs = naddrs;
	for (i = 0; i < naddrs; i++)
		a.addrs[i].s_addr = htonl(0xc6120064u + i);
	a.seq = 0x0102030405060708ull;
	return a;
}

/*
 * Writes into <pkt> an IPv4 header of <ihl> bytes (NOP options past 20),
 * TTL 255, from 198.18.0.3 to 224.0.0.18, followed by <msg>. Returns the
 * packet length. The IP checksum stays zero: the kernel checks it, not us.
 */
static size_t wrap_ihl(const uint8_t *msg, size_t msg_len, size_t ihl, uint8_t *pkt)
{
	size_t total = ihl + msg_len;
	struct in_addr src = ip("198.18.0.3"), dst = ip("224.0.0.18");

	memset(pkt, 0, IP_LEN);
	memset(pkt + IP_LEN, 1, ihl - IP_LEN); /* 1 = IP option NOP */
	pkt[0] = (uint8_t)(0x40 | ihl / 4);
	pkt[2] = (uint8_t)(total >> 8);
	pkt[3] = (uint8_t)total;
	pkt[8] = 255;
	pkt[9] = 112;
	memcpy(pkt + 12, &src.s_addr, 4);
	memcpy(pkt + 16, &dst.s_addr, 4);
	memcpy(pkt + ihl, msg, msg_len);
	return total;
}

static size_t wrap(const uint8_t *msg, size_t msg_len, uint8_t *pkt)
{
	return wrap_ihl(msg, msg_len, IP_LEN, pkt);
}

/* Encodes <a> (with <k>) between the addresses wrap() uses, into <pkt>. */
static size_t build(const struct slb_vrrp_advert *a, const struct slb_vrrp_key *k, uint8_t *pkt)
{
	uint8_t msg[SLB_VRRP_MAX_LEN];
	int n = slb_vrrp_encode(a, ip("198.18.0.3"), ip("224.0.0.18"), k, msg, sizeof(msg));

	assert_true(n > 0);
	return wrap(msg, (size_t)n, pkt);
}

/* Recomputes the VRRP checksum of a 20-byte-header packet after a test changed it. */
static void fix_checksum(uint8_t *pkt, size_t len)
{
	uint8_t buf[12 + SLB_VRRP_MAX_LEN + 16];
	size_t msg_len = len - IP_LEN;
	uint16_t sum;

	memcpy(buf, pkt + 12, 8);
	buf[8] = 0;
	buf[9] = 112;
	buf[10] = (uint8_t)(msg_len >> 8);
	buf[11] = (uint8_t)msg_len;
	pkt[IP_LEN + 6] = pkt[IP_LEN + 7] = 0;
	memcpy(buf + 12, pkt + IP_LEN, msg_len);
	sum = slb_inet_checksum(buf, 12 + msg_len, 0);
	pkt[IP_LEN + 6] = (uint8_t)(sum >> 8);
	pkt[IP_LEN + 7] = (uint8_t)sum;
}

static enum slb_vrrp_verdict decode(const uint8_t *pkt, size_t len, const struct slb_vrrp_key *k)
{
	struct slb_vrrp_advert out;
	struct in_addr src;

	return slb_vrrp_decode(pkt, len, 51, k, &out, &src);
}

static void assert_verdict(enum slb_vrrp_verdict got, enum slb_vrrp_verdict want)
{
	if (got != want)
		fail_msg("verdict %s, expected %s", slb_vrrp_verdict_name(got),
			 slb_vrrp_verdict_name(want));
}

static void assert_same_advert(const struct slb_vrrp_advert *a, const struct slb_vrrp_advert *b,
			       bool with_seq)
{
	assert_int_equal(a->vrid, b->vrid);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->interval_cs, b->interval_cs);
	assert_int_equal(a->naddrs, b->naddrs);
	assert_memory_equal(a->addrs, b->addrs, a->naddrs * sizeof(a->addrs[0]));
	assert_true(a->seq == (with_seq ? b->seq : 0));
}

static void test_round_trip(void **state)
{
	static const uint8_t counts[] = { 1, 3, SLB_VRRP_MAX_ADDRS };
	/* A non-NULL key of length 0 still authenticates, with an empty HMAC key. */
	const struct slb_vrrp_key empty = { key_bytes, 0 };
	const struct slb_vrrp_key *keys[] = { NULL, &no_key, &key, &empty };
	uint8_t pkt[PKT_MAX], msg[SLB_VRRP_MAX_LEN];
	struct slb_vrrp_advert in, out;
	struct in_addr src;
	size_t c, k, len;
	int n;

	(void)state;
	for (c = 0; c < sizeof(counts); c++) {
		for (k = 0; k < 4; k++) {
			bool auth = keys[k] && keys[k]->bytes;

			in = advert(counts[c]);
			len = build(&in, keys[k], pkt);
			assert_int_equal(len, IP_LEN + SLB_VRRP_HEADER_LEN + 4 * counts[c] +
						      (auth ? SLB_VRRP_AUTH_LEN : 0));
			assert_verdict(slb_vrrp_decode(pkt, len, 51, keys[k], &out, &src), SLB_VRRP_OK);
			assert_same_advert(&out, &in, auth);
			assert_int_equal(src.s_addr, ip("198.18.0.3").s_addr);
		}
	}

	/* IP options (IHL 6) are skipped; bytes past the total length are ignored. */
	in = advert(2);
	in.priority = 0;
	in.interval_cs = 4095;
	n = slb_vrrp_encode(&in, ip("198.18.0.3"), ip("224.0.0.18"), &key, msg, sizeof(msg));
	assert_true(n > 0);
	len = wrap_ihl(msg, (size_t)n, 24, pkt);
	memset(pkt + len, 0xee, 8);
	assert_verdict(slb_vrrp_decode(pkt, len + 8, 51, &key, &out, &src), SLB_VRRP_OK);
	assert_same_advert(&out, &in, true);
}

/* RFC 5798 5.1: 0x31 (version 3, type 1), VRID, priority, count, rsvd + interval, checksum. */
static const uint8_t golden[] = {
	0x31, 51, 150, 1, 0x00, 100,
	/*
	 * Pseudo-header c612 + 0003 + e000 + 0012 + 0070 (protocol 112) + 000c
	 * (length 12), message 3133 + 9601 + 0064 + c612 + 0064: 0x334b1, folded
	 * 0x34b4, complemented 0xcb4b.
	 */
	0xcb, 0x4b,
	198, 18, 0, 100,
};

/* The same with slb's trailer, key "slb-test-key"; HMAC from Python's hmac module. */
static const uint8_t golden_auth[] = {
	0x31, 51, 150, 1, 0x00, 100, 0xc7, 0x70, 198, 18, 0, 100,
	1, 2, 3, 4, 5, 6, 7, 8, /* sequence */
	0x77, 0x6d, 0xf0, 0xb6, 0xe8, 0x37, 0x11, 0x08, 0x18, 0x52, 0x4b, 0x54, 0xaa, 0x4d, 0x29, 0xe3,
	0x98, 0x51, 0xbd, 0xdd, 0xa6, 0x32, 0x23, 0xbb, 0xee, 0x92, 0x6b, 0x8d, 0xfb, 0x14, 0xe5, 0x10,
};

static void test_golden(void **state)
{
	struct slb_vrrp_advert a = advert(1), out;
	uint8_t buf[SLB_VRRP_MAX_LEN], pkt[PKT_MAX];
	struct in_addr src;
	size_t len;

	(void)state;
	assert_int_equal(slb_vrrp_encode(&a, ip("198.18.0.3"), ip("224.0.0.18"), NULL, buf,
					 sizeof(buf)),
			 sizeof(golden));
	assert_memory_equal(buf, golden, sizeof(golden));
	len = wrap(golden, sizeof(golden), pkt);
	assert_verdict(slb_vrrp_decode(pkt, len, 51, NULL, &out, &src), SLB_VRRP_OK);
	assert_same_advert(&out, &a, false);

	assert_int_equal(slb_vrrp_encode(&a, ip("198.18.0.3"), ip("224.0.0.18"), &key, buf,
					 sizeof(buf)),
			 sizeof(golden_auth));
	assert_memory_equal(buf, golden_auth, sizeof(golden_auth));
	len = wrap(golden_auth, sizeof(golden_auth), pkt);
	assert_verdict(slb_vrrp_decode(pkt, len, 51, &key, &out, &src), SLB_VRRP_OK);
	assert_same_advert(&out, &a, true);
}

static void test_encode_rejects(void **state)
{
	struct slb_vrrp_advert a;
	uint8_t buf[SLB_VRRP_MAX_LEN];
	struct in_addr s = ip("198.18.0.3"), d = ip("224.0.0.18");

	(void)state;
	a = advert(0);
	assert_int_equal(slb_vrrp_encode(&a, s, d, NULL, buf, sizeof(buf)), -1);
	a = advert(SLB_VRRP_MAX_ADDRS);
	a.naddrs++;
	assert_int_equal(slb_vrrp_encode(&a, s, d, NULL, buf, sizeof(buf)), -1);
	a = advert(1);
	a.interval_cs = 0;
	assert_int_equal(slb_vrrp_encode(&a, s, d, NULL, buf, sizeof(buf)), -1);
	a.interval_cs = 4096;
	assert_int_equal(slb_vrrp_encode(&a, s, d, NULL, buf, sizeof(buf)), -1);
	a.interval_cs = 1;
	assert_int_equal(slb_vrrp_encode(&a, s, d, NULL, buf, 11), -1);
	assert_int_equal(slb_vrrp_encode(&a, s, d, NULL, buf, 12), 12);
	assert_int_equal(slb_vrrp_encode(&a, s, d, &key, buf, 51), -1);
	assert_int_equal(slb_vrrp_encode(&a, s, d, &key, buf, 52), 52);
}

/* Every cut of a good packet is truncated, whether or not the IP total length says so. */
static void test_truncated(void **state)
{
	const struct slb_vrrp_key *keys[] = { NULL, &key };
	struct slb_vrrp_advert a = advert(2);
	uint8_t pkt[PKT_MAX], cut[PKT_MAX];
	size_t k, len, n, no_trailer = IP_LEN + SLB_VRRP_HEADER_LEN + 4 * 2;

	(void)state;
	for (k = 0; k < 2; k++) {
		len = build(&a, keys[k], pkt);
		for (n = 0; n < len; n++) {
			assert_verdict(decode(pkt, n, keys[k]), SLB_VRRP_TRUNCATED);
			memcpy(cut, pkt, n);
			if (n >= 4) {
				cut[2] = (uint8_t)(n >> 8);
				cut[3] = (uint8_t)n;
			}
			/* Cut just before the trailer, it is a whole advert: its checksum tells. */
			assert_verdict(decode(cut, n, keys[k]),
				       n == no_trailer ? SLB_VRRP_BAD_CHECKSUM : SLB_VRRP_TRUNCATED);
		}
	}
	/* Longer than its count says: an extra address, with a right checksum. */
	a = advert(1);
	len = build(&a, NULL, pkt);
	memcpy(pkt + len, pkt + len - 4, 4);
	len = wrap(pkt + IP_LEN, len - IP_LEN + 4, cut);
	fix_checksum(cut, len);
	assert_verdict(decode(cut, len, NULL), SLB_VRRP_TRUNCATED);
	/* IHL says 60 bytes of header, the packet has 32. */
	len = build(&a, NULL, pkt);
	pkt[0] = 0x4f;
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_TRUNCATED);
}

static void test_bad_ip(void **state)
{
	struct slb_vrrp_advert a = advert(1);
	uint8_t pkt[PKT_MAX];
	size_t len;

	(void)state;
	len = build(&a, NULL, pkt);
	pkt[0] = 0x65; /* IPv6 */
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_IP);
	pkt[0] = 0x44; /* IHL 16 bytes */
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_IP);
	len = build(&a, NULL, pkt);
	pkt[9] = 6;
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_IP);
	len = build(&a, NULL, pkt);
	pkt[2] = 0;
	pkt[3] = 19; /* total length inside the header */
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_IP);
}

static void test_bad_fields(void **state)
{
	struct slb_vrrp_advert a = advert(1), out, untouched;
	uint8_t pkt[PKT_MAX], *vrrp = pkt + IP_LEN;
	struct in_addr src = { 0x5a5a5a5a };
	size_t len;

	(void)state;
	len = build(&a, NULL, pkt);
	pkt[8] = 254;
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_TTL);

	len = build(&a, NULL, pkt);
	vrrp[0] = 0x21; /* VRRPv2 */
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_VERSION);

	len = build(&a, NULL, pkt);
	vrrp[0] = 0x32;
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_TYPE);

	len = build(&a, NULL, pkt);
	vrrp[7] ^= 1;
	/* A drop leaves the outputs alone. */
	memset(&out, 0x5a, sizeof(out));
	untouched = out;
	assert_verdict(slb_vrrp_decode(pkt, len, 51, NULL, &out, &src), SLB_VRRP_BAD_CHECKSUM);
	assert_memory_equal(&out, &untouched, sizeof(out));
	assert_int_equal(src.s_addr, 0x5a5a5a5a);

	len = build(&a, NULL, pkt);
	assert_verdict(slb_vrrp_decode(pkt, len, 52, NULL, &out, &src), SLB_VRRP_OTHER_VRID);

	vrrp[4] = vrrp[5] = 0;
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_INTERVAL);
	/* The 4 reserved bits are ignored on receipt (RFC 5798 5.2.6). */
	vrrp[4] = 0xf0;
	vrrp[5] = 100;
	fix_checksum(pkt, len);
	assert_verdict(slb_vrrp_decode(pkt, len, 51, NULL, &out, &src), SLB_VRRP_OK);
	assert_int_equal(out.interval_cs, 100);
}

static void test_bad_count(void **state)
{
	struct slb_vrrp_advert a = advert(1);
	uint8_t pkt[PKT_MAX], msg[SLB_VRRP_MAX_LEN + 8];
	size_t len;

	(void)state;
	len = build(&a, NULL, pkt);
	pkt[IP_LEN + 3] = 0;
	len = wrap(pkt + IP_LEN, SLB_VRRP_HEADER_LEN, pkt);
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_COUNT);

	/* 65 addresses: a valid RFC packet that slb does not take. */
	a = advert(SLB_VRRP_MAX_ADDRS);
	assert_int_equal(slb_vrrp_encode(&a, ip("198.18.0.3"), ip("224.0.0.18"), NULL, msg,
					 sizeof(msg)),
			 SLB_VRRP_HEADER_LEN + 4 * SLB_VRRP_MAX_ADDRS);
	msg[3] = SLB_VRRP_MAX_ADDRS + 1;
	len = wrap(msg, SLB_VRRP_HEADER_LEN + 4 * (SLB_VRRP_MAX_ADDRS + 1), pkt);
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_BAD_COUNT);
}

static void test_auth(void **state)
{
	static const uint8_t flipped_bytes[] = "slb-test-kez";
	const struct slb_vrrp_key flipped = { flipped_bytes, sizeof(flipped_bytes) - 1 };
	const struct slb_vrrp_key shorter = { key_bytes, sizeof(key_bytes) - 2 };
	struct slb_vrrp_advert a = advert(2);
	uint8_t pkt[PKT_MAX], *vrrp = pkt + IP_LEN;
	size_t len, seq = SLB_VRRP_HEADER_LEN + 8, bit;

	(void)state;
	len = build(&a, NULL, pkt);
	assert_verdict(decode(pkt, len, &key), SLB_VRRP_AUTH_MISSING);
	len = build(&a, &key, pkt);
	assert_verdict(decode(pkt, len, NULL), SLB_VRRP_AUTH_UNEXPECTED);
	assert_verdict(decode(pkt, len, &no_key), SLB_VRRP_AUTH_UNEXPECTED);
	assert_verdict(decode(pkt, len, &flipped), SLB_VRRP_AUTH_BAD);
	assert_verdict(decode(pkt, len, &shorter), SLB_VRRP_AUTH_BAD);

	/*
	 * Any one bit flipped, checksum made right again, fails the HMAC: the
	 * reserved bits included. Skipped: version and type, VRID and count,
	 * which have earlier verdicts, and the checksum. (No single flip makes
	 * the interval, 100, zero.)
	 */
	for (bit = 0; bit < 8 * (len - IP_LEN); bit++) {
		if (bit / 8 <= 1 || bit / 8 == 3 || bit / 8 == 6 || bit / 8 == 7)
			continue;
		len = build(&a, &key, pkt);
		vrrp[bit / 8] ^= (uint8_t)(1 << (bit % 8));
		fix_checksum(pkt, len);
		if (decode(pkt, len, &key) != SLB_VRRP_AUTH_BAD)
			fail_msg("bit %zu flipped: %s", bit,
				 slb_vrrp_verdict_name(decode(pkt, len, &key)));
	}

	/* A replayed advert with a higher sequence number. */
	len = build(&a, &key, pkt);
	vrrp[seq + 7]++;
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, &key), SLB_VRRP_AUTH_BAD);

	/* The same advert sent again from another node's address. */
	len = build(&a, &key, pkt);
	pkt[15] = 4;
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, &key), SLB_VRRP_AUTH_BAD);
	/* ... or to a unicast peer instead of the group. */
	len = build(&a, &key, pkt);
	memcpy(pkt + 16, pkt + 12, 4);
	fix_checksum(pkt, len);
	assert_verdict(decode(pkt, len, &key), SLB_VRRP_AUTH_BAD);
}

static void test_checksum(void **state)
{
	/* RFC 1071 section 3: these words sum to 0xddf2. */
	static const uint8_t rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };

	(void)state;
	assert_int_equal(slb_inet_checksum(rfc, sizeof(rfc), 0), 0xffff & ~0xddf2);
	assert_int_equal(slb_inet_checksum(rfc, 4, 0), 0xffff & ~0xf204);
	/* The sum carries on from <sum>, carries included. */
	assert_int_equal(slb_inet_checksum(rfc + 4, 4, 0xf204), 0xffff & ~0xddf2);
	assert_int_equal(slb_inet_checksum(odd, sizeof(odd), 0), 0xffff & ~(0x1234 + 0x5600));
	assert_int_equal(slb_inet_checksum(NULL, 0, 0), 0xffff);
	assert_int_equal(slb_inet_checksum(NULL, 0, 0xffffffffu), 0);
}

static void test_verdict_names(void **state)
{
	int i, j;

	(void)state;
	assert_string_equal(slb_vrrp_verdict_name(SLB_VRRP_OK), "ok");
	assert_string_equal(slb_vrrp_verdict_name(SLB_VRRP_BAD_CHECKSUM), "bad_checksum");
	for (i = 0; i < SLB_VRRP_VERDICT_COUNT; i++) {
		assert_string_not_equal(slb_vrrp_verdict_name(i), "unknown");
		for (j = 0; j < i; j++)
			assert_string_not_equal(slb_vrrp_verdict_name(i), slb_vrrp_verdict_name(j));
	}
	assert_string_equal(slb_vrrp_verdict_name(SLB_VRRP_VERDICT_COUNT), "unknown");
	assert_string_equal(slb_vrrp_verdict_name((enum slb_vrrp_verdict)-1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),  cmocka_unit_test(test_golden),
		cmocka_unit_test(test_encode_rejects), cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_bad_ip),      cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_bad_count),   cmocka_unit_test(test_auth),
		cmocka_unit_test(test_checksum),    cmocka_unit_test(test_verdict_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
